package scenarios

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"sort"
	"testing"
)

func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return doc
}

// TestSchemaIsStrictAndDocumented walks the schema: every object schema refuses unknown
// keys (additionalProperties present, false unless it is a map) and every property has a
// description, for editor completion.
func TestSchemaIsStrictAndDocumented(t *testing.T) {
	doc := schemaDoc(t)
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", doc["$schema"])
	}
	maps := []string{"/properties/scenarios", "/properties/thresholds", "/$defs/scenario/properties/env", "/$defs/scenario/properties/tags"}
	var walk func(ptr string, s map[string]any)
	walk = func(ptr string, s map[string]any) {
		if props, ok := s["properties"].(map[string]any); ok {
			ap, has := s["additionalProperties"]
			if !has {
				t.Errorf("%s: object without additionalProperties", ptr)
			} else if ap != false && !slices.Contains(maps, ptr) {
				t.Errorf("%s: additionalProperties is %v, want false", ptr, ap)
			}
			for name, p := range props {
				ps, _ := p.(map[string]any)
				if d, _ := ps["description"].(string); d == "" {
					t.Errorf("%s/properties/%s: no description", ptr, name)
				}
				walk(ptr+"/properties/"+name, ps)
			}
		}
		if s["type"] == "object" {
			if _, has := s["additionalProperties"]; !has {
				t.Errorf("%s: object without additionalProperties", ptr)
			}
		}
		for _, k := range []string{"items", "additionalProperties"} {
			if sub, ok := s[k].(map[string]any); ok {
				walk(ptr+"/"+k, sub)
			}
		}
	}
	walk("", doc)
	defs, _ := doc["$defs"].(map[string]any)
	for name, d := range defs {
		ds := d.(map[string]any)
		if desc, _ := ds["description"].(string); desc == "" {
			t.Errorf("$defs/%s: no description", name)
		}
		walk("/$defs/"+name, ds)
	}
}

func enumOf(t *testing.T, doc map[string]any, path ...string) []string {
	t.Helper()
	var v any = doc
	for _, p := range path {
		v = v.(map[string]any)[p]
	}
	var out []string
	for _, e := range v.(map[string]any)["enum"].([]any) {
		out = append(out, e.(string))
	}
	sort.Strings(out)
	return out
}

// TestSchemaAgreesWithGo checks that the lists the Go code keeps match the schema's.
func TestSchemaAgreesWithGo(t *testing.T) {
	doc := schemaDoc(t)
	ids := BuiltinInvariants()
	sort.Strings(ids)
	if got := enumOf(t, doc, "$defs", "invariantID"); !slices.Equal(got, ids) {
		t.Errorf("schema invariant ids %v, Go %v", got, ids)
	}
	execs := []string{string(SharedIterations), string(PerVUIterations), string(ConstantVUs), string(RampingVUs), string(ConstantArrivalRate), string(RampingArrivalRate)}
	sort.Strings(execs)
	if got := enumOf(t, doc, "$defs", "scenario", "properties", "executor"); !slices.Equal(got, execs) {
		t.Errorf("schema executors %v, Go %v", got, execs)
	}
	flows := []string{string(FlowSale), string(FlowReturn), string(FlowExchange), string(FlowVoid), string(FlowOfflineResync),
		string(FlowPeripheralStorm), string(FlowBOPISPickup), string(FlowTransfer), string(FlowShiftClose)}
	sort.Strings(flows)
	if got := enumOf(t, doc, "$defs", "scenario", "properties", "exec"); !slices.Equal(got, flows) {
		t.Errorf("schema flows %v, Go %v", got, flows)
	}
	// Every executor option the Go table knows is a scenario property, and vice versa.
	props := doc["$defs"].(map[string]any)["scenario"].(map[string]any)["properties"].(map[string]any)
	known := slices.Clone(commonOptions)
	for _, e := range execs {
		a, r := ExecutorOptions(Executor(e))
		for _, o := range r {
			if !slices.Contains(a, o) {
				t.Errorf("%s requires %s but does not accept it", e, o)
			}
		}
		known = append(known, a...)
	}
	for p := range props {
		if !slices.Contains(known, p) {
			t.Errorf("scenario property %s is not in the executor table", p)
		}
	}
	for _, k := range known {
		if _, ok := props[k]; !ok {
			t.Errorf("executor option %s is not a scenario property in the schema", k)
		}
	}
}

func TestSchemaEmbeddedIsTheShippedFile(t *testing.T) {
	disk, err := os.ReadFile("scenario.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(disk) != string(Schema()) {
		t.Error("Schema() differs from scenario.schema.json")
	}
	s := Schema()
	s[0] = 'x'
	if Schema()[0] == 'x' {
		t.Error("Schema() returns shared memory")
	}
}

// FuzzParse: no input makes Parse panic; a refusal is always an *Error with positions; an
// accepted file's canonical form is accepted too.
func FuzzParse(f *testing.F) {
	for _, p := range shippedFiles(f) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("scenarios: {a: &x {executor: constant-vus, exec: sale, duration: 1m}, b: *x}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("scenarios:\n  s:\n    <<: [{executor: shared-iterations}, {exec: sale}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("f.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("refusal is %T, not *Error: %v", err, err)
			}
			if len(e.Problems) == 0 {
				t.Fatal("*Error without problems")
			}
			for _, p := range e.Problems {
				if p.Line < 1 || p.Col < 1 || p.Msg == "" {
					t.Fatalf("problem without position or message: %+v", p)
				}
			}
			return
		}
		out, err := file.Canonical()
		if err != nil {
			t.Fatalf("Canonical: %v", err)
		}
		if _, err := Parse("f.yaml", out); err != nil {
			t.Fatalf("canonical form refused: %v\ninput:\n%s\ncanonical:\n%s", err, data, out)
		}
		_ = file.Resolved()
		_ = file.ScaleDuration(0.5)
	})
}
