package contract

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

type openAPIDoc struct {
	OpenAPI    string         `yaml:"openapi"`
	Paths      map[string]any `yaml:"paths"`
	Components struct {
		Schemas map[string]struct {
			Required   []string       `yaml:"required"`
			Properties map[string]any `yaml:"properties"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

// jsonFields returns the JSON names of t's exported fields.
func jsonFields(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

// The OpenAPI schemas and the Go types must name exactly the same JSON fields.
func TestOpenAPIMatchesGoTypes(t *testing.T) {
	var doc openAPIDoc
	if err := yaml.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	types := map[string]any{
		"Transaction": Transaction{}, "Customer": Customer{}, "Line": Line{}, "Tender": Tender{},
		"Acceptance": Acceptance{}, "Item": Item{}, "SyncStatus": SyncStatus{},
		"TransactionStatus": TransactionStatus{}, "Batch": Batch{}, "BatchResult": BatchResult{},
		"ItemResult": ItemResult{}, "ErrorReply": ErrorReply{}, "Error": Error{},
	}
	for _, name := range SchemaNames() {
		if _, ok := types[name]; !ok {
			t.Errorf("schema %s has no Go type in this test", name)
		}
	}
	for name, v := range types {
		schema, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("openapi.yaml has no schema %s", name)
			continue
		}
		fields := jsonFields(reflect.TypeOf(v))
		for _, f := range fields {
			if _, ok := schema.Properties[f]; !ok {
				t.Errorf("schema %s lacks property %q of the Go type", name, f)
			}
		}
		for p := range schema.Properties {
			if !slices.Contains(fields, p) {
				t.Errorf("schema %s has property %q that the Go type %s lacks", name, p, name)
			}
		}
		for _, r := range schema.Required {
			if !slices.Contains(fields, r) {
				t.Errorf("schema %s requires unknown property %q", name, r)
			}
		}
	}
	for _, p := range []string{PathItem, PathTransactions, PathBatch, PathTransaction, PathSyncStatus, PathOpenAPI, PathHealth, PathReady} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("openapi.yaml documents no path %s", p)
		}
	}
	if _, err := NewSchemas(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenAPIIsACopy(t *testing.T) {
	a := OpenAPI()
	a[0] = 'X'
	if OpenAPI()[0] == 'X' {
		t.Error("OpenAPI returns the embedded slice itself")
	}
}
