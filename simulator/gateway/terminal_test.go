package gateway

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/simulator/faults"
)

// cardPresentIntent makes an intent a reader can process.
func (h *harness) cardPresentIntent(captureMethod string) string {
	h.t.Helper()
	return h.must("POST", "/v1/payment_intents", "amount=2599&currency=usd&payment_method_types[]=card_present&capture_method="+captureMethod).str("id")
}

func TestTerminalFlow(t *testing.T) {
	h := newHarness(t)
	const rd = "/v1/terminal/readers/tmr_S001R02"
	const helper = "/v1/test_helpers/terminal/readers/tmr_S001R02/present_payment_method"
	r := h.must("GET", rd, "")
	if r.str("object") != "terminal.reader" || r.str("label") != "S001-R02" || r.str("location") != "tml_1" ||
		r.str("status") != "online" || r.get("action") != nil {
		t.Fatalf("reader: %s", r.raw)
	}

	// Manual capture: process, present, capture.
	id := h.cardPresentIntent("manual")
	r = h.must("POST", rd+"/process_payment_intent", "payment_intent="+id)
	if r.str("action", "type") != "process_payment_intent" || r.str("action", "status") != "in_progress" ||
		r.str("action", "process_payment_intent", "payment_intent") != id {
		t.Fatalf("process: %s", r.raw)
	}
	if pi := h.must("GET", "/v1/payment_intents/"+id, ""); pi.str("status") != statusRequiresPaymentMethod {
		t.Errorf("intent while the reader waits: %s", pi.str("status"))
	}
	// The reader is busy; the intent cannot go to another reader or be confirmed by API.
	other := h.cardPresentIntent("manual")
	wantError(t, h.do("POST", rd+"/process_payment_intent", "payment_intent="+other), http.StatusConflict, errInvalidRequest, "terminal_reader_busy")
	wantError(t, h.do("POST", "/v1/terminal/readers/tmr_S002R01/process_payment_intent", "payment_intent="+id), 400, errInvalidRequest, "payment_intent_unexpected_state")

	r = h.must("POST", helper, "")
	if r.str("action", "status") != "succeeded" {
		t.Fatalf("present: %s", r.raw)
	}
	pi := h.must("GET", "/v1/payment_intents/"+id+"?expand[]=payment_method", "")
	if pi.str("status") != statusRequiresCapture || pi.num("amount_capturable") != 2599 || pi.str("payment_method", "type") != "card_present" ||
		pi.str("payment_method", "card_present", "last4") != "4242" {
		t.Fatalf("intent after present: %s", pi.raw)
	}
	if got := h.queryString(`SELECT reader_id FROM charges WHERE id = ?`, pi.str("latest_charge")); got != "tmr_S001R02" {
		t.Errorf("charge reader %q", got)
	}
	h.must("POST", "/v1/payment_intents/"+id+"/capture", "")

	// Automatic capture on a free reader: succeeded straight away.
	id = h.cardPresentIntent("automatic")
	h.must("POST", rd+"/process_payment_intent", "payment_intent="+id)
	h.must("POST", helper, "card_present[number]=5555555555554444")
	if pi := h.must("GET", "/v1/payment_intents/"+id, ""); pi.str("status") != statusSucceeded || pi.num("amount_received") != 2599 {
		t.Fatalf("automatic card-present: %s", pi.raw)
	}

	// A declined card fails the action and leaves the intent ready for another try.
	id = h.cardPresentIntent("manual")
	h.must("POST", rd+"/process_payment_intent", "payment_intent="+id)
	r = h.must("POST", helper, "card_present[number]=4000000000009995")
	if r.str("action", "status") != "failed" || r.str("action", "failure_code") != "card_declined" {
		t.Fatalf("declined present: %s", r.raw)
	}
	pi = h.must("GET", "/v1/payment_intents/"+id, "")
	if pi.str("status") != statusRequiresPaymentMethod || pi.str("last_payment_error", "decline_code") != "insufficient_funds" {
		t.Fatalf("intent after a card-present decline: %s", pi.raw)
	}

	// Cancel an action in progress; the reader is free again.
	h.must("POST", rd+"/process_payment_intent", "payment_intent="+id)
	r = h.must("POST", rd+"/cancel_action", "")
	if r.str("action", "status") != "failed" {
		t.Fatalf("cancel_action: %s", r.raw)
	}
	wantError(t, h.do("POST", rd+"/cancel_action", ""), 400, errInvalidRequest, "")
	wantError(t, h.do("POST", helper, ""), 400, errInvalidRequest, "")

	// Canceling the intent fails the reader's action.
	h.must("POST", rd+"/process_payment_intent", "payment_intent="+id)
	h.must("POST", "/v1/payment_intents/"+id+"/cancel", "")
	if r := h.must("GET", rd, ""); r.str("action", "status") != "failed" || r.str("action", "failure_code") != "payment_intent_canceled" {
		t.Errorf("reader after its intent was canceled: %s", r.raw)
	}

	// Intents without card_present, unknown readers and intents.
	wantError(t, h.do("POST", rd+"/process_payment_intent", "payment_intent="+h.intentIn(statusRequiresConfirmation)), 400, errInvalidRequest, "payment_intent_incompatible_payment_method")
	wantError(t, h.do("POST", rd+"/process_payment_intent", "payment_intent=pi_nope"), 400, errInvalidRequest, "resource_missing")
	wantError(t, h.do("POST", "/v1/terminal/readers/tmr_nope/process_payment_intent", "payment_intent="+id), 404, errInvalidRequest, "resource_missing")
	wantError(t, h.do("POST", rd+"/process_payment_intent", ""), 400, errInvalidRequest, "parameter_missing")

	if n := h.queryInt(`SELECT COUNT(*) FROM reader_actions WHERE reader_id = 'tmr_S001R02'`); n != 5 {
		t.Errorf("%d reader actions in the books, want 5", n)
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM reader_actions WHERE status = 'in_progress'`); n != 0 {
		t.Errorf("%d actions still in progress", n)
	}

	list := h.must("GET", "/v1/terminal/readers?location=tml_2", "")
	if data := list.get("data").([]any); len(data) != 2 || data[0].(map[string]any)["id"] != "tmr_S002R01" {
		t.Errorf("readers at tml_2: %s", list.raw)
	}
	list = h.must("GET", "/v1/terminal/readers?limit=3&starting_after=tmr_S001R01", "")
	if data := list.get("data").([]any); len(data) != 3 || list.get("has_more") != false {
		t.Errorf("reader page: %s", list.raw)
	}
}

// TestReaderOfflineByFault shows the documented way to take a reader offline or make it
// busy: an error rule on its path. The injected fault is counted on /metrics and listed by
// /_sim/events.
func TestReaderOfflineByFault(t *testing.T) {
	tests := []struct {
		name, rule string
		status     int
		code       string
	}{
		{"offline", `
- name: lane-2-fault
  target: gateway
  match: {method: POST, path: /v1/terminal/readers/tmr_S001R02/**}
  effect: {error: {status: 400, type: invalid_request_error, code: terminal_reader_offline, message: "Reader tmr_S001R02 is offline."}}
`, 400, "terminal_reader_offline"},
		{"busy", `
- name: lane-2-fault
  target: gateway
  match: {method: POST, path: /v1/terminal/readers/tmr_S001R02/**}
  effect: {error: {status: 409, type: invalid_request_error, code: terminal_reader_busy, message: "Reader tmr_S001R02 is busy."}}
`, 409, "terminal_reader_busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := faults.New(faults.Gateway, 1, faults.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			rules, err := faults.ParseRules([]byte(tt.rule))
			if err != nil {
				t.Fatal(err)
			}
			if err := engine.Replace(rules); err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, func(c *Config) { c.Faults = engine })
			id := h.cardPresentIntent("manual")
			wantError(t, h.do("POST", "/v1/terminal/readers/tmr_S001R02/process_payment_intent", "payment_intent="+id), tt.status, errInvalidRequest, tt.code)
			// Another reader works, and the faulted request never reached the books.
			h.must("POST", "/v1/terminal/readers/tmr_S001R01/process_payment_intent", "payment_intent="+id)
			if n := h.queryInt(`SELECT COUNT(*) FROM reader_actions`); n != 1 {
				t.Errorf("%d reader actions, want 1", n)
			}
			// The engine's admin API, events and metrics are served.
			if r := h.do("GET", "/_sim/faults", ""); r.status != http.StatusOK {
				t.Errorf("GET /_sim/faults: %d %s", r.status, r.raw)
			}
			if r := h.do("GET", "/_sim/events?since=0", ""); r.status != http.StatusOK ||
				!strings.Contains(r.raw, `"rule":"lane-2-fault"`) || !strings.Contains(r.raw, `"path":"/v1/terminal/readers/tmr_S001R02/process_payment_intent"`) {
				t.Errorf("GET /_sim/events: %d %s", r.status, r.raw)
			}
			resp, err := http.Get(h.http.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := `doorbuster_faults_injected_total{effect="error",rule="lane-2-fault",target="gateway"} 1`; !strings.Contains(string(metrics), want) {
				t.Errorf("/metrics lacks %s", want)
			}
			h.must("DELETE", "/_sim/faults", "")
			h.must("POST", "/v1/payment_intents/"+id+"/cancel", "")
			id = h.cardPresentIntent("manual")
			h.must("POST", "/v1/terminal/readers/tmr_S001R02/process_payment_intent", "payment_intent="+id)
		})
	}
}

func TestReadersFromGeneratedWorld(t *testing.T) {
	world, err := fixtures.Generate(3, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(world, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if len(srv.readers) != len(world.Registers) || len(world.Registers) == 0 {
		t.Fatalf("%d readers for %d registers", len(srv.readers), len(world.Registers))
	}
	for _, reg := range world.Registers {
		r, ok := srv.readers[reg.ReaderID]
		if !ok || r.label != reg.ID || r.locationID != reg.LocationID {
			t.Errorf("register %s: reader %+v", reg.ID, r)
		}
	}
	if srv.apiKey != world.Gateway.SecretKey {
		t.Errorf("API key %q, want the world's", srv.apiKey)
	}
}
