package scenarios

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits on a scenario file, so a hostile or broken file cannot exhaust memory.
const (
	maxFileSize = 1 << 20 // bytes
	maxNodes    = 200_000 // values after alias expansion
	maxDepth    = 64      // nesting
)

// pos is a 1-based line and column.
type pos struct{ line, col int }

// tree is a YAML document as a JSON-like value (map[string]any, []any, string, bool, nil,
// int64, uint64, float64) with the position of every value and every mapping key, indexed by
// JSON pointer ("/scenarios/checkout/rate").
type tree struct {
	root  any
	val   map[string]pos      // pointer → position of the value
	key   map[string]pos      // pointer → position of the key naming it (mapping entries only)
	order map[string][]string // pointer of a mapping → its keys in file order
}

// pointer builds a JSON pointer from unescaped tokens.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}

// child returns the pointer of a child of ptr.
func child(ptr, token string) string { return ptr + pointer(token) }

// syntaxProblem turns a YAML parser error into a Problem.
func syntaxProblem(err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) {
		p := Problem{Msg: "YAML: " + ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			p.Line, p.Col = tk.Position.Line, tk.Position.Column
		}
		return p
	}
	return Problem{Line: 1, Col: 1, Msg: "YAML: " + err.Error()}
}

// parseTree parses YAML into a tree. A syntax error is returned as a Problem.
func parseTree(data []byte) (*tree, *Problem) {
	if len(data) > maxFileSize {
		return nil, &Problem{Line: 1, Col: 1, Msg: fmt.Sprintf("file is %d bytes, more than the %d a scenario file may have", len(data), maxFileSize)}
	}
	f, err := parseYAML(data)
	if err != nil {
		p := syntaxProblem(err)
		return nil, &p
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch {
	case len(docs) == 0:
		return nil, &Problem{Line: 1, Col: 1, Msg: "empty file: expected a mapping with at least scenarios"}
	case len(docs) > 1:
		p := nodeProblem(docs[1].Body, "expected one YAML document, found another")
		return nil, &p
	}
	c := &converter{
		t:       &tree{val: map[string]pos{}, key: map[string]pos{}, order: map[string][]string{}},
		anchors: map[string]ast.Node{},
	}
	v, err := c.value(docs[0].Body, "", 0)
	if err != nil {
		var pe *nodeError
		if errors.As(err, &pe) {
			p := nodeProblem(pe.node, pe.msg)
			return nil, &p
		}
		return nil, &Problem{Line: 1, Col: 1, Msg: err.Error()}
	}
	c.t.root = v
	return c.t, nil
}

// parseYAML runs the YAML parser, turning a panic in it (third-party code fed with outside
// input) into an error.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("cannot parse: %v", p)
		}
	}()
	return parser.ParseBytes(data, 0)
}

func tokenPos(tk *token.Token) pos {
	if tk == nil || tk.Position == nil {
		return pos{1, 1}
	}
	return pos{tk.Position.Line, tk.Position.Column}
}

// nodePos returns where a node starts. A block mapping's own token is the ':' of its first
// entry, so its first key stands for it.
func nodePos(n ast.Node) pos {
	switch m := n.(type) {
	case nil:
		return pos{1, 1}
	case *ast.MappingNode:
		if !m.IsFlowStyle && len(m.Values) > 0 && m.Values[0].Key != nil {
			return nodePos(m.Values[0].Key)
		}
	case *ast.MappingValueNode:
		if m.Key != nil {
			return nodePos(m.Key)
		}
	}
	return tokenPos(n.GetToken())
}

func nodeProblem(n ast.Node, msg string) Problem {
	p := nodePos(n)
	return Problem{Line: p.line, Col: p.col, Msg: msg}
}

type nodeError struct {
	node ast.Node
	msg  string
}

func (e *nodeError) Error() string { return e.msg }

type converter struct {
	t       *tree
	anchors map[string]ast.Node
	nodes   int
}

