package netsuite

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRecordErrors(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{MaxBodyBytes: 4096})
	sale := func(extra map[string]any) map[string]any {
		b := map[string]any{"location": ref1("1"), "item": items(saleLineBody("1001", 1))}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		epath  string // o:errorPath, "" when none is expected
		detail string // a substring of the detail
	}{
		{"malformed JSON", "POST", "/record/v1/cashSale", `{"location": {"id": "1"},`, 400, codeInvalidContent, "", "Invalid JSON"},
		{"not an object", "POST", "/record/v1/cashSale", `[1,2]`, 400, codeInvalidContent, "", "JSON object"},
		{"unknown record type", "POST", "/record/v1/cashSail", map[string]any{}, 404, codeInvalidRecType, "", "cashSail"},
		{"unknown field", "POST", "/record/v1/cashSale", sale(map[string]any{"colour": "red"}), 400, codeInvalidContent, "colour", "colour"},
		{"unknown line field", "POST", "/record/v1/cashSale", sale(map[string]any{"item": items(map[string]any{"item": ref1("1001"), "qty": 1})}), 400, codeInvalidContent, "item.items[0].qty", "qty"},
		{"wrong type", "POST", "/record/v1/cashSale", sale(map[string]any{"item": items(map[string]any{"item": ref1("1001"), "quantity": "two"})}), 400, codeInvalidContent, "item.items[0].quantity", "expected number"},
		{"bad date", "POST", "/record/v1/cashSale", sale(map[string]any{"tranDate": "29/11/2024"}), 400, codeInvalidContent, "tranDate", "YYYY-MM-DD"},
		{"missing required field", "POST", "/record/v1/inventoryAdjustment", map[string]any{"inventory": items(map[string]any{"item": ref1("1001"), "adjustQtyBy": 1})}, 400, codeUserError, "account", "Adjustment Account"},
		{"missing required line field", "POST", "/record/v1/cashSale", sale(map[string]any{"item": items(map[string]any{"quantity": 1})}), 400, codeUserError, "item.items[0].item", "Item"},
		{"no lines", "POST", "/record/v1/cashSale", map[string]any{"location": ref1("1")}, 400, codeUserError, "item", "at least one line"},
		{"no location", "POST", "/record/v1/cashSale", map[string]any{"item": items(saleLineBody("1001", 1))}, 400, codeUserError, "item.items[0].location", "Location"},
		{"reference to nothing", "POST", "/record/v1/cashSale", sale(map[string]any{"item": items(saleLineBody("9999", 1))}), 400, codeInvalidContent, "item.items[0].item", "No inventoryItem record with id 9999"},
		{"reference by unknown externalId", "POST", "/record/v1/cashSale", sale(map[string]any{"entity": map[string]any{"externalId": "LOY-nobody"}}), 400, codeInvalidContent, "entity", "externalId LOY-nobody"},
		{"reference of the wrong type", "POST", "/record/v1/cashRefund", sale(map[string]any{"createdFrom": ref1("1001")}), 400, codeInvalidContent, "createdFrom", "No cashSale"},
		{"reference without id", "POST", "/record/v1/cashSale", sale(map[string]any{"location": map[string]any{"name": "x"}}), 400, codeInvalidContent, "location.name", "unknown key"},
		{"bad external id", "PUT", "/record/v1/cashSale/eid:has%20space", sale(nil), 400, codeInvalidContent, "", "externalId"},
		{"tenders do not add up", "POST", "/record/v1/cashSale", sale(map[string]any{"custbody_pos_tenders": []any{map[string]any{"paymentMethod": ref1("1"), "amount": 1}}}), 400, codeUserError, fieldTenders, "add up"},
		{"tender without amount", "POST", "/record/v1/cashSale", sale(map[string]any{"custbody_pos_tenders": `[{"paymentMethod":{"id":"1"}}]`}), 400, codeUserError, fieldTenders + "[0].amount", "Amount"},
		{"body too large", "POST", "/record/v1/cashSale", sale(map[string]any{"memo": strings.Repeat("x", 5000)}), 413, codeRequestTooLarge, "", "limit"},
		{"missing record", "GET", "/record/v1/cashSale/424242", nil, 404, codeNotFound, "", "not found"},
		{"patch missing record", "PATCH", "/record/v1/customer/eid:nobody", map[string]any{"email": "x@example.com"}, 404, codeNotFound, "", "not found"},
		{"bad id", "GET", "/record/v1/customer/abc", nil, 400, codeInvalidParameter, "", "abc"},
		{"put by internal id", "PUT", "/record/v1/customer/100001", map[string]any{}, 405, codeMethodNotAllowed, "", "eid"},
		{"bad limit", "GET", "/record/v1/customer?limit=5000", nil, 400, codeInvalidParameter, "limit", "limit"},
		{"offset not a multiple", "GET", "/record/v1/customer?limit=10&offset=5", nil, 400, codeInvalidParameter, "offset", "multiple"},
		{"bad q field", "GET", "/record/v1/cashSale?q=colour%20IS%20red", nil, 400, codeInvalidParameter, "q", "colour"},
		{"bad q operator", "GET", "/record/v1/cashSale?q=tranDate%20CONTAIN%202024", nil, 400, codeInvalidParameter, "q", "CONTAIN"},
		{"delete a customer with sales", "DELETE", "/record/v1/customer/100002", nil, 400, codeUserError, "", "dependent"},
		{"no such transform", "POST", "/record/v1/cashRefund/1/!transform/cashSale", map[string]any{}, 400, codeInvalidParameter, "", "cannot be transformed"},
	}
	// A sale for customer 100002, so that deleting the customer is refused.
	e.mustWrite(http.MethodPost, "/record/v1/cashSale", sale(map[string]any{"entity": ref1("100002")}))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			d := r.errorDetail(t)
			if d["o:errorCode"] != tc.code {
				t.Errorf("code %v, want %s", d["o:errorCode"], tc.code)
			}
			if p, _ := d["o:errorPath"].(string); p != tc.epath {
				t.Errorf("path %q, want %q", p, tc.epath)
			}
			if !strings.Contains(d["detail"].(string), tc.detail) {
				t.Errorf("detail %q does not mention %q", d["detail"], tc.detail)
			}
		})
	}
	if n := e.queryInt("SELECT COUNT(*) FROM transactions"); n != 1 {
		t.Errorf("%d transactions after refused writes, want 1", n)
	}
	e.checkBalanced()
}

