package suiteql

import (
	"strconv"
	"strings"
	"time"
)

// isoDateTime is the strftime format of date-times: the simulator stores
// them as 'YYYY-MM-DDTHH:MM:SS.SSSZ' (UTC).
const isoDateTime = "'%Y-%m-%dT%H:%M:%fZ'"

// maxDupLen bounds an expression the translation repeats, so nested
// repetition cannot blow the output up.
const maxDupLen = 16 << 10

// funcSpec is a whitelisted function: its argument count and whether it
// aggregates.
type funcSpec struct {
	min, max int
	agg      bool
}

var funcs = map[string]funcSpec{
	"COUNT": {1, 1, true}, "SUM": {1, 1, true}, "AVG": {1, 1, true}, "MIN": {1, 1, true}, "MAX": {1, 1, true},
	"UPPER": {1, 1, false}, "LOWER": {1, 1, false}, "LENGTH": {1, 1, false}, "ABS": {1, 1, false},
	"TRIM": {1, 1, false}, "LTRIM": {1, 2, false}, "RTRIM": {1, 2, false}, "SUBSTR": {2, 3, false},
	"INSTR": {2, 2, false}, "REPLACE": {2, 3, false}, "CONCAT": {2, 2, false},
	"NVL": {2, 2, false}, "NVL2": {3, 3, false}, "COALESCE": {2, 255, false}, "NULLIF": {2, 2, false},
	"DECODE": {3, 255, false}, "GREATEST": {1, 255, false}, "LEAST": {1, 255, false},
	"ROUND": {1, 2, false}, "TRUNC": {1, 2, false}, "FLOOR": {1, 1, false}, "CEIL": {1, 1, false},
	"SIGN": {1, 1, false}, "MOD": {2, 2, false}, "POWER": {2, 2, false}, "SQRT": {1, 1, false},
	"TO_CHAR": {1, 2, false}, "TO_DATE": {1, 2, false}, "TO_TIMESTAMP": {1, 2, false}, "TO_NUMBER": {1, 1, false},
	"ADD_MONTHS": {2, 2, false}, "LAST_DAY": {1, 1, false},
	"BUILTIN.DF": {1, 1, false},
}

// call parses the arguments of a whitelisted function and translates it.
func (p *parser) call(name string, at token) (expr, error) {
	spec, ok := funcs[name]
	if !ok {
		return expr{}, newError(p.q, at.pos, name, "Invalid search query. Unknown function %q at position %d.", name, pos(p.q, at.pos))
	}
	p.next() // (
	if err := p.enter(); err != nil {
		return expr{}, err
	}
	defer p.leave()
	if c := p.core(); spec.agg && c != nil {
		c.hasAgg = true
	}
	if name == "COUNT" && p.isOp("*") && isOp(p.peekAt(1), ")") {
		p.i += 2
		return expr{sql: "COUNT(*)", kind: kNumber}, p.noAnalytic()
	}
	if name == "TRIM" && (p.isKw("LEADING") || p.isKw("TRAILING") || p.isKw("BOTH")) {
		return expr{}, p.unsupported(p.peek().pos, "TRIM("+p.peek().up+" … FROM …)")
	}
	distinct := ""
	if spec.agg {
		if p.acceptKw("DISTINCT") || p.acceptKw("UNIQUE") {
			distinct = "DISTINCT "
		} else {
			p.acceptKw("ALL")
		}
	}
	var args []expr
	if !p.isOp(")") {
		for {
			e, err := p.expr()
			if err != nil {
				return expr{}, err
			}
			args = append(args, e)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if err := p.expectOp(")"); err != nil {
		return expr{}, err
	}
	if err := p.noAnalytic(); err != nil {
		return expr{}, err
	}
	if len(args) < spec.min || len(args) > spec.max {
		want := strconv.Itoa(spec.min)
		switch {
		case spec.max == 255:
			want = "at least " + want
		case spec.max != spec.min:
			want += " to " + strconv.Itoa(spec.max)
		}
		return expr{}, newError(p.q, at.pos, name, "Invalid search query. Function %q takes %s arguments, not %d, at position %d.", name, want, len(args), pos(p.q, at.pos))
	}
	return p.translateCall(name, at, args, distinct)
}

// noAnalytic refuses OVER, KEEP and WITHIN GROUP after a call.
func (p *parser) noAnalytic() error {
	if tk := p.peek(); isKw(tk, "OVER") || isKw(tk, "KEEP") || isKw(tk, "WITHIN") {
		return p.unsupported(tk.pos, constructs[tk.up])
	}
	return nil
}

func sqlArgs(args []expr) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.sql
	}
	return strings.Join(parts, ", ")
}

