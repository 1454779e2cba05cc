package suiteql

import (
	"strconv"
	"strings"
)

// kind is what the translator knows about an expression's type; it matters
// for date arithmetic, which Oracle does in days and SQLite does not do.
type kind uint8

const (
	kUnknown  kind = iota
	kNumber        // numeric
	kString        // text
	kDate          // 'YYYY-MM-DD'
	kDateTime      // 'YYYY-MM-DDTHH:MM:SS.SSSZ'
	kDateCol       // a column named *date: a date or a date-time
)

func (k kind) isDate() bool { return k == kDate || k == kDateTime || k == kDateCol }

// expr is a translated expression.
type expr struct {
	sql      string
	kind     kind
	col      string // lower-case column name when the expression is a plain column reference
	defAlias string // the result column name when not aliased (instead of exprN)
	numLit   bool   // an unsigned numeric literal
	intLit   bool   // an unsigned integer literal; intVal holds it
	intVal   int64
	strLit   bool // a string literal; strVal holds it
	strVal   string
	notNull  bool   // never NULL (concatenation results)
	rownum   bool   // bare ROWNUM
	rnCmp    bool   // a ROWNUM comparison that limits the rows to rnLimit
	rnLimit  int64  //
	rnPos    int    // byte offset of the ROWNUM
	dateArg  string // what SQLite date functions should be given instead of sql ('now')
}

type clause uint8

const (
	clauseOther clause = iota
	clauseSelect
	clauseWhere
)

// core is the state of the SELECT being parsed (subqueries push their own).
type core struct {
	clause  clause
	hasAgg  bool
	pending []int // byte offsets of ROWNUMs in WHERE not yet turned into a LIMIT
	rnLimit int64 // -1: none
	rnPos   int
	exprN   int
}

type member struct {
	sql   string
	limit int64 // ROWNUM limit of this SELECT, -1 if none
}

const maxDepth = 64

type parser struct {
	t     *Translator
	q     string
	toks  []token
	i     int
	used  map[string]bool // every identifier in the query, lower-case
	depth int
	cores []*core
	dfN   int
}

// Words that cannot be identifiers or implicit aliases.
var reserved = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`SELECT FROM WHERE GROUP BY HAVING ORDER UNION ALL ANY SOME INTERSECT
		MINUS EXCEPT JOIN INNER LEFT RIGHT FULL OUTER CROSS NATURAL ON USING AND OR NOT IN IS NULL LIKE
		BETWEEN CASE WHEN THEN ELSE END AS DISTINCT UNIQUE EXISTS FETCH OFFSET ASC DESC NULLS ESCAPE
		INSERT UPDATE DELETE MERGE CREATE DROP ALTER TRUNCATE GRANT REVOKE PRAGMA ATTACH DETACH VACUUM
		REINDEX COMMIT ROLLBACK SAVEPOINT EXPLAIN`) {
		m[w] = true
	}
	for w := range constructs {
		m[w] = true
	}
	return m
}()

// constructs names the unsupported Oracle or SQLite construct a word starts.
var constructs = map[string]string{
	"CONNECT": "CONNECT BY", "START": "START WITH", "PRIOR": "CONNECT BY", "PIVOT": "PIVOT",
	"UNPIVOT": "UNPIVOT", "MODEL": "MODEL", "FOR": "FOR UPDATE", "LIMIT": "LIMIT", "WINDOW": "WINDOW",
	"QUALIFY": "QUALIFY", "SAMPLE": "SAMPLE", "RETURNING": "RETURNING", "INTO": "SELECT INTO",
	"WITH": "WITH", "OVER": "OVER", "KEEP": "KEEP", "MATCH_RECOGNIZE": "MATCH_RECOGNIZE",
	"LATERAL": "LATERAL", "APPLY": "APPLY", "WITHIN": "WITHIN GROUP", "INTERVAL": "INTERVAL",
	"PARTITION": "PARTITION", "SIBLINGS": "ORDER SIBLINGS BY", "MULTISET": "MULTISET",
}

// statementWords start statements other than SELECT.
var statementWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`INSERT UPDATE DELETE MERGE UPSERT CREATE DROP ALTER TRUNCATE GRANT
		REVOKE PRAGMA ATTACH DETACH VACUUM REINDEX ANALYZE BEGIN END COMMIT ROLLBACK SAVEPOINT RELEASE
		REPLACE EXPLAIN CALL EXEC EXECUTE DECLARE LOCK RENAME COMMENT SET VALUES WITH SHOW DESCRIBE USE`) {
		m[w] = true
	}
	return m
}()

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	tk := p.toks[p.i]
	if tk.kind != tkEOF {
		p.i++
	}
	return tk
}

func isKw(tk token, kw string) bool { return tk.kind == tkIdent && tk.up == kw }
func isOp(tk token, op string) bool { return tk.kind == tkOp && tk.text == op }

func (p *parser) isKw(kw string) bool { return isKw(p.peek(), kw) }
func (p *parser) isOp(op string) bool { return isOp(p.peek(), op) }

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) error {
	if !p.acceptKw(kw) {
		return p.unexpected(kw)
	}
	return nil
}