func TestPropertyNameValidationIgnore(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	body := map[string]any{"firstName": "Grace", "lastName": "Hopper", "custentity_shoe_size": 9}
	if r := e.do(http.MethodPost, "/record/v1/customer", body); r.status != http.StatusBadRequest {
		t.Fatalf("unknown field accepted: %d", r.status)
	}
	r := e.do(http.MethodPost, "/record/v1/customer", body, "X-NetSuite-PropertyNameValidation", "Ignore")
	if r.status != http.StatusNoContent {
		t.Fatalf("with Ignore: %d %s", r.status, r.body)
	}
}

func TestCustomerLifecycle(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	id := e.mustWrite(http.MethodPost, "/record/v1/customer", map[string]any{
		"externalId": "LOY-123", "firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com"})
	got := e.do(http.MethodGet, "/record/v1/customer/eid:LOY-123", nil).json(t)
	if got["id"] != id || got["email"] != "grace@example.com" || got["entityId"] != "CUS"+id {
		t.Errorf("GET: %v", got)
	}
	for _, k := range []string{"createdDate", "lastModifiedDate", "links", "subsidiary"} {
		if got[k] == nil {
			t.Errorf("GET lacks %s: %v", k, got)
		}
	}
	sub := got["subsidiary"].(map[string]any)
	if sub["id"] != "1" || sub["refName"] != "Doorbuster Inc." || sub["links"] == nil {
		t.Errorf("subsidiary reference %v", sub)
	}
	// PATCH: omitted fields stay, null clears.
	e.mustWrite(http.MethodPatch, "/record/v1/customer/"+id, map[string]any{"phone": "+15550100", "email": nil})
	got = e.do(http.MethodGet, "/record/v1/customer/"+id, nil).json(t)
	if got["phone"] != "+15550100" || got["firstName"] != "Grace" || got["email"] != nil {
		t.Errorf("after PATCH: %v", got)
	}
	if n := e.queryInt("SELECT COUNT(*) FROM customers WHERE id = ? AND email IS NULL AND phone = '+15550100'", id); n != 1 {
		t.Errorf("projection not updated")
	}
	// A second create with the same external id is refused.
	r := e.do(http.MethodPost, "/record/v1/customer", map[string]any{"externalId": "LOY-123", "lastName": "X"})
	if r.status != http.StatusBadRequest || r.errorDetail(t)["o:errorPath"] != "externalId" {
		t.Errorf("duplicate external id: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodDelete, "/record/v1/customer/"+id, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodGet, "/record/v1/customer/"+id, nil); r.status != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d", r.status)
	}
}

