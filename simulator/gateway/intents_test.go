package gateway

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// intentIn makes an intent and drives it to a status through the API.
func (h *harness) intentIn(status string) string {
	h.t.Helper()
	var r reply
	switch status {
	case statusRequiresPaymentMethod:
		r = h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd&payment_method_types[]=card&payment_method_types[]=card_present")
	case statusRequiresConfirmation:
		r = h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd&payment_method=pm_card_visa")
	case statusRequiresCapture:
		r = h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd&capture_method=manual&payment_method=pm_card_visa&confirm=true")
	case statusSucceeded:
		r = h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd&payment_method=pm_card_visa&confirm=true")
	case statusCanceled:
		id := h.intentIn(statusRequiresPaymentMethod)
		r = h.must("POST", "/v1/payment_intents/"+id+"/cancel", "")
	default:
		h.t.Fatalf("cannot make an intent in %s", status)
	}
	if got := r.str("status"); got != status {
		h.t.Fatalf("made an intent in %s, want %s: %s", got, status, r.raw)
	}
	return r.str("id")
}

func TestLegalTransitions(t *testing.T) {
	// Terminal statuses go nowhere; every status but succeeded can be canceled; nothing
	// returns to requires_capture from succeeded.
	for _, from := range intentStatuses {
		if _, ok := legalTransitions[from]; !ok {
			t.Errorf("status %s missing from the transition table", from)
		}
		for _, to := range intentStatuses {
			got := legal(from, to)
			switch {
			case from == statusSucceeded || from == statusCanceled:
				if got {
					t.Errorf("%s → %s is legal; %s is final", from, to, from)
				}
			case to == statusCanceled:
				if !got {
					t.Errorf("%s → canceled is illegal; Stripe cancels any unfinished intent", from)
				}
			case from == statusRequiresCapture:
				if got != (to == statusSucceeded) {
					t.Errorf("requires_capture → %s legal=%v", to, got)
				}
			}
		}
	}
}

// TestStateMachine drives every operation against an intent in every status the API
// can reach, and checks the legal ones move it and the illegal ones are refused with
// payment_intent_unexpected_state naming the current status.
func TestStateMachine(t *testing.T) {
	type op struct {
		name string
		path string // after /v1/payment_intents/{id}
		body string
		// next is the status after a legal call, by starting status; absent = illegal.
		next map[string]string
	}
	ops := []op{
		{"confirm", "/confirm", "payment_method=pm_card_visa", map[string]string{
			statusRequiresPaymentMethod: statusSucceeded, statusRequiresConfirmation: statusSucceeded,
		}},
		{"capture", "/capture", "", map[string]string{statusRequiresCapture: statusSucceeded}},
		{"cancel", "/cancel", "cancellation_reason=abandoned", map[string]string{
			statusRequiresPaymentMethod: statusCanceled, statusRequiresConfirmation: statusCanceled,
			statusRequiresCapture: statusCanceled,
		}},
		{"update amount", "", "amount=2000", map[string]string{
			statusRequiresPaymentMethod: statusRequiresPaymentMethod, statusRequiresConfirmation: statusRequiresConfirmation,
		}},
		// Metadata changes at any status and never moves it.
		{"update metadata", "", "metadata[note]=x", map[string]string{
			statusRequiresPaymentMethod: statusRequiresPaymentMethod, statusRequiresConfirmation: statusRequiresConfirmation,
			statusRequiresCapture: statusRequiresCapture, statusSucceeded: statusSucceeded, statusCanceled: statusCanceled,
		}},
	}
	reachable := []string{statusRequiresPaymentMethod, statusRequiresConfirmation, statusRequiresCapture, statusSucceeded, statusCanceled}
	h := newHarness(t)
	for _, o := range ops {
		for _, from := range reachable {
			t.Run(o.name+"/"+from, func(t *testing.T) {
				h.t = t
				id := h.intentIn(from)
				r := h.do("POST", "/v1/payment_intents/"+id+o.path, o.body)
				want, legal := o.next[from]
				if legal {
					if r.status != http.StatusOK || r.str("status") != want {
						t.Fatalf("%s from %s: %d %s, want 200 %s: %s", o.name, from, r.status, r.str("status"), want, r.raw)
					}
				} else {
					wantError(t, r, http.StatusBadRequest, errInvalidRequest, "payment_intent_unexpected_state")
					if msg := r.str("error", "message"); !strings.Contains(msg, "status of "+from) {
						t.Errorf("message does not name the state %s: %s", from, msg)
					}
				}
				after := h.must("GET", "/v1/payment_intents/"+id, "")
				if !legal && after.str("status") != from {
					t.Errorf("refused %s moved the intent from %s to %s", o.name, from, after.str("status"))
				}
				if got := h.queryString(`SELECT status FROM payment_intents WHERE id = ?`, id); got != after.str("status") {
					t.Errorf("books say %s, API says %s", got, after.str("status"))
				}
			})
		}
	}
}

