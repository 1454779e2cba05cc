package faults

import (
	"io"
	"time"
)

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
	// Read what the client sent: net/http only notices a client hanging up (and cancels the
	// request's context) once the body has been read.
	if x.R.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(x.R.Body, maxDrain))
	}
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

// maxDrain bounds how much of a request body an effect reads and throws away.
const maxDrain = 1 << 20
