package netsuite

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Record collection filtering: GET /record/v1/{type}?q=… takes conditions
// "field OPERATOR value" joined by AND / OR (AND binds tighter) with parentheses for
// precedence, as NetSuite's REST web services do. Values are bare words or
// "double-quoted"; operators that take several values take a list "[a, b, c]" (two
// values for BETWEEN / WITHIN). Dates are YYYY-MM-DD or M/D/YYYY; date-times RFC 3339.
//
//	q=externalId IS "POS-S001-R01-000042"
//	q=tranDate ON_OR_AFTER "2024-11-29" AND location ANY_OF [1, 2]
//	q=entity EMPTY OR tranDate BETWEEN ["11/29/2024", "11/30/2024"]
//
// String comparisons with IS are exact (externalId lookups use the index); CONTAIN,
// START_WITH and END_WITH ignore ASCII case.

type qKind int

const (
	qString qKind = iota
	qNumber
	qDate     // 'YYYY-MM-DD' text
	qDateTime // RFC 3339 UTC text
	qRef      // a reference's internal id
	qBool
)

// qField is a filterable field: its kind and the SQL expression over records r.
type qField struct {
	kind qKind
	sql  string
}

func bodyField(path string, k qKind) qField {
	return qField{kind: k, sql: "json_extract(r.body, '$." + path + "')"}
}

// queryFields returns the fields of s that q may filter on.
func queryFields(s *recordSchema) map[string]qField {
	m := map[string]qField{
		"id":               {kind: qNumber, sql: "r.id"},
		"externalId":       {kind: qString, sql: "r.externalid"},
		"createdDate":      {kind: qDateTime, sql: "r.createddate"},
		"dateCreated":      {kind: qDateTime, sql: "r.createddate"},
		"lastModifiedDate": {kind: qDateTime, sql: "r.lastmodifieddate"},
	}
	for name, f := range s.fields {
		if _, ok := m[name]; ok {
			continue
		}
		switch f.kind {
		case kString:
			m[name] = bodyField(name, qString)
		case kBool:
			m[name] = bodyField(name, qBool)
		case kNumber, kMoney:
			m[name] = bodyField(name, qNumber)
		case kDate:
			m[name] = bodyField(name, qDate)
		case kRef:
			m[name] = bodyField(name+".id", qRef)
		}
	}
	return m
}

// qError is a bad q parameter.
func qError(pos int, format string, args ...any) *apiError {
	return badRequest(codeInvalidParameter, "q", "Invalid query parameter q at position %d: %s", pos+1, fmt.Sprintf(format, args...))
}

type qTokKind int

const (
	tEOF qTokKind = iota
	tWord
	tString
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
)

type qTok struct {
	kind qTokKind
	text string
	pos  int
}

func lexQuery(q string) ([]qTok, error) {
	var out []qTok
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(':
			out = append(out, qTok{tLParen, "(", i})
			i++
		case r == ')':
			out = append(out, qTok{tRParen, ")", i})
			i++
		case r == '[':
			out = append(out, qTok{tLBrack, "[", i})
			i++
		case r == ']':
			out = append(out, qTok{tRBrack, "]", i})
			i++
		case r == ',':
			out = append(out, qTok{tComma, ",", i})
			i++
		case r == '"' || r == '\'':
			start := i
			quote := r
			i++
			var sb strings.Builder
			closed := false
			for i < len(rs) {
				if rs[i] == '\\' && i+1 < len(rs) {
					sb.WriteRune(rs[i+1])
					i += 2
					continue
				}
				if rs[i] == quote {
					closed = true
					i++
					break
				}
				sb.WriteRune(rs[i])
				i++
			}
			if !closed {
				return nil, qError(start, "unterminated quoted value")
			}
			out = append(out, qTok{tString, sb.String(), start})
		default:
			start := i
			for i < len(rs) && !unicode.IsSpace(rs[i]) && !strings.ContainsRune("()[],\"'", rs[i]) {
				i++
			}
			out = append(out, qTok{tWord, string(rs[start:i]), start})
		}
		if len(out) > 1000 {
			return nil, qError(i, "the query is too long")
		}
	}
	return append(out, qTok{tEOF, "", len(rs)}), nil
}

// qParser compiles a q expression to an SQL condition with arguments.
type qParser struct {
	toks   []qTok
	i      int
	fields map[string]qField
	typ    string
	args   []any
	depth  int
}

// compileQuery returns the SQL condition and arguments of q for schema s.
func compileQuery(s *recordSchema, q string) (string, []any, error) {
	toks, err := lexQuery(q)
	if err != nil {
		return "", nil, err
	}
	p := &qParser{toks: toks, fields: queryFields(s), typ: s.name}
	cond, err := p.or()
	if err != nil {
		return "", nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return "", nil, qError(t.pos, "unexpected %q; conditions are joined with AND or OR", t.text)
	}
	return cond, p.args, nil
}

func (p *qParser) peek() qTok { return p.toks[p.i] }
func (p *qParser) next() qTok {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *qParser) isKeyword(word string) bool {
	t := p.peek()
	return t.kind == tWord && strings.EqualFold(t.text, word)
}

