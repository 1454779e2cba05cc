// Package suiteql translates NetSuite SuiteQL (an Oracle SQL dialect) into
// SQLite SQL over views that carry NetSuite's table names and lower-case
// column names (item, location, customer, transaction, transactionline, …).
//
// The translator is a tokenizer and a recursive-descent parser for one
// SELECT statement; it re-emits the query for SQLite and refuses everything
// else with a NetSuite-style *Error:
//
//	SELECT id, BUILTIN.DF(location) FROM transaction WHERE trandate >= SYSDATE - 7
//	    ORDER BY id FETCH FIRST 10 ROWS ONLY
//	→ SELECT id, (SELECT _df1.name FROM location AS _df1 WHERE _df1.id = location) AS expr1
//	    FROM `transaction` WHERE trandate >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')
//	    ORDER BY id NULLS LAST LIMIT 10
//
// Translation rules (Oracle → SQLite):
//   - FETCH FIRST|NEXT n ROW[S] ONLY → LIMIT n; OFFSET n ROW[S] → OFFSET n;
//     WHERE … AND ROWNUM <= n (a top-level AND term) → LIMIT n; ROWNUM in the
//     select list → ROW_NUMBER() OVER (); MINUS → EXCEPT.
//   - BUILTIN.DF(col) → a scalar subquery reading the referenced record's
//     display column when the column name is a known reference (location →
//     location.name, entity → customer.entityid, item → item.itemid, …, see
//     WithDisplay), the NetSuite type name for a transaction type code, and
//     the value itself otherwise.
//   - NVL → IFNULL, NVL2 and DECODE → CASE, GREATEST/LEAST → scalar MAX/MIN,
//     CONCAT and || treat NULL as the empty string as Oracle does,
//     TO_NUMBER → CAST(… AS NUMERIC), TO_CHAR(date, fmt) → strftime,
//     TO_DATE/TO_TIMESTAMP of literals → ISO text literals, DATE '…' → '…'.
//   - Dates are ISO 8601 text: dates 'YYYY-MM-DD', date-times
//     'YYYY-MM-DDTHH:MM:SS.SSSZ' (UTC), so text comparison orders them as
//     Oracle orders dates. SYSDATE, CURRENT_DATE and date ± days arithmetic
//     produce that text; date − date is a number of days.
//   - ORDER BY without NULLS FIRST/LAST gets Oracle's default (NULLS LAST
//     ascending, NULLS FIRST descending). Unaliased computed select items
//     are named expr1, expr2, … as NetSuite names them.
//   - Identifiers are emitted lower-case; SQLite keywords (transaction) are
//     quoted with backticks, which SQLite never mistakes for strings.
//
// Refused: anything but one SELECT (DML, DDL, PRAGMA, ATTACH, …, a second
// statement after ';'), tables outside the allowed list, functions outside
// the whitelist, and Oracle constructs without a translation (CONNECT BY,
// START WITH, PIVOT, MODEL, WITH, FOR UPDATE, analytic OVER clauses, (+)
// outer joins, LIMIT, …), each named in the error.
package suiteql

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is a query the translator refuses. Msg is the whole NetSuite-style
// message, e.g. `Invalid search query. Unsupported construct "CONNECT BY" at
// position 42.`; Pos is the 1-based character position of the offending
// text and Construct names it.
type Error struct {
	Msg       string
	Pos       int
	Construct string
}

func (e *Error) Error() string { return e.Msg }

func newError(q string, off int, construct, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Pos: pos(q, off), Construct: construct}
}

// Display names the column BUILTIN.DF shows for a reference to Table.
type Display struct {
	Table  string
	Column string
}

// DefaultTables returns the tables (views) a query may read by default.
func DefaultTables() []string {
	return []string{"account", "customer", "inventoryitemlocations", "item", "location", "paymentmethod",
		"salestaxitem", "subsidiary", "transaction", "transactionaccountingline", "transactionline"}
}

// DefaultDisplay returns the BUILTIN.DF lookups by referencing column name.
func DefaultDisplay() map[string]Display {
	return map[string]Display{
		"location":       {"location", "name"},
		"tolocation":     {"location", "name"},
		"subsidiary":     {"subsidiary", "name"},
		"entity":         {"customer", "entityid"},
		"customer":       {"customer", "entityid"},
		"item":           {"item", "itemid"},
		"account":        {"account", "accountsearchdisplayname"},
		"incomeaccount":  {"account", "accountsearchdisplayname"},
		"expenseaccount": {"account", "accountsearchdisplayname"},
		"assetaccount":   {"account", "accountsearchdisplayname"},
		"paymentmethod":  {"paymentmethod", "name"},
		"taxcode":        {"salestaxitem", "itemid"},
		"salestaxcode":   {"salestaxitem", "itemid"},
		"createdfrom":    {"transaction", "tranid"},
		"transaction":    {"transaction", "tranid"},
	}
}

