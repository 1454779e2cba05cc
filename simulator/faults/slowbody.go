package faults

import (
	"net/http"
	"strconv"
	"time"
)

// SlowBody lets the simulator's handler answer, then dribbles its body to the client in
// Chunks pieces (default 10, at most one byte each) spread evenly over Duration, flushing
// each. Headers go out at once; the last byte goes out no sooner than Duration.
//
//	slowBody: {duration: 5s, chunks: 20}
type SlowBody struct {
	Duration Duration `json:"duration"`
	Chunks   int      `json:"chunks,omitempty"`
}

var (
	_ Effect    = (*SlowBody)(nil)
	_ validator = (*SlowBody)(nil)
)

const defaultChunks = 10

// Name returns "slowBody".
func (*SlowBody) Name() string { return "slowBody" }

// Apply runs the handler into a buffer, then dribbles the body.
func (s *SlowBody) Apply(x *Exchange) {
	rec := newRecorder()
	x.Next(rec)
	rec.copyHeader(x.W)
	body := rec.body.Bytes()
	h := x.W.Header()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set(faultHeader, x.Rule)
	x.W.WriteHeader(rec.status)
	rc := http.NewResponseController(x.W)
	_ = rc.Flush()

	n := s.Chunks
	if n <= 0 {
		n = defaultChunks
	}
	n = max(1, min(n, len(body)))
	step := time.Duration(s.Duration) / time.Duration(n)
	ctx := x.R.Context()
	for i := range n {
		if !sleep(ctx, step) {
			return
		}
		lo, hi := i*len(body)/n, (i+1)*len(body)/n
		if _, err := x.W.Write(body[lo:hi]); err != nil {
			return
		}
		_ = rc.Flush()
	}
}

func (s *SlowBody) validate(path string) []FieldError {
	var errs []FieldError
	if s.Duration <= 0 || time.Duration(s.Duration) > time.Hour {
		errs = append(errs, FieldError{Path: path + ".duration", Msg: `is required: a duration like "5s", at most 1h`})
	}
	if s.Chunks < 0 || s.Chunks > 10000 {
		errs = append(errs, FieldError{Path: path + ".chunks", Msg: "must be between 1 and 10000"})
	}
	return errs
}
