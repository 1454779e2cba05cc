package gateway

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Limits of the form decoder. Stripe's own limits are larger; these are generous for a POS
// connector and keep a hostile body from costing much.
const (
	maxFormPairs  = 1000 // key=value pairs in one body
	maxFormDepth  = 6    // brackets in one key: a[b][c][d][e][f]
	maxFormKeyLen = 500  // bytes of one decoded key
	maxFormValLen = 5000 // bytes of one decoded value
)

// valueKind tells what a formValue holds.
type valueKind uint8

const (
	leafKind valueKind = iota + 1 // a string
	hashKind                      // a[key]=…; numeric keys make it usable as a list
	listKind                      // a[]=…
)

// formValue is one node of a decoded Stripe-style form body:
//
//	amount=1000&metadata[pos_tx]=T1&payment_method_types[]=card&expand[0]=latest_charge
//
// decodes to a hash {amount: "1000", metadata: {pos_tx: "T1"}, payment_method_types:
// ["card"], expand: {"0": "latest_charge"}}. Indexed keys (a[0], a[1]) stay a hash until
// an accessor reads them as a list, which is how stripe-go encodes arrays.
type formValue struct {
	kind valueKind
	str  string
	hash map[string]*formValue
	list []*formValue
	used bool // read by a handler; anything left unread is an unknown parameter
}

// formError is a malformed body or a parameter of the wrong shape.
type formError struct {
	param string
	msg   string
}

func (e *formError) Error() string {
	if e.param == "" {
		return e.msg
	}
	return e.param + ": " + e.msg
}

// decodeForm parses an application/x-www-form-urlencoded body (or query string) with
// Stripe's bracket syntax into a hash. Errors name the offending parameter.
func decodeForm(raw string) (*formValue, error) {
	root := &formValue{kind: hashKind, hash: map[string]*formValue{}}
	if raw == "" {
		return root, nil
	}
	pairs := strings.Split(raw, "&")
	if len(pairs) > maxFormPairs {
		return nil, &formError{msg: fmt.Sprintf("too many parameters: %d (at most %d)", len(pairs), maxFormPairs)}
	}
	for _, pair := range pairs {
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, &formError{msg: fmt.Sprintf("invalid percent-encoding in parameter name %q", truncate(rawKey, 60))}
		}
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			return nil, &formError{param: truncate(key, 100), msg: "invalid percent-encoding in value"}
		}
		if len(key) > maxFormKeyLen {
			return nil, &formError{param: truncate(key, 100), msg: fmt.Sprintf("parameter name longer than %d bytes", maxFormKeyLen)}
		}
		if len(val) > maxFormValLen {
			return nil, &formError{param: key, msg: fmt.Sprintf("value longer than %d bytes", maxFormValLen)}
		}
		parts, err := splitKey(key)
		if err != nil {
			return nil, err
		}
		if err := root.insert(parts, val, key); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// splitKey splits "a[b][]" into ["a", "b", ""]; "" stands for [] (append).
func splitKey(key string) ([]string, error) {
	open := strings.IndexByte(key, '[')
	if open < 0 {
		if strings.IndexByte(key, ']') >= 0 {
			return nil, &formError{param: key, msg: "unbalanced ']' in parameter name"}
		}
		if key == "" {
			return nil, &formError{msg: "empty parameter name"}
		}
		return []string{key}, nil
	}
	if open == 0 {
		return nil, &formError{param: key, msg: "parameter name starts with '['"}
	}
	parts := []string{key[:open]}
	if strings.IndexByte(parts[0], ']') >= 0 {
		return nil, &formError{param: key, msg: "unbalanced ']' in parameter name"}
	}
	rest := key[open:]
	for rest != "" {
		if rest[0] != '[' {
			return nil, &formError{param: key, msg: "text after ']' in parameter name"}
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, &formError{param: key, msg: "unbalanced '[' in parameter name"}
		}
		seg := rest[1:end]
		if strings.IndexByte(seg, '[') >= 0 {
			return nil, &formError{param: key, msg: "nested '[' in parameter name"}
		}
		parts = append(parts, seg)
		rest = rest[end+1:]
	}
	if len(parts)-1 > maxFormDepth {
		return nil, &formError{param: key, msg: fmt.Sprintf("nested more than %d levels deep", maxFormDepth)}
	}
	for i, p := range parts[1:] {
		if p == "" && i != len(parts)-2 {
			return nil, &formError{param: key, msg: "'[]' must be the last part of a parameter name; use indexes (a[0][b]) for lists of hashes"}
		}
	}
	return parts, nil
}

