package payments

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestCreateRefund(t *testing.T) {
	var got url.Values
	var hdr http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr = r.Header.Clone()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/refunds" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		r.ParseForm()
		got = r.PostForm
		switch r.PostForm.Get("payment_intent") {
		case "pi_ok":
			io.WriteString(w, `{"id":"re_1","object":"refund","amount":1250,"payment_intent":"pi_ok","status":"succeeded"}`)
		case "pi_busy":
			w.Header().Set("Retry-After", "2")
			w.Header().Set("Stripe-Should-Retry", "true")
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"error":{"type":"idempotency_error","message":"in flight"}}`)
		case "pi_bad":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"already refunded","param":"amount"}}`)
		default:
			io.WriteString(w, `{"object":"refund"`)
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL, "sk_test_x", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := c.CreateRefund(ctx, RefundParams{PaymentIntent: "pi_ok", Amount: 1250, Reason: "requested_by_customer", Metadata: map[string]string{"pos_tx": "T1"}, IdempotencyKey: "T1"})
	if err != nil || r.ID != "re_1" || r.Amount != 1250 {
		t.Fatalf("%+v %v", r, err)
	}
	if got.Get("amount") != "1250" || got.Get("metadata[pos_tx]") != "T1" || got.Get("reason") != "requested_by_customer" {
		t.Errorf("form %v", got)
	}
	if hdr.Get("Idempotency-Key") != "T1" || hdr.Get("Authorization") != "Bearer sk_test_x" {
		t.Errorf("headers %v", hdr)
	}
	// No key → no header.
	if _, err := c.CreateRefund(ctx, RefundParams{PaymentIntent: "pi_ok", Amount: 1}); err != nil || hdr.Get("Idempotency-Key") != "" {
		t.Errorf("no-key refund: %v, header %q", err, hdr.Get("Idempotency-Key"))
	}
	var e *Error
	_, err = c.CreateRefund(ctx, RefundParams{PaymentIntent: "pi_busy", Amount: 1})
	if !errors.As(err, &e) || e.Status != 409 || e.ShouldRetry == nil || !*e.ShouldRetry || e.RetryAfter == 0 {
		t.Errorf("409: %v", err)
	}
	_, err = c.CreateRefund(ctx, RefundParams{PaymentIntent: "pi_bad", Amount: 1})
	if !errors.As(err, &e) || e.Code != "charge_already_refunded" || e.Param != "amount" {
		t.Errorf("400: %v", err)
	}
	var m *MalformedError
	if _, err = c.CreateRefund(ctx, RefundParams{PaymentIntent: "pi_trunc", Amount: 1}); !errors.As(err, &m) {
		t.Errorf("truncated: %v", err)
	}
	if _, err = c.CreateRefund(ctx, RefundParams{PaymentIntent: "", Amount: 1}); err == nil {
		t.Error("refund without intent accepted")
	}
}