func TestManualCaptureAmounts(t *testing.T) {
	h := newHarness(t)
	r := h.must("POST", "/v1/payment_intents", "amount=1000&currency=usd&capture_method=manual&payment_method=pm_card_visa&confirm=true")
	id := r.str("id")
	if r.num("amount_capturable") != 1000 || r.num("amount_received") != 0 || !strings.HasPrefix(r.str("latest_charge"), "ch_") {
		t.Fatalf("authorised intent: %s", r.raw)
	}
	// More than authorised is refused and changes nothing.
	wantError(t, h.do("POST", "/v1/payment_intents/"+id+"/capture", "amount_to_capture=1001"), 400, errInvalidRequest, "amount_too_large")
	r = h.must("POST", "/v1/payment_intents/"+id+"/capture", "amount_to_capture=600&expand[]=latest_charge")
	if r.str("status") != statusSucceeded || r.num("amount_received") != 600 || r.num("amount_capturable") != 0 {
		t.Fatalf("partial capture: %s", r.raw)
	}
	if r.num("latest_charge", "amount_captured") != 600 || r.get("latest_charge", "captured") != true {
		t.Errorf("expanded charge: %v", r.get("latest_charge"))
	}
	if got := h.queryInt(`SELECT amount_received FROM payment_intents WHERE id = ?`, id); got != 600 {
		t.Errorf("books: amount_received %d", got)
	}
	if got := h.queryInt(`SELECT COUNT(*) FROM payment_events WHERE payment_intent = ? AND type = 'captured' AND amount = 600`, id); got != 1 {
		t.Errorf("books: %d captured events of 600", got)
	}
	// Cancel of an authorised intent releases the hold.
	id2 := h.intentIn(statusRequiresCapture)
	r = h.must("POST", "/v1/payment_intents/"+id2+"/cancel", "cancellation_reason=requested_by_customer")
	if r.num("amount_capturable") != 0 || r.str("cancellation_reason") != "requested_by_customer" || r.num("canceled_at") == 0 {
		t.Fatalf("cancel: %s", r.raw)
	}
	if got := h.queryInt(`SELECT amount FROM payment_events WHERE payment_intent = ? AND type = 'canceled'`, id2); got != 1000 {
		t.Errorf("books: released %d, want 1000", got)
	}
	if got := h.queryInt(`SELECT COUNT(*) FROM charges WHERE payment_intent = ? AND released_at IS NOT NULL`, id2); got != 1 {
		t.Errorf("books: %d released charges", got)
	}
}

func TestDeclines(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		code        string
		declineCode string
	}{
		{"generic pm", "payment_method=pm_card_chargeDeclined", "card_declined", "generic_decline"},
		{"insufficient pm", "payment_method=pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"},
		{"insufficient visa pm", "payment_method=pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"},
		{"expired pm", "payment_method=pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"},
		{"processing pm", "payment_method=pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"},
		{"decline number", "payment_method_data[type]=card&payment_method_data[card][number]=4000000000000002", "card_declined", "generic_decline"},
		{"insufficient number", "payment_method_data[type]=card&payment_method_data[card][number]=4000000000009995", "card_declined", "insufficient_funds"},
		{"bad luhn", "payment_method_data[type]=card&payment_method_data[card][number]=4242424242424241", "incorrect_number", ""},
		{"live card", "payment_method_data[type]=card&payment_method_data[card][number]=4111111111111111", "card_declined", "test_mode_live_card"},
	}
	h := newHarness(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			id := h.intentIn(statusRequiresPaymentMethod)
			r := h.do("POST", "/v1/payment_intents/"+id+"/confirm", tt.body)
			wantError(t, r, http.StatusPaymentRequired, errCard, tt.code)
			if got := r.str("error", "decline_code"); got != tt.declineCode {
				t.Errorf("decline_code %q, want %q", got, tt.declineCode)
			}
			if r.str("error", "payment_intent", "id") != id || r.str("error", "payment_intent", "status") != statusRequiresPaymentMethod {
				t.Errorf("error's payment_intent: %v", r.get("error", "payment_intent"))
			}
			pi := h.must("GET", "/v1/payment_intents/"+id, "")
			if pi.str("status") != statusRequiresPaymentMethod || pi.str("last_payment_error", "code") != tt.code {
				t.Errorf("intent after decline: %s", pi.raw)
			}
			if got := h.queryString(`SELECT status FROM charges WHERE id = ?`, r.str("error", "charge")); got != "failed" {
				t.Errorf("declined charge in books: %s", got)
			}
			// A good card afterwards goes through and clears the error.
			pi = h.must("POST", "/v1/payment_intents/"+id+"/confirm", "payment_method=pm_card_visa")
			if pi.str("status") != statusSucceeded || pi.get("last_payment_error") != nil || pi.num("amount_received") != 1000 {
				t.Errorf("retry with a good card: %s", pi.raw)
			}
		})
	}
}

