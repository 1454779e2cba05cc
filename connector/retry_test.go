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

// The delays are full jitter: uniform over [0, ceiling], with a ceiling that doubles per
// attempt up to the maximum — not a fixed delay, and not "ceiling plus a little".
func TestBackoffIsFullJitter(t *testing.T) {
	b := newBackoff(100*time.Millisecond, 10*time.Second, 3)
	const n = 2000
	means := map[int]time.Duration{}
	for _, attempt := range []int{1, 4} {
		ceil := 100 * time.Millisecond << (attempt - 1)
		var sum, lo, hi time.Duration
		lo = ceil
		for range n {
			d := b.delay(attempt, 0)
			sum += d
			lo, hi = min(lo, d), max(hi, d)
		}
		mean := sum / n
		means[attempt] = mean
		// Uniform over [0, ceil]: the mean near ceil/2, draws reaching both ends.
		if mean < ceil*4/10 || mean > ceil*6/10 || lo > ceil/20 || hi < ceil*19/20 {
			t.Errorf("attempt %d (ceiling %v): mean %v, range [%v, %v]; want uniform over [0, %v]", attempt, ceil, mean, lo, hi, ceil)
		}
	}
	if means[4] < 6*means[1] {
		t.Errorf("mean delay of attempt 4 %v is not about 8× attempt 1's %v", means[4], means[1])
	}
}
