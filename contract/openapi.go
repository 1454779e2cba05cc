package contract

import (
	"bytes"
	_ "embed"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the contract's OpenAPI 3.1 document (YAML), which every connector
// serves at PathOpenAPI. Its schemas name exactly the JSON fields of this package's
// types; a test keeps the two from drifting.
func OpenAPI() []byte { return bytes.Clone(openAPI) }