func TestCreateValidation(t *testing.T) {
	tests := []struct {
		name, body, param, code string
	}{
		{"no amount", "currency=usd", "amount", "parameter_missing"},
		{"no currency", "amount=1000", "currency", "parameter_missing"},
		{"fractional amount", "amount=10.50&currency=usd", "amount", "parameter_invalid_integer"},
		{"small amount", "amount=49&currency=usd", "amount", "amount_too_small"},
		{"large amount", "amount=100000000&currency=usd", "amount", "amount_too_large"},
		{"negative amount", "amount=-5&currency=usd", "amount", "amount_too_small"},
		{"unknown currency", "amount=1000&currency=xyz", "currency", ""},
		{"bad capture method", "amount=1000&currency=usd&capture_method=later", "capture_method", ""},
		{"bad type", "amount=1000&currency=usd&payment_method_types[]=bitcoin", "payment_method_types[0]", ""},
		{"unknown param", "amount=1000&currency=usd&colour=red", "colour", "parameter_unknown"},
		{"unknown nested", "amount=1000&currency=usd&payment_method_data[type]=card&payment_method_data[card][number]=4242424242424242&payment_method_data[card][pin]=1234", "payment_method_data[card][pin]", "parameter_unknown"},
		{"metadata not hash", "amount=1000&currency=usd&metadata=x", "metadata", ""},
		{"long metadata key", "amount=1000&currency=usd&metadata[" + strings.Repeat("k", 41) + "]=v", "metadata[" + strings.Repeat("k", 41) + "]", ""},
		{"confirm without pm", "amount=1000&currency=usd&confirm=true", "payment_method", "parameter_missing"},
		{"bad bool", "amount=1000&currency=usd&confirm=yes", "confirm", ""},
		{"both pm forms", "amount=1000&currency=usd&payment_method=pm_card_visa&payment_method_data[type]=card", "payment_method_data", "parameters_exclusive"},
		{"unknown pm", "amount=1000&currency=usd&payment_method=pm_nope", "payment_method", "resource_missing"},
		{"bad expand", "amount=1000&currency=usd&expand[]=customer", "expand[0]", ""},
		{"malformed key", "amount=1000&currency=usd&metadata[a=b", "metadata[a", ""},
		{"duplicate", "amount=1000&amount=2000&currency=usd", "amount", ""},
	}
	h := newHarness(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			r := h.do("POST", "/v1/payment_intents", tt.body)
			wantError(t, r, http.StatusBadRequest, errInvalidRequest, tt.code)
			if got := r.str("error", "param"); got != tt.param {
				t.Errorf("param %q, want %q (%s)", got, tt.param, r.str("error", "message"))
			}
		})
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM payment_intents`); n != 0 {
		t.Errorf("%d intents created by refused requests", n)
	}
	// Upper-case currencies are accepted and stored lower-case; JPY's minimum is 50.
	r := h.must("POST", "/v1/payment_intents", "amount=50&currency=JPY")
	if r.str("currency") != "jpy" {
		t.Errorf("currency %q", r.str("currency"))
	}
	wantError(t, h.do("POST", "/v1/payment_intents", "amount=1000&currency=usd", "Content-Type", "application/json"), 400, errInvalidRequest, "")
}

func TestIntentObjectShape(t *testing.T) {
	h := newHarness(t)
	r := h.must("POST", "/v1/payment_intents",
		"amount=1999&currency=usd&capture_method=manual&payment_method_types[0]=card_present&metadata[pos_tx]=S001-R01-000042&metadata[store]=1&metadata[register]=S001-R01&description=Basket+42")
	for _, k := range []string{"id", "object", "amount", "amount_capturable", "amount_received", "currency", "status",
		"capture_method", "payment_method", "latest_charge", "metadata", "created", "livemode", "client_secret", "payment_method_types"} {
		if _, ok := r.body[k]; !ok {
			t.Errorf("field %s missing: %s", k, r.raw)
		}
	}
	id := r.str("id")
	if !strings.HasPrefix(id, "pi_") || len(id) != 27 || r.str("object") != "payment_intent" || r.get("livemode") != false {
		t.Errorf("id/object/livemode: %s", r.raw)
	}
	if !strings.HasPrefix(r.str("client_secret"), id+"_secret_") {
		t.Errorf("client_secret %q", r.str("client_secret"))
	}
	if r.num("created") != h.clock.Now().Unix() {
		t.Errorf("created %d, want the simulator clock's %d", r.num("created"), h.clock.Now().Unix())
	}
	if r.str("metadata", "pos_tx") != "S001-R01-000042" || r.str("description") != "Basket 42" {
		t.Errorf("metadata/description: %s", r.raw)
	}
	if got := h.queryString(`SELECT pos_tx || '|' || store || '|' || register || '|' || metadata FROM payment_intents WHERE id = ?`, id); got !=
		`S001-R01-000042|1|S001-R01|{"pos_tx":"S001-R01-000042","register":"S001-R01","store":"1"}` {
		t.Errorf("books columns: %s", got)
	}
	if got := h.queryString(`SELECT created_at FROM payment_intents WHERE id = ?`, id); got != "2025-11-28T06:00:00.000Z" {
		t.Errorf("created_at %s", got)
	}
	wantError(t, h.do("GET", "/v1/payment_intents/pi_missing", ""), http.StatusNotFound, errInvalidRequest, "resource_missing")
	wantError(t, h.do("GET", "/v1/nothing", ""), http.StatusNotFound, errInvalidRequest, "")
}

func TestUpdateMetadata(t *testing.T) {
	h := newHarness(t)
	id := h.intentIn(statusSucceeded)
	r := h.must("POST", "/v1/payment_intents/"+id, "metadata[pos_tx]=T1&metadata[a]=1")
	r = h.must("POST", "/v1/payment_intents/"+id, "metadata[a]=&metadata[b]=2&description=d")
	if got := fmt.Sprint(r.get("metadata")); got != "map[b:2 pos_tx:T1]" || r.str("description") != "d" {
		t.Fatalf("merged metadata %s / %q", got, r.str("description"))
	}
	if got := h.queryString(`SELECT pos_tx FROM payment_intents WHERE id = ?`, id); got != "T1" {
		t.Errorf("pos_tx column %q", got)
	}
	r = h.must("POST", "/v1/payment_intents/"+id, "metadata=")
	if len(r.get("metadata").(map[string]any)) != 0 {
		t.Errorf("metadata= left %v", r.get("metadata"))
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM payment_intents WHERE id = ? AND pos_tx IS NULL`, id); n != 1 {
		t.Errorf("pos_tx column not cleared")
	}
}