func TestSublistsAndExpansion(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	id := e.mustWrite(http.MethodPost, "/record/v1/cashSale", map[string]any{"location": ref1("1"),
		"entity": map[string]any{"externalId": "LOY-70000000001"},
		"item":   items(saleLineBody("1003", 1), saleLineBody("1002", 2))})
	plain := e.do(http.MethodGet, "/record/v1/cashSale/"+id, nil).json(t)
	if it := plain["item"].(map[string]any); it["items"] != nil || it["links"] == nil {
		t.Errorf("unexpanded sublist %v", it)
	}
	if ent := plain["entity"].(map[string]any); ent["id"] != "100001" || ent["refName"] != "CUS100001" {
		t.Errorf("entity by externalId resolved to %v", ent)
	}
	if plain["total"] != 9.99+0.86+1.18 {
		t.Errorf("total %v", plain["total"])
	}
	full := e.do(http.MethodGet, "/record/v1/cashSale/"+id+"?expandSubResources=true", nil).json(t)
	lines := full["item"].(map[string]any)["items"].([]any)
	if len(lines) != 2 {
		t.Fatalf("expanded lines %v", full["item"])
	}
	l1 := lines[0].(map[string]any)
	if l1["line"] != 1.0 || l1["amount"] != 9.99 || l1["tax1Amt"] != 0.86 || l1["taxCode"].(map[string]any)["id"] != "1" {
		t.Errorf("line 1 defaults %v", l1)
	}
	if l2 := lines[1].(map[string]any); l2["taxCode"].(map[string]any)["id"] != "3" || l2["amount"] != 1.18 {
		t.Errorf("line 2 (non-taxable) %v", l2)
	}
	// PATCH a line by number: its amount and tax follow the new quantity.
	e.mustWrite(http.MethodPatch, "/record/v1/cashSale/"+id, map[string]any{"item": items(map[string]any{"line": 1, "quantity": 3})})
	if n := e.queryInt("SELECT amount_cents FROM transaction_lines WHERE transaction_id = ? AND line = 1", id); n != 2997 {
		t.Errorf("patched line amount %d, want 2997", n)
	}
	if got := e.onHand("1003", "1"); got != 7 {
		t.Errorf("on hand %v after patching quantity to 3, want 7", got)
	}
	// PATCH without replace appends; with ?replace=item replaces.
	e.mustWrite(http.MethodPatch, "/record/v1/cashSale/"+id, map[string]any{"item": items(saleLineBody("1001", 1))})
	if n := e.queryInt("SELECT COUNT(*) FROM transaction_lines WHERE transaction_id = ?", id); n != 3 {
		t.Errorf("%d lines after appending, want 3", n)
	}
	e.mustWrite(http.MethodPatch, "/record/v1/cashSale/"+id+"?replace=item", map[string]any{"item": items(saleLineBody("1001", 1))})
	if n := e.queryInt("SELECT COUNT(*) FROM transaction_lines WHERE transaction_id = ?", id); n != 1 {
		t.Errorf("%d lines after replacing, want 1", n)
	}
	if e.onHand("1003", "1") != 10 || e.onHand("1002", "1") != 10 || e.onHand("1001", "1") != 9 {
		t.Errorf("on hand after replace: socks %v bananas %v TV %v", e.onHand("1003", "1"), e.onHand("1002", "1"), e.onHand("1001", "1"))
	}
	sl := e.do(http.MethodGet, "/record/v1/cashSale/"+id+"/item", nil).json(t)
	if sl["totalResults"] != 1.0 {
		t.Errorf("sublist collection %v", sl)
	}
	if line := e.do(http.MethodGet, "/record/v1/cashSale/"+id+"/item/1", nil).json(t); line["item"].(map[string]any)["id"] != "1001" {
		t.Errorf("sublist line %v", line)
	}
	e.checkBalanced()
}

