package scenarios

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

//go:embed scenario.schema.json
var schemaJSON []byte

// SchemaURL is the $id of the scenario file schema.
const SchemaURL = "https://github.com/doorbuster/doorbuster/scenarios/scenario.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of scenario files, for editors and for
// publishing beside the files. Each call returns a fresh copy.
func Schema() []byte { return bytes.Clone(schemaJSON) }

// compiled is the schema, compiled once; it is never modified after.
type compiled struct {
	schema *jsonschema.Schema
	doc    any // the schema document, to look up the properties and hints of a location
}

var compiledSchema = sync.OnceValues(func() (*compiled, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("scenario schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "go-duration", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		_, err := parseDuration(s)
		return err
	}})
	if err := c.AddResource(SchemaURL, doc); err != nil {
		return nil, fmt.Errorf("scenario schema: %w", err)
	}
	s, err := c.Compile(SchemaURL)
	if err != nil {
		return nil, fmt.Errorf("scenario schema: %w", err)
	}
	return &compiled{schema: s, doc: doc}, nil
})

// validateSchema checks the tree against the schema, adding a problem per failure.
func (c *compiled) validate(t *tree, ps *problems) {
	err := c.schema.Validate(t.root)
	if err == nil {
		return
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		ps.add(nil, false, "%v", err)
		return
	}
	c.translate(ve, t, ps)
}

// translate turns the leaves of a validation error tree into problems.
func (c *compiled) translate(ve *jsonschema.ValidationError, t *tree, ps *problems) {
	if k, ok := ve.ErrorKind.(*kind.PropertyNames); ok {
		tokens := append(propertyNamesLocation(ve, t, k.Property), k.Property)
		expected := "a valid name"
		for _, cause := range ve.Causes {
			if h := c.hint(cause.SchemaURL); h != "" {
				expected = h
			}
		}
		ps.add(tokens, true, "expected %s, got %q", expected, k.Property)
		return
	}
	if len(ve.Causes) > 0 {
		for _, cause := range ve.Causes {
			c.translate(cause, t, ps)
		}
		return
	}
	c.leaf(ve, t, ps)
}

func (c *compiled) leaf(ve *jsonschema.ValidationError, t *tree, ps *problems) {
	tokens := ve.InstanceLocation
	got, _ := t.lookup(tokens...)
	expected := func(fallback string) string {
		if h := c.hint(ve.SchemaURL); h != "" {
			return h
		}
		return fallback
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		known := c.propertyNames(ve.SchemaURL)
		for _, p := range k.Properties {
			ps.add(append(slices.Clone(tokens), p), true, "unknown key%s", didYouMean(p, known))
		}
	case *kind.Required:
		for _, m := range k.Missing {
			ps.add(tokens, true, "missing required key %q", m)
		}
	case *kind.DependentRequired:
		for _, m := range k.Missing {
			ps.add(append(slices.Clone(tokens), k.Prop), true, "%s needs %q beside it", k.Prop, m)
		}
	case *kind.Type:
		ps.add(tokens, false, "expected %s, got %s", expected(typeNames(k.Want)), describe(got))
	case *kind.Pattern:
		ps.add(tokens, false, "expected %s, got %s", expected("a value matching "+k.Want), describe(got))
	case *kind.Enum:
		var want, names []string
		for _, w := range k.Want {
			want = append(want, describe(w))
			if s, ok := w.(string); ok {
				names = append(names, s)
			}
		}
		hint := ""
		if s, ok := got.(string); ok {
			hint = didYouMean(s, names)
		}
		ps.add(tokens, false, "expected one of %s, got %s%s", strings.Join(want, ", "), describe(got), hint)
	case *kind.Minimum:
		ps.add(tokens, false, "expected %s, got %s", expected("at least "+ratString(k.Want)), describe(got))
	case *kind.Maximum:
		ps.add(tokens, false, "expected %s, got %s", expected("at most "+ratString(k.Want)), describe(got))
	case *kind.ExclusiveMinimum:
		ps.add(tokens, false, "expected %s, got %s", expected("more than "+ratString(k.Want)), describe(got))
	case *kind.ExclusiveMaximum:
		ps.add(tokens, false, "expected %s, got %s", expected("less than "+ratString(k.Want)), describe(got))
	case *kind.MinProperties:
		ps.add(tokens, false, "expected %s, got %s", expected(fmt.Sprintf("at least %d key(s)", k.Want)), describe(got))
	case *kind.MaxProperties:
		ps.add(tokens, false, "expected %s, got %s", expected(fmt.Sprintf("at most %d key(s)", k.Want)), describeKeys(got))
	case *kind.MinItems:
		ps.add(tokens, false, "expected %s, got an empty list", expected(fmt.Sprintf("at least %d item(s)", k.Want)))
	case *kind.MaxItems:
		ps.add(tokens, false, "expected at most %d item(s), got %d", k.Want, k.Got)
	case *kind.MinLength:
		ps.add(tokens, false, "must not be empty")
	case *kind.MaxLength:
		ps.add(tokens, false, "expected at most %d characters, got %d", k.Want, k.Got)
	case *kind.UniqueItems:
		ps.add(append(slices.Clone(tokens), strconv.Itoa(k.Duplicates[1])), false, "duplicate of item %d", k.Duplicates[0])
	case *kind.Format:
		ps.add(tokens, false, "expected %s, got %s", expected("a valid "+k.Want), describe(got))
	case *kind.InvalidJsonValue:
		ps.add(tokens, false, "expected a finite number, got %s", describe(got))
	default:
		ps.add(tokens, false, "%v", ve.ErrorKind)
	}
}

