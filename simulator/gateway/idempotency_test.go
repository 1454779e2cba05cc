package gateway

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestIdempotentReplay(t *testing.T) {
	h := newHarness(t)
	body := "amount=1000&currency=usd&payment_method=pm_card_visa&confirm=true&metadata[pos_tx]=T1"
	first := h.must("POST", "/v1/payment_intents", body, "Idempotency-Key", "K1")
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("first answer marked replayed")
	}
	// The same parameters in another order and encoding are the same request.
	again := h.must("POST", "/v1/payment_intents", "metadata%5Bpos_tx%5D=T1&confirm=true&payment_method=pm_card_visa&currency=usd&amount=1000", "Idempotency-Key", "K1")
	if again.raw != first.raw {
		t.Errorf("replay differs:\n%s\n%s", first.raw, again.raw)
	}
	if again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Original-Request") != first.header.Get("Request-Id") {
		t.Errorf("replay headers: %v", again.header)
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM payment_intents`); n != 1 {
		t.Errorf("%d intents after a replay, want 1", n)
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM payment_events WHERE idempotency_key = 'K1'`); n != 3 {
		t.Errorf("%d events carry the key, want 3 (created, authorized, captured)", n)
	}

	// Same key, other parameters.
	r := h.do("POST", "/v1/payment_intents", "amount=2000&currency=usd", "Idempotency-Key", "K1")
	wantError(t, r, http.StatusBadRequest, errIdempotency, "")
	if !strings.Contains(r.str("error", "message"), "same parameters") {
		t.Errorf("mismatch message: %s", r.str("error", "message"))
	}
	// Same key, another endpoint.
	r = h.do("POST", "/v1/refunds", "payment_intent="+first.str("id"), "Idempotency-Key", "K1")
	wantError(t, r, http.StatusBadRequest, errIdempotency, "")
	if !strings.Contains(r.str("error", "message"), "same endpoint") {
		t.Errorf("endpoint mismatch message: %s", r.str("error", "message"))
	}

	// A decline (402, after the endpoint began) is replayed too, without a second charge.
	id := h.intentIn(statusRequiresPaymentMethod)
	d1 := h.do("POST", "/v1/payment_intents/"+id+"/confirm", "payment_method=pm_card_chargeDeclined", "Idempotency-Key", "K2")
	d2 := h.do("POST", "/v1/payment_intents/"+id+"/confirm", "payment_method=pm_card_chargeDeclined", "Idempotency-Key", "K2")
	wantError(t, d2, http.StatusPaymentRequired, errCard, "card_declined")
	if d1.raw != d2.raw || d2.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("decline not replayed")
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM charges WHERE payment_intent = ?`, id); n != 1 {
		t.Errorf("%d charges after a replayed decline, want 1", n)
	}

	// A request refused before the endpoint began (unknown parameter) saves nothing: the
	// corrected request with the same key goes through.
	wantError(t, h.do("POST", "/v1/payment_intents", "amount=1000&currency=usd&colour=red", "Idempotency-Key", "K3"), 400, errInvalidRequest, "parameter_unknown")
	h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", "K3")

	// Keys without a POST are ignored; over-long keys are refused.
	h.must("GET", "/v1/payment_intents/"+id, "", "Idempotency-Key", "K1")
	wantError(t, h.do("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", strings.Repeat("k", 256)), 400, errInvalidRequest, "")
	h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", strings.Repeat("k", 255))
}

func TestIdempotencyExpiresAfter24h(t *testing.T) {
	h := newHarness(t)
	first := h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", "K")
	h.clock.Advance(24*time.Hour - time.Second)
	if r := h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", "K"); r.str("id") != first.str("id") {
		t.Fatalf("key forgotten before 24 h")
	}
	h.clock.Advance(time.Second)
	r := h.must("POST", "/v1/payment_intents", "amount=3000&currency=usd", "Idempotency-Key", "K")
	if r.str("id") == first.str("id") || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("expired key still replayed")
	}
}

func TestIdempotentReplayOf5xx(t *testing.T) {
	h := newHarness(t)
	var fail atomic.Bool
	fail.Store(true)
	h.srv.hooks.beforeCommit = func(op string) error {
		if fail.Load() {
			return errors.New("disk on fire")
		}
		return nil
	}
	r1 := h.do("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", "K5")
	wantError(t, r1, http.StatusInternalServerError, errAPI, "")
	fail.Store(false)
	// The books are fine now, but the key's first answer was a 500, and that is what
	// Stripe replays.
	r2 := h.do("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", "K5")
	if r2.status != http.StatusInternalServerError || r2.raw != r1.raw || r2.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("5xx not replayed: %d %s", r2.status, r2.raw)
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM payment_intents`); n != 0 {
		t.Errorf("%d intents after a failed create", n)
	}
	h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", "K6")
}

func TestIdempotencyConcurrent409(t *testing.T) {
	h := newHarness(t)
	entered := make(chan struct{})
	proceed := make(chan struct{})
	var once sync.Once
	h.srv.hooks.beforeCommit = func(op string) error {
		once.Do(func() {
			close(entered)
			<-proceed
		})
		return nil
	}
	done := make(chan reply, 1)
	go func() {
		done <- h.do("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", "K")
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("first request never reached the books")
	}
	r := h.do("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", "K")
	wantError(t, r, http.StatusConflict, errIdempotency, "idempotency_key_in_use")
	// Another key is not blocked by the first (it waits for the books, then succeeds).
	other := make(chan reply, 1)
	go func() {
		other <- h.do("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", "K-other")
	}()
	close(proceed)
	first := <-done
	if first.status != http.StatusOK {
		t.Fatalf("first request: %d %s", first.status, first.raw)
	}
	if o := <-other; o.status != http.StatusOK {
		t.Fatalf("other key: %d %s", o.status, o.raw)
	}
	// Once the first finished, the key replays its answer.
	if again := h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Idempotency-Key", "K"); again.str("id") != first.str("id") {
		t.Errorf("after the in-flight request: %s, want %s", again.str("id"), first.str("id"))
	}
}

// TestConcurrentOperationsOnOneIntent races captures and cancels of one authorised
// intent: exactly one wins, the others see its result as an unexpected state.
func TestConcurrentOperationsOnOneIntent(t *testing.T) {
	h := newHarness(t)
	id := h.intentIn(statusRequiresCapture)
	const n = 12
	results := make(chan reply, n)
	for i := range n {
		op := "/capture"
		if i%2 == 1 {
			op = "/cancel"
		}
		go func() { results <- h.do("POST", "/v1/payment_intents/"+id+op, "") }()
	}
	won := 0
	for range n {
		r := <-results
		switch {
		case r.status == http.StatusOK:
			won++
		case r.str("error", "code") != "payment_intent_unexpected_state":
			t.Errorf("loser answered %d %s", r.status, r.raw)
		}
	}
	if won != 1 {
		t.Errorf("%d operations won, want 1", won)
	}
	if got := h.queryInt(`SELECT COUNT(*) FROM payment_events WHERE payment_intent = ? AND type IN ('captured', 'canceled')`, id); got != 1 {
		t.Errorf("%d captures/cancels in the books, want 1", got)
	}
}
