package faults

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// isReset reports whether a client error is the peer's RST.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "connection reset by peer")
}

func TestLatencyDelaysTheAnswer(t *testing.T) {
	w := newWorld(t, New(NetSuite, 1), Rule{Name: "slow", Target: NetSuite, Effect: &Latency{Delay: dur("150ms")}})
	resp, body, took, err := w.do("GET", "/services/rest/record/v1/customer/1")
	if err != nil {
		t.Fatal(err)
	}
	if took < 150*time.Millisecond {
		t.Errorf("answer took %v, want at least 150ms", took)
	}
	if resp.StatusCode != 200 || string(body) != handlerBody {
		t.Errorf("got %d %q, want the handler's answer after the delay", resp.StatusCode, body)
	}
	if got := w.commits.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
}

func TestLatencyThenErrorCompose(t *testing.T) {
	w := newWorld(t, New(Gateway, 1),
		Rule{Name: "slow", Target: Gateway, Effect: &Latency{Lower: dur("100ms"), Upper: dur("120ms")}},
		Rule{Name: "boom", Target: Gateway, Effect: &HTTPError{Status: 502}},
		Rule{Name: "never", Target: Gateway, Effect: &Reset{}}, // after a response effect: not reached
	)
	resp, _, took, err := w.do("POST", "/v1/payment_intents")
	if err != nil {
		t.Fatal(err)
	}
	if took < 100*time.Millisecond || resp.StatusCode != 502 {
		t.Errorf("got %d after %v, want 502 after at least 100ms", resp.StatusCode, took)
	}
	rules := w.engine.Rules()
	if rules[0].Injected != 1 || rules[1].Injected != 1 || rules[2].Injected != 0 || rules[2].Matched != 0 {
		t.Errorf("counts = %+v", rules)
	}
}

func TestErrorAndThrottleShapes(t *testing.T) {
	tests := []struct {
		name   string
		target Target
		effect Effect
		status int
		check  func(t *testing.T, body []byte)
	}{
		{"netsuite error with code", NetSuite, &HTTPError{Status: 500, Code: "UNEXPECTED_ERROR", Message: "boom"}, 500,
			netsuiteShape("UNEXPECTED_ERROR", "boom")},
		{"netsuite throttle", NetSuite, &Throttle{}, 429,
			netsuiteShape("CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked.")},
		{"netsuite outage", NetSuite, &Outage{}, 503, netsuiteShape("SERVICE_UNAVAILABLE", "")},
		{"gateway error defaults", Gateway, &HTTPError{Status: 500}, 500, gatewayShape("api_error", "")},
		{"gateway error 402", Gateway, &HTTPError{Status: 402, Type: "card_error", Code: "card_declined"}, 402,
			gatewayShape("card_error", "card_declined")},
		{"gateway throttle", Gateway, &Throttle{RetryAfter: dur("1500ms")}, 429, gatewayShape("invalid_request_error", "rate_limit")},
		{"gateway outage", Gateway, &Outage{}, 503, gatewayShape("api_error", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, New(tt.target, 1), Rule{Name: "r", Target: tt.target, Effect: tt.effect})
			resp, body, _, err := w.do("POST", "/anything")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tt.status, body)
			}
			if resp.Header.Get(faultHeader) != "r" {
				t.Errorf("%s header = %q", faultHeader, resp.Header.Get(faultHeader))
			}
			if th, ok := tt.effect.(*Throttle); ok && th.RetryAfter > 0 && resp.Header.Get("Retry-After") != "2" {
				t.Errorf("Retry-After = %q, want 2", resp.Header.Get("Retry-After"))
			}
			tt.check(t, body)
			if w.commits.Load() != 0 {
				t.Error("the handler ran behind an error answer")
			}
		})
	}
}

