package suiteql

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// clock is the fixed time SYSDATE means in these tests.
var clock = func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }

func TestTranslate(t *testing.T) {
	tr := New(WithClock(clock))
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain select, keywords and identifiers normalised",
			"select ID, ItemId from ITEM",
			"SELECT id, itemid FROM item"},
		{"transaction is a SQLite keyword: backticks",
			"SELECT t.id, t.tranid FROM transaction t WHERE t.type = 'CashSale'",
			"SELECT t.id, t.tranid FROM `transaction` AS t WHERE t.type = 'CashSale'"},
		{"FETCH FIRST n ROWS ONLY → LIMIT",
			"SELECT id FROM item ORDER BY id FETCH FIRST 10 ROWS ONLY",
			"SELECT id FROM item ORDER BY id NULLS LAST LIMIT 10"},
		{"OFFSET … FETCH NEXT",
			"SELECT id FROM item ORDER BY id DESC OFFSET 20 ROWS FETCH NEXT 10 ROWS ONLY",
			"SELECT id FROM item ORDER BY id DESC NULLS FIRST LIMIT 10 OFFSET 20"},
		{"FETCH FIRST ROW ONLY means one row",
			"SELECT id FROM item FETCH FIRST ROW ONLY",
			"SELECT id FROM item LIMIT 1"},
		{"OFFSET alone",
			"SELECT id FROM item OFFSET 5 ROWS",
			"SELECT id FROM item LIMIT -1 OFFSET 5"},
		{"explicit NULLS kept",
			"SELECT id FROM item ORDER BY displayname ASC NULLS FIRST, 1",
			"SELECT id FROM item ORDER BY displayname NULLS FIRST, 1 NULLS LAST"},
		{"ROWNUM <= n in WHERE → LIMIT",
			"SELECT id FROM item WHERE itemid LIKE 'A%' AND ROWNUM <= 5",
			"SELECT id FROM item WHERE itemid LIKE 'A%' LIMIT 5"},
		{"ROWNUM < n and mirror image",
			"SELECT id FROM item WHERE 10 > ROWNUM",
			"SELECT id FROM item LIMIT 9"},
		{"ROWNUM with ORDER BY and FETCH",
			"SELECT id FROM item WHERE ROWNUM <= 5 ORDER BY id OFFSET 2 ROWS FETCH NEXT 10 ROWS ONLY",
			"SELECT id FROM item ORDER BY id NULLS LAST LIMIT 3 OFFSET 2"},
		{"ROWNUM in the select list",
			"SELECT ROWNUM, id FROM item",
			"SELECT ROW_NUMBER() OVER () AS rownum, id FROM item"},
		{"ROWNUM in one member of a UNION",
			"SELECT id FROM item WHERE ROWNUM <= 2 UNION SELECT id FROM customer",
			"SELECT * FROM (SELECT id FROM item LIMIT 2) UNION SELECT id FROM customer"},
		{"BUILTIN.DF of a reference → display lookup",
			"SELECT BUILTIN.DF(t.location) AS store FROM transaction t",
			"SELECT (SELECT _df1.name FROM location AS _df1 WHERE _df1.id = t.location) AS store FROM `transaction` AS t"},
		{"BUILTIN.DF alias avoids the query's own identifiers",
			"SELECT BUILTIN.DF(_df1.entity) FROM transaction _df1",
			"SELECT (SELECT _df2.entityid FROM customer AS _df2 WHERE _df2.id = _df1.entity) AS expr1 FROM `transaction` AS _df1"},
		{"BUILTIN.DF of a type code",
			"SELECT BUILTIN.DF(type) t FROM transaction",
			"SELECT CASE type WHEN 'CashSale' THEN 'Cash Sale' WHEN 'CashRfnd' THEN 'Cash Refund' WHEN 'SalesOrd' THEN 'Sales Order' WHEN 'ItemShip' THEN 'Item Fulfillment' WHEN 'InvTrnfr' THEN 'Inventory Transfer' WHEN 'InvAdjst' THEN 'Inventory Adjustment' WHEN 'Journal' THEN 'Journal' WHEN 'CustInvc' THEN 'Invoice' ELSE type END AS t FROM `transaction`"},
		{"BUILTIN.DF of anything else is the value",
			"SELECT BUILTIN.DF(itemid) FROM item",
			"SELECT itemid AS expr1 FROM item"},
		{"unaliased computed columns are exprN",
			"SELECT COUNT(*), MAX(id) m, SUM(baseprice) FROM item",
			"SELECT COUNT(*) AS expr1, MAX(id) AS m, SUM(baseprice) AS expr2 FROM item"},
		{"NVL, NVL2, COALESCE, NULLIF",
			"SELECT NVL(email, 'none') e, NVL2(email, 'y', 'n') h, COALESCE(a, b, c) x, NULLIF(a, b) n FROM customer",
			"SELECT IFNULL(email, 'none') AS e, CASE WHEN email IS NOT NULL THEN 'y' ELSE 'n' END AS h, COALESCE(a, b, c) AS x, NULLIF(a, b) AS n FROM customer"},
		{"DECODE matches NULL with IS",
			"SELECT DECODE(type, 'CashSale', 1, NULL, 2, 0) d FROM transaction",
			"SELECT CASE WHEN type IS 'CashSale' THEN 1 WHEN type IS NULL THEN 2 ELSE 0 END AS d FROM `transaction`"},
		{"|| and CONCAT treat NULL as empty",
			"SELECT firstname || ' ' || lastname n, CONCAT(firstname, lastname) c FROM customer",
			"SELECT IFNULL(firstname, '') || ' ' || IFNULL(lastname, '') AS n, (IFNULL(firstname, '') || IFNULL(lastname, '')) AS c FROM customer"},
		{"division is exact",
			"SELECT SUM(quantity) / COUNT(*) q FROM transactionline",
			"SELECT CAST(SUM(quantity) AS REAL) / COUNT(*) AS q FROM transactionline"},
		{"unary minus never makes a comment",
			"SELECT - -1 a, -(-1) b FROM dual",
			"SELECT -(-1) AS a, -(-1) AS b"},
		{"FROM DUAL is dropped",
			"SELECT SYSDATE now FROM DUAL",
			"SELECT '2026-11-27T12:00:00.000Z' AS now"},
		{"TO_DATE of literals → ISO text",
			"SELECT id FROM transaction WHERE trandate BETWEEN TO_DATE('11/1/2026', 'MM/DD/YYYY') AND TO_DATE('2026-11-27 23:59:59', 'YYYY-MM-DD HH24:MI:SS')",
			"SELECT id FROM `transaction` WHERE trandate BETWEEN '2026-11-01' AND '2026-11-27T23:59:59.000Z'"},
		{"DATE and TIMESTAMP literals",
			"SELECT id FROM transaction WHERE trandate >= DATE '2026-11-27' AND createddate < TIMESTAMP '2026-11-28 00:00:00.5'",
			"SELECT id FROM `transaction` WHERE trandate >= '2026-11-27' AND createddate < '2026-11-28T00:00:00.000Z'"},
		{"SYSDATE minus days",
			"SELECT id FROM transaction WHERE lastmodifieddate > SYSDATE - 1/24",
			"SELECT id FROM `transaction` WHERE lastmodifieddate > strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-27T12:00:00.000Z', (-(CAST(1 AS REAL) / 24)) || ' days')"},
		{"date column plus days keeps its precision",
			"SELECT trandate + 1 d FROM transaction",
			"SELECT CASE WHEN length(trandate) <= 10 THEN date(trandate, '+1 days') ELSE strftime('%Y-%m-%dT%H:%M:%fZ', trandate, '+1 days') END AS d FROM `transaction`"},
		{"date minus date is days",
			"SELECT SYSDATE - trandate age FROM transaction",
			"SELECT (julianday('2026-11-27T12:00:00.000Z') - julianday(trandate)) AS age FROM `transaction`"},
		{"TRUNC, ADD_MONTHS, LAST_DAY of dates",
			"SELECT TRUNC(SYSDATE) a, TRUNC(trandate, 'MM') b, ADD_MONTHS(DATE '2026-01-31', 1) c, LAST_DAY(DATE '2026-02-10') d FROM transaction",
			"SELECT date('2026-11-27T12:00:00.000Z') AS a, date(trandate, 'start of month') AS b, date('2026-01-31', '+1 months', 'floor') AS c, date('2026-02-10', 'start of month', '+1 months', '-1 days') AS d FROM `transaction`"},
		{"TO_CHAR of a date, TO_NUMBER, TRUNC of a number",
			"SELECT TO_CHAR(createddate, 'YYYY-MM-DD\"T\"HH24:MI') a, TO_NUMBER(upccode) b, TRUNC(baseprice, 1) c, TO_CHAR(id) d FROM item",
			"SELECT strftime('%Y-%m-%dT%H:%M', createddate) AS a, CAST(upccode AS NUMERIC) AS b, (trunc((baseprice) * 10) / 10.0) AS c, CAST(id AS TEXT) AS d FROM item"},
		{"EXTRACT and CAST",
			"SELECT EXTRACT(YEAR FROM trandate) y, CAST(id AS VARCHAR2(10)) s, CAST(tranid AS NUMBER(10, 2)) n FROM transaction",
			"SELECT CAST(strftime('%Y', trandate) AS INTEGER) AS y, CAST(id AS TEXT) AS s, CAST(tranid AS NUMERIC) AS n FROM `transaction`"},
		{"joins, subqueries, IN, EXISTS",
			"SELECT i.itemid, l.quantityonhand FROM item i INNER JOIN inventoryitemlocations l ON l.item = i.id LEFT OUTER JOIN location loc ON loc.id = l.location WHERE i.id IN (SELECT item FROM transactionline) AND NOT EXISTS (SELECT 1 FROM customer c WHERE c.id = 0)",
			"SELECT i.itemid, l.quantityonhand FROM item AS i JOIN inventoryitemlocations AS l ON l.item = i.id LEFT JOIN location AS loc ON loc.id = l.location WHERE i.id IN (SELECT item FROM transactionline) AND NOT EXISTS (SELECT 1 AS expr1 FROM customer AS c WHERE c.id = 0)"},
		{"GROUP BY, HAVING, comma join, <>",
			"SELECT t.entity, COUNT(DISTINCT t.id) n FROM transaction t, transactionline tl WHERE tl.transaction = t.id AND t.type != 'Journal' GROUP BY t.entity HAVING COUNT(*) >= 2",
			"SELECT t.entity, COUNT(DISTINCT t.id) AS n FROM `transaction` AS t, transactionline AS tl WHERE tl.`transaction` = t.id AND t.type <> 'Journal' GROUP BY t.entity HAVING COUNT(*) >= 2"},
		{"UNION ALL, MINUS → EXCEPT, parenthesised members",
			"(SELECT id FROM item) UNION ALL SELECT id FROM customer MINUS SELECT entity FROM transaction ORDER BY 1",
			"SELECT * FROM (SELECT id FROM item) UNION ALL SELECT id FROM customer EXCEPT SELECT entity FROM `transaction` ORDER BY 1 NULLS LAST"},
		{"comments, quoted identifiers, N'' strings and a trailing semicolon",
			"/* hint */ SELECT \"ID\", 'it''s' s, N'x' -- trailing\nFROM item;",
			"SELECT id, 'it''s' AS s, 'x' AS expr1 FROM item"},
		{"CASE, GREATEST, LEAST, ROUND, SUBSTR from 0",
			"SELECT CASE WHEN baseprice > 10 THEN 'high' WHEN baseprice IS NULL THEN NULL ELSE 'low' END b, GREATEST(1, 2, 3) g, LEAST(a) l, ROUND(baseprice, 2) r, SUBSTR(itemid, 0, 3) s FROM item",
			"SELECT CASE WHEN baseprice > 10 THEN 'high' WHEN baseprice IS NULL THEN NULL ELSE 'low' END AS b, MAX(1, 2, 3) AS g, a AS l, ROUND(baseprice, 2) AS r, SUBSTR(itemid, 1, 3) AS s FROM item"},
		{"t.* and *",
			"SELECT i.*, 1 FROM item i",
			"SELECT i.*, 1 AS expr1 FROM item AS i"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tr.Translate(tc.in)
			if err != nil {
				t.Fatalf("Translate(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Translate(%q)\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestReject(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		construct string
		pos       int
		msg       string // whole message, when given
	}{
		{"CONNECT BY", "SELECT id FROM item START WITH id = 1 CONNECT BY PRIOR id = parent", "START WITH", 21, ""},
		{"CONNECT BY alone", "SELECT id FROM item CONNECT BY PRIOR id = parent", "CONNECT BY", 21,
			`Invalid search query. Unsupported construct "CONNECT BY" at position 21.`},
		{"PIVOT", "SELECT * FROM item PIVOT (SUM(x) FOR y IN (1))", "PIVOT", 20, ""},
		{"MERGE", "MERGE INTO item USING customer ON (1 = 1)", "MERGE", 1, ""},
		{"INSERT", "INSERT INTO item (id) VALUES (1)", "INSERT", 1, ""},
		{"UPDATE", "update item set itemid = 'x'", "UPDATE", 1, ""},
		{"DELETE", "  DELETE FROM item", "DELETE", 3, ""},
		{"CREATE", "CREATE TABLE x (a)", "CREATE", 1, ""},
		{"DROP", "DROP VIEW item", "DROP", 1, ""},
		{"PRAGMA", "PRAGMA table_info(item)", "PRAGMA", 1, ""},
		{"ATTACH", "ATTACH DATABASE '/tmp/x' AS x", "ATTACH", 1, ""},
		{"VACUUM", "VACUUM INTO '/tmp/x'", "VACUUM", 1, ""},
		{"WITH", "WITH x AS (SELECT 1 FROM dual) SELECT * FROM x", "WITH", 1, ""},
		{"second statement", "SELECT id FROM item; DELETE FROM item", "multiple statements", 20, ""},
		{"second statement hidden after a comment", "SELECT id FROM item; -- x\nSELECT 1 FROM dual", "multiple statements", 20, ""},
		{"sqlite_master", "SELECT name FROM sqlite_master", "sqlite_master", 18,
			`Invalid search query. Unknown table "sqlite_master" at position 18.`},
		{"quoted sqlite_schema", `SELECT * FROM "sqlite_schema"`, "sqlite_schema", 15, ""},
		{"table in a subquery", "SELECT id FROM item WHERE id IN (SELECT id FROM books_internal)", "books_internal", 49, ""},
		{"schema-qualified table", "SELECT * FROM main.item", "main.item", 15, ""},
		{"table-valued pragma", "SELECT * FROM pragma_table_info('item')", "pragma_table_info", 15, ""},
		{"unknown function", "SELECT load_extension('x') FROM item", "LOAD_EXTENSION", 8,
			`Invalid search query. Unknown function "LOAD_EXTENSION" at position 8.`},
		{"unknown BUILTIN function", "SELECT BUILTIN.CONSOLIDATE(amount) FROM transactionline", "BUILTIN.CONSOLIDATE", 8, ""},
		{"SQLite-only function", "SELECT printf('%d', id) FROM item", "PRINTF", 8, ""},
		{"wrong argument count", "SELECT NVL(a) FROM item", "NVL", 8,
			`Invalid search query. Function "NVL" takes 2 arguments, not 1, at position 8.`},
		{"analytic OVER", "SELECT ROW_NUMBER() OVER (ORDER BY id) FROM item", "ROW_NUMBER", 8, ""},
		{"aggregate OVER", "SELECT COUNT(*) OVER (PARTITION BY location) FROM item", "OVER", 17, ""},
		{"LISTAGG WITHIN GROUP", "SELECT LISTAGG(itemid, ',') WITHIN GROUP (ORDER BY id) FROM item", "LISTAGG", 8, ""},
		{"old outer join", "SELECT * FROM item i, inventoryitemlocations l WHERE l.item(+) = i.id", "(+)", 60, ""},
		{"LIMIT is not SuiteQL", "SELECT id FROM item LIMIT 10", "LIMIT", 21, ""},
		{"FOR UPDATE", "SELECT id FROM item FOR UPDATE", "FOR UPDATE", 21, ""},
		{"FETCH PERCENT", "SELECT id FROM item FETCH FIRST 10 PERCENT ROWS ONLY", "FETCH … PERCENT", 21, ""},
		{"WITH TIES", "SELECT id FROM item ORDER BY id FETCH FIRST 1 ROWS WITH TIES", "FETCH … WITH TIES", 52, ""},
		{"ROWNUM > n", "SELECT id FROM item WHERE ROWNUM > 5", "ROWNUM", 27, ""},
		{"ROWNUM under OR", "SELECT id FROM item WHERE id = 1 OR ROWNUM <= 5", "ROWNUM", 37, ""},
		{"ROWNUM with GROUP BY", "SELECT location, COUNT(*) FROM inventoryitemlocations WHERE ROWNUM <= 5 GROUP BY location", "ROWNUM", 61, ""},
		{"ROWNUM in ORDER BY", "SELECT id FROM item ORDER BY ROWNUM", "ROWNUM", 30, ""},
		{"ANY comparison", "SELECT id FROM item WHERE id = ANY (SELECT item FROM transactionline)", "ANY comparison", 32, ""},
		{"INTERVAL", "SELECT SYSDATE - INTERVAL '1' DAY FROM dual", "INTERVAL", 18, ""},
		{"q-quoting", "SELECT q'[x]' FROM dual", "q'…' quoting", 8, ""},
		{"TO_CHAR number format", "SELECT TO_CHAR(baseprice, '999.99') FROM item", "TO_CHAR number format", 8, ""},
		{"TO_CHAR month name", "SELECT TO_CHAR(trandate, 'DD Mon YYYY') FROM transaction", "TO_CHAR format element Mon", 8, ""},
		{"bad TO_DATE", "SELECT id FROM transaction WHERE trandate = TO_DATE('2026-02-30', 'YYYY-MM-DD')", "2026-02-30", 45, ""},
		{"bad DATE literal", "SELECT id FROM transaction WHERE trandate = DATE '11/27/2026'", "11/27/2026", 50, ""},
		{"unterminated string", "SELECT 'abc FROM item", "'", 8,
			"Invalid search query. Unterminated string at position 8."},
		{"unterminated comment", "SELECT id /* FROM item", "/*", 11, ""},
		{"parameter marker", "SELECT id FROM item WHERE id = ?", "?", 32, ""},
		{"bracket identifier", "SELECT [id] FROM item", "[", 8, ""},
		{"missing FROM", "SELECT 1", "end of query", 9,
			"Invalid search query. Syntax error at position 9: expected FROM, found end of query."},
		{"trailing junk", "SELECT id FROM item item2 item3", `"item3"`, 27, ""},
		{"NUL byte", "SELECT id FROM item\x00", "NUL", 20, ""},
		{"not UTF-8", "SELECT '\xff' FROM item", "encoding", 1, ""},
		{"empty", "", "end of query", 1, ""},
		{"position counts characters", "SELECT 'é€' x FROM nope", "nope", 20, ""},
		{"too deep", "SELECT " + strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100) + " FROM dual", "nesting", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Translate(tc.in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Translate(%q) = %q, %v; want *Error", tc.in, got, err)
			}
			if e.Construct != tc.construct || tc.pos != 0 && e.Pos != tc.pos {
				t.Errorf("Translate(%q): construct %q at %d, want %q at %d (%s)", tc.in, e.Construct, e.Pos, tc.construct, tc.pos, e.Msg)
			}
			if tc.msg != "" && e.Msg != tc.msg {
				t.Errorf("message\n got %s\nwant %s", e.Msg, tc.msg)
			}
			if !strings.HasPrefix(e.Error(), "Invalid search query. ") || !strings.HasSuffix(e.Error(), ".") {
				t.Errorf("message %q is not in NetSuite's style", e.Msg)
			}
			if e.Pos < 1 || e.Pos > utf8.RuneCountInString(tc.in)+1 {
				t.Errorf("position %d outside the query", e.Pos)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	tr := New(WithTables("item", "employee"), WithDisplay("supervisor", "employee", "entityid"))
	got, err := tr.Translate("SELECT BUILTIN.DF(e.supervisor) FROM employee e")
	if err != nil {
		t.Fatal(err)
	}
	if want := "SELECT (SELECT _df1.entityid FROM employee AS _df1 WHERE _df1.id = e.supervisor) AS expr1 FROM employee AS e"; got != want {
		t.Errorf("got %s", got)
	}
	if _, err := tr.Translate("SELECT id FROM customer"); err == nil {
		t.Error("customer allowed though not in WithTables")
	}
	// A display table that is not allowed falls back to the value.
	if got, _ := tr.Translate("SELECT BUILTIN.DF(location) FROM item"); got != "SELECT location AS expr1 FROM item" {
		t.Errorf("got %s", got)
	}
	// Without a clock SYSDATE is SQLite's 'now' at execution.
	if got, _ := New().Translate("SELECT SYSDATE - 7 d FROM dual"); got != "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days') AS d" {
		t.Errorf("got %s", got)
	}
}

func TestPageAndCount(t *testing.T) {
	if got := Page("SELECT id FROM item", 10, 20); got != "SELECT * FROM (SELECT id FROM item) LIMIT 10 OFFSET 20" {
		t.Errorf("Page: %s", got)
	}
	if got := Page("SELECT id FROM item", -5, -1); got != "SELECT * FROM (SELECT id FROM item) LIMIT -1 OFFSET 0" {
		t.Errorf("Page with negatives: %s", got)
	}
	if got := Count("SELECT id FROM item"); got != "SELECT COUNT(*) AS count FROM (SELECT id FROM item)" {
		t.Errorf("Count: %s", got)
	}
}