func TestListIntents(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for range 5 {
		ids = append(ids, h.intentIn(statusRequiresPaymentMethod))
		h.clock.Advance(1e9)
	}
	slices.Reverse(ids) // newest first
	page := func(q string) ([]string, bool) {
		r := h.must("GET", "/v1/payment_intents?"+q, "")
		if r.str("object") != "list" || r.str("url") != "/v1/payment_intents" {
			t.Fatalf("list shape: %s", r.raw)
		}
		var got []string
		for _, d := range r.get("data").([]any) {
			got = append(got, d.(map[string]any)["id"].(string))
		}
		return got, r.get("has_more") == true
	}
	tests := []struct {
		query   string
		want    []string
		hasMore bool
	}{
		{"", ids, false},
		{"limit=2", ids[:2], true},
		{"limit=2&starting_after=" + ids[1], ids[2:4], true},
		{"limit=2&starting_after=" + ids[3], ids[4:], false},
		{"limit=2&ending_before=" + ids[4], ids[2:4], true},
		{"limit=2&ending_before=" + ids[2], ids[:2], false},
		{fmt.Sprintf("created[gte]=%d", h.clock.Now().Unix()-2), ids[:2], false},
	}
	for _, tt := range tests {
		got, more := page(tt.query)
		if !slices.Equal(got, tt.want) || more != tt.hasMore {
			t.Errorf("%q: %v has_more=%v, want %v has_more=%v", tt.query, got, more, tt.want, tt.hasMore)
		}
	}
	wantError(t, h.do("GET", "/v1/payment_intents?limit=101", ""), 400, errInvalidRequest, "")
	wantError(t, h.do("GET", "/v1/payment_intents?starting_after=pi_nope", ""), 400, errInvalidRequest, "resource_missing")
	wantError(t, h.do("GET", "/v1/payment_intents?starting_after=a&ending_before=b", ""), 400, errInvalidRequest, "parameters_exclusive")
}
