package connector

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/connector/payments"
)

// Retry causes, the label of connector_retries_total.
const (
	causeThrottled = "throttled" // 429
	causeServer    = "server"    // 5xx
	causeTimeout   = "timeout"   // no answer in time
	causeNetwork   = "network"   // connection refused, reset, closed early
	causeMalformed = "malformed" // a 2xx whose body could not be read
	causeAuth      = "auth"      // 401, retried a few times (clock skew, nonce collisions)
	causeConflict  = "conflict"  // gateway 409: the same idempotency key is in flight
)

// maxAuthRetries is how many 401s a transaction may meet before it is dead-lettered.
const maxAuthRetries = 3

// maxRetryAfter bounds how long a Retry-After header can park a transaction.
const maxRetryAfter = 5 * time.Minute

// verdict is what to do after a failed attempt.
type verdict struct {
	retry      bool
	cause      string        // for retries
	retryAfter time.Duration // the server's Retry-After, 0 if none
}

// classify sorts an error into retryable (with its cause) or permanent.
func classify(err error) verdict {
	var nse *netsuite.Error
	var pe *payments.Error
	var nsm *netsuite.MalformedError
	var pm *payments.MalformedError
	switch {
	case errors.As(err, &nse):
		return classifyStatus(nse.Status, nse.RetryAfter, nil)
	case errors.As(err, &pe):
		return classifyStatus(pe.Status, pe.RetryAfter, pe.ShouldRetry)
	case errors.As(err, &nsm), errors.As(err, &pm):
		return verdict{retry: true, cause: causeMalformed}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return verdict{retry: true, cause: causeTimeout}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return verdict{retry: true, cause: causeTimeout}
	}
	var oe *net.OpError
	if errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, http.ErrServerClosed) {
		return verdict{retry: true, cause: causeNetwork}
	}
	var ue interface{ Temporary() bool }
	if errors.As(err, &ue) {
		return verdict{retry: true, cause: causeNetwork}
	}
	return verdict{}
}

func classifyStatus(status int, after time.Duration, shouldRetry *bool) verdict {
	v := verdict{retryAfter: after}
	switch {
	case status == http.StatusTooManyRequests:
		v.retry, v.cause = true, causeThrottled
	case status == http.StatusUnauthorized:
		v.retry, v.cause = true, causeAuth
	case status == http.StatusConflict:
		v.retry, v.cause = true, causeConflict
	case status == http.StatusRequestTimeout:
		v.retry, v.cause = true, causeTimeout
	case status >= 500:
		v.retry, v.cause = true, causeServer
	}
	if shouldRetry != nil && !*shouldRetry && status != http.StatusTooManyRequests {
		v.retry = false
	}
	return v
}

// backoff computes retry delays: exponential with full jitter (a uniform draw in
// [0, min(max, base·2^attempt)]), never shorter than the server's Retry-After.
type backoff struct {
	base, max time.Duration
	mu        sync.Mutex
	rnd       *rand.Rand
}

func newBackoff(base, max time.Duration, seed int64) *backoff {
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	return &backoff{base: base, max: max, rnd: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))}
}

// delay is the wait before retry number attempt (1 for the first retry).
func (b *backoff) delay(attempt int, retryAfter time.Duration) time.Duration {
	ceil := b.max
	if attempt < 1 {
		attempt = 1
	}
	if shift := attempt - 1; shift < 32 {
		if c := b.base << shift; c > 0 && c < ceil {
			ceil = c
		}
	}
	b.mu.Lock()
	d := time.Duration(b.rnd.Int64N(int64(ceil) + 1))
	b.mu.Unlock()
	if retryAfter > maxRetryAfter {
		retryAfter = maxRetryAfter
	}
	if retryAfter > d {
		d = retryAfter
	}
	return d
}