func (p *qParser) or() (string, error) {
	left, err := p.and()
	if err != nil {
		return "", err
	}
	for p.isKeyword("OR") {
		p.next()
		right, err := p.and()
		if err != nil {
			return "", err
		}
		left = "(" + left + " OR " + right + ")"
	}
	return left, nil
}

func (p *qParser) and() (string, error) {
	left, err := p.unary()
	if err != nil {
		return "", err
	}
	for p.isKeyword("AND") {
		p.next()
		right, err := p.unary()
		if err != nil {
			return "", err
		}
		left = "(" + left + " AND " + right + ")"
	}
	return left, nil
}

func (p *qParser) unary() (string, error) {
	t := p.peek()
	if t.kind == tLParen {
		p.depth++
		if p.depth > 20 {
			return "", qError(t.pos, "parentheses nested too deep")
		}
		p.next()
		inner, err := p.or()
		if err != nil {
			return "", err
		}
		if c := p.next(); c.kind != tRParen {
			return "", qError(c.pos, "expected ')'")
		}
		p.depth--
		return inner, nil
	}
	return p.condition()
}

// Operators and how many values they take (-1: a list of one or more).
var qOperators = map[string]int{
	"EMPTY": 0, "EMPTY_NOT": 0,
	"IS": 1, "IS_NOT": 1, "EQUAL": 1, "EQUAL_NOT": 1,
	"CONTAIN": 1, "CONTAIN_NOT": 1, "START_WITH": 1, "START_WITH_NOT": 1, "END_WITH": 1, "END_WITH_NOT": 1, "ENDWITH": 1,
	"GREATER": 1, "GREATER_NOT": 1, "GREATER_OR_EQUAL": 1, "GREATER_OR_EQUAL_NOT": 1,
	"LESS": 1, "LESS_NOT": 1, "LESS_OR_EQUAL": 1, "LESS_OR_EQUAL_NOT": 1,
	"AFTER": 1, "AFTER_NOT": 1, "BEFORE": 1, "BEFORE_NOT": 1, "ON": 1, "ON_NOT": 1,
	"ON_OR_AFTER": 1, "ON_OR_AFTER_NOT": 1, "ON_OR_BEFORE": 1, "ON_OR_BEFORE_NOT": 1,
	"BETWEEN": 2, "BETWEEN_NOT": 2, "WITHIN": 2, "WITHIN_NOT": 2,
	"ANY_OF": -1, "ANY_OF_NOT": -1,
}

// Operators each kind of field accepts.
var qAllowed = map[qKind]string{
	qString:   "IS IS_NOT CONTAIN CONTAIN_NOT START_WITH START_WITH_NOT END_WITH END_WITH_NOT ENDWITH EMPTY EMPTY_NOT ANY_OF ANY_OF_NOT",
	qNumber:   "EQUAL EQUAL_NOT IS IS_NOT GREATER GREATER_NOT GREATER_OR_EQUAL GREATER_OR_EQUAL_NOT LESS LESS_NOT LESS_OR_EQUAL LESS_OR_EQUAL_NOT BETWEEN BETWEEN_NOT WITHIN WITHIN_NOT ANY_OF ANY_OF_NOT EMPTY EMPTY_NOT",
	qDate:     "ON ON_NOT BEFORE BEFORE_NOT AFTER AFTER_NOT ON_OR_AFTER ON_OR_AFTER_NOT ON_OR_BEFORE ON_OR_BEFORE_NOT BETWEEN BETWEEN_NOT WITHIN WITHIN_NOT EMPTY EMPTY_NOT",
	qDateTime: "ON ON_NOT BEFORE BEFORE_NOT AFTER AFTER_NOT ON_OR_AFTER ON_OR_AFTER_NOT ON_OR_BEFORE ON_OR_BEFORE_NOT BETWEEN BETWEEN_NOT WITHIN WITHIN_NOT EMPTY EMPTY_NOT",
	qRef:      "ANY_OF ANY_OF_NOT IS IS_NOT EQUAL EQUAL_NOT EMPTY EMPTY_NOT",
	qBool:     "IS IS_NOT",
}

func (p *qParser) condition() (string, error) {
	ft := p.next()
	if ft.kind != tWord {
		return "", qError(ft.pos, "expected a field name, got %q", ft.text)
	}
	f, ok := p.fields[ft.text]
	if !ok {
		return "", qError(ft.pos, "%q is not a field of record type %s that can be filtered on", ft.text, p.typ)
	}
	ot := p.next()
	op := strings.ToUpper(ot.text)
	n, known := qOperators[op]
	if ot.kind != tWord || !known {
		return "", qError(ot.pos, "expected an operator after %s, got %q", ft.text, ot.text)
	}
	if !strings.Contains(" "+qAllowed[f.kind]+" ", " "+op+" ") {
		return "", qError(ot.pos, "operator %s cannot be used on field %s (allowed: %s)", op, ft.text, qAllowed[f.kind])
	}
	var vals []qTok
	switch {
	case n == 0:
	case n == 1 && p.peek().kind != tLBrack:
		v := p.next()
		if v.kind != tWord && v.kind != tString {
			return "", qError(v.pos, "expected a value after %s %s", ft.text, op)
		}
		vals = []qTok{v}
	default:
		var err error
		if vals, err = p.list(ft.text, op); err != nil {
			return "", err
		}
		if n > 0 && len(vals) != n {
			return "", qError(ot.pos, "operator %s takes %d values, got %d", op, n, len(vals))
		}
	}
	return p.compile(f, op, vals)
}

