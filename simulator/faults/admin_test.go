package faults

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// call sends body to the world's admin API and decodes the JSON answer into out.
func (w *world) call(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client(5 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: body %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

type faultsView struct {
	Target     string    `json:"target"`
	ClockStart time.Time `json:"clockStart"`
	Rules      []struct {
		Name     string                     `json:"name"`
		Effect   map[string]json.RawMessage `json:"effect"`
		Matched  int64                      `json:"matched"`
		Injected int64                      `json:"injected"`
	} `json:"rules"`
}

type badView struct {
	Error  string       `json:"error"`
	Fields []FieldError `json:"fields"`
}

func TestAdminAPI(t *testing.T) {
	clock := newFakeClock()
	w := newWorld(t, New(NetSuite, 1, WithClock(clock.Now)))

	// PUT replaces with YAML.
	var v faultsView
	put := "- {name: boom, target: netsuite, match: {method: POST}, effect: {error: {status: 500}}}\n"
	if code := w.call(t, "PUT", "/_sim/faults", put, &v); code != 200 || len(v.Rules) != 1 || v.Target != "netsuite" {
		t.Fatalf("PUT: %d %+v", code, v)
	}
	// POST appends with JSON.
	post := `{"rules":[{"name":"slow","target":"netsuite","effect":{"latency":{"delay":"1ms"}}}]}`
	if code := w.call(t, "POST", "/_sim/faults", post, &v); code != 200 || len(v.Rules) != 2 || v.Rules[1].Name != "slow" {
		t.Fatalf("POST: %d %+v", code, v)
	}
	// Traffic moves the counts.
	for range 3 {
		w.do("POST", "/services/rest/record/v1/cashSale")
		w.do("GET", "/services/rest/record/v1/cashSale/1")
	}
	w.call(t, "GET", "/_sim/faults", "", &v)
	if r := v.Rules[0]; r.Matched != 3 || r.Injected != 3 {
		t.Errorf("boom counts %d/%d, want 3/3", r.Matched, r.Injected)
	}
	if r := v.Rules[1]; r.Matched != 3 || r.Injected != 3 { // GETs only: POSTs stop at boom
		t.Errorf("slow counts %d/%d, want 3/3", r.Matched, r.Injected)
	}

	// Bad rules: 400 naming the field, rules unchanged.
	tests := []struct {
		method, body, field, msg string
	}{
		{"PUT", "- name: x\n  target: netsuite\n  effect:\n    latency: {median: 200}\n", "rules[0].effect.latency.median", `must be a duration like "200ms"`},
		{"POST", `[{"name":"boom","target":"netsuite","effect":{"reset":{}}}]`, "rules[0].name", `"boom" is already used`},
		{"POST", `[{"name":"gw","target":"gateway","effect":{"reset":{}}}]`, "rules[0].target", "this is the netsuite simulator"},
		{"PUT", `[{"name":"x","target":"netsuite","effect":{"reset":{}},"bogus":1}]`, "rules[0].bogus", "unknown field"},
		{"PUT", `[{"name":"x"`, "", ""},
	}
	for _, tt := range tests {
		var bad badView
		if code := w.call(t, tt.method, "/_sim/faults", tt.body, &bad); code != 400 {
			t.Errorf("%s %s: status %d, want 400", tt.method, tt.body, code)
			continue
		}
		if len(bad.Fields) == 0 || bad.Fields[0].Path != tt.field || !strings.Contains(bad.Fields[0].Msg, tt.msg) {
			t.Errorf("%s %s: %+v, want field %q with %q", tt.method, tt.body, bad, tt.field, tt.msg)
		}
	}
	var bad badView
	w.call(t, "PUT", "/_sim/faults", tests[0].body, &bad)
	if f := bad.Fields[0]; f.Line != 4 || f.Column != 23 {
		t.Errorf("position %d:%d, want 4:23", f.Line, f.Column)
	}
	if w.call(t, "GET", "/_sim/faults", "", &v); len(v.Rules) != 2 {
		t.Errorf("refused changes altered the rules: %+v", v.Rules)
	}

	// Events: all, after a sequence number, since a time.
	var evs struct{ Events []Event }
	if code := w.call(t, "GET", "/_sim/events", "", &evs); code != 200 || len(evs.Events) != 6 {
		t.Fatalf("events: %d %+v", code, evs)
	}
	if w.call(t, "GET", "/_sim/events?since=4", "", &evs); len(evs.Events) != 2 || evs.Events[0].Seq != 5 {
		t.Errorf("since=4: %+v", evs.Events)
	}
	clock.Advance(time.Minute)
	cut := clock.Now()
	w.do("POST", "/x")
	if w.call(t, "GET", "/_sim/events?since="+url.QueryEscape(cut.Format(time.RFC3339)), "", &evs); len(evs.Events) != 1 || evs.Events[0].Seq != 7 {
		t.Errorf("since=%s: %+v", cut, evs.Events)
	}
	if code := w.call(t, "GET", "/_sim/events?since=yesterday", "", &bad); code != 400 || !strings.Contains(bad.Error, "since") {
		t.Errorf("since=yesterday: %d %+v", code, bad)
	}

	// Clock restart.
	clock.Advance(time.Hour)
	var cs struct{ ClockStart time.Time }
	if w.call(t, "POST", "/_sim/clock/start", "", &cs); !cs.ClockStart.Equal(clock.Now()) {
		t.Errorf("clock start %v, want %v", cs.ClockStart, clock.Now())
	}

	// DELETE clears.
	if code := w.call(t, "DELETE", "/_sim/faults", "", &v); code != 200 || len(v.Rules) != 0 {
		t.Errorf("DELETE: %d %+v", code, v)
	}
	if resp, _, _, err := w.do("POST", "/x"); err != nil || resp.StatusCode != 200 {
		t.Errorf("after DELETE: %v", err)
	}
}
