package faults

import (
	"net/http"
	"strconv"
	"time"
)

// Throttle answers 429 in the target's shape without running the simulator's handler:
// NetSuite's CONCURRENCY_LIMIT_EXCEEDED, the gateway's rate_limit.
//
//	throttle: {retryAfter: 1s}
//
// RetryAfter, if set, is sent as a Retry-After header in whole seconds (rounded up).
type Throttle struct {
	RetryAfter Duration `json:"retryAfter,omitempty"`
	Message    string   `json:"message,omitempty"`
}

var (
	_ Effect    = (*Throttle)(nil)
	_ validator = (*Throttle)(nil)
)

// Name returns "throttle".
func (*Throttle) Name() string { return "throttle" }

// Apply writes the 429.
func (t *Throttle) Apply(x *Exchange) {
	p := problem{status: http.StatusTooManyRequests, message: t.Message}
	if x.Target == Gateway {
		p.code, p.kind = "rate_limit", "invalid_request_error"
		if p.message == "" {
			p.message = "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."
		}
	} else {
		p.code = "CONCURRENCY_LIMIT_EXCEEDED"
		if p.message == "" {
			p.message = "Concurrent request limit exceeded. Request blocked."
		}
	}
	if t.RetryAfter > 0 {
		secs := (time.Duration(t.RetryAfter) + time.Second - 1) / time.Second
		x.W.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	}
	writeProblem(x.W, x.Target, x.Rule, p)
}

func (t *Throttle) validate(path string) []FieldError {
	var errs []FieldError
	if t.RetryAfter < 0 || time.Duration(t.RetryAfter) > 24*time.Hour {
		errs = append(errs, FieldError{Path: path + ".retryAfter", Msg: "must be between 0 and 24h"})
	}
	if len(t.Message) > 4096 {
		errs = append(errs, FieldError{Path: path + ".message", Msg: "must be at most 4096 bytes"})
	}
	return errs
}