func (p *parser) translateCall(name string, at token, args []expr, distinct string) (expr, error) {
	a0 := args[0]
	switch name {
	case "COUNT", "SUM", "AVG":
		return expr{sql: name + "(" + distinct + a0.sql + ")", kind: kNumber}, nil
	case "MIN", "MAX":
		return expr{sql: name + "(" + distinct + a0.sql + ")", kind: a0.kind}, nil
	case "UPPER", "LOWER", "TRIM", "LTRIM", "RTRIM":
		return expr{sql: name + "(" + sqlArgs(args) + ")", kind: kString}, nil
	case "LENGTH", "ABS", "ROUND", "FLOOR", "CEIL", "SIGN", "SQRT", "MOD", "INSTR":
		return expr{sql: name + "(" + sqlArgs(args) + ")", kind: kNumber}, nil
	case "POWER":
		return expr{sql: "POW(" + sqlArgs(args) + ")", kind: kNumber}, nil
	case "SUBSTR":
		if args[1].intLit && args[1].intVal == 0 { // Oracle reads position 0 as 1
			args[1] = expr{sql: "1"}
		}
		return expr{sql: "SUBSTR(" + sqlArgs(args) + ")", kind: kString}, nil
	case "REPLACE":
		if len(args) == 2 {
			args = append(args, expr{sql: "''"})
		}
		return expr{sql: "REPLACE(" + sqlArgs(args) + ")", kind: kString}, nil
	case "CONCAT":
		e := concat(args[0], args[1])
		e.sql = "(" + e.sql + ")"
		return e, nil
	case "NVL":
		return expr{sql: "IFNULL(" + sqlArgs(args) + ")", kind: sameKind(args)}, nil
	case "COALESCE":
		return expr{sql: "COALESCE(" + sqlArgs(args) + ")", kind: sameKind(args)}, nil
	case "NULLIF":
		return expr{sql: "NULLIF(" + sqlArgs(args) + ")", kind: a0.kind}, nil
	case "NVL2":
		return expr{sql: "CASE WHEN " + a0.sql + " IS NOT NULL THEN " + args[1].sql + " ELSE " + args[2].sql + " END", kind: sameKind(args[1:])}, nil
	case "DECODE":
		// DECODE matches NULL to NULL, as SQLite's IS does.
		if len(a0.sql) > maxDupLen {
			return expr{}, p.tooComplex(at)
		}
		var b strings.Builder
		b.WriteString("CASE")
		rest := args[1:]
		for len(rest) >= 2 {
			b.WriteString(" WHEN " + a0.sql + " IS " + rest[0].sql + " THEN " + rest[1].sql)
			rest = rest[2:]
		}
		if len(rest) == 1 {
			b.WriteString(" ELSE " + rest[0].sql)
		}
		b.WriteString(" END")
		return expr{sql: b.String()}, nil
	case "GREATEST", "LEAST":
		if len(args) == 1 {
			return a0, nil
		}
		fn := "MAX"
		if name == "LEAST" {
			fn = "MIN"
		}
		return expr{sql: fn + "(" + sqlArgs(args) + ")", kind: sameKind(args)}, nil
	case "TO_NUMBER":
		return expr{sql: "CAST(" + a0.sql + " AS NUMERIC)", kind: kNumber}, nil
	case "TO_CHAR":
		return p.toChar(at, args)
	case "TO_DATE", "TO_TIMESTAMP":
		return p.toDate(name, at, args)
	case "TRUNC":
		return p.trunc(at, args)
	case "ADD_MONTHS":
		n := args[1]
		mod := "(" + n.sql + ") || ' months'"
		if n.intLit {
			mod = quoteString("+" + n.sql + " months")
		}
		return p.dateFn(at, a0, mod, "'floor'")
	case "LAST_DAY":
		return p.dateFn(at, a0, "'start of month'", "'+1 months'", "'-1 days'")
	case "BUILTIN.DF":
		return p.builtinDF(a0), nil
	}
	return expr{}, newError(p.q, at.pos, name, "Invalid search query. Unknown function %q at position %d.", name, pos(p.q, at.pos))
}

