package contract

import (
	"fmt"
	"time"
)

// Error codes a connector puts in Error.Code.
const (
	CodeInvalidField  = "invalid_field"  // a field has a bad value (422)
	CodeMissingField  = "missing_field"  // a required field is absent or empty (422)
	CodeMalformedJSON = "malformed_json" // the body is not JSON, or a field has the wrong JSON type (400)
	CodeNotFound      = "not_found"      // unknown barcode, location or transaction (404)
	CodeTooLarge      = "too_large"      // a batch over MaxBatch, or a body over the size limit (413)
)

// Error makes *Error an error: "lines[2].quantity: must not be zero (invalid_field)".
func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s (%s)", e.Message, e.Code)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Field, e.Message, e.Code)
}

// Acceptance is the reply to a transaction submission: 202 when the connector has
// stored the transaction, and the very same body with 200 for every resubmission of
// the id.
type Acceptance struct {
	ID         string    `json:"id"`
	AcceptedAt time.Time `json:"acceptedAt"` // when the connector first stored it
}