// insert stores val at the path parts below v (a hash).
func (v *formValue) insert(parts []string, val, key string) error {
	node := v
	for i, p := range parts {
		last := i == len(parts)-1
		if p == "" { // a[]: append a leaf to a list
			switch node.kind {
			case hashKind:
				if len(node.hash) > 0 {
					return &formError{param: key, msg: "mixes '[]' with named or indexed keys"}
				}
				node.kind, node.hash = listKind, nil
			case listKind:
			default:
				return &formError{param: key, msg: "conflicting types: used as both a value and a list"}
			}
			node.list = append(node.list, &formValue{kind: leafKind, str: val})
			return nil
		}
		if node.kind == listKind {
			return &formError{param: key, msg: "mixes '[]' with named or indexed keys"}
		}
		child, ok := node.hash[p]
		if last {
			if ok {
				if child.kind == leafKind {
					return &formError{param: key, msg: "given more than once"}
				}
				return &formError{param: key, msg: "conflicting types: used as both a value and a hash"}
			}
			node.hash[p] = &formValue{kind: leafKind, str: val}
			return nil
		}
		if !ok {
			// The kind is settled by the next part: [] makes a list (see above), anything
			// else a hash. Start as an empty hash; an empty hash turns into a list on [].
			child = &formValue{kind: hashKind, hash: map[string]*formValue{}}
			node.hash[p] = child
		} else if child.kind == leafKind {
			return &formError{param: key, msg: "conflicting types: used as both a value and a hash"}
		}
		node = child
	}
	return nil
}

// asList returns the elements of a list, or of a hash whose keys are exactly 0..n-1.
func (v *formValue) asList() ([]*formValue, bool) {
	switch v.kind {
	case listKind:
		return v.list, true
	case hashKind:
		out := make([]*formValue, len(v.hash))
		for k, e := range v.hash {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(out) || strconv.Itoa(i) != k {
				return nil, false
			}
			out[i] = e
		}
		return out, true
	}
	return nil, false
}

// encode writes v in a canonical form: keys sorted (numerically for lists), lists with
// indexes. Two bodies that mean the same thing encode the same, which is what the
// idempotency layer compares.
func (v *formValue) encode() string {
	var b strings.Builder
	v.encodeTo(&b, "")
	return b.String()
}

func (v *formValue) encodeTo(b *strings.Builder, prefix string) {
	emit := func(key, val string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(val))
	}
	child := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "[" + k + "]"
	}
	switch v.kind {
	case leafKind:
		emit(prefix, v.str)
	case listKind:
		for i, e := range v.list {
			e.encodeTo(b, child(strconv.Itoa(i)))
		}
	case hashKind:
		if prefix != "" && len(v.hash) == 0 {
			emit(prefix, "") // cannot occur from decodeForm; keeps encode total
			return
		}
		if list, ok := v.asList(); ok && prefix != "" {
			for i, e := range list {
				e.encodeTo(b, child(strconv.Itoa(i)))
			}
			return
		}
		keys := make([]string, 0, len(v.hash))
		for k := range v.hash {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v.hash[k].encodeTo(b, child(k))
		}
	}
}

// params reads a decoded hash for one endpoint, remembering what it read so that
// [params.done] can refuse every parameter the endpoint does not know.
type params struct {
	v      *formValue
	prefix string // "payment_method_data[card]" for nested hashes; "" at the top
}

func newParams(v *formValue) *params { return &params{v: v} }

func (p *params) name(key string) string {
	if p.prefix == "" {
		return key
	}
	return p.prefix + "[" + key + "]"
}

// get returns the node for key, marking it used.
func (p *params) get(key string) (*formValue, bool) {
	if p.v == nil || p.v.kind != hashKind {
		return nil, false
	}
	n, ok := p.v.hash[key]
	if ok {
		markUsed(n)
	}
	return n, ok
}

func markUsed(n *formValue) {
	n.used = true
	for _, c := range n.hash {
		markUsed(c)
	}
	for _, c := range n.list {
		markUsed(c)
	}
}