func sameKind(args []expr) kind {
	k := args[0].kind
	for _, a := range args[1:] {
		if a.kind != k {
			return kUnknown
		}
	}
	return k
}

func (p *parser) tooComplex(at token) *Error {
	return newError(p.q, at.pos, "complexity", "Invalid search query. The expression at position %d is too complex.", pos(p.q, at.pos))
}

// builtinDF translates BUILTIN.DF: the display value of a reference.
func (p *parser) builtinDF(x expr) expr {
	if x.col == "type" {
		var b strings.Builder
		b.WriteString("CASE " + x.sql)
		for _, t := range transactionTypes {
			b.WriteString(" WHEN " + quoteString(t[0]) + " THEN " + quoteString(t[1]))
		}
		b.WriteString(" ELSE " + x.sql + " END")
		return expr{sql: b.String(), kind: kString}
	}
	if d, ok := p.t.display[x.col]; ok && x.col != "" && p.t.tables[d.Table] {
		a := p.dfAlias()
		return expr{sql: "(SELECT " + a + "." + ident(d.Column) + " FROM " + ident(d.Table) + " AS " + a +
			" WHERE " + a + ".id = " + x.sql + ")", kind: kString}
	}
	x.col = "" // a computed column: named exprN
	return x
}

// now is SYSDATE: the clock's time as a literal, or SQLite's 'now'.
func (p *parser) now() expr {
	if p.t.now != nil {
		return expr{sql: quoteString(p.t.now().UTC().Format("2006-01-02T15:04:05.000Z")), kind: kDateTime}
	}
	return expr{sql: "strftime(" + isoDateTime + ", 'now')", kind: kDateTime, dateArg: "'now'"}
}

// dateFn applies SQLite date modifiers to d, keeping its precision: dates
// stay 'YYYY-MM-DD', date-times stay ISO date-times.
func (p *parser) dateFn(at token, d expr, mods ...string) (expr, error) {
	m := strings.Join(mods, ", ")
	if d.dateArg != "" {
		d.sql = d.dateArg
	}
	switch d.kind {
	case kDate:
		return expr{sql: "date(" + d.sql + ", " + m + ")", kind: kDate}, nil
	case kDateTime:
		return expr{sql: "strftime(" + isoDateTime + ", " + d.sql + ", " + m + ")", kind: kDateTime}, nil
	}
	if len(d.sql)+len(m) > maxDupLen {
		return expr{}, p.tooComplex(at)
	}
	return expr{sql: "CASE WHEN length(" + d.sql + ") <= 10 THEN date(" + d.sql + ", " + m + ") ELSE strftime(" +
		isoDateTime + ", " + d.sql + ", " + m + ") END", kind: kDateCol}, nil
}

// shiftDays is Oracle's date ± number of days.
func (p *parser) shiftDays(at token, d expr, op string, n expr) (expr, error) {
	mod := "(" + n.sql + ") || ' days'"
	switch {
	case n.numLit:
		mod = quoteString(op + n.sql + " days")
	case op == "-":
		mod = "(-(" + n.sql + ")) || ' days'"
	}
	return p.dateFn(at, d, mod)
}

// fmtPart is one element of an Oracle date format.
type fmtPart struct {
	elem string // YYYY, MM, DD, DDD, HH24, MI, SS; "" for literal text
	lit  string
}

var dateElems = []struct{ name, strf string }{
	{"YYYY", "%Y"}, {"HH24", "%H"}, {"DDD", "%j"}, {"MM", "%m"}, {"DD", "%d"}, {"MI", "%M"}, {"SS", "%S"},
}