// list reads "[v, v, …]" or, for ANY_OF, a single bare value.
func (p *qParser) list(field, op string) ([]qTok, error) {
	if p.peek().kind != tLBrack {
		v := p.next()
		if v.kind != tWord && v.kind != tString {
			return nil, qError(v.pos, "expected a value or a [list] after %s %s", field, op)
		}
		return []qTok{v}, nil
	}
	p.next()
	var vals []qTok
	for {
		v := p.next()
		if v.kind != tWord && v.kind != tString {
			return nil, qError(v.pos, "expected a value in the list after %s %s", field, op)
		}
		vals = append(vals, v)
		if len(vals) > 1000 {
			return nil, qError(v.pos, "too many values in the list")
		}
		sep := p.next()
		if sep.kind == tRBrack {
			return vals, nil
		}
		if sep.kind != tComma {
			return nil, qError(sep.pos, "expected ',' or ']' in the list")
		}
	}
}

func (p *qParser) value(f qField, t qTok) (any, error) {
	switch f.kind {
	case qNumber:
		x, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, qError(t.pos, "%q is not a number", t.text)
		}
		return x, nil
	case qRef:
		if _, ok := parseID(t.text); !ok {
			return nil, qError(t.pos, "%q is not an internal id", t.text)
		}
		return t.text, nil
	case qBool:
		switch strings.ToLower(t.text) {
		case "true", "t":
			return 1, nil
		case "false", "f":
			return 0, nil
		}
		return nil, qError(t.pos, "%q is not true or false", t.text)
	case qDate, qDateTime:
		d, ok := parseQueryDate(t.text)
		if !ok {
			return nil, qError(t.pos, "%q is not a date (YYYY-MM-DD or M/D/YYYY)", t.text)
		}
		return d, nil
	}
	return t.text, nil
}

// parseQueryDate reads a date as YYYY-MM-DD, M/D/YYYY or an RFC 3339 time (its date).
func parseQueryDate(s string) (string, bool) {
	for _, layout := range []string{time.DateOnly, "1/2/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.DateOnly), true
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.DateOnly), true
	}
	return "", false
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func (p *qParser) compile(f qField, op string, toks []qTok) (string, error) {
	vals := make([]any, len(toks))
	for i, t := range toks {
		v, err := p.value(f, t)
		if err != nil {
			return "", err
		}
		vals[i] = v
	}
	col := f.sql
	if f.kind == qDateTime {
		col = "substr(" + col + ", 1, 10)" // dates compare on the day
	}
	if f.kind == qNumber {
		col = "CAST(" + col + " AS REAL)"
	}
	base, negate := strings.CutSuffix(op, "_NOT")
	arg := func(v any) string { p.args = append(p.args, v); return "?" }
	var cond string
	switch base {
	case "EMPTY":
		cond = "(" + f.sql + " IS NULL OR " + f.sql + " = '')"
	case "IS", "EQUAL", "ON":
		cond = col + " = " + arg(vals[0])
	case "CONTAIN":
		cond = col + ` LIKE ` + arg("%"+likeEscape(toks[0].text)+"%") + ` ESCAPE '\'`
	case "START_WITH":
		cond = col + ` LIKE ` + arg(likeEscape(toks[0].text)+"%") + ` ESCAPE '\'`
	case "END_WITH", "ENDWITH":
		cond = col + ` LIKE ` + arg("%"+likeEscape(toks[0].text)) + ` ESCAPE '\'`
	case "GREATER", "AFTER":
		cond = col + " > " + arg(vals[0])
	case "GREATER_OR_EQUAL", "ON_OR_AFTER":
		cond = col + " >= " + arg(vals[0])
	case "LESS", "BEFORE":
		cond = col + " < " + arg(vals[0])
	case "LESS_OR_EQUAL", "ON_OR_BEFORE":
		cond = col + " <= " + arg(vals[0])
	case "BETWEEN", "WITHIN":
		cond = col + " BETWEEN " + arg(vals[0]) + " AND " + arg(vals[1])
	case "ANY_OF":
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = arg(v)
		}
		cond = col + " IN (" + strings.Join(ph, ", ") + ")"
	default:
		return "", qError(0, "operator %s is not supported", op)
	}
	if negate {
		if base == "EMPTY" {
			return "NOT " + cond, nil
		}
		return "(" + f.sql + " IS NULL OR NOT (" + cond + "))", nil
	}
	return cond, nil
}
