package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// hits runs n requests through a fresh engine's plan and returns, per request, the effects
// drawn ("" for none, latencies with their drawn delay).
func hits(t *testing.T, seed int64, n int, rules ...Rule) []string {
	t.Helper()
	e := New(NetSuite, seed)
	if err := e.Replace(rules); err != nil {
		t.Fatal(err)
	}
	out := make([]string, n)
	for i := range out {
		r := httptest.NewRequest("POST", "/services/rest/record/v1/cashSale", nil)
		for _, s := range e.plan(r) {
			if d, ok := s.effect.(delay); ok {
				out[i] += fmt.Sprintf("%s=%v;", s.rule.Name, Duration(d))
			} else {
				out[i] += s.rule.Name + ";"
			}
		}
	}
	return out
}

func TestDrawsRepeatWithTheSameSeed(t *testing.T) {
	rules := []Rule{
		{Name: "jitter", Target: NetSuite, Effect: &Latency{Median: dur("200ms"), Sigma: 0.8, Max: dur("1s")}, Probability: 0.7},
		{Name: "uniform", Target: NetSuite, Effect: &Latency{Lower: dur("10ms"), Upper: dur("50ms")}, Probability: 0.5},
		{Name: "lost", Target: NetSuite, Effect: &LostResponse{}, Probability: 0.1},
		{Name: "err", Target: NetSuite, Effect: &HTTPError{Status: 500}, Probability: 0.2},
	}
	a, b := hits(t, 42, 500, rules...), hits(t, 42, 500, rules...)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed and request order gave different faults")
	}
	if c := hits(t, 43, 500, rules...); slices.Equal(a, c) {
		t.Error("another seed gave the very same 500 draws")
	}
	// The draws follow the probabilities (loosely: 500 requests).
	counts := map[string]int{}
	for _, h := range a {
		for _, name := range []string{"jitter=", "uniform=", "lost;", "err;"} {
			if contains(h, name) {
				counts[name]++
			}
		}
	}
	for name, want := range map[string]float64{"jitter=": 0.7, "uniform=": 0.5, "lost;": 0.1, "err;": 0.9 * 0.2} {
		got := float64(counts[name]) / 500
		if got < want-0.08 || got > want+0.08 {
			t.Errorf("%s hit %.2f of requests, want about %.2f", name, got, want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestLatencyDistributions(t *testing.T) {
	tests := []struct {
		name     string
		l        Latency
		min, max time.Duration
	}{
		{"fixed", Latency{Delay: dur("200ms")}, 200 * time.Millisecond, 200 * time.Millisecond},
		{"uniform", Latency{Lower: dur("50ms"), Upper: dur("60ms")}, 50 * time.Millisecond, 60 * time.Millisecond},
		{"lognormal capped", Latency{Median: dur("200ms"), Sigma: 3, Max: dur("300ms")}, 0, 300 * time.Millisecond},
		{"lognormal wild, no max", Latency{Median: dur("30m"), Sigma: 10}, 0, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Gateway, 7)
			var seen []time.Duration
			for range 2000 {
				d := time.Duration(tt.l.draw(e.rng).(delay))
				if d < tt.min || d > tt.max {
					t.Fatalf("drew %v, want within [%v, %v]", d, tt.min, tt.max)
				}
				seen = append(seen, d)
			}
			if tt.min != tt.max && slices.Min(seen) == slices.Max(seen) {
				t.Error("every draw was the same")
			}
			// Draws above max are redrawn, not clamped: with sigma 3 about 45 % of the
			// draws exceed 300ms, and clamping would pile them up at max.
			if tt.l.Max != 0 {
				atMax := 0
				for _, d := range seen {
					if d == time.Duration(tt.l.Max) {
						atMax++
					}
				}
				if atMax > len(seen)/100 {
					t.Errorf("%d of %d draws are exactly max: clamped, not redrawn", atMax, len(seen))
				}
			}
		})
	}
	// A lognormal's median is its median.
	e := New(Gateway, 7)
	l := Latency{Median: dur("100ms"), Sigma: 0.5}
	var below int
	for range 4000 {
		if time.Duration(l.draw(e.rng).(delay)) < 100*time.Millisecond {
			below++
		}
	}
	if below < 1800 || below > 2200 {
		t.Errorf("%d of 4000 lognormal draws below the median, want about half", below)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		match  Match
		method string
		path   string
		want   bool
	}{
		{"empty matches all", Match{}, "GET", "/anything", true},
		{"method case-insensitive", Match{Method: "post"}, "POST", "/x", true},
		{"method differs", Match{Method: "GET"}, "POST", "/x", false},
		{"exact path", Match{Path: "/services/rest/query/v1/suiteql"}, "POST", "/services/rest/query/v1/suiteql", true},
		{"star is one segment", Match{Path: "/v1/payment_intents/*"}, "GET", "/v1/payment_intents/pi_1", true},
		{"star is not two", Match{Path: "/v1/payment_intents/*"}, "POST", "/v1/payment_intents/pi_1/capture", false},
		{"double star spans", Match{Path: "/v1/**"}, "POST", "/v1/payment_intents/pi_1/capture", true},
		{"double star matches zero", Match{Path: "/v1/payment_intents/**"}, "POST", "/v1/payment_intents", true},
		{"double star in middle", Match{Path: "/v1/**/capture"}, "POST", "/v1/payment_intents/pi_1/capture", true},
		{"double star in middle, wrong end", Match{Path: "/v1/**/capture"}, "POST", "/v1/payment_intents/pi_1/cancel", false},
		{"segment glob", Match{Path: "/v1/payment_intents/pi_*/c*"}, "POST", "/v1/payment_intents/pi_1/cancel", true},
		{"record type", Match{RecordType: "cashSale"}, "POST", "/services/rest/record/v1/cashSale", true},
		{"record type with id, any case", Match{RecordType: "CASHSALE"}, "PATCH", "/services/rest/record/v1/cashsale/12", true},
		{"record type differs", Match{RecordType: "cashSale"}, "POST", "/services/rest/record/v1/cashRefund", false},
		{"record type not a record path", Match{RecordType: "cashSale"}, "POST", "/services/rest/query/v1/suiteql", false},
		{"all three", Match{Method: "POST", Path: "/services/rest/record/**", RecordType: "cashSale"}, "POST", "/services/rest/record/v1/cashSale", true},
		{"all three, wrong method", Match{Method: "GET", Path: "/services/rest/record/**", RecordType: "cashSale"}, "POST", "/services/rest/record/v1/cashSale", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path+"?q=1", nil)
			if got := tt.match.matches(r); got != tt.want {
				t.Errorf("%+v matches %s %s = %v, want %v", tt.match, tt.method, tt.path, got, tt.want)
			}
		})
	}
}