func (p *parser) expectOp(op string) error {
	if !p.acceptOp(op) {
		return p.unexpected(`"` + op + `"`)
	}
	return nil
}

func (p *parser) core() *core {
	if len(p.cores) == 0 {
		return nil
	}
	return p.cores[len(p.cores)-1]
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return newError(p.q, p.peek().pos, "nesting", "Invalid search query. The query is nested too deeply at position %d.", pos(p.q, p.peek().pos))
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// unsupported reports a construct the translator refuses.
func (p *parser) unsupported(off int, construct string) *Error {
	return newError(p.q, off, construct, "Invalid search query. Unsupported construct %q at position %d.", construct, pos(p.q, off))
}

// unexpected reports the current token, naming the construct it starts if
// it is one the translator refuses.
func (p *parser) unexpected(expected string) error {
	tk := p.peek()
	switch {
	case tk.kind == tkIdent && constructs[tk.up] != "":
		return p.unsupported(tk.pos, constructs[tk.up])
	case tk.kind == tkIdent && statementWords[tk.up] && reserved[tk.up]:
		return p.unsupported(tk.pos, tk.up)
	case isOp(tk, ";") && p.peekAt(1).kind != tkEOF:
		return p.unsupported(tk.pos, "multiple statements")
	}
	return newError(p.q, tk.pos, describe(tk), "Invalid search query. Syntax error at position %d: expected %s, found %s.", pos(p.q, tk.pos), expected, describe(tk))
}

func describe(tk token) string {
	switch tk.kind {
	case tkEOF:
		return "end of query"
	case tkString:
		return "'" + tk.text + "'"
	case tkQIdent:
		return `"` + tk.text + `"`
	}
	return `"` + tk.text + `"`
}

// statement parses the whole query.
func (p *parser) statement() (string, error) {
	tk := p.peek()
	if tk.kind == tkIdent && statementWords[tk.up] {
		return "", p.unsupported(tk.pos, tk.up)
	}
	if !isKw(tk, "SELECT") && !isOp(tk, "(") {
		return "", p.unexpected("SELECT")
	}
	sql, err := p.query()
	if err != nil {
		return "", err
	}
	if semi := p.peek(); p.acceptOp(";") && p.peek().kind != tkEOF {
		return "", p.unsupported(semi.pos, "multiple statements")
	}
	if p.peek().kind != tkEOF {
		return "", p.unexpected("end of query")
	}
	return sql, nil
}

// query parses SELECTs joined by set operators, with ORDER BY, OFFSET and FETCH.
func (p *parser) query() (string, error) {
	if err := p.enter(); err != nil {
		return "", err
	}
	defer p.leave()
	first, err := p.member()
	if err != nil {
		return "", err
	}
	members := []member{first}
	var ops []string
	for {
		op := ""
		switch {
		case p.acceptKw("UNION"):
			op = "UNION"
			if p.acceptKw("ALL") {
				op = "UNION ALL"
			}
		case p.acceptKw("INTERSECT"):
			op = "INTERSECT"
		case p.acceptKw("MINUS"), p.acceptKw("EXCEPT"):
			op = "EXCEPT"
		}
		if op == "" {
			break
		}
		m, err := p.member()
		if err != nil {
			return "", err
		}
		members = append(members, m)
		ops = append(ops, op)
	}

	p.cores = append(p.cores, &core{clause: clauseOther, rnLimit: -1})
	defer func() { p.cores = p.cores[:len(p.cores)-1] }()
	orderBy := ""
	if p.isKw("ORDER") {
		if isKw(p.peekAt(1), "SIBLINGS") {
			return "", p.unsupported(p.peek().pos, "ORDER SIBLINGS BY")
		}
		p.next()
		if err := p.expectKw("BY"); err != nil {
			return "", err
		}
		if orderBy, err = p.orderList(); err != nil {
			return "", err
		}
	}
	offset, fetch := int64(-1), int64(-1)
	if p.acceptKw("OFFSET") {
		if offset, err = p.intLiteral("the number of rows to skip"); err != nil {
			return "", err
		}
		if !p.acceptKw("ROWS") && !p.acceptKw("ROW") {
			return "", p.unexpected("ROWS")
		}
	}
	if tk := p.peek(); p.acceptKw("FETCH") {
		if !p.acceptKw("FIRST") && !p.acceptKw("NEXT") {
			return "", p.unexpected("FIRST or NEXT")
		}
		fetch = 1
		if p.peek().kind == tkNumber {
			if fetch, err = p.intLiteral("the number of rows"); err != nil {
				return "", err
			}
		}
		if p.isKw("PERCENT") {
			return "", p.unsupported(tk.pos, "FETCH … PERCENT")
		}
		if !p.acceptKw("ROWS") && !p.acceptKw("ROW") {
			return "", p.unexpected("ROWS")
		}
		if p.isKw("WITH") {
			return "", p.unsupported(p.peek().pos, "FETCH … WITH TIES")
		}
		if err := p.expectKw("ONLY"); err != nil {
			return "", err
		}
	}

	var b strings.Builder
	if len(members) == 1 && members[0].limit >= 0 {
		// Oracle applies ROWNUM before ORDER BY and FETCH to an arbitrary
		// set of rows; the first rows in order are one such set.
		lim, skip := members[0].limit, max(offset, 0)
		lim = max(lim-skip, 0)
		if fetch >= 0 {
			lim = min(lim, fetch)
		}
		b.WriteString(members[0].sql)
		b.WriteString(orderBy)
		b.WriteString(" LIMIT " + strconv.FormatInt(lim, 10))
		if skip > 0 {
			b.WriteString(" OFFSET " + strconv.FormatInt(skip, 10))
		}
		return b.String(), nil
	}
	for i, m := range members {
		if i > 0 {
			b.WriteString(" " + ops[i-1] + " ")
		}
		if m.limit >= 0 {
			b.WriteString("SELECT * FROM (" + m.sql + " LIMIT " + strconv.FormatInt(m.limit, 10) + ")")
		} else {
			b.WriteString(m.sql)
		}
	}
	b.WriteString(orderBy)
	if fetch >= 0 {
		b.WriteString(" LIMIT " + strconv.FormatInt(fetch, 10))
	}
	if offset >= 0 {
		if fetch < 0 {
			b.WriteString(" LIMIT -1")
		}
		b.WriteString(" OFFSET " + strconv.FormatInt(offset, 10))
	}
	return b.String(), nil
}

// member is one operand of a set operator: a SELECT or a parenthesized query.
func (p *parser) member() (member, error) {
	if p.isOp("(") {
		p.next()
		sub, err := p.query()
		if err != nil {
			return member{}, err
		}
		if err := p.expectOp(")"); err != nil {
			return member{}, err
		}
		return member{sql: "SELECT * FROM (" + sub + ")", limit: -1}, nil
	}
	return p.selectCore()
}

func (p *parser) intLiteral(what string) (int64, error) {
	tk := p.peek()
	if tk.kind != tkNumber {
		return 0, p.unexpected(what)
	}
	n, err := strconv.ParseInt(tk.text, 10, 64)
	if err != nil || n > 1<<40 {
		return 0, newError(p.q, tk.pos, tk.text, "Invalid search query. Syntax error at position %d: expected a whole number for %s, found %q.", pos(p.q, tk.pos), what, tk.text)
	}
	p.next()
	return n, nil
}

// selectCore parses SELECT … FROM … [WHERE] [GROUP BY] [HAVING].
func (p *parser) selectCore() (member, error) {
	if err := p.expectKw("SELECT"); err != nil {
		return member{}, err
	}
	c := &core{clause: clauseSelect, rnLimit: -1}
	p.cores = append(p.cores, c)
	defer func() { p.cores = p.cores[:len(p.cores)-1] }()

	var b strings.Builder
	b.WriteString("SELECT ")
	distinct := false
	if p.acceptKw("DISTINCT") || p.acceptKw("UNIQUE") {
		distinct = true
		b.WriteString("DISTINCT ")
	} else {
		p.acceptKw("ALL")
	}
	items, err := p.selectList(c)
	if err != nil {
		return member{}, err
	}
	b.WriteString(items)

	c.clause = clauseOther
	if !p.isKw("FROM") {
		return member{}, p.unexpected("FROM")
	}
	p.next()
	from, err := p.fromClause()
	if err != nil {
		return member{}, err
	}
	if from != "" {
		b.WriteString(" FROM " + from)
	}
	if p.acceptKw("WHERE") {
		c.clause = clauseWhere
		where, err := p.whereClause(c)
		if err != nil {
			return member{}, err
		}
		if where != "" {
			b.WriteString(" WHERE " + where)
		}
		c.clause = clauseOther
	}
	grouped := false
	if p.isKw("GROUP") {
		p.next()
		if err := p.expectKw("BY"); err != nil {
			return member{}, err
		}
		list, err := p.exprList()
		if err != nil {
			return member{}, err
		}
		grouped = true
		b.WriteString(" GROUP BY " + list)
	}
	if p.acceptKw("HAVING") {
		e, err := p.expr()
		if err != nil {
			return member{}, err
		}
		grouped = true
		b.WriteString(" HAVING " + e.sql)
	}
	if len(c.pending) > 0 {
		return member{}, newError(p.q, c.pending[0], "ROWNUM", "Invalid search query. Unsupported construct %q at position %d: only ROWNUM <= n as a condition of the WHERE clause is supported.", "ROWNUM", pos(p.q, c.pending[0]))
	}
	if c.rnLimit >= 0 && (distinct || grouped || c.hasAgg) {
		return member{}, newError(p.q, c.rnPos, "ROWNUM", "Invalid search query. Unsupported construct %q at position %d: ROWNUM cannot be combined with DISTINCT, GROUP BY or aggregates.", "ROWNUM", pos(p.q, c.rnPos))
	}
	return member{sql: b.String(), limit: c.rnLimit}, nil
}

func (p *parser) selectList(c *core) (string, error) {
	var items []string
	for {
		tk := p.peek()
		switch {
		case isOp(tk, "*"):
			p.next()
			items = append(items, "*")
		case (tk.kind == tkIdent && !reserved[tk.up] || tk.kind == tkQIdent) && isOp(p.peekAt(1), ".") && isOp(p.peekAt(2), "*"):
			p.i += 3
			items = append(items, ident(tk.text)+".*")
		default:
			e, err := p.expr()
			if err != nil {
				return "", err
			}
			alias, has, err := p.alias()
			if err != nil {
				return "", err
			}
			switch {
			case has:
				items = append(items, e.sql+" AS "+ident(alias))
			case e.col != "":
				items = append(items, e.sql)
			case e.defAlias != "":
				items = append(items, e.sql+" AS "+e.defAlias)
			default:
				c.exprN++
				items = append(items, e.sql+" AS expr"+strconv.Itoa(c.exprN))
			}
		}
		if !p.acceptOp(",") {
			return strings.Join(items, ", "), nil
		}
	}
}

// alias parses an optional [AS] alias.
func (p *parser) alias() (string, bool, error) {
	if p.acceptKw("AS") {
		tk := p.peek()
		if tk.kind == tkQIdent || tk.kind == tkIdent && !reserved[tk.up] {
			p.next()
			return tk.text, true, nil
		}
		return "", false, p.unexpected("an alias")
	}
	if tk := p.peek(); tk.kind == tkQIdent || tk.kind == tkIdent && !reserved[tk.up] {
		p.next()
		return tk.text, true, nil
	}
	return "", false, nil
}

// fromClause parses the table list and joins; "" means FROM DUAL.
func (p *parser) fromClause() (string, error) {
	first, dual, err := p.tableRef()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(first)
	for {
		tk := p.peek()
		if p.acceptOp(",") {
			ref, d, err := p.tableRef()
			if err != nil {
				return "", err
			}
			if dual || d {
				return "", p.unsupported(tk.pos, "DUAL in a join")
			}
			b.WriteString(", " + ref)
			continue
		}
		join, needOn, ok, err := p.joinKind()
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		ref, d, err := p.tableRef()
		if err != nil {
			return "", err
		}
		if dual || d {
			return "", p.unsupported(tk.pos, "DUAL in a join")
		}
		b.WriteString(" " + join + " " + ref)
		if !needOn {
			continue
		}
		switch {
		case p.acceptKw("ON"):
			e, err := p.expr()
			if err != nil {
				return "", err
			}
			b.WriteString(" ON " + e.sql)
		case p.acceptKw("USING"):
			if err := p.expectOp("("); err != nil {
				return "", err
			}
			var cols []string
			for {
				tk := p.peek()
				if tk.kind != tkQIdent && (tk.kind != tkIdent || reserved[tk.up]) {
					return "", p.unexpected("a column name")
				}
				p.next()
				cols = append(cols, ident(tk.text))
				if !p.acceptOp(",") {
					break
				}
			}
			if err := p.expectOp(")"); err != nil {
				return "", err
			}
			b.WriteString(" USING (" + strings.Join(cols, ", ") + ")")
		default:
			return "", p.unexpected("ON")
		}
	}
	if dual {
		return "", nil
	}
	return b.String(), nil
}

// joinKind parses the words before JOIN.
func (p *parser) joinKind() (join string, needOn, ok bool, err error) {
	tk := p.peek()
	natural := p.acceptKw("NATURAL")
	switch {
	case p.isKw("JOIN"):
		join = "JOIN"
	case p.acceptKw("INNER"):
		join = "JOIN"
	case p.acceptKw("LEFT"):
		join = "LEFT JOIN"
		p.acceptKw("OUTER")
	case p.acceptKw("RIGHT"):
		join = "RIGHT JOIN"
		p.acceptKw("OUTER")
	case p.acceptKw("FULL"):
		join = "FULL JOIN"
		p.acceptKw("OUTER")
	case p.isKw("CROSS") && isKw(p.peekAt(1), "APPLY"), p.isKw("OUTER") && isKw(p.peekAt(1), "APPLY"):
		return "", false, false, p.unsupported(tk.pos, p.peek().up+" APPLY")
	case p.acceptKw("CROSS"):
		join = "CROSS JOIN"
	default:
		if natural {
			return "", false, false, p.unexpected("JOIN")
		}
		return "", false, false, nil
	}
	if err := p.expectKw("JOIN"); err != nil {
		return "", false, false, err
	}
	if natural {
		return "NATURAL " + join, false, true, nil
	}
	return join, join != "CROSS JOIN", true, nil
}

// tableRef parses a table or subquery with an optional alias.
func (p *parser) tableRef() (string, bool, error) {
	tk := p.peek()
	var s string
	dual := false
	switch {
	case isOp(tk, "("):
		p.next()
		if !p.isKw("SELECT") && !p.isOp("(") {
			return "", false, p.unexpected("SELECT")
		}
		sub, err := p.query()
		if err != nil {
			return "", false, err
		}
		if err := p.expectOp(")"); err != nil {
			return "", false, err
		}
		s = "(" + sub + ")"
	case tk.kind == tkQIdent || tk.kind == tkIdent && !reserved[tk.up]:
		p.next()
		name := strings.ToLower(tk.text)
		if p.isOp(".") {
			full := tk.text
			for p.acceptOp(".") && (p.peek().kind == tkIdent || p.peek().kind == tkQIdent) {
				full += "." + p.next().text
			}
			return "", false, newError(p.q, tk.pos, full, "Invalid search query. Unknown table %q at position %d.", full, pos(p.q, tk.pos))
		}
		switch {
		case name == "dual":
			dual = true
		case !p.t.tables[name]:
			return "", false, newError(p.q, tk.pos, tk.text, "Invalid search query. Unknown table %q at position %d.", tk.text, pos(p.q, tk.pos))
		}
		s = ident(name)
	default:
		return "", false, p.unexpected("a table name")
	}
	alias, has, err := p.alias()
	if err != nil {
		return "", false, err
	}
	if has {
		s += " AS " + ident(alias)
	}
	return s, dual, nil
}

// whereClause parses the condition, turning top-level AND terms
// ROWNUM <= n into the SELECT's row limit.
func (p *parser) whereClause(c *core) (string, error) {
	var terms []expr
	for {
		e, err := p.not()
		if err != nil {
			return "", err
		}
		terms = append(terms, e)
		if !p.acceptKw("AND") {
			break
		}
	}
	if p.isKw("OR") {
		l := joinTerms(terms)
		for p.acceptKw("OR") {
			r, err := p.and()
			if err != nil {
				return "", err
			}
			l += " OR " + r.sql
		}
		return l, nil
	}
	var kept []expr
	for _, t := range terms {
		if !t.rnCmp {
			kept = append(kept, t)
			continue
		}
		for i, off := range c.pending {
			if off == t.rnPos {
				c.pending = append(c.pending[:i], c.pending[i+1:]...)
				break
			}
		}
		if c.rnLimit < 0 || t.rnLimit < c.rnLimit {
			c.rnLimit, c.rnPos = t.rnLimit, t.rnPos
		}
	}
	return joinTerms(kept), nil
}

func joinTerms(terms []expr) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.sql
	}
	return strings.Join(parts, " AND ")
}