// parseDateFormat splits an Oracle date format; on failure it returns the
// element it does not support.
func parseDateFormat(f string) ([]fmtPart, string) {
	var parts []fmtPart
	up := strings.ToUpper(f)
	for i := 0; i < len(f); {
		if strings.IndexByte("-/,.;: ", f[i]) >= 0 {
			parts = append(parts, fmtPart{lit: f[i : i+1]})
			i++
			continue
		}
		if f[i] == '"' {
			end := strings.IndexByte(f[i+1:], '"')
			if end < 0 {
				return nil, f[i:]
			}
			parts = append(parts, fmtPart{lit: f[i+1 : i+1+end]})
			i += end + 2
			continue
		}
		found := false
		for _, e := range dateElems {
			if strings.HasPrefix(up[i:], e.name) {
				parts = append(parts, fmtPart{elem: e.name})
				i += len(e.name)
				found = true
				break
			}
		}
		if !found {
			j := i + 1
			for j < len(f) && (isIdentStart(f[j]) || isDigit(f[j])) {
				j++
			}
			return nil, f[i:j]
		}
	}
	return parts, ""
}

func hasTime(parts []fmtPart) bool {
	for _, p := range parts {
		if p.elem == "HH24" || p.elem == "MI" || p.elem == "SS" {
			return true
		}
	}
	return false
}

// parseDateValue reads s with an Oracle date format.
func parseDateValue(s string, parts []fmtPart) (time.Time, bool) {
	v := map[string]int{"HH24": 0, "MI": 0, "SS": 0}
	i := 0
	for _, p := range parts {
		if p.elem == "" {
			if !strings.HasPrefix(s[i:], p.lit) {
				return time.Time{}, false
			}
			i += len(p.lit)
			continue
		}
		width := 2
		switch p.elem {
		case "YYYY":
			width = 4
		case "DDD":
			return time.Time{}, false
		}
		j := i
		for j < len(s) && j-i < width && isDigit(s[j]) {
			j++
		}
		if j == i || p.elem == "YYYY" && j-i != 4 {
			return time.Time{}, false
		}
		n, _ := strconv.Atoi(s[i:j])
		v[p.elem] = n
		i = j
	}
	if i != len(s) {
		return time.Time{}, false
	}
	for _, need := range []string{"YYYY", "MM", "DD"} {
		if _, ok := v[need]; !ok {
			return time.Time{}, false
		}
	}
	t := time.Date(v["YYYY"], time.Month(v["MM"]), v["DD"], v["HH24"], v["MI"], v["SS"], 0, time.UTC)
	if t.Year() != v["YYYY"] || int(t.Month()) != v["MM"] || t.Day() != v["DD"] || t.Hour() != v["HH24"] || t.Minute() != v["MI"] || t.Second() != v["SS"] {
		return time.Time{}, false
	}
	return t, true
}

func dateText(t time.Time, withTime bool) expr {
	if withTime {
		return expr{sql: quoteString(t.Format("2006-01-02T15:04:05.000Z")), kind: kDateTime}
	}
	return expr{sql: quoteString(t.Format("2006-01-02")), kind: kDate}
}

// dateLiteral translates DATE '2026-11-27' and TIMESTAMP '2026-11-27 10:00:00'.
func dateLiteral(q string, kw, lit token) (expr, error) {
	v := lit.text
	if kw.up == "TIMESTAMP" {
		if dot := strings.IndexByte(v, '.'); dot >= 0 {
			v = v[:dot]
		}
		for _, f := range []string{"YYYY-MM-DD HH24:MI:SS", "YYYY-MM-DD HH24:MI", "YYYY-MM-DD"} {
			parts, _ := parseDateFormat(f)
			if t, ok := parseDateValue(v, parts); ok {
				return dateText(t, true), nil
			}
		}
	} else {
		parts, _ := parseDateFormat("YYYY-MM-DD")
		if t, ok := parseDateValue(v, parts); ok {
			return dateText(t, false), nil
		}
	}
	return expr{}, newError(q, lit.pos, lit.text, "Invalid search query. Invalid %s literal '%s' at position %d.", strings.ToLower(kw.up), lit.text, pos(q, lit.pos))
}

