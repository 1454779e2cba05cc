package faults

import "net/http"

// Outage answers 503 in the target's shape to every matching request while its rule's window
// is open, without running the simulator's handler. An outage ignores probability.
//
//	effect: {outage: {}}
//	window: {start: 2m, duration: 30s}
type Outage struct {
	Message string `json:"message,omitempty"`
}

var (
	_ Effect    = (*Outage)(nil)
	_ validator = (*Outage)(nil)
)

// Name returns "outage".
func (*Outage) Name() string { return "outage" }

// Apply writes the 503.
func (o *Outage) Apply(x *Exchange) {
	p := problem{status: http.StatusServiceUnavailable, message: o.Message, kind: "api_error"}
	if x.Target == NetSuite {
		p.code = "SERVICE_UNAVAILABLE" // unsure: NetSuite's maintenance answer is not documented
	}
	if p.message == "" {
		p.message = "The service is temporarily unavailable. Please try again later."
	}
	writeProblem(x.W, x.Target, x.Rule, p)
}

func (o *Outage) validate(path string) []FieldError {
	if len(o.Message) > 4096 {
		return []FieldError{{Path: path + ".message", Msg: "must be at most 4096 bytes"}}
	}
	return nil
}