func TestTransformCashSaleToRefund(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	sale := e.mustWrite(http.MethodPost, "/record/v1/cashSale", map[string]any{"location": ref1("1"), "paymentMethod": ref1("2"),
		"pnRefNum": "pi_1", "item": items(saleLineBody("1001", 1), saleLineBody("1003", 2))})
	r := e.do(http.MethodPost, "/record/v1/cashSale/"+sale+"/!transform/cashRefund", map[string]any{"externalId": "RET-1"})
	if r.status != http.StatusNoContent {
		t.Fatalf("transform: %d %s", r.status, r.body)
	}
	refund := r.header.Get("Location")[strings.LastIndexByte(r.header.Get("Location"), '/')+1:]
	if !strings.Contains(r.header.Get("Location"), "/record/v1/cashRefund/") {
		t.Errorf("Location %s", r.header.Get("Location"))
	}
	// The refund mirrors the sale exactly: every account nets to zero.
	sg, rg := e.glByAccount(sale), e.glByAccount(refund)
	for a, v := range sg {
		if rg[a] != -v {
			t.Errorf("account %d: sale %d, refund %d", a, v, rg[a])
		}
	}
	if e.onHand("1001", "1") != 10 || e.onHand("1003", "1") != 10 {
		t.Errorf("on hand not restored")
	}
	if got := e.queryInt("SELECT COUNT(*) FROM transactions WHERE id = ? AND createdfrom = ? AND externalid = 'RET-1'", refund, sale); got != 1 {
		t.Errorf("refund header not linked to the sale")
	}
}