// str returns a string parameter.
func (p *params) str(key string) (string, bool, error) {
	n, ok := p.get(key)
	if !ok {
		return "", false, nil
	}
	if n.kind != leafKind {
		return "", true, invalidParam(p.name(key), fmt.Sprintf("Invalid string: %s must be a string, not a hash or list.", p.name(key)))
	}
	return n.str, true, nil
}

// integer returns an integer parameter.
func (p *params) integer(key string) (int64, bool, error) {
	s, ok, err := p.str(key)
	if !ok || err != nil {
		return 0, ok, err
	}
	n, perr := strconv.ParseInt(s, 10, 64)
	if perr != nil {
		e := invalidParam(p.name(key), "Invalid integer: "+truncate(s, 40))
		e.Code = "parameter_invalid_integer"
		return 0, true, e
	}
	return n, true, nil
}

// boolean returns a boolean parameter ("true"/"false").
func (p *params) boolean(key string) (bool, bool, error) {
	s, ok, err := p.str(key)
	if !ok || err != nil {
		return false, ok, err
	}
	switch s {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, invalidParam(p.name(key), "Invalid boolean: "+truncate(s, 40))
}

// strings returns a list of strings: a[]=x or a[0]=x.
func (p *params) strings(key string) ([]string, bool, error) {
	n, ok := p.get(key)
	if !ok {
		return nil, false, nil
	}
	list, isList := n.asList()
	if !isList {
		return nil, true, invalidParam(p.name(key), fmt.Sprintf("Invalid array: %s must be a list (%s[]=… or %s[0]=…).", p.name(key), p.name(key), p.name(key)))
	}
	out := make([]string, len(list))
	for i, e := range list {
		if e.kind != leafKind {
			return nil, true, invalidParam(fmt.Sprintf("%s[%d]", p.name(key), i), "Invalid string: list elements must be strings.")
		}
		out[i] = e.str
	}
	return out, true, nil
}

// stringMap returns a hash of strings, as metadata is. An empty value for the whole hash
// (metadata=) returns an empty, non-nil map: Stripe's way to unset every key.
func (p *params) stringMap(key string) (map[string]string, bool, error) {
	n, ok := p.get(key)
	if !ok {
		return nil, false, nil
	}
	if n.kind == leafKind {
		if n.str == "" {
			return map[string]string{}, true, nil
		}
		return nil, true, invalidParam(p.name(key), fmt.Sprintf("Invalid hash: %s must be a hash (%s[key]=value), or empty to unset it.", p.name(key), p.name(key)))
	}
	if n.kind != hashKind {
		return nil, true, invalidParam(p.name(key), fmt.Sprintf("Invalid hash: %s must be a hash (%s[key]=value).", p.name(key), p.name(key)))
	}
	out := make(map[string]string, len(n.hash))
	for k, e := range n.hash {
		if e.kind != leafKind {
			return nil, true, invalidParam(p.name(key)+"["+k+"]", "Invalid string: hash values must be strings.")
		}
		out[k] = e.str
	}
	return out, true, nil
}

// hash returns a nested hash as params of its own.
func (p *params) hash(key string) (*params, bool, error) {
	n, ok := p.v.hash[key]
	if !ok {
		return nil, false, nil
	}
	if n.kind != hashKind {
		n.used = true
		return nil, true, invalidParam(p.name(key), fmt.Sprintf("Invalid hash: %s must be a hash (%s[key]=value).", p.name(key), p.name(key)))
	}
	n.used = true
	return &params{v: n, prefix: p.name(key)}, true, nil
}

// done refuses the first parameter nobody read, in sorted order.
func (p *params) done() error {
	if u := firstUnused(p.v, ""); u != "" {
		e := invalidParam(u, "Received unknown parameter: "+u)
		e.Code = "parameter_unknown"
		return e
	}
	return nil
}

func firstUnused(v *formValue, prefix string) string {
	if v.kind != hashKind {
		return ""
	}
	keys := make([]string, 0, len(v.hash))
	for k := range v.hash {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := k
		if prefix != "" {
			name = prefix + "[" + k + "]"
		}
		c := v.hash[k]
		if !c.used {
			return name
		}
		if u := firstUnused(c, name); u != "" {
			return u
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
