package faults

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// FieldError is one problem in a rule, naming the field ("rules[0].effect.latency.median")
// and, when the rules came from text, where it is (1-based line and column).
type FieldError struct {
	Path   string `json:"field"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Msg    string `json:"message"`
}

func (e FieldError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d, column %d)", e.Line, e.Column)
	}
	return b.String()
}

// RulesError lists every problem found in a set of rules.
type RulesError struct {
	Fields []FieldError
}

func (e *RulesError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Error()
	}
	return "invalid fault rules: " + strings.Join(msgs, "; ")
}

// Limits on rules text, so a hostile body cannot make the decoder work hard.
const (
	MaxRulesBytes = 1 << 20 // bytes of rules text ParseRules accepts
	MaxRules      = 1000    // rules in one set
	maxFieldErrs  = 20      // problems reported before giving up
)

// ParseRules decodes rules from YAML or JSON (JSON is YAML). The text is a list of rules or a
// mapping {rules: [...]}; an empty text is no rules. Unknown fields are errors, durations
// are strings ("200ms"), and every rule is validated as [Engine.Replace] would, except that
// the target is not compared with an engine's (names are unique per target). The error, a *RulesError, names each bad field
// with its line and column:
//
//	rules:
//	  - name: lost-cash-sales
//	    target: netsuite
//	    match: {method: POST, recordType: cashSale}
//	    effect: {lostResponse: {}}
//	    probability: 0.05
func ParseRules(data []byte) ([]Rule, error) {
	if len(data) > MaxRulesBytes {
		return nil, &RulesError{Fields: []FieldError{{Msg: fmt.Sprintf("rules text is %d bytes; the limit is %d", len(data), MaxRulesBytes)}}}
	}
	f, err := parseYAML(data)
	if err != nil {
		fe := FieldError{Msg: err.Error()}
		var ye yaml.Error
		if errors.As(err, &ye) {
			fe.Msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				fe.Line, fe.Column = tk.Position.Line, tk.Position.Column
			}
		}
		return nil, &RulesError{Fields: []FieldError{fe}}
	}
	d := &decoder{}
	rules := d.file(f)
	if len(d.errs) == 0 {
		seen := make(map[Rule]bool, len(rules)) // keyed by target and name only
		for i := range rules {
			prefix := fmt.Sprintf("rules[%d]", i)
			errs := rules[i].validate(prefix)
			key := Rule{Target: rules[i].Target, Name: rules[i].Name}
			if key.Name != "" && seen[key] {
				errs = append(errs, FieldError{Path: prefix + ".name", Msg: fmt.Sprintf("%q is already used by another %s rule", key.Name, key.Target)})
			}
			seen[key] = true
			for _, fe := range errs {
				fe.Line, fe.Column = d.position(fe.Path)
				d.errs = append(d.errs, fe)
			}
		}
	}
	if len(d.errs) > 0 {
		return nil, &RulesError{Fields: d.errs}
	}
	return rules, nil
}

// parseYAML parses text into an AST. The parser is third-party code fed with outside input:
// a panic in it is turned into an error rather than taking a simulator down.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("cannot parse rules: %v", p)
		}
	}()
	return parser.ParseBytes(data, 0)
}

// decoder walks the YAML AST into rules, collecting errors with paths and positions.
type decoder struct {
	errs []FieldError
	pos  map[string]*token.Position // field path → where its value is
}

func (d *decoder) fail(path string, n ast.Node, format string, args ...any) {
	if len(d.errs) >= maxFieldErrs {
		return
	}
	fe := FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
	if p := nodePos(n); p != nil {
		fe.Line, fe.Column = p.Line, p.Column
	}
	d.errs = append(d.errs, fe)
}

func (d *decoder) mark(path string, n ast.Node) {
	if p := nodePos(n); p != nil {
		if d.pos == nil {
			d.pos = make(map[string]*token.Position)
		}
		d.pos[path] = p
	}
}

// position returns where path (or the nearest enclosing field) was in the text.
func (d *decoder) position(path string) (line, col int) {
	for p := path; p != ""; {
		if pos, ok := d.pos[p]; ok {
			return pos.Line, pos.Column
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0, 0
}

func nodePos(n ast.Node) *token.Position {
	if n == nil {
		return nil
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Position
	}
	return nil
}

// value strips anchors and tags; nil means null.
func (d *decoder) value(path string, n ast.Node) (ast.Node, bool) {
	for range 8 {
		switch v := n.(type) {
		case nil, *ast.NullNode:
			return nil, true
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			d.fail(path, n, "YAML aliases are not supported in rules")
			return nil, false
		default:
			return n, true
		}
	}
	d.fail(path, n, "too many nested anchors or tags")
	return nil, false
}

// entry is one key of a mapping.
type entry struct {
	key   string
	keyN  ast.Node
	value ast.Node
}

// mapping returns the entries of a mapping node in order, refusing duplicate keys.
func (d *decoder) mapping(path string, n ast.Node) ([]entry, bool) {
	n, ok := d.value(path, n)
	if !ok {
		return nil, false
	}
	var values []*ast.MappingValueNode
	switch v := n.(type) {
	case nil:
		return nil, true
	case *ast.MappingNode:
		values = v.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{v}
	default:
		d.fail(path, n, "must be a mapping, not %s", kind(n))
		return nil, false
	}
	out := make([]entry, 0, len(values))
	seen := make(map[string]bool, len(values))
	for _, mv := range values {
		var k ast.Node = mv.Key
		if mk, ok := k.(*ast.MappingKeyNode); ok {
			k = mk.Value
		}
		s, ok := k.(*ast.StringNode)
		if !ok {
			d.fail(path, k, "keys must be field names")
			return nil, false
		}
		if seen[s.Value] {
			d.fail(join(path, s.Value), k, "is given twice")
			return nil, false
		}
		seen[s.Value] = true
		out = append(out, entry{s.Value, k, mv.Value})
	}
	return out, true
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func kind(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a " + n.Type().String()
}

// file decodes a whole document: a list of rules or {rules: [...]}.
func (d *decoder) file(f *ast.File) []Rule {
	var body ast.Node
	docs := 0
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if _, ok := doc.Body.(*ast.CommentGroupNode); ok {
			continue
		}
		docs++
		body = doc.Body
	}
	if docs > 1 {
		d.fail("", body, "expected one YAML document, found %d", docs)
		return nil
	}
	body, ok := d.value("", body)
	if !ok || body == nil {
		return nil
	}
	switch body.(type) {
	case *ast.SequenceNode:
		return d.rules("rules", body)
	case *ast.MappingNode, *ast.MappingValueNode:
		entries, ok := d.mapping("", body)
		if !ok {
			return nil
		}
		var rules []Rule
		for _, e := range entries {
			if e.key != "rules" {
				d.fail(e.key, e.keyN, "unknown field; the top level is a list of rules or {rules: [...]}")
				continue
			}
			rules = d.rules("rules", e.value)
		}
		return rules
	}
	d.fail("", body, "must be a list of rules or {rules: [...]}, not %s", kind(body))
	return nil
}

func (d *decoder) rules(path string, n ast.Node) []Rule {
	n, ok := d.value(path, n)
	if !ok || n == nil {
		return nil
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.fail(path, n, "must be a list of rules, not %s", kind(n))
		return nil
	}
	if len(seq.Values) > MaxRules {
		d.fail(path, n, "has %d rules; the limit is %d", len(seq.Values), MaxRules)
		return nil
	}
	rules := make([]Rule, 0, len(seq.Values))
	for i, v := range seq.Values {
		rules = append(rules, d.rule(fmt.Sprintf("rules[%d]", i), v))
	}
	return rules
}

func (d *decoder) rule(path string, n ast.Node) Rule {
	var r Rule
	d.mark(path, n)
	entries, ok := d.mapping(path, n)
	if !ok {
		return r
	}
	if n, _ := d.value(path, n); n == nil {
		d.fail(path, n, "must be a rule, not null")
		return r
	}
	for _, e := range entries {
		fp := join(path, e.key)
		d.mark(fp, e.value)
		switch e.key {
		case "name":
			r.Name = d.str(fp, e.value)
		case "target":
			r.Target = Target(d.str(fp, e.value))
		case "match":
			d.object(fp, e.value, &r.Match)
		case "effect":
			r.Effect = d.effect(fp, e.value)
		case "probability":
			p, ok := d.float(fp, e.value)
			if ok && p == 0 {
				d.fail(fp, e.value, "must be greater than 0 and at most 1 (remove the rule to disable it)")
			}
			r.Probability = p
		case "window":
			if v, _ := d.value(fp, e.value); v != nil {
				r.Window = &Window{}
				d.object(fp, e.value, r.Window)
			}
		case "quiet":
			r.Quiet = d.boolean(fp, e.value)
		default:
			d.fail(fp, e.keyN, "unknown field; a rule has name, target, match, effect, probability, window, quiet")
		}
	}
	return r
}

// effect decodes {<effect name>: {config}} with exactly one key.
func (d *decoder) effect(path string, n ast.Node) Effect {
	entries, ok := d.mapping(path, n)
	if !ok {
		return nil
	}
	if len(entries) != 1 {
		d.fail(path, n, "must name exactly one effect: one of %s", strings.Join(effectNames, ", "))
		return nil
	}
	e := entries[0]
	fp := join(path, e.key)
	eff := newEffect(e.key)
	if eff == nil {
		d.fail(fp, e.keyN, "unknown effect; use one of %s", strings.Join(effectNames, ", "))
		return nil
	}
	d.mark(fp, e.value)
	d.object(fp, e.value, eff)
	return eff
}

var durationType = reflect.TypeFor[Duration]()

// object decodes a mapping into the struct dst points to, by the fields' JSON names.
// Fields may be string, int, float64 or Duration; null leaves a field as it is.
func (d *decoder) object(path string, n ast.Node, dst any) {
	entries, ok := d.mapping(path, n)
	if !ok {
		return
	}
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	var names []string
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = i
			names = append(names, name)
		}
	}
	for _, e := range entries {
		fp := join(path, e.key)
		i, ok := fields[e.key]
		if !ok {
			if len(names) == 0 {
				d.fail(fp, e.keyN, "unknown field; this takes no settings ({})")
			} else {
				d.fail(fp, e.keyN, "unknown field; known: %s", strings.Join(names, ", "))
			}
			continue
		}
		d.mark(fp, e.value)
		if val, _ := d.value(fp, e.value); val == nil {
			continue
		}
		f := v.Field(i)
		switch {
		case f.Type() == durationType:
			if dur, ok := d.duration(fp, e.value); ok {
				f.SetInt(int64(dur))
			}
		case f.Kind() == reflect.String:
			f.SetString(d.str(fp, e.value))
		case f.Kind() == reflect.Int:
			if i, ok := d.int(fp, e.value); ok {
				f.SetInt(int64(i))
			}
		case f.Kind() == reflect.Float64:
			if x, ok := d.float(fp, e.value); ok {
				f.SetFloat(x)
			}
		default:
			panic(fmt.Sprintf("faults: field %s of %s has unsupported type %s", t.Field(i).Name, t, f.Type()))
		}
	}
}

func (d *decoder) str(path string, n ast.Node) string {
	n, ok := d.value(path, n)
	if !ok {
		return ""
	}
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value
		}
		return ""
	}
	d.fail(path, n, "must be a string, not %s", kind(n))
	return ""
}

func (d *decoder) boolean(path string, n ast.Node) bool {
	n, ok := d.value(path, n)
	if !ok || n == nil {
		return false
	}
	if v, ok := n.(*ast.BoolNode); ok {
		return v.Value
	}
	d.fail(path, n, "must be true or false, not %s", kind(n))
	return false
}

func (d *decoder) duration(path string, n ast.Node) (Duration, bool) {
	const want = `must be a duration like "200ms"`
	n, ok := d.value(path, n)
	if !ok {
		return 0, false
	}
	s, ok := n.(*ast.StringNode)
	if !ok {
		d.fail(path, n, "%s, not %s", want, kind(n))
		return 0, false
	}
	dur, err := time.ParseDuration(strings.TrimSpace(s.Value))
	if err != nil {
		d.fail(path, n, "%s, not %q", want, s.Value)
		return 0, false
	}
	return Duration(dur), true
}

func (d *decoder) int(path string, n ast.Node) (int, bool) {
	n, ok := d.value(path, n)
	if !ok {
		return 0, false
	}
	if v, ok := n.(*ast.IntegerNode); ok {
		switch i := v.Value.(type) {
		case int64:
			if i >= math.MinInt32 && i <= math.MaxInt32 {
				return int(i), true
			}
		case uint64:
			if i <= math.MaxInt32 {
				return int(i), true
			}
		}
		d.fail(path, n, "is out of range")
		return 0, false
	}
	d.fail(path, n, "must be a whole number, not %s", kind(n))
	return 0, false
}

func (d *decoder) float(path string, n ast.Node) (float64, bool) {
	n, ok := d.value(path, n)
	if !ok {
		return 0, false
	}
	switch v := n.(type) {
	case *ast.FloatNode:
		return v.Value, true
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			return float64(i), true
		case uint64:
			return float64(i), true
		}
	case *ast.StringNode:
		x, err := strconv.ParseFloat(v.Value, 64)
		if err == nil && v.Token != nil && v.Token.Type == token.StringType && !math.IsNaN(x) && !math.IsInf(x, 0) {
			return x, true // plain 1e-19: YAML calls it a string, JSON a number
		}
		if err == nil { // a quoted number is still a mistake worth naming
			d.fail(path, n, "must be a number, not the string %q", v.Value)
			return 0, false
		}
	}
	d.fail(path, n, "must be a number, not %s", kind(n))
	return 0, false
}