func netsuiteShape(code, detail string) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		t.Helper()
		var got struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Status  int    `json:"status"`
			Details []struct {
				Detail string `json:"detail"`
				Code   string `json:"o:errorCode"`
			} `json:"o:errorDetails"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		if got.Type == "" || got.Title == "" || got.Status == 0 || len(got.Details) != 1 || got.Details[0].Code != code ||
			(detail != "" && got.Details[0].Detail != detail) || got.Details[0].Detail == "" {
			t.Errorf("body %s: want NetSuite shape with o:errorCode %s", body, code)
		}
	}
}

func gatewayShape(typ, code string) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		t.Helper()
		var got struct {
			Error struct {
				Type, Code, Message string
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		if got.Error.Type != typ || got.Error.Code != code || got.Error.Message == "" {
			t.Errorf("body %s: want {error: {type: %s, code: %s, message}}", body, typ, code)
		}
	}
}

func TestResetSendsRST(t *testing.T) {
	w := newWorld(t, New(NetSuite, 1), Rule{Name: "rst", Target: NetSuite, Effect: &Reset{}})
	resp, _, _, err := w.do("POST", "/services/rest/record/v1/cashSale")
	if err == nil {
		t.Fatalf("got %d, want a connection reset", resp.StatusCode)
	}
	if !isReset(err) {
		t.Errorf("client error %v, want connection reset by peer", err)
	}
	if w.commits.Load() != 0 {
		t.Error("the handler ran behind a reset")
	}
}

func TestLostResponseCommitsThenResets(t *testing.T) {
	w := newWorld(t, New(NetSuite, 1), Rule{Name: "lost", Target: NetSuite,
		Match: Match{Method: "POST", RecordType: "cashSale"}, Effect: &LostResponse{}})
	resp, _, _, err := w.do("POST", "/services/rest/record/v1/cashSale")
	if err == nil {
		t.Fatalf("got %d, want no answer", resp.StatusCode)
	}
	if !isReset(err) {
		t.Errorf("client error %v, want connection reset by peer", err)
	}
	if got := w.commits.Load(); got != 1 {
		t.Errorf("the write committed %d times, want exactly once behind the lost answer", got)
	}
	// The same request to another record type is answered.
	if resp, _, _, err := w.do("POST", "/services/rest/record/v1/customer"); err != nil || resp.StatusCode != 200 {
		t.Errorf("unmatched request: %v", err)
	}
}

func TestTimeoutHoldsThenClosesWithoutAnswer(t *testing.T) {
	w := newWorld(t, New(Gateway, 1), Rule{Name: "hang", Target: Gateway, Effect: &Timeout{Duration: dur("200ms")}})
	resp, _, took, err := w.do("GET", "/v1/payment_intents/pi_1")
	if err == nil {
		t.Fatalf("got %d, want the connection closed without an answer", resp.StatusCode)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("client error %v, want EOF (closed without an answer)", err)
	}
	if took < 200*time.Millisecond {
		t.Errorf("closed after %v, want at least 200ms", took)
	}
	if w.commits.Load() != 0 {
		t.Error("the handler ran behind a timeout")
	}
}

func TestTimeoutEndsWhenClientGoesAway(t *testing.T) {
	w := newWorld(t, New(Gateway, 1), Rule{Name: "hang", Target: Gateway, Effect: &Timeout{Duration: dur("20s")}}) // long enough to tell, short enough not to hang a failing test
	for i, method := range []string{"GET", "POST"} {
		req, err := http.NewRequest(method, w.srv.URL+"/v1/x", strings.NewReader("amount=1099&currency=usd&metadata[note]="+strings.Repeat("x", 64<<10)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client(100 * time.Millisecond).Do(req); err == nil {
			t.Fatal("want the client's own timeout")
		}
		// The server side lets go soon after the client hangs up, not after 20s.
		waitFor(t, method+" held request to end", func() bool { return w.served.Load() == int64(i+1) })
	}
}

func TestSlowBodyDribbles(t *testing.T) {
	const d = 300 * time.Millisecond
	w := newWorld(t, New(NetSuite, 1), Rule{Name: "slow", Target: NetSuite, Effect: &SlowBody{Duration: Duration(d), Chunks: 5}})
	resp, body, took, err := w.do("GET", "/services/rest/record/v1/item/7")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || string(body) != handlerBody {
		t.Errorf("got %d %q, want the handler's whole answer", resp.StatusCode, body)
	}
	if took < d {
		t.Errorf("body complete after %v, want at least %v", took, d)
	}
	if w.commits.Load() != 1 {
		t.Error("the handler did not run once")
	}
}

func TestMalformedBodyFailsToDecode(t *testing.T) {
	for _, target := range []Target{NetSuite, Gateway} {
		w := newWorld(t, New(target, 1), Rule{Name: "garbled", Target: target, Effect: &Malformed{}})
		resp, body, _, err := w.do("GET", "/x")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d, want 200", target, resp.StatusCode)
		}
		var v any
		if err := json.Unmarshal(body, &v); err == nil {
			t.Errorf("%s: body %s decoded, want a truncated JSON document", target, body)
		}
		if !json.Valid(append(body, []byte(`"}]}`)...)) && !strings.HasPrefix(string(body), "{") {
			t.Errorf("%s: body %s does not look like the start of a JSON document", target, body)
		}
	}
}

