package suiteql

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// schema mimics the simulator's books: base tables and views with
// NetSuite's table names and lower-case columns.
const schema = `
CREATE TABLE subsidiaries (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE locations (id INTEGER PRIMARY KEY, name TEXT, subsidiary INTEGER);
CREATE TABLE customers (id INTEGER PRIMARY KEY, entityid TEXT, firstname TEXT, lastname TEXT, email TEXT, externalid TEXT);
CREATE TABLE items (id INTEGER PRIMARY KEY, itemid TEXT, upccode TEXT, displayname TEXT, baseprice_cents INTEGER);
CREATE TABLE accounts (id INTEGER PRIMARY KEY, number TEXT, name TEXT);
CREATE TABLE transactions (id INTEGER PRIMARY KEY, tranid TEXT, type TEXT, trandate TEXT, externalid TEXT,
	entity INTEGER, location INTEGER, createddate TEXT, lastmodifieddate TEXT);
CREATE TABLE lines ("transaction" INTEGER, line INTEGER, item INTEGER, quantity REAL, amount_cents INTEGER);
CREATE TABLE gl ("transaction" INTEGER, account INTEGER, debit_cents INTEGER, credit_cents INTEGER);
CREATE TABLE inventory (item INTEGER, location INTEGER, onhand REAL);

CREATE VIEW subsidiary AS SELECT id, name FROM subsidiaries;
CREATE VIEW location AS SELECT id, name, subsidiary FROM locations;
CREATE VIEW customer AS SELECT id, entityid, firstname, lastname, email, externalid FROM customers;
CREATE VIEW item AS SELECT id, itemid, upccode, displayname, baseprice_cents / 100.0 AS baseprice FROM items;
CREATE VIEW account AS SELECT id, number AS acctnumber, name AS accountsearchdisplayname FROM accounts;
CREATE VIEW paymentmethod AS SELECT 1 AS id, 'Cash' AS name;
CREATE VIEW salestaxitem AS SELECT 1 AS id, 'CA' AS itemid;
CREATE VIEW "transaction" AS SELECT * FROM transactions;
CREATE VIEW transactionline AS SELECT "transaction", line AS id, item, quantity, amount_cents / 100.0 AS amount FROM lines;
CREATE VIEW transactionaccountingline AS SELECT "transaction", account,
	CASE WHEN debit_cents > 0 THEN debit_cents / 100.0 END AS debit,
	CASE WHEN credit_cents > 0 THEN credit_cents / 100.0 END AS credit FROM gl;
CREATE VIEW inventoryitemlocations AS SELECT item, location, onhand AS quantityonhand, onhand AS quantityavailable FROM inventory;

INSERT INTO subsidiaries VALUES (1, 'Doorbuster Inc.');
INSERT INTO locations VALUES (1, 'Store 001', 1), (2, 'Store 002', 1), (3, 'Warehouse', 1);
INSERT INTO customers VALUES (1, 'CUST-1', 'Ada', 'Lovelace', 'ada@example.com', 'L-1'),
	(2, 'CUST-2', 'Bob', NULL, NULL, NULL), (3, 'CUST-3', 'Cy', 'Young', 'cy@example.com', 'L-3');
INSERT INTO items VALUES (1, 'SKU-1', '000000000017', 'Widget', 999), (2, 'SKU-2', '000000000024', 'Gadget', 2500),
	(3, 'SKU-3', '000000000031', NULL, 150), (4, 'ZED-4', '000000000048', 'Zed', 5000);
INSERT INTO accounts VALUES (1, '1000', 'Undeposited Funds'), (2, '4000', 'Sales');
INSERT INTO transactions VALUES
	(10, 'CS-10', 'CashSale', '2026-11-20', 'POS-10', 1, 1, '2026-11-20T10:00:00.000Z', '2026-11-20T10:00:00.000Z'),
	(11, 'CS-11', 'CashSale', '2026-11-26', 'POS-11', 2, 2, '2026-11-26T23:30:00.000Z', '2026-11-27T07:00:00.000Z'),
	(12, 'CS-12', 'CashSale', '2026-11-27', 'POS-12', NULL, 1, '2026-11-27T09:15:00.000Z', '2026-11-27T09:15:00.000Z'),
	(13, 'CR-13', 'CashRfnd', '2026-11-27', 'POS-13', 1, 1, '2026-11-27T11:00:00.000Z', '2026-11-27T11:00:00.000Z');
INSERT INTO lines VALUES (10, 1, 1, 2, 1998), (10, 2, 2, 1, 2500), (11, 1, 1, 1, 999), (12, 1, 3, 4, 600), (13, 1, 1, -1, -999);
INSERT INTO gl VALUES (10, 1, 4498, 0), (10, 2, 0, 4498), (11, 1, 999, 0), (11, 2, 0, 999);
INSERT INTO inventory VALUES (1, 1, 10), (1, 2, 0), (2, 1, 5), (3, 3, 100);
`

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one in-memory database
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	return db
}

