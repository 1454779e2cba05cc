package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/connector/payments"
)

func TestClassify(t *testing.T) {
	no := false
	for _, c := range []struct {
		name  string
		err   error
		retry bool
		cause string
	}{
		{"429", &netsuite.Error{Status: 429}, true, causeThrottled},
		{"503", &netsuite.Error{Status: 503}, true, causeServer},
		{"401", &netsuite.Error{Status: 401}, true, causeAuth},
		{"400", &netsuite.Error{Status: 400}, false, ""},
		{"404", &netsuite.Error{Status: 404}, false, ""},
		{"gateway 409", &payments.Error{Status: 409}, true, causeConflict},
		{"gateway 500 should-retry false", &payments.Error{Status: 500, ShouldRetry: &no}, false, ""},
		{"gateway 402", &payments.Error{Status: 402}, false, ""},
		{"malformed", &netsuite.MalformedError{Err: io.ErrUnexpectedEOF}, true, causeMalformed},
		{"client timeout", &url.Error{Op: "Put", URL: "x", Err: context.DeadlineExceeded}, true, causeTimeout},
		{"refused", &url.Error{Op: "Put", URL: "x", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, true, causeNetwork},
		{"eof", fmt.Errorf("netsuite: PUT x: %w", &url.Error{Op: "Put", URL: "x", Err: io.EOF}), true, causeNetwork},
		{"mapping", &mapError{"lines[0].sku", "unknown"}, false, ""},
	} {
		v := classify(c.err)
		if v.retry != c.retry || (c.retry && v.cause != c.cause) {
			t.Errorf("%s: %+v, want retry=%v cause=%q", c.name, v, c.retry, c.cause)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := newBackoff(100*time.Millisecond, 2*time.Second, 42)
	for attempt := 1; attempt <= 40; attempt++ {
		ceil := min(2*time.Second, 100*time.Millisecond<<min(attempt-1, 30))
		for range 50 {
			if d := b.delay(attempt, 0); d < 0 || d > ceil {
				t.Fatalf("attempt %d: %v outside [0, %v]", attempt, d, ceil)
			}
		}
	}
	// Retry-After is a floor, bounded by maxRetryAfter.
	if d := b.delay(1, 3*time.Second); d != 3*time.Second {
		t.Errorf("Retry-After 3s: %v", d)
	}
	if d := b.delay(1, time.Hour); d != maxRetryAfter {
		t.Errorf("Retry-After 1h: %v", d)
	}
	// Same seed, same draws.
	a, c := newBackoff(time.Second, time.Minute, 7), newBackoff(time.Second, time.Minute, 7)
	for i := 1; i < 10; i++ {
		if a.delay(i, 0) != c.delay(i, 0) {
			t.Fatal("same seed gave different delays")
		}
	}
}