// value converts node, recording positions under ptr. A value reached through an alias keeps
// the alias's position for itself and the anchor's positions for its children.
func (c *converter) value(n ast.Node, ptr string, depth int) (any, error) {
	c.nodes++
	if c.nodes > maxNodes {
		return nil, &nodeError{n, fmt.Sprintf("too many values (more than %d after expanding aliases)", maxNodes)}
	}
	if depth > maxDepth {
		return nil, &nodeError{n, fmt.Sprintf("nested more than %d levels deep", maxDepth)}
	}
	if _, seen := c.t.val[ptr]; !seen {
		c.t.val[ptr] = nodePos(n)
	}
	switch n := n.(type) {
	case *ast.DocumentNode:
		return c.value(n.Body, ptr, depth)
	case *ast.AnchorNode:
		c.t.val[ptr] = nodePos(n.Value)
		v, err := c.value(n.Value, ptr, depth)
		// Registered once its node is complete: an alias inside the node it names would
		// make a cycle, so it refers to no anchor.
		if n.Name != nil {
			c.anchors[n.Name.GetToken().Value] = n.Value
		}
		return v, err
	case *ast.AliasNode:
		name := ""
		if n.Value != nil {
			name = n.Value.GetToken().Value
		}
		target, ok := c.anchors[name]
		if !ok {
			return nil, &nodeError{n, fmt.Sprintf("alias *%s refers to no anchor before it", name)}
		}
		return c.value(target, ptr, depth+1)
	case *ast.TagNode:
		return c.tagged(n, ptr, depth)
	case *ast.MappingNode:
		return c.mapping(n.Values, ptr, depth)
	case *ast.MappingValueNode:
		return c.mapping([]*ast.MappingValueNode{n}, ptr, depth)
	case *ast.SequenceNode:
		out := make([]any, 0, len(n.Values))
		for i, item := range n.Values {
			v, err := c.value(item, child(ptr, strconv.Itoa(i)), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *ast.LiteralNode:
		if n.Value == nil {
			return "", nil
		}
		return n.Value.Value, nil
	case *ast.NullNode:
		return nil, nil
	case *ast.StringNode:
		return n.Value, nil
	case *ast.IntegerNode:
		return n.Value, nil
	case *ast.FloatNode:
		return n.Value, nil
	case *ast.BoolNode:
		return n.Value, nil
	case *ast.InfinityNode:
		return n.Value, nil
	case *ast.NanNode:
		return math.NaN(), nil
	case nil:
		return nil, nil
	}
	return nil, &nodeError{n, fmt.Sprintf("unsupported YAML construct (%s)", n.Type())}
}

func (c *converter) tagged(n *ast.TagNode, ptr string, depth int) (any, error) {
	tag := n.Start.Value
	switch tag {
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq":
	default:
		return nil, &nodeError{n, fmt.Sprintf("unsupported YAML tag %s", tag)}
	}
	v, err := c.value(n.Value, ptr, depth+1)
	if err != nil {
		return nil, err
	}
	ok := true
	switch tag {
	case "!!str":
		if n.Value != nil {
			switch n.Value.(type) {
			case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
				ok = false
			default:
				if tk := n.Value.GetToken(); tk != nil && v != nil {
					if _, isStr := v.(string); !isStr {
						v = tk.Value
					}
				}
			}
		}
	case "!!int":
		switch v.(type) {
		case int64, uint64:
		default:
			ok = false
		}
	case "!!float":
		switch x := v.(type) {
		case int64:
			v = float64(x)
		case uint64:
			v = float64(x)
		case float64:
		default:
			ok = false
		}
	case "!!bool":
		_, ok = v.(bool)
	case "!!null":
		ok = v == nil
	case "!!map":
		_, ok = v.(map[string]any)
	case "!!seq":
		_, ok = v.([]any)
	}
	if !ok {
		return nil, &nodeError{n, fmt.Sprintf("value does not fit its tag %s", tag)}
	}
	return v, nil
}

// keyString returns a mapping key as the YAML decoder names it.
func keyString(k ast.Node) (string, error) {
	for {
		switch n := k.(type) {
		case *ast.MappingKeyNode:
			k = n.Value
			continue
		case *ast.TagNode:
			k = n.Value
			continue
		case *ast.AnchorNode:
			k = n.Value
			continue
		}
		break
	}
	switch n := k.(type) {
	case *ast.StringNode:
		return n.Value, nil
	case *ast.NullNode:
		return "null", nil
	case ast.ScalarNode:
		return fmt.Sprint(n.GetValue()), nil
	}
	return "", &nodeError{k, "a mapping key must be a plain value"}
}

func (c *converter) mapping(entries []*ast.MappingValueNode, ptr string, depth int) (any, error) {
	out := map[string]any{}
	var order []string
	seen := map[string]bool{}
	// Merge keys first: explicit keys override merged ones, wherever they are written.
	for _, mv := range entries {
		if mv.Key == nil || !mv.Key.IsMergeKey() {
			continue
		}
		sources := []ast.Node{mv.Value}
		if seq, ok := unalias(mv.Value, c.anchors).(*ast.SequenceNode); ok {
			sources = seq.Values
		}
		// Earlier sources take precedence over later ones.
		for i := len(sources) - 1; i >= 0; i-- {
			v, err := c.value(sources[i], ptr, depth+1)
			if err != nil {
				return nil, err
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, &nodeError{sources[i], "a merge key (<<) needs a mapping or a list of mappings"}
			}
			for k, x := range m {
				if !seen[k] {
					order = append(order, k)
					seen[k] = true
				}
				out[k] = x
			}
		}
	}
	for _, mv := range entries {
		if mv.Key == nil || mv.Key.IsMergeKey() {
			continue
		}
		k, err := keyString(mv.Key)
		if err != nil {
			return nil, err
		}
		cp := child(ptr, k)
		c.t.key[cp] = nodePos(mv.Key)
		delete(c.t.val, cp) // an explicit value overrides a merged one's position
		v, err := c.value(mv.Value, cp, depth+1)
		if err != nil {
			return nil, err
		}
		if !seen[k] {
			order = append(order, k)
			seen[k] = true
		}
		out[k] = v
	}
	c.t.order[ptr] = order
	return out, nil
}

func unalias(n ast.Node, anchors map[string]ast.Node) ast.Node {
	for range maxDepth {
		switch a := n.(type) {
		case *ast.AliasNode:
			if a.Value == nil {
				return n
			}
			t, ok := anchors[a.Value.GetToken().Value]
			if !ok {
				return n
			}
			n = t
		case *ast.AnchorNode:
			n = a.Value
		default:
			return n
		}
	}
	return n
}

// position returns where to report a problem about ptr: the key naming it when atKey and it
// has one, else its value; a pointer that does not exist falls back to its nearest ancestor.
func (t *tree) position(ptr string, atKey bool) pos {
	for {
		if atKey {
			if p, ok := t.key[ptr]; ok {
				return p
			}
		}
		if p, ok := t.val[ptr]; ok {
			return p
		}
		if p, ok := t.key[ptr]; ok {
			return p
		}
		if ptr == "" {
			return pos{1, 1}
		}
		ptr = ptr[:strings.LastIndexByte(ptr, '/')]
	}
}

// lookup returns the value at tokens, and whether it exists.
func (t *tree) lookup(tokens ...string) (any, bool) {
	v := t.root
	for _, tok := range tokens {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// displayPath renders instance tokens as "scenarios.checkout.stages[0].target".
func (t *tree) displayPath(tokens []string) string {
	var b strings.Builder
	v := t.root
	for _, tok := range tokens {
		switch x := v.(type) {
		case []any:
			b.WriteString("[" + tok + "]")
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(x) {
				v = x[i]
			} else {
				v = nil
			}
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
			if m, ok := x.(map[string]any); ok {
				v = m[tok]
			} else {
				v = nil
			}
		}
	}
	return b.String()
}