func (p *parser) orderList() (string, error) {
	var items []string
	for {
		e, err := p.expr()
		if err != nil {
			return "", err
		}
		desc := false
		if p.acceptKw("DESC") {
			desc = true
		} else {
			p.acceptKw("ASC")
		}
		nulls := "NULLS LAST" // Oracle: NULLs sort as if larger than any value
		if desc {
			nulls = "NULLS FIRST"
		}
		if p.acceptKw("NULLS") {
			switch {
			case p.acceptKw("FIRST"):
				nulls = "NULLS FIRST"
			case p.acceptKw("LAST"):
				nulls = "NULLS LAST"
			default:
				return "", p.unexpected("FIRST or LAST")
			}
		}
		item := e.sql
		if desc {
			item += " DESC"
		}
		items = append(items, item+" "+nulls)
		if !p.acceptOp(",") {
			return " ORDER BY " + strings.Join(items, ", "), nil
		}
	}
}

func (p *parser) exprList() (string, error) {
	var items []string
	for {
		e, err := p.expr()
		if err != nil {
			return "", err
		}
		items = append(items, e.sql)
		if !p.acceptOp(",") {
			return strings.Join(items, ", "), nil
		}
	}
}

func (p *parser) expr() (expr, error) {
	if err := p.enter(); err != nil {
		return expr{}, err
	}
	defer p.leave()
	return p.or()
}