func TestReplaceRefusesBadRules(t *testing.T) {
	e := New(NetSuite, 1)
	err := e.Replace([]Rule{
		{Name: "ok", Target: NetSuite, Effect: &Reset{}},
		{Name: "ok", Target: Gateway, Effect: &Latency{Median: dur("1s"), Max: dur("10ms")}},
	})
	re, ok := err.(*RulesError)
	if !ok {
		t.Fatalf("err = %v, want *RulesError", err)
	}
	want := []string{"rules[1].target", "rules[1].effect.latency.max", "rules[1].name"}
	var got []string
	for _, f := range re.Fields {
		got = append(got, f.Path)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("bad fields %v, want %v (%v)", got, want, err)
	}
	if len(e.Rules()) != 0 {
		t.Error("a refused Replace changed the rules")
	}
}

func TestEventsAndMetrics(t *testing.T) {
	clock := newFakeClock()
	e := New(Gateway, 1, WithClock(clock.Now), WithEventLimit(3))
	reg := prometheus.NewRegistry()
	e.MustRegisterMetrics(reg)
	other := New(NetSuite, 1)
	other.MustRegisterMetrics(reg) // both simulators may share one registry
	w := newWorld(t, e, Rule{Name: "boom", Target: Gateway, Match: Match{Method: "POST"}, Effect: &HTTPError{Status: 500}})
	for i := range 5 {
		clock.Advance(time.Second)
		if _, _, _, err := w.do("POST", fmt.Sprintf("/v1/refunds/%d", i)); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := w.do("GET", "/v1/refunds"); err != nil {
			t.Fatal(err)
		}
	}
	if got := gathered(t, reg, map[string]string{"target": "gateway", "rule": "boom", "effect": "error"}); got != 5 {
		t.Errorf("%s = %v, want 5", MetricName, got)
	}
	evs := e.Events(0)
	if len(evs) != 3 || evs[0].Seq != 3 || evs[2].Seq != 5 {
		t.Fatalf("events = %+v, want the last 3 (seq 3..5)", evs)
	}
	if ev := evs[2]; ev.Rule != "boom" || ev.Effect != "error" || ev.Method != "POST" || ev.Path != "/v1/refunds/4" || ev.Target != Gateway {
		t.Errorf("event = %+v", ev)
	}
	if got := e.Events(4); len(got) != 1 || got[0].Seq != 5 {
		t.Errorf("Events(4) = %+v", got)
	}
	if got := e.EventsSince(evs[1].Time); len(got) != 2 {
		t.Errorf("EventsSince = %+v, want 2", got)
	}
	rs := e.Rules()
	if rs[0].Matched != 5 || rs[0].Injected != 5 {
		t.Errorf("counts %+v, want 5 matched and injected", rs[0])
	}
}

