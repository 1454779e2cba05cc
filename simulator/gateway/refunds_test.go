package gateway

import (
	"net/http"
	"testing"
)

func TestRefundBounds(t *testing.T) {
	h := newHarness(t)
	r := h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd&capture_method=manual&payment_method=pm_card_visa&confirm=true")
	id, chargeID := r.str("id"), r.str("latest_charge")

	// Nothing captured yet: nothing to refund.
	wantError(t, h.do("POST", "/v1/refunds", "payment_intent="+id), http.StatusBadRequest, errInvalidRequest, "charge_not_refundable")
	h.must("POST", "/v1/payment_intents/"+id+"/capture", "amount_to_capture=600")

	steps := []struct {
		body   string
		status int
		code   string
		amount int64 // of the refund, when made
	}{
		{"payment_intent=" + id + "&amount=400&reason=requested_by_customer&metadata[pos_tx]=R1", 200, "", 400},
		{"payment_intent=" + id + "&amount=300", 400, "amount_too_large", 0}, // 600 - 400 = 200 left
		{"charge=" + chargeID + "&amount=0", 400, "", 0},
		{"payment_intent=" + id + "&reason=because", 400, "", 0},
		{"charge=" + chargeID, 200, "", 200}, // the rest
		{"payment_intent=" + id + "&amount=1", 400, "charge_already_refunded", 0},
		{"payment_intent=pi_nope", 400, "resource_missing", 0},
		{"amount=100", 400, "parameter_missing", 0},
	}
	for _, st := range steps {
		r := h.do("POST", "/v1/refunds", st.body)
		if st.status != http.StatusOK {
			wantError(t, r, st.status, errInvalidRequest, st.code)
			continue
		}
		if r.status != http.StatusOK || r.num("amount") != st.amount || r.str("status") != "succeeded" ||
			r.str("payment_intent") != id || r.str("charge") != chargeID || r.str("object") != "refund" {
			t.Fatalf("%s: %d %s", st.body, r.status, r.raw)
		}
		got := h.must("GET", "/v1/refunds/"+r.str("id"), "")
		if got.raw != r.raw {
			t.Errorf("GET refund differs from create:\n%s\n%s", got.raw, r.raw)
		}
	}
	if got := h.queryInt(`SELECT amount_refunded FROM payment_intents WHERE id = ?`, id); got != 600 {
		t.Errorf("books: intent refunded %d, want 600", got)
	}
	if got := h.queryInt(`SELECT SUM(amount) FROM refunds WHERE payment_intent = ?`, id); got != 600 {
		t.Errorf("books: refunds sum %d, want 600", got)
	}
	if got := h.queryString(`SELECT pos_tx FROM refunds WHERE amount = 400`); got != "R1" {
		t.Errorf("books: refund pos_tx %q", got)
	}
	ch := h.must("GET", "/v1/charges/"+chargeID, "")
	if ch.num("amount_refunded") != 600 || ch.get("refunded") != true {
		t.Errorf("charge after full refund: %s", ch.raw)
	}
	list := h.must("GET", "/v1/refunds?payment_intent="+id+"&limit=1", "")
	if data := list.get("data").([]any); len(data) != 1 || data[0].(map[string]any)["amount"].(float64) != 200 || list.get("has_more") != true {
		t.Errorf("refund list: %s", list.raw)
	}
	newest := list.get("data").([]any)[0].(map[string]any)["id"].(string)
	next := h.must("GET", "/v1/refunds?payment_intent="+id+"&limit=1&starting_after="+newest, "")
	if data := next.get("data").([]any); len(data) != 1 || data[0].(map[string]any)["amount"].(float64) != 400 || next.get("has_more") != false {
		t.Errorf("refund list after %s: %s", newest, next.raw)
	}
	wantError(t, h.do("GET", "/v1/refunds/re_nope", ""), http.StatusNotFound, errInvalidRequest, "resource_missing")
}

// TestRefundsNeverExceedCaptured hammers one intent with concurrent refunds; the sum
// must stop at what was captured.
func TestRefundsNeverExceedCaptured(t *testing.T) {
	h := newHarness(t)
	id := h.intentIn(statusSucceeded) // 1000 captured
	const n = 16
	results := make(chan int, n)
	for range n {
		go func() { results <- h.do("POST", "/v1/refunds", "payment_intent="+id+"&amount=150").status }()
	}
	ok := 0
	for range n {
		if <-results == http.StatusOK {
			ok++
		}
	}
	if ok != 6 {
		t.Errorf("%d refunds of 150 out of 1000 went through, want 6", ok)
	}
	if got := h.queryInt(`SELECT SUM(amount) FROM refunds WHERE payment_intent = ?`, id); got != 900 {
		t.Errorf("refunded %d, want 900", got)
	}
}
