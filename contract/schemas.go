package contract

import (
	"bytes"
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schemas validates JSON bodies against the component schemas of the contract's
// OpenAPI document (OpenAPI 3.1 schemas are JSON Schema 2020-12).
type Schemas struct {
	compiled map[string]*jsonschema.Schema
}

// SchemaNames returns the component schemas of the OpenAPI document that Schemas
// knows: one per type of this package that travels as JSON.
func SchemaNames() []string {
	return []string{
		"Transaction", "Customer", "Line", "Tender", "Acceptance", "Item", "SyncStatus",
		"TransactionStatus", "Batch", "BatchResult", "ItemResult", "ErrorReply", "Error",
	}
}

// NewSchemas compiles the schemas of the embedded OpenAPI document.
func NewSchemas() (*Schemas, error) {
	js, err := yaml.YAMLToJSON(openAPI)
	if err != nil {
		return nil, fmt.Errorf("contract: openapi.yaml: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, fmt.Errorf("contract: openapi.yaml: %w", err)
	}
	const url = "https://doorbuster.invalid/openapi.json"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("contract: openapi.yaml: %w", err)
	}
	s := &Schemas{compiled: map[string]*jsonschema.Schema{}}
	for _, name := range SchemaNames() {
		sch, err := c.Compile(url + "#/components/schemas/" + name)
		if err != nil {
			return nil, fmt.Errorf("contract: schema %s: %w", name, err)
		}
		s.compiled[name] = sch
	}
	return s, nil
}

// Validate checks the JSON body against the named component schema (one of
// SchemaNames) and says what does not match.
func (s *Schemas) Validate(name string, body []byte) error {
	sch, ok := s.compiled[name]
	if !ok {
		return fmt.Errorf("contract: no schema %q", name)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("does not match the %s schema: %w", name, err)
	}
	return nil
}
