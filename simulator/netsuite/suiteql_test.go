package netsuite

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func (e *env) suiteQL(q string, query string) reply {
	e.t.Helper()
	return e.do(http.MethodPost, "/query/v1/suiteql"+query, map[string]any{"q": q}, "Prefer", "transient")
}

func TestSuiteQLViews(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	sale := e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:POS-9", map[string]any{"location": ref1("2"),
		"entity": ref1("100001"), "paymentMethod": ref1("2"), "tranDate": "2024-11-29",
		"item": items(saleLineBody("1001", 2, "tax1Amt", 88.75))})
	tests := []struct {
		name string
		q    string
		want []map[string]string // rows; a missing key means the column must be absent (null)
	}{
		{"item by UPC", "SELECT id, itemid, upccode, displayname, baseprice, averagecost FROM item WHERE upccode = '" + tinyWorld().Items[0].UPC + "'",
			[]map[string]string{{"id": "1001", "itemid": "ELEC-000001", "upccode": tinyWorld().Items[0].UPC, "displayname": "55in TV", "baseprice": "499.99", "averagecost": "300"}}},
		{"stock at a location", "SELECT item, location, quantityonhand, quantityavailable FROM inventoryitemlocations WHERE location = 2 AND item IN (1001, 1002) ORDER BY item",
			[]map[string]string{{"item": "1001", "location": "2", "quantityonhand": "8", "quantityavailable": "8"}, {"item": "1002", "location": "2", "quantityonhand": "10", "quantityavailable": "10"}}},
		{"transaction by external id", "SELECT id, tranid, type, trandate, externalid, entity FROM transaction WHERE externalid = 'POS-9'",
			[]map[string]string{{"id": sale, "tranid": "CS" + sale, "type": "CashSale", "trandate": "2024-11-29", "externalid": "POS-9", "entity": "100001"}}},
		{"GL of a sale", "SELECT account, debit, credit FROM transactionaccountingline WHERE transaction = " + sale + " AND account IN (102, 104) ORDER BY account",
			[]map[string]string{{"account": "102", "debit": "1088.73"}, {"account": "104", "credit": "88.75"}}},
		{"lines joined to headers", "SELECT t.externalid, tl.item, tl.quantity, BUILTIN.DF(t.location) AS store FROM transaction t JOIN transactionline tl ON tl.transaction = t.id",
			[]map[string]string{{"externalid": "POS-9", "item": "1001", "quantity": "2", "store": "Store 002 New York"}}},
		{"customer by loyalty", "SELECT id, entityid, email, externalid FROM customer WHERE externalid = 'LOY-70000000002'",
			[]map[string]string{{"id": "100002", "entityid": "CUS100002", "email": "alan@example.com", "externalid": "LOY-70000000002"}}},
		{"payment methods", "SELECT id, name, account FROM paymentmethod ORDER BY id FETCH FIRST 2 ROWS ONLY",
			[]map[string]string{{"id": "1", "name": "Cash", "account": "101"}, {"id": "2", "name": "Card", "account": "102"}}},
		{"tax codes", "SELECT id, itemid, rate FROM salestaxitem WHERE itemid = 'NY-NYC'",
			[]map[string]string{{"id": "2", "itemid": "NY-NYC", "rate": "8.875"}}},
		{"locations", "SELECT id, name, subsidiary FROM location WHERE id = 3",
			[]map[string]string{{"id": "3", "name": "DC 1 Reno", "subsidiary": "1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.suiteQL(tc.q, "")
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			m := r.json(t)
			rows := m["items"].([]any)
			if len(rows) != len(tc.want) {
				t.Fatalf("%d rows, want %d: %s", len(rows), len(tc.want), r.body)
			}
			for i, w := range tc.want {
				row := rows[i].(map[string]any)
				if links, ok := row["links"].([]any); !ok || len(links) != 0 {
					t.Errorf("row %d links %v", i, row["links"])
				}
				for k, v := range w {
					if row[k] != v {
						t.Errorf("row %d %s = %#v, want %q (row %v)", i, k, row[k], v, row)
					}
				}
				if _, ok := row["entity"]; tc.name == "GL of a sale" && ok {
					t.Errorf("null column present")
				}
			}
			if m["totalResults"] != float64(len(tc.want)) {
				t.Errorf("totalResults %v", m["totalResults"])
			}
		})
	}
}