func (p *parser) or() (expr, error) {
	l, err := p.and()
	if err != nil {
		return expr{}, err
	}
	for p.acceptKw("OR") {
		r, err := p.and()
		if err != nil {
			return expr{}, err
		}
		l = expr{sql: l.sql + " OR " + r.sql}
	}
	return l, nil
}

func (p *parser) and() (expr, error) {
	l, err := p.not()
	if err != nil {
		return expr{}, err
	}
	for p.acceptKw("AND") {
		r, err := p.not()
		if err != nil {
			return expr{}, err
		}
		l = expr{sql: l.sql + " AND " + r.sql}
	}
	return l, nil
}

func (p *parser) not() (expr, error) {
	if p.acceptKw("NOT") {
		if err := p.enter(); err != nil {
			return expr{}, err
		}
		defer p.leave()
		e, err := p.not()
		if err != nil {
			return expr{}, err
		}
		return expr{sql: "NOT " + e.sql}, nil
	}
	return p.predicate()
}

var comparisons = map[string]string{"=": "=", "<>": "<>", "!=": "<>", "^=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

func (p *parser) predicate() (expr, error) {
	l, err := p.additive()
	if err != nil {
		return expr{}, err
	}
	tk := p.peek()
	if op, ok := comparisons[tk.text]; ok && tk.kind == tkOp {
		p.next()
		if q := p.peek(); isKw(q, "ANY") || isKw(q, "SOME") || isKw(q, "ALL") {
			return expr{}, p.unsupported(q.pos, q.up+" comparison")
		}
		r, err := p.additive()
		if err != nil {
			return expr{}, err
		}
		if e, ok := rownumLimit(l, op, r); ok {
			return e, nil
		}
		return expr{sql: l.sql + " " + op + " " + r.sql}, nil
	}
	neg := ""
	if p.isKw("NOT") {
		if n := p.peekAt(1); isKw(n, "IN") || isKw(n, "LIKE") || isKw(n, "BETWEEN") {
			p.next()
			neg = "NOT "
		}
	}
	switch {
	case p.acceptKw("IN"):
		if err := p.expectOp("("); err != nil {
			return expr{}, err
		}
		var list string
		if p.isKw("SELECT") {
			if list, err = p.query(); err != nil {
				return expr{}, err
			}
		} else if list, err = p.exprList(); err != nil {
			return expr{}, err
		}
		if err := p.expectOp(")"); err != nil {
			return expr{}, err
		}
		return expr{sql: l.sql + " " + neg + "IN (" + list + ")"}, nil
	case p.acceptKw("LIKE"):
		r, err := p.additive()
		if err != nil {
			return expr{}, err
		}
		s := l.sql + " " + neg + "LIKE " + r.sql
		if p.acceptKw("ESCAPE") {
			e, err := p.additive()
			if err != nil {
				return expr{}, err
			}
			s += " ESCAPE " + e.sql
		}
		return expr{sql: s}, nil
	case p.acceptKw("BETWEEN"):
		lo, err := p.additive()
		if err != nil {
			return expr{}, err
		}
		if err := p.expectKw("AND"); err != nil {
			return expr{}, err
		}
		hi, err := p.additive()
		if err != nil {
			return expr{}, err
		}
		return expr{sql: l.sql + " " + neg + "BETWEEN " + lo.sql + " AND " + hi.sql}, nil
	case p.acceptKw("IS"):
		not := ""
		if p.acceptKw("NOT") {
			not = "NOT "
		}
		if err := p.expectKw("NULL"); err != nil {
			return expr{}, err
		}
		return expr{sql: l.sql + " IS " + not + "NULL"}, nil
	}
	if neg != "" {
		return expr{}, p.unexpected("IN, LIKE or BETWEEN")
	}
	return l, nil
}

// rownumLimit recognises ROWNUM <= n, ROWNUM < n, ROWNUM = 1 and their
// mirror images.
func rownumLimit(l expr, op string, r expr) (expr, bool) {
	if r.rownum && l.intLit {
		l, r = r, l
		op = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
	}
	if !l.rownum || !r.intLit {
		return expr{}, false
	}
	n := r.intVal
	switch op {
	case "<=":
	case "<":
		n = max(n-1, 0)
	case "=":
		if n != 1 {
			n = 0
		}
	default:
		return expr{}, false
	}
	return expr{sql: "ROWNUM", rnCmp: true, rnLimit: n, rnPos: l.rnPos}, true
}

func (p *parser) additive() (expr, error) {
	l, err := p.multiplicative()
	if err != nil {
		return expr{}, err
	}
	for {
		tk := p.peek()
		if !isOp(tk, "+") && !isOp(tk, "-") && !isOp(tk, "||") {
			return l, nil
		}
		p.next()
		r, err := p.multiplicative()
		if err != nil {
			return expr{}, err
		}
		switch {
		case tk.text == "||":
			l = concat(l, r)
		case l.kind.isDate() && r.kind.isDate() && tk.text == "-":
			l = expr{sql: "(julianday(" + l.sql + ") - julianday(" + r.sql + "))", kind: kNumber}
		case l.kind.isDate() && !r.kind.isDate():
			if l, err = p.shiftDays(tk, l, tk.text, r); err != nil {
				return expr{}, err
			}
		case r.kind.isDate() && !l.kind.isDate() && tk.text == "+":
			if l, err = p.shiftDays(tk, r, "+", l); err != nil {
				return expr{}, err
			}
		default:
			l = expr{sql: l.sql + " " + tk.text + " " + r.sql, kind: kNumber}
		}
	}
}

// concat joins with ||, treating NULL as the empty string as Oracle does.
func concat(l, r expr) expr {
	side := func(e expr) string {
		if e.strLit || e.numLit || e.notNull {
			return e.sql
		}
		return "IFNULL(" + e.sql + ", '')"
	}
	return expr{sql: side(l) + " || " + side(r), kind: kString, notNull: true}
}

func (p *parser) multiplicative() (expr, error) {
	l, err := p.unary()
	if err != nil {
		return expr{}, err
	}
	for {
		tk := p.peek()
		if !isOp(tk, "*") && !isOp(tk, "/") {
			return l, nil
		}
		p.next()
		r, err := p.unary()
		if err != nil {
			return expr{}, err
		}
		if tk.text == "/" {
			// Oracle divides exactly; SQLite divides integers as integers.
			l = expr{sql: "CAST(" + l.sql + " AS REAL) / " + r.sql, kind: kNumber}
		} else {
			l = expr{sql: l.sql + " * " + r.sql, kind: kNumber}
		}
	}
}

func (p *parser) unary() (expr, error) {
	tk := p.peek()
	if isOp(tk, "-") || isOp(tk, "+") {
		p.next()
		if err := p.enter(); err != nil {
			return expr{}, err
		}
		defer p.leave()
		e, err := p.unary()
		if err != nil {
			return expr{}, err
		}
		if tk.text == "+" {
			return e, nil
		}
		if strings.HasPrefix(e.sql, "-") || strings.HasPrefix(e.sql, "+") {
			return expr{sql: "-(" + e.sql + ")", kind: e.kind}, nil
		}
		k := e.kind
		if k.isDate() {
			k = kUnknown
		}
		return expr{sql: "-" + e.sql, kind: k}, nil
	}
	return p.primary()
}

func (p *parser) primary() (expr, error) {
	tk := p.peek()
	switch tk.kind {
	case tkNumber:
		p.next()
		e := expr{sql: tk.text, kind: kNumber, numLit: true}
		if n, err := strconv.ParseInt(tk.text, 10, 64); err == nil {
			e.intLit, e.intVal = true, n
		}
		return e, nil
	case tkString:
		p.next()
		return expr{sql: quoteString(tk.text), kind: kString, strLit: true, strVal: tk.text}, nil
	case tkOp:
		if !isOp(tk, "(") {
			return expr{}, p.unexpected("an expression")
		}
		if isOp(p.peekAt(1), "+") && isOp(p.peekAt(2), ")") {
			return expr{}, p.unsupported(tk.pos, "(+)")
		}
		p.next()
		if p.isKw("SELECT") {
			sub, err := p.query()
			if err != nil {
				return expr{}, err
			}
			if err := p.expectOp(")"); err != nil {
				return expr{}, err
			}
			return expr{sql: "(" + sub + ")"}, nil
		}
		e, err := p.expr()
		if err != nil {
			return expr{}, err
		}
		if err := p.expectOp(")"); err != nil {
			return expr{}, err
		}
		return expr{sql: "(" + e.sql + ")", kind: e.kind, notNull: e.notNull}, nil
	case tkQIdent:
		return p.nameOrCall()
	case tkIdent:
	default:
		return expr{}, p.unexpected("an expression")
	}

	switch tk.up {
	case "NULL":
		p.next()
		return expr{sql: "NULL"}, nil
	case "CASE":
		return p.caseExpr()
	case "EXISTS":
		p.next()
		if err := p.expectOp("("); err != nil {
			return expr{}, err
		}
		sub, err := p.query()
		if err != nil {
			return expr{}, err
		}
		if err := p.expectOp(")"); err != nil {
			return expr{}, err
		}
		return expr{sql: "EXISTS (" + sub + ")"}, nil
	case "SYSDATE", "SYSTIMESTAMP", "CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "CURRENT_DATE":
		if !isOp(p.peekAt(1), "(") {
			p.next()
			return p.now(), nil
		}
	case "ROWNUM":
		p.next()
		c := p.core()
		switch {
		case c != nil && c.clause == clauseSelect:
			return expr{sql: "ROW_NUMBER() OVER ()", kind: kNumber, defAlias: "rownum"}, nil
		case c != nil && c.clause == clauseWhere:
			c.pending = append(c.pending, tk.pos)
			return expr{sql: "ROWNUM", rownum: true, rnPos: tk.pos}, nil
		}
		return expr{}, newError(p.q, tk.pos, "ROWNUM", "Invalid search query. Unsupported construct %q at position %d: only ROWNUM <= n as a condition of the WHERE clause is supported.", "ROWNUM", pos(p.q, tk.pos))
	case "DATE", "TIMESTAMP":
		if lit := p.peekAt(1); lit.kind == tkString {
			p.i += 2
			return dateLiteral(p.q, tk, lit)
		}
	case "CAST":
		return p.castExpr()
	case "EXTRACT":
		return p.extractExpr()
	}
	if reserved[tk.up] {
		return expr{}, p.unexpected("an expression")
	}
	return p.nameOrCall()
}

// nameOrCall parses a column reference (name or qualifier.name) or a
// function call (name(…) or BUILTIN.name(…)).
func (p *parser) nameOrCall() (expr, error) {
	first := p.next()
	if isOp(p.peek(), "(") && isOp(p.peekAt(1), "+") && isOp(p.peekAt(2), ")") {
		return expr{}, p.unsupported(p.peek().pos, "(+)")
	}
	if isOp(p.peek(), "(") {
		return p.call(first.up, first)
	}
	if !p.acceptOp(".") {
		return column(ident(first.text), first.text), nil
	}
	second := p.peek()
	if second.kind != tkQIdent && second.kind != tkIdent {
		return expr{}, p.unexpected("a column name")
	}
	p.next()
	if isOp(p.peek(), "(") && isOp(p.peekAt(1), "+") && isOp(p.peekAt(2), ")") {
		return expr{}, p.unsupported(p.peek().pos, "(+)")
	}
	if isOp(p.peek(), "(") {
		return p.call(first.up+"."+second.up, first)
	}
	if isOp(p.peek(), ".") {
		return expr{}, p.unexpected("an operator")
	}
	return column(ident(first.text)+"."+ident(second.text), second.text), nil
}

func column(sql, name string) expr {
	e := expr{sql: sql, col: strings.ToLower(name)}
	if strings.HasSuffix(e.col, "date") {
		e.kind = kDateCol
	}
	return e
}

func (p *parser) caseExpr() (expr, error) {
	p.next() // CASE
	var b strings.Builder
	b.WriteString("CASE")
	if !p.isKw("WHEN") {
		e, err := p.expr()
		if err != nil {
			return expr{}, err
		}
		b.WriteString(" " + e.sql)
	}
	k := kUnknown
	n := 0
	for p.acceptKw("WHEN") {
		w, err := p.expr()
		if err != nil {
			return expr{}, err
		}
		if err := p.expectKw("THEN"); err != nil {
			return expr{}, err
		}
		t, err := p.expr()
		if err != nil {
			return expr{}, err
		}
		if n == 0 {
			k = t.kind
		} else if k != t.kind {
			k = kUnknown
		}
		n++
		b.WriteString(" WHEN " + w.sql + " THEN " + t.sql)
	}
	if n == 0 {
		return expr{}, p.unexpected("WHEN")
	}
	if p.acceptKw("ELSE") {
		e, err := p.expr()
		if err != nil {
			return expr{}, err
		}
		b.WriteString(" ELSE " + e.sql)
	}
	if err := p.expectKw("END"); err != nil {
		return expr{}, err
	}
	b.WriteString(" END")
	return expr{sql: b.String(), kind: k}, nil
}

func (p *parser) castExpr() (expr, error) {
	p.next() // CAST
	if err := p.expectOp("("); err != nil {
		return expr{}, err
	}
	e, err := p.expr()
	if err != nil {
		return expr{}, err
	}
	if err := p.expectKw("AS"); err != nil {
		return expr{}, err
	}
	tk := p.peek()
	if tk.kind != tkIdent {
		return expr{}, p.unexpected("a type name")
	}
	p.next()
	if p.acceptOp("(") { // length, precision and scale do not matter to SQLite
		for i := 0; i < 2; i++ {
			if _, err := p.intLiteral("a length"); err != nil {
				return expr{}, err
			}
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return expr{}, err
		}
	}
	if err := p.expectOp(")"); err != nil {
		return expr{}, err
	}
	switch tk.up {
	case "NUMBER", "NUMERIC", "DECIMAL":
		return expr{sql: "CAST(" + e.sql + " AS NUMERIC)", kind: kNumber}, nil
	case "INTEGER", "INT", "SMALLINT":
		return expr{sql: "CAST(" + e.sql + " AS INTEGER)", kind: kNumber}, nil
	case "FLOAT", "REAL", "BINARY_DOUBLE", "BINARY_FLOAT":
		return expr{sql: "CAST(" + e.sql + " AS REAL)", kind: kNumber}, nil
	case "VARCHAR2", "VARCHAR", "CHAR", "NVARCHAR2", "NCHAR", "CLOB":
		return expr{sql: "CAST(" + e.sql + " AS TEXT)", kind: kString}, nil
	case "DATE", "TIMESTAMP":
		k := e.kind
		if !k.isDate() {
			k = kDateCol
		}
		return expr{sql: e.sql, kind: k}, nil
	}
	return expr{}, p.unsupported(tk.pos, "CAST AS "+tk.up)
}

var extractFields = map[string]string{"YEAR": "%Y", "MONTH": "%m", "DAY": "%d", "HOUR": "%H", "MINUTE": "%M", "SECOND": "%S"}

func (p *parser) extractExpr() (expr, error) {
	p.next() // EXTRACT
	if err := p.expectOp("("); err != nil {
		return expr{}, err
	}
	f := p.peek()
	spec, ok := extractFields[f.up]
	if f.kind != tkIdent || !ok {
		return expr{}, p.unexpected("YEAR, MONTH, DAY, HOUR, MINUTE or SECOND")
	}
	p.next()
	if err := p.expectKw("FROM"); err != nil {
		return expr{}, err
	}
	e, err := p.expr()
	if err != nil {
		return expr{}, err
	}
	if err := p.expectOp(")"); err != nil {
		return expr{}, err
	}
	return expr{sql: "CAST(strftime('" + spec + "', " + e.sql + ") AS INTEGER)", kind: kNumber}, nil
}

// dfAlias returns a table alias for a BUILTIN.DF lookup that no identifier
// of the query uses.
func (p *parser) dfAlias() string {
	for {
		p.dfN++
		a := "_df" + strconv.Itoa(p.dfN)
		if !p.used[a] {
			return a
		}
	}
}