// rows runs q and renders every row as "a|b|c" (NULL for NULL), with the
// column names first.
func rows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rs, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s\n%v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	out := []string{strings.Join(cols, "|")}
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				cells[i] = "NULL"
			} else {
				cells[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExecute(t *testing.T) {
	db := openDB(t)
	tr := New(WithClock(clock)) // SYSDATE = 2026-11-27 12:00:00 UTC
	for _, tc := range []struct {
		name string
		in   string
		want []string // header, then rows
	}{
		{"first rows in order", "SELECT id, itemid FROM item ORDER BY id FETCH FIRST 2 ROWS ONLY",
			[]string{"id|itemid", "1|SKU-1", "2|SKU-2"}},
		{"offset and fetch", "SELECT id FROM item ORDER BY id OFFSET 1 ROWS FETCH NEXT 2 ROWS ONLY",
			[]string{"id", "2", "3"}},
		{"BUILTIN.DF of location, entity and type",
			"SELECT t.tranid, BUILTIN.DF(t.location) store, BUILTIN.DF(t.entity) cust, BUILTIN.DF(t.type) FROM transaction t WHERE t.id IN (11, 12, 13) ORDER BY t.id",
			[]string{"tranid|store|cust|expr1", "CS-11|Store 002|CUST-2|Cash Sale", "CS-12|Store 001|NULL|Cash Sale", "CR-13|Store 001|CUST-1|Cash Refund"}},
		{"BUILTIN.DF of an account in accounting lines",
			"SELECT DISTINCT BUILTIN.DF(account) a FROM transactionaccountingline ORDER BY a",
			[]string{"a", "Sales", "Undeposited Funds"}},
		{"NVL and || with NULLs",
			"SELECT NVL(email, 'none') e, firstname || ' ' || lastname n FROM customer ORDER BY id",
			[]string{"e|n", "ada@example.com|Ada Lovelace", "none|Bob ", "cy@example.com|Cy Young"}},
		{"dates since SYSDATE - 1 (midnight boundary as Oracle)",
			"SELECT id FROM transaction WHERE trandate >= TRUNC(SYSDATE) - 1 ORDER BY id",
			[]string{"id", "11", "12", "13"}},
		{"date-times in the last 3 hours",
			"SELECT id FROM transaction WHERE lastmodifieddate > SYSDATE - 3/24 ORDER BY id",
			[]string{"id", "12", "13"}},
		{"TO_DATE with the NetSuite date format",
			"SELECT COUNT(*) n FROM transaction WHERE trandate = TO_DATE('11/27/2026', 'MM/DD/YYYY')",
			[]string{"n", "2"}},
		{"TO_DATE with time against stored date-times",
			"SELECT id FROM transaction WHERE lastmodifieddate >= TO_DATE('2026-11-27 07:00:00', 'YYYY-MM-DD HH24:MI:SS') ORDER BY id",
			[]string{"id", "11", "12", "13"}},
		{"date arithmetic keeps precision", "SELECT trandate + 1 d, createddate - 0.5 c, SYSDATE - trandate age FROM transaction WHERE id = 11",
			[]string{"d|c|age", "2026-11-27|2026-11-26T11:30:00.000Z|1.5"}},
		{"TO_CHAR, EXTRACT, ADD_MONTHS, LAST_DAY",
			"SELECT TO_CHAR(createddate, 'MM/DD/YYYY HH24:MI') a, EXTRACT(MONTH FROM trandate) m, ADD_MONTHS(DATE '2026-01-31', 1) b, LAST_DAY(trandate) l FROM transaction WHERE id = 12",
			[]string{"a|m|b|l", "11/27/2026 09:15|11|2026-02-28|2026-11-30"}},
		{"GROUP BY and HAVING with exact division",
			"SELECT item, SUM(quantity) qty, SUM(amount) / COUNT(*) avgamt FROM transactionline WHERE quantity > 0 GROUP BY item HAVING SUM(quantity) >= 3 ORDER BY item",
			[]string{"item|qty|avgamt", "1|3|14.985", "3|4|6"}},
		{"joins and subqueries",
			"SELECT i.itemid, l.quantityonhand, BUILTIN.DF(l.location) loc FROM item i JOIN inventoryitemlocations l ON l.item = i.id WHERE l.quantityonhand > 0 AND EXISTS (SELECT 1 FROM transactionline tl WHERE tl.item = i.id) ORDER BY i.itemid, loc",
			[]string{"itemid|quantityonhand|loc", "SKU-1|10|Store 001", "SKU-2|5|Store 001", "SKU-3|100|Warehouse"}},
		{"old-style comma join",
			"SELECT t.tranid, c.entityid FROM transaction t, customer c WHERE c.id = t.entity AND t.type = 'CashSale' ORDER BY t.tranid",
			[]string{"tranid|entityid", "CS-10|CUST-1", "CS-11|CUST-2"}},
		{"NULLs sort last ascending, first descending",
			"SELECT displayname FROM item ORDER BY displayname",
			[]string{"displayname", "Gadget", "Widget", "Zed", "NULL"}},
		{"NULLs first descending",
			"SELECT displayname FROM item ORDER BY displayname DESC FETCH FIRST 2 ROWS ONLY",
			[]string{"displayname", "NULL", "Zed"}},
		{"UNION and MINUS",
			"SELECT entity FROM transaction WHERE entity IS NOT NULL MINUS SELECT id FROM customer WHERE id = 2 UNION SELECT 99 FROM dual ORDER BY 1",
			[]string{"entity", "1", "99"}},
		{"ROWNUM with ORDER BY: first rows in order",
			"SELECT itemid FROM item WHERE ROWNUM <= 2 ORDER BY baseprice DESC",
			[]string{"itemid", "ZED-4", "SKU-2"}},
		{"Oracle top-N idiom keeps the subquery's order",
			"SELECT * FROM (SELECT itemid, baseprice FROM item ORDER BY baseprice) WHERE ROWNUM <= 3",
			[]string{"itemid|baseprice", "SKU-3|1.5", "SKU-1|9.99", "SKU-2|25"}},
		{"ROWNUM in the select list",
			"SELECT ROWNUM rn, itemid FROM (SELECT itemid FROM item ORDER BY itemid DESC) WHERE ROWNUM <= 2",
			[]string{"rn|itemid", "1|ZED-4", "2|SKU-3"}},
		{"CASE, DECODE, GREATEST, ROUND, SUBSTR, TO_NUMBER",
			"SELECT CASE WHEN baseprice > 10 THEN 'high' ELSE 'low' END b, DECODE(displayname, NULL, '-', 'Widget', 'W', '?') d, GREATEST(baseprice, 5) g, ROUND(baseprice / 3, 2) r, SUBSTR(itemid, 0, 3) s, TO_NUMBER(upccode) + 1 u FROM item WHERE id IN (1, 3) ORDER BY id",
			[]string{"b|d|g|r|s|u", "low|W|9.99|3.33|SKU|18", "low|-|5|0.5|SKU|32"}},
		{"LIKE, BETWEEN, IN, IS NULL",
			"SELECT id FROM customer WHERE (entityid LIKE 'CUST-%' AND id BETWEEN 2 AND 3 AND email IS NULL) OR externalid IN ('L-1') ORDER BY id",
			[]string{"id", "1", "2"}},
		{"count naming", "SELECT COUNT(*), COUNT(DISTINCT entity) FROM transaction",
			[]string{"expr1|expr2", "4|2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := tr.Translate(tc.in)
			if err != nil {
				t.Fatalf("Translate(%q): %v", tc.in, err)
			}
			if got := rows(t, db, q); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s\n→ %s\n got %q\nwant %q", tc.in, q, got, tc.want)
			}
		})
	}
}

func TestExecutePageAndCount(t *testing.T) {
	db := openDB(t)
	q, err := Translate("SELECT id, itemid FROM item ORDER BY baseprice DESC")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows(t, db, Page(q, 2, 1)), []string{"id|itemid", "2|SKU-2", "1|SKU-1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("page: got %q, want %q", got, want)
	}
	if got, want := rows(t, db, Count(q)), []string{"count", "4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("count: got %q, want %q", got, want)
	}
	// Paging a query that has its own FETCH FIRST stays within it.
	q, _ = Translate("SELECT id FROM item ORDER BY id FETCH FIRST 3 ROWS ONLY")
	if got, want := rows(t, db, Page(q, 10, 2)), []string{"id", "3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("page of fetch: got %q, want %q", got, want)
	}
	if got, want := rows(t, db, Count(q)), []string{"count", "3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("count of fetch: got %q, want %q", got, want)
	}
	// SYSDATE without a clock runs.
	q, _ = Translate("SELECT COUNT(*) n FROM transaction WHERE createddate < SYSDATE AND trandate > SYSDATE - 36500")
	if got, want := rows(t, db, q), []string{"n", "4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sysdate: got %q, want %q", got, want)
	}
}
