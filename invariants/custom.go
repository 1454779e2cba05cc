package invariants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Custom is a scenario's own invariant (invariants.custom in the scenario file): SQL
// over the journal (main: tx, line, tender, payment, stock_probe, …), the NetSuite
// books (ns.…) and the gateway books (gw.…), plus the checker's helper tables (see
// helpers.go: pos_origin, pos_jline, …). The query returns the violating rows; none
// means the invariant holds. Each row becomes evidence: columns named tx_id, what,
// expected and actual fill those fields, the others go to the detail as key=value.
type Custom struct {
	ID        string `json:"id" yaml:"id"`
	Statement string `json:"statement" yaml:"statement"`
	SQL       string `json:"sql" yaml:"sql"`
}

// CustomError is a custom invariant that cannot be run.
type CustomError struct {
	ID  string
	Err error
}

func (e *CustomError) Error() string { return fmt.Sprintf("custom invariant %q: %v", e.ID, e.Err) }

func (e *CustomError) Unwrap() error { return e.Err }

// validateCustomDefs checks what can be checked without SQLite.
func validateCustomDefs(cs []Custom) error {
	_, err := structuralErrors(cs)
	return err
}

// structuralErrors checks what can be checked without SQLite; ok[i] says custom i
// passed.
func structuralErrors(cs []Custom) (ok []bool, err error) {
	seen := map[string]bool{}
	var errs []error
	ok = make([]bool, len(cs))
	for i, c := range cs {
		id := c.ID
		ok[i] = true
		bad := func(format string, args ...any) {
			ok[i] = false
			errs = append(errs, &CustomError{ID: id, Err: fmt.Errorf(format, args...)})
		}
		switch {
		case id == "":
			id = fmt.Sprintf("#%d", i+1)
			bad("no id")
		case !validID(id):
			bad("the id may hold only letters, digits, '-', '_' and '.'")
		case Statement(id) != "":
			bad("the id is a built-in invariant's")
		case seen[id]:
			bad("the id is used twice")
		}
		seen[id] = true
		if strings.TrimSpace(c.SQL) == "" {
			bad("no sql")
			continue
		}
		if err := singleSelect(c.SQL); err != nil {
			bad("%v", err)
		}
	}
	return ok, errors.Join(errs...)
}

func validID(id string) bool {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return id != ""
}

// singleSelect accepts one SELECT (or WITH … SELECT, or VALUES) statement: no second
// statement after a semicolon. Quotes and comments are skipped when looking.
func singleSelect(q string) error {
	body := strings.TrimSpace(stripSQL(q))
	body = strings.TrimRight(body, "; \t\r\n")
	if strings.Contains(body, ";") {
		return errors.New("the sql must be a single statement")
	}
	words := strings.Fields(body)
	if len(words) == 0 {
		return errors.New("the sql holds no statement (only comments or blanks)")
	}
	kw := strings.ToUpper(words[0])
	if i := strings.IndexAny(kw, "(*"); i > 0 {
		kw = kw[:i]
	}
	switch kw {
	case "SELECT", "WITH", "VALUES":
		return nil
	}
	return fmt.Errorf("the sql must be a query (SELECT, WITH … SELECT or VALUES), not %s", kw)
}

// stripSQL blanks string literals, quoted identifiers and comments.
func stripSQL(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := i + 1
			for j < len(q) {
				if q[j] == end {
					if end != ']' && j+1 < len(q) && q[j+1] == end { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			b.WriteString(" x ")
			i = j + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			for i < len(q) && q[i] != '\n' {
				i++
			}
			b.WriteByte(' ')
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				i = len(q)
			} else {
				i += j + 4
			}
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// ValidateCustom checks custom invariants before a run: each must be well formed and
// its SQL must prepare and run against empty journal and books (the real schemas, the
// checker's helper tables included). The error names every bad invariant by id with
// SQLite's message (errors.Join of *CustomError).
func ValidateCustom(ctx context.Context, customs []Custom) error {
	ok, structural := structuralErrors(customs)
	errs := []error{structural}
	var rest []Custom
	for i, c := range customs {
		if ok[i] {
			rest = append(rest, c)
		}
	}
	if len(rest) == 0 {
		return errors.Join(errs...)
	}
	dir, err := os.MkdirTemp("", "doorbuster-invariants-")
	if err != nil {
		return fmt.Errorf("invariants: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := CreateEmptyRun(ctx, dir); err != nil {
		return err
	}
	s, err := openSession(ctx, filepath.Join(dir, journalFile), filepath.Join(dir, netsuiteFile), filepath.Join(dir, gatewayFile), true, nil, nil)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.need(ctx, helperNames()...); err != nil {
		return err
	}
	if err := s.exec(ctx, "PRAGMA query_only = 1"); err != nil {
		return fmt.Errorf("invariants: %w", err)
	}
	for _, c := range rest {
		if _, err := queryCustom(ctx, s, c, 1); err != nil {
			errs = append(errs, &CustomError{ID: c.ID, Err: err})
		}
	}
	return errors.Join(errs...)
}

// CreateEmptyRun writes an empty journal and empty books (the schemas the checker
// reads) into dir: journal.db, books/netsuite.db, books/gateway.db.
func CreateEmptyRun(ctx context.Context, dir string) error {
	for _, f := range []struct{ path, ddl string }{
		{filepath.Join(dir, journalFile), JournalSchema},
		{filepath.Join(dir, netsuiteFile), netsuiteSchema},
		{filepath.Join(dir, gatewayFile), gatewaySchema},
	} {
		if err := createDB(ctx, f.path, f.ddl); err != nil {
			return err
		}
	}
	return nil
}

func createDB(ctx context.Context, path, ddl string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("invariants: %w", err)
	}
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: path}).String())
	if err != nil {
		return fmt.Errorf("invariants: %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("invariants: creating %s: %w", path, err)
	}
	return db.Close()
}

// customResult holds what a custom query returned.
type customResult struct {
	n        int64
	evidence []Evidence
}

// queryCustom runs c and keeps the first limit rows as evidence.
func queryCustom(ctx context.Context, s *session, c Custom, limit int) (*customResult, error) {
	rows, err := s.c.QueryContext(ctx, c.SQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &customResult{}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		res.n++
		if len(res.evidence) >= limit {
			continue
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var e Evidence
		var detail []string
		for i, col := range cols {
			v := str(vals[i])
			switch strings.ToLower(col) {
			case "tx_id", "txid":
				e.TxID = v
			case "what":
				e.What = v
			case "expected":
				e.Expected = v
			case "actual":
				e.Actual = v
			default:
				detail = append(detail, col+"="+v)
			}
		}
		if e.What == "" {
			e.What = "violating row"
		}
		e.Detail = strings.Join(detail, ", ")
		res.evidence = append(res.evidence, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

func runCustom(ctx context.Context, s *session, c Custom, skipped bool, limit int) (res Result) {
	began := time.Now()
	res = Result{ID: c.ID, Statement: c.Statement, Custom: true}
	if res.Statement == "" {
		res.Statement = "custom: " + firstLine(c.SQL)
	}
	defer func() { res.TookMs = ms(time.Since(began)) }()
	if skipped {
		res.Verdict, res.Reason = NotApplicable, "skipped by the scenario"
		return res
	}
	out, err := queryCustom(ctx, s, c, limit)
	if err != nil {
		res.Verdict, res.Reason = Error, (&CustomError{ID: c.ID, Err: err}).Error()
		return res
	}
	res.Violations, res.Evidence = out.n, out.evidence
	res.Verdict = Pass
	if out.n > 0 {
		res.Verdict = Fail
	}
	return res
}