// transactionTypes maps transaction type codes to what BUILTIN.DF shows.
var transactionTypes = [][2]string{
	{"CashSale", "Cash Sale"}, {"CashRfnd", "Cash Refund"}, {"SalesOrd", "Sales Order"},
	{"ItemShip", "Item Fulfillment"}, {"InvTrnfr", "Inventory Transfer"},
	{"InvAdjst", "Inventory Adjustment"}, {"Journal", "Journal"}, {"CustInvc", "Invoice"},
}

// Option configures a Translator.
type Option func(*Translator)

// WithTables replaces the tables a query may read.
func WithTables(names ...string) Option {
	return func(t *Translator) {
		t.tables = make(map[string]bool, len(names))
		for _, n := range names {
			t.tables[strings.ToLower(n)] = true
		}
	}
}

// WithDisplay makes BUILTIN.DF(<column>) show table.displayColumn of the
// record whose id the column holds.
func WithDisplay(column, table, displayColumn string) Option {
	return func(t *Translator) {
		t.display[strings.ToLower(column)] = Display{strings.ToLower(table), strings.ToLower(displayColumn)}
	}
}

// WithClock makes SYSDATE, CURRENT_DATE and friends literals of the clock's
// time at translation (default: SQLite's 'now' at execution).
func WithClock(now func() time.Time) Option { return func(t *Translator) { t.now = now } }

// Translator translates SuiteQL with a given set of tables. It is immutable
// and safe for concurrent use.
type Translator struct {
	tables  map[string]bool
	display map[string]Display
	now     func() time.Time
}

// New returns a Translator; by default it allows DefaultTables and
// DefaultDisplay.
func New(opts ...Option) *Translator {
	t := &Translator{display: DefaultDisplay()}
	WithTables(DefaultTables()...)(t)
	for _, o := range opts {
		o(t)
	}
	return t
}

// Translate turns one SuiteQL SELECT into SQLite SQL with the default
// Translator.
func Translate(q string) (string, error) { return New().Translate(q) }

// Translate turns one SuiteQL SELECT into SQLite SQL. Errors are *Error.
func (t *Translator) Translate(q string) (string, error) {
	if !utf8.ValidString(q) {
		return "", newError(q, 0, "encoding", "Invalid search query. The query is not valid UTF-8.")
	}
	if i := strings.IndexByte(q, 0); i >= 0 {
		return "", newError(q, i, "NUL", "Invalid search query. Unexpected character %q at position %d.", rune(0), pos(q, i))
	}
	toks, err := lex(q)
	if err != nil {
		return "", err
	}
	p := &parser{t: t, q: q, toks: toks, used: make(map[string]bool)}
	for _, tk := range toks {
		if tk.kind == tkIdent || tk.kind == tkQIdent {
			p.used[strings.ToLower(tk.text)] = true
		}
	}
	return p.statement()
}

// Page wraps a translated query so it returns at most limit rows after
// skipping offset rows; a negative limit means no limit.
//
//	SELECT * FROM (<sql>) LIMIT <limit> OFFSET <offset>
func Page(sql string, limit, offset int) string {
	if limit < 0 {
		limit = -1
	}
	if offset < 0 {
		offset = 0
	}
	return "SELECT * FROM (" + sql + ") LIMIT " + strconv.Itoa(limit) + " OFFSET " + strconv.Itoa(offset)
}

// Count wraps a translated query so it returns its number of rows in one
// column named count.
func Count(sql string) string {
	return "SELECT COUNT(*) AS count FROM (" + sql + ")"
}

// ident renders an identifier for SQLite: bare and lower-case when it can
// be, else quoted with backticks (which, unlike double quotes, SQLite never
// reads as a string literal).
func ident(name string) string {
	low := strings.ToLower(name)
	simple := low != ""
	for i := 0; i < len(low); i++ {
		c := low[i]
		if !('a' <= c && c <= 'z' || c == '_' || i > 0 && '0' <= c && c <= '9') {
			simple = false
			break
		}
	}
	if simple && !sqliteKeywords[strings.ToUpper(low)] {
		return low
	}
	return "`" + strings.ReplaceAll(low, "`", "``") + "`"
}

// quoteString renders a SQL string literal.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqliteKeywords are SQLite's keywords (https://sqlite.org/lang_keywords.html).
var sqliteKeywords = func() map[string]bool {
	m := make(map[string]bool)
	for _, k := range strings.Fields(`ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH
		AUTOINCREMENT BEFORE BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT
		CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT
		DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE
		EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP
		GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO
		IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL
		NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY
		RAISE RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT
		ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER
		UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT
		TRUE FALSE ROWID OID _ROWID_`) {
		m[k] = true
	}
	return m
}()