func TestSuiteQLNullsOmitted(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	r := e.suiteQL("SELECT account, debit, credit FROM transactionaccountingline", "")
	if r.status != http.StatusOK || r.json(t)["count"] != 0.0 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	e.mustWrite(http.MethodPost, "/record/v1/cashSale", map[string]any{"location": ref1("1"), "item": items(saleLineBody("1002", 1))})
	for _, it := range e.suiteQL("SELECT account, debit, credit FROM transactionaccountingline", "").json(t)["items"].([]any) {
		row := it.(map[string]any)
		_, hasD := row["debit"]
		_, hasC := row["credit"]
		if hasD == hasC {
			t.Errorf("row %v: exactly one of debit and credit must be present", row)
		}
	}
}

func TestSuiteQLPaging(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	for i := 0; i < 7; i++ {
		e.mustWrite(http.MethodPut, fmt.Sprintf("/record/v1/cashSale/eid:P-%d", i), map[string]any{"location": ref1("1"),
			"item": items(saleLineBody("1003", 1))})
	}
	var got []string
	for off := 0; off < 9; off += 3 {
		m := e.suiteQL("SELECT externalid FROM transaction ORDER BY id", fmt.Sprintf("?limit=3&offset=%d", off)).json(t)
		if m["totalResults"] != 7.0 || m["hasMore"] != (off+3 < 7) || m["offset"] != float64(off) {
			t.Errorf("page %d: %v", off, m)
		}
		for _, it := range m["items"].([]any) {
			got = append(got, it.(map[string]any)["externalid"].(string))
		}
	}
	if strings.Join(got, ",") != "P-0,P-1,P-2,P-3,P-4,P-5,P-6" {
		t.Errorf("pages gave %v", got)
	}
	if r := e.suiteQL("SELECT id FROM item", "?limit=3&offset=4"); r.status != http.StatusBadRequest {
		t.Errorf("offset not a multiple of limit: %d", r.status)
	}
}

func TestSuiteQLErrors(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	tests := []struct {
		name, body, detail string
	}{
		{"DML", `{"q": "DELETE FROM item"}`, "DELETE"},
		{"unknown column", `{"q": "SELECT nosuchcolumn FROM item"}`, "nosuchcolumn"},
		{"unknown table", `{"q": "SELECT id FROM nosuchtable"}`, "nosuchtable"},
		{"CONNECT BY", `{"q": "SELECT id FROM item CONNECT BY PRIOR id = id"}`, `Unsupported construct "CONNECT BY" at position 21`},
		{"LIMIT", `{"q": "SELECT id FROM item LIMIT 5"}`, `Unsupported construct "LIMIT" at position 21`},
		{"WITH", `{"q": "WITH x AS (SELECT id FROM item) SELECT id FROM x"}`, `Unsupported construct "WITH" at position 1`},
		{"two statements", `{"q": "SELECT id FROM item; DROP TABLE items"}`, `Unsupported construct "multiple statements"`},
		{"unknown function", `{"q": "SELECT randomblob(9) FROM item"}`, `Unknown function "RANDOMBLOB"`},
		{"no q", `{"query": "SELECT 1"}`, "q"},
		{"not JSON", `SELECT id FROM item`, "JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/query/v1/suiteql", tc.body, "Prefer", "transient")
			if r.status != http.StatusBadRequest {
				t.Fatalf("%d %s", r.status, r.body)
			}
			d := r.errorDetail(t)
			detail := d["detail"].(string)
			if !strings.Contains(detail, tc.detail) {
				t.Errorf("detail %q does not mention %q", detail, tc.detail)
			}
			if n := strings.Count(detail, "Invalid search query."); d["o:errorCode"] == codeInvalidParameter && n != 1 {
				t.Errorf("detail %q says \"Invalid search query.\" %d times", detail, n)
			}
		})
	}
	if n := e.queryInt("SELECT COUNT(*) FROM items"); n != 3 {
		t.Errorf("items: %d", n)
	}
}