func TestListingAndQ(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	ids := map[string]string{}
	for i, c := range []struct{ date, loc, entity string }{
		{"2024-11-28", "1", "100001"}, {"2024-11-29", "1", ""}, {"2024-11-29", "2", "100002"},
		{"2024-11-30", "2", "100001"}, {"2024-12-01", "1", ""},
	} {
		b := map[string]any{"tranDate": c.date, "location": ref1(c.loc), "item": items(saleLineBody("1003", 1))}
		if c.entity != "" {
			b["entity"] = ref1(c.entity)
		}
		eid := fmt.Sprintf("POS-%d", i+1)
		ids[eid] = e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:"+eid, b)
	}
	tests := []struct {
		q    string
		want []string
	}{
		{`externalId IS "POS-3"`, []string{"POS-3"}},
		{`externalId ANY_OF [POS-1, POS-5]`, []string{"POS-1", "POS-5"}},
		{`tranDate ON_OR_AFTER "2024-11-29"`, []string{"POS-2", "POS-3", "POS-4", "POS-5"}},
		{`tranDate BEFORE "11/29/2024"`, []string{"POS-1"}},
		{`tranDate AFTER "2024-11-29" AND location ANY_OF [2]`, []string{"POS-4"}},
		{`tranDate BETWEEN ["2024-11-29", "2024-11-30"]`, []string{"POS-2", "POS-3", "POS-4"}},
		{`entity EMPTY`, []string{"POS-2", "POS-5"}},
		{`entity ANY_OF [100001] OR (location IS 2 AND entity EMPTY_NOT)`, []string{"POS-1", "POS-3", "POS-4"}},
		{`entity ANY_OF_NOT [100001]`, []string{"POS-2", "POS-3", "POS-5"}},
		{`externalId START_WITH pos-`, []string{"POS-1", "POS-2", "POS-3", "POS-4", "POS-5"}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			r := e.do(http.MethodGet, "/record/v1/cashSale?q="+urlQueryEscape(tc.q), nil)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			m := r.json(t)
			var got []string
			for _, it := range m["items"].([]any) {
				got = append(got, it.(map[string]any)["id"].(string))
			}
			var want []string
			for _, eid := range tc.want {
				want = append(want, ids[eid])
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("ids %v, want %v", got, want)
			}
			if m["totalResults"] != float64(len(want)) || m["count"] != float64(len(want)) || m["hasMore"] != false {
				t.Errorf("collection fields %v", m)
			}
		})
	}
	// Paging: 5 sales, pages of 2.
	var seen []string
	for off := 0; off < 6; off += 2 {
		m := e.do(http.MethodGet, fmt.Sprintf("/record/v1/cashSale?limit=2&offset=%d", off), nil).json(t)
		if m["totalResults"] != 5.0 || m["offset"] != float64(off) || m["hasMore"] != (off+2 < 5) {
			t.Errorf("page at %d: %v", off, m)
		}
		for _, it := range m["items"].([]any) {
			seen = append(seen, it.(map[string]any)["id"].(string))
		}
		rels := map[string]bool{}
		for _, l := range m["links"].([]any) {
			rels[l.(map[string]any)["rel"].(string)] = true
		}
		if !rels["self"] || rels["next"] != (off+2 < 5) {
			t.Errorf("page at %d links %v", off, m["links"])
		}
	}
	if len(seen) != 5 {
		t.Errorf("paging saw %v", seen)
	}
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer("%", "%25", " ", "%20", `"`, "%22", "[", "%5B", "]", "%5D", ",", "%2C", "&", "%26", "+", "%2B", "#", "%23", "/", "%2F").Replace(s)
}

// TestRecordTimes: a record keeps its server-side creation time; the last-modified time
// moves with every change of the body and stays put when an upsert changes nothing. The
// clock stays within TBA's ±5 min of the signing client.
func TestRecordTimes(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Millisecond)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Minute); return now }
	e := newEnv(t, tinyWorld(), Config{Clock: clock})
	times := func(id string) (created, modified string) {
		t.Helper()
		rec := e.do(http.MethodGet, "/record/v1/cashSale/"+id, nil).json(t)
		row := e.suiteQL("SELECT createddate, lastmodifieddate FROM transaction WHERE id = "+id, "").json(t)["items"].([]any)[0].(map[string]any)
		if row["createddate"] != rec["createdDate"] || row["lastmodifieddate"] != rec["lastModifiedDate"] {
			t.Errorf("SuiteQL times %v, record times %v / %v", row, rec["createdDate"], rec["lastModifiedDate"])
		}
		return rec["createdDate"].(string), rec["lastModifiedDate"].(string)
	}
	body := map[string]any{"tranDate": "2024-11-29", "location": ref1("1"), "item": items(saleLineBody("1003", 1))}
	t0 := formatTime(clock())
	id := e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:T-1", body)
	if c, m := times(id); c != t0 || m != t0 {
		t.Errorf("new record: created %s modified %s, want both %s", c, m, t0)
	}
	advance()
	e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:T-1", body) // identical: nothing changes
	if c, m := times(id); c != t0 || m != t0 {
		t.Errorf("after an identical upsert: created %s modified %s, want both %s", c, m, t0)
	}
	t2 := formatTime(advance())
	body["memo"] = "corrected"
	e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:T-1", body)
	if c, m := times(id); c != t0 || m != t2 {
		t.Errorf("after a changed upsert: created %s modified %s, want %s and %s", c, m, t0, t2)
	}
	t3 := formatTime(advance())
	e.mustWrite(http.MethodPatch, "/record/v1/cashSale/"+id, map[string]any{"memo": "patched"})
	if c, m := times(id); c != t0 || m != t3 {
		t.Errorf("after a PATCH: created %s modified %s, want %s and %s", c, m, t0, t3)
	}
}