// gathered returns the value of the injected-faults counter with the given labels in reg.
func gathered(t *testing.T, reg *prometheus.Registry, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != MetricName {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s%v in the registry", MetricName, labels)
	return 0
}

// TestQuietRules: a quiet rule's hits are counted (rule counts, metric) but neither kept
// as events nor logged above debug; the rules around it still record theirs, with no gap
// in the sequence numbers. Quiet survives the rules-file round trip.
func TestQuietRules(t *testing.T) {
	var logs bytes.Buffer
	e := New(Gateway, 1, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	reg := prometheus.NewRegistry()
	e.MustRegisterMetrics(reg)
	rules, err := ParseRules([]byte(`
- {name: profile, target: gateway, match: {method: POST}, effect: {latency: {delay: 1ms}}, quiet: true}
- {name: boom, target: gateway, match: {path: /v1/refunds/2}, effect: {error: {status: 500}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !rules[0].Quiet || rules[1].Quiet {
		t.Fatalf("parsed %+v", rules)
	}
	w := newWorld(t, e, rules...)
	for i := range 4 {
		if _, _, _, err := w.do("POST", fmt.Sprintf("/v1/refunds/%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	rs := e.Rules()
	if rs[0].Injected != 4 || rs[1].Injected != 1 {
		t.Errorf("counts %+v", rs)
	}
	if got := gathered(t, reg, map[string]string{"target": "gateway", "rule": "profile", "effect": "latency"}); got != 4 {
		t.Errorf("%s{rule=profile} = %v, want 4", MetricName, got)
	}
	if evs := e.Events(0); len(evs) != 1 || evs[0].Rule != "boom" || evs[0].Seq != 1 {
		t.Errorf("events %+v, want boom's alone as seq 1", evs)
	}
	if strings.Contains(logs.String(), "rule=profile") || !strings.Contains(logs.String(), "rule=boom") {
		t.Errorf("logs:\n%s", logs.String())
	}
	b, err := json.Marshal(rs[0].Rule)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseRules(append(append([]byte("["), b...), ']'))
	if err != nil || len(back) != 1 || !back[0].Quiet {
		t.Errorf("round trip of %s: %+v, %v", b, back, err)
	}
	if _, err := ParseRules([]byte(`- {name: a, target: gateway, effect: {reset: {}}, quiet: yes please}`)); err == nil ||
		!strings.Contains(err.Error(), "rules[0].quiet: must be true or false") {
		t.Errorf("a non-boolean quiet: %v", err)
	}
}
