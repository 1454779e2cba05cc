package faults

import "time"

// Timeout holds the request for Duration (less if the client goes away first), then closes
// the connection without answering, as a server that hung would look to a client whose own
// timeout is longer. The simulator's handler does not run.
//
//	timeout: {duration: 30s}
type Timeout struct {
	Duration Duration `json:"duration"`
}

var (
	_ Effect    = (*Timeout)(nil)
	_ validator = (*Timeout)(nil)
)

// Name returns "timeout".
func (*Timeout) Name() string { return "timeout" }

// Apply holds, then closes.
func (t *Timeout) Apply(x *Exchange) {
	sleep(x.R.Context(), time.Duration(t.Duration))
	if err := closeConn(x.W); err != nil {
		x.Log.Warn("faults: timeout could not close the connection", "rule", x.Rule, "err", err)
	}
}

func (t *Timeout) validate(path string) []FieldError {
	if t.Duration <= 0 || time.Duration(t.Duration) > time.Hour {
		return []FieldError{{Path: path + ".duration", Msg: `is required: a duration like "30s", at most 1h`}}
	}
	return nil
}