func TestOutageOnlyInsideWindow(t *testing.T) {
	clock := newFakeClock()
	e := New(NetSuite, 1, WithClock(clock.Now))
	w := newWorld(t, e, Rule{Name: "down", Target: NetSuite, Match: Match{Path: "/services/rest/**"},
		Effect: &Outage{}, Window: &Window{Start: dur("10s"), Duration: dur("5s")}})
	status := func() int {
		t.Helper()
		resp, _, _, err := w.do("GET", "/services/rest/record/v1/customer/1")
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	steps := []struct {
		advance time.Duration
		want    int
	}{
		{0, 200},                // before the window
		{10 * time.Second, 503}, // it opens at 10s
		{4 * time.Second, 503},  // still open at 14s
		{time.Second, 200},      // closed at 15s
		{time.Hour, 200},        // and stays closed
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if got := status(); got != s.want {
			t.Errorf("step %d: status %d, want %d", i, got, s.want)
		}
	}
	// Restarting the clock reopens the window 10s later.
	e.StartClock()
	clock.Advance(12 * time.Second)
	if got := status(); got != 503 {
		t.Errorf("after clock restart +12s: status %d, want 503", got)
	}
}

func TestAdminAndMetricsPathsAreNeverFaulted(t *testing.T) {
	w := newWorld(t, New(NetSuite, 1), Rule{Name: "down", Target: NetSuite, Effect: &Outage{}})
	resp, body, _, err := w.do("GET", "/_sim/faults")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /_sim/faults during an outage: %v %s", err, body)
	}
	resp, _, _, err = w.do("DELETE", "/_sim/faults")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("DELETE /_sim/faults during an outage: %v", err)
	}
	if resp, _, _, err := w.do("GET", "/x"); err != nil || resp.StatusCode != 200 {
		t.Errorf("after clearing: %v", err)
	}
}

func TestSameSeedSameFaultsOnTheWire(t *testing.T) {
	statuses := func(seed int64) []int {
		rules := []Rule{
			{Name: "err", Target: Gateway, Effect: &HTTPError{Status: 500}, Probability: 0.3},
			{Name: "thr", Target: Gateway, Effect: &Throttle{}, Probability: 0.3},
		}
		w := newWorld(t, New(Gateway, seed), rules...)
		var out []int
		for range 40 {
			resp, _, _, err := w.do("POST", "/v1/payment_intents")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, resp.StatusCode)
		}
		return out
	}
	a, b := statuses(99), statuses(99)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different answers:\n%v\n%v", a, b)
	}
	if !slices.Contains(a, 500) || !slices.Contains(a, 429) || !slices.Contains(a, 200) {
		t.Errorf("answers %v, want a mix of 200, 429 and 500", a)
	}
}
