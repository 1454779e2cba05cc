package faults

import "fmt"

// HTTPError answers with an error status and a body in the target's own error shape, without
// running the simulator's handler:
//
//	error: {status: 500, code: UNEXPECTED_ERROR, message: "An unexpected error occurred."}
//
// Code is NetSuite's o:errorCode or the gateway's error.code; Type is the gateway's error.type
// (default api_error for 5xx, invalid_request_error for 4xx). Code and Message have defaults.
type HTTPError struct {
	Status  int    `json:"status"`
	Code    string `json:"code,omitempty"`
	Type    string `json:"type,omitempty"`
	Message string `json:"message,omitempty"`
}

var (
	_ Effect    = (*HTTPError)(nil)
	_ validator = (*HTTPError)(nil)
)

// Name returns "error".
func (*HTTPError) Name() string { return "error" }

// Apply writes the error.
func (e *HTTPError) Apply(x *Exchange) {
	p := problem{status: e.Status, code: e.Code, kind: e.Type, message: e.Message}
	server := e.Status >= 500
	if p.code == "" && x.Target == NetSuite {
		p.code = map[bool]string{true: "UNEXPECTED_ERROR", false: "USER_ERROR"}[server]
	}
	if p.kind == "" {
		p.kind = map[bool]string{true: "api_error", false: "invalid_request_error"}[server]
	}
	if p.message == "" {
		p.message = map[bool]string{
			true:  "An unexpected error occurred. Please try again later.",
			false: "The request could not be processed.",
		}[server]
	}
	writeProblem(x.W, x.Target, x.Rule, p)
}

func (e *HTTPError) validate(path string) []FieldError {
	var errs []FieldError
	switch {
	case e.Status == 0:
		errs = append(errs, FieldError{Path: path + ".status", Msg: "is required: an HTTP error status from 400 to 599"})
	case e.Status < 400 || e.Status > 599:
		errs = append(errs, FieldError{Path: path + ".status", Msg: fmt.Sprintf("must be an HTTP error status from 400 to 599, not %d", e.Status)})
	}
	if len(e.Code) > 100 || len(e.Type) > 100 || len(e.Message) > 4096 {
		errs = append(errs, FieldError{Path: path, Msg: "code and type must be at most 100 bytes, message 4096"})
	}
	return errs
}