// node returns the schema object at a schema URL (its fragment is a JSON pointer).
func (c *compiled) node(schemaURL string) map[string]any {
	_, frag, _ := strings.Cut(schemaURL, "#")
	var v any = c.doc
	if frag != "" {
		for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch x := v.(type) {
			case map[string]any:
				v = x[tok]
			case []any:
				i, err := strconv.Atoi(tok)
				if err != nil || i < 0 || i >= len(x) {
					return nil
				}
				v = x[i]
			default:
				return nil
			}
		}
	}
	m, _ := v.(map[string]any)
	return m
}

// hint returns the schema's "x-expected" phrase at a location ("a duration like \"30s\"").
func (c *compiled) hint(schemaURL string) string {
	s, _ := c.node(schemaURL)["x-expected"].(string)
	return s
}

// propertyNames returns the keys a schema object allows, sorted.
func (c *compiled) propertyNames(schemaURL string) []string {
	props, _ := c.node(schemaURL)["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func typeNames(want []string) string {
	names := make([]string, 0, len(want))
	for _, w := range want {
		switch w {
		case "object":
			names = append(names, "a mapping")
		case "array":
			names = append(names, "a list")
		case "string":
			names = append(names, "a string")
		case "integer":
			names = append(names, "a whole number")
		case "number":
			names = append(names, "a number")
		case "boolean":
			names = append(names, "true or false")
		case "null":
			names = append(names, "nothing")
		default:
			names = append(names, w)
		}
	}
	return strings.Join(names, " or ")
}

// describe renders a value for a message: scalars as written, collections by kind.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64, uint64, json.Number:
		return fmt.Sprint(x)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}

// describeKeys renders a mapping by its keys ("latency and error").
func describeKeys(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return describe(v)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	switch len(keys) {
	case 0:
		return "none"
	case 1:
		return keys[0]
	}
	return strings.Join(keys[:len(keys)-1], ", ") + " and " + keys[len(keys)-1]
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// propertyNamesLocation returns the location of the mapping whose key failed propertyNames.
// jsonschema v6.0.3 does not copy the instance location of this error (it may be
// overwritten by later validation), so it is derived from the schema location
// (".../properties/a/properties/b/propertyNames" → a.b) when it can be, and checked.
func propertyNamesLocation(ve *jsonschema.ValidationError, t *tree, key string) []string {
	holds := func(tokens []string) bool {
		v, _ := t.lookup(tokens...)
		m, ok := v.(map[string]any)
		if ok {
			_, ok = m[key]
		}
		return ok
	}
	_, frag, _ := strings.Cut(ve.SchemaURL, "#")
	if rest, ok := strings.CutSuffix(frag, "/propertyNames"); ok {
		segs := strings.Split(strings.TrimPrefix(rest, "/"), "/")
		var tokens []string
		for i := 0; i+1 < len(segs) && segs[i] == "properties"; i += 2 {
			tokens = append(tokens, segs[i+1])
		}
		if len(tokens)*2 == len(segs) && holds(tokens) {
			return tokens
		}
	}
	if loc := slices.Clone(ve.InstanceLocation); holds(loc) {
		return loc
	}
	return nil
}