// toDate translates TO_DATE and TO_TIMESTAMP.
func (p *parser) toDate(name string, at token, args []expr) (expr, error) {
	s := args[0]
	if len(args) == 1 {
		if !s.strLit {
			if !s.kind.isDate() {
				s.kind = kDateCol
			}
			s.col = ""
			return s, nil
		}
		for _, f := range []string{"YYYY-MM-DD", "YYYY-MM-DD HH24:MI:SS", `YYYY-MM-DD"T"HH24:MI:SS`, "MM/DD/YYYY"} {
			parts, _ := parseDateFormat(f)
			if t, ok := parseDateValue(s.strVal, parts); ok {
				return dateText(t, hasTime(parts)), nil
			}
		}
		return expr{}, newError(p.q, at.pos, s.strVal, "Invalid search query. %s cannot read '%s' without a format at position %d.", name, s.strVal, pos(p.q, at.pos))
	}
	f := args[1]
	if !f.strLit {
		return expr{}, p.unsupported(at.pos, name+" with a computed format")
	}
	parts, bad := parseDateFormat(f.strVal)
	if bad != "" {
		return expr{}, p.unsupported(at.pos, name+" format element "+bad)
	}
	if s.strLit {
		t, ok := parseDateValue(s.strVal, parts)
		if !ok {
			return expr{}, newError(p.q, at.pos, s.strVal, "Invalid search query. %s cannot read '%s' with format '%s' at position %d.", name, s.strVal, f.strVal, pos(p.q, at.pos))
		}
		return dateText(t, hasTime(parts)), nil
	}
	switch strings.ToUpper(f.strVal) {
	case "YYYY-MM-DD":
		return expr{sql: "date(" + s.sql + ")", kind: kDate}, nil
	case "YYYY-MM-DD HH24:MI:SS", `YYYY-MM-DD"T"HH24:MI:SS`:
		return expr{sql: "strftime(" + isoDateTime + ", " + s.sql + ")", kind: kDateTime}, nil
	}
	return expr{}, p.unsupported(at.pos, name+" of a computed value with format '"+f.strVal+"'")
}

// toChar translates TO_CHAR: of a date with a format, strftime; else text.
func (p *parser) toChar(at token, args []expr) (expr, error) {
	x := args[0]
	if len(args) == 1 {
		return expr{sql: "CAST(" + x.sql + " AS TEXT)", kind: kString}, nil
	}
	f := args[1]
	if !f.strLit {
		return expr{}, p.unsupported(at.pos, "TO_CHAR with a computed format")
	}
	parts, bad := parseDateFormat(f.strVal)
	if bad != "" {
		if strings.Trim(strings.ToUpper(f.strVal), "90.,$GDSFMLCV ") == "" && strings.ContainsAny(f.strVal, "90") {
			return expr{}, p.unsupported(at.pos, "TO_CHAR number format")
		}
		return expr{}, p.unsupported(at.pos, "TO_CHAR format element "+bad)
	}
	var b strings.Builder
	for _, part := range parts {
		if part.elem == "" {
			b.WriteString(strings.ReplaceAll(part.lit, "%", "%%"))
			continue
		}
		for _, e := range dateElems {
			if e.name == part.elem {
				b.WriteString(e.strf)
			}
		}
	}
	return expr{sql: "strftime(" + quoteString(b.String()) + ", " + x.sql + ")", kind: kString}, nil
}

// trunc translates TRUNC of a date (to the day, month or year) or a number.
func (p *parser) trunc(at token, args []expr) (expr, error) {
	x := args[0]
	if x.kind.isDate() {
		if x.dateArg != "" {
			x.sql = x.dateArg
		}
		unit := "DD"
		if len(args) == 2 {
			if !args[1].strLit {
				return expr{}, p.unsupported(at.pos, "TRUNC with a computed format")
			}
			unit = strings.ToUpper(args[1].strVal)
		}
		switch unit {
		case "DD", "DDD", "J":
			return expr{sql: "date(" + x.sql + ")", kind: kDate}, nil
		case "MM", "MON", "MONTH":
			return expr{sql: "date(" + x.sql + ", 'start of month')", kind: kDate}, nil
		case "YYYY", "YEAR", "YY", "Y", "SYYYY":
			return expr{sql: "date(" + x.sql + ", 'start of year')", kind: kDate}, nil
		}
		return expr{}, p.unsupported(at.pos, "TRUNC format '"+args[1].strVal+"'")
	}
	if len(args) == 1 {
		return expr{sql: "trunc(" + x.sql + ")", kind: kNumber}, nil
	}
	if n := args[1]; n.intLit && n.intVal <= 15 {
		f := "1" + strings.Repeat("0", int(n.intVal))
		return expr{sql: "(trunc((" + x.sql + ") * " + f + ") / " + f + ".0)", kind: kNumber}, nil
	}
	return expr{}, p.unsupported(at.pos, "TRUNC with a computed number of decimals")
}
