package loadgen

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		expr    string
		agg     string
		op      string
		value   float64
		errPos  int    // -1: valid
		errText string // part of the message
	}{
		{"p(95)<500", "p(95)", "<", 500, -1, ""},               // the usual
		{" avg <= 2.5 ", "avg", "<=", 2.5, -1, ""},             // spaces
		{"p(99.9)<1", "p(99.9)", "<", 1, -1, ""},               // fractional percentile
		{"rate<0.01", "rate", "<", 0.01, -1, ""},               // rate
		{"count>=10", "count", ">=", 10, -1, ""},               // counter
		{"value==3", "value", "==", 3, -1, ""},                 // gauge
		{"med!=0", "med", "!=", 0, -1, ""},                     // not equal
		{"max>-1e3", "max", ">", -1000, -1, ""},                // exponent, sign
		{"p( 90 )>1", "p(90)", ">", 1, -1, ""},                 // spaces in p()
		{"p(95)<2parsecs", "", "", 0, 7, "unknown unit"},       // only duration units
		{"p(95)<2s", "p(95)", "<", 2000, -1, ""},               // Doorbuster: unit → ms
		{"avg<300ms", "avg", "<", 300, -1, ""},                 // explicit ms
		{"max<1.5m", "max", "<", 90000, -1, ""},                // minutes
		{"p95<1", "", "", 0, 1, `want "("`},                    // p without parentheses
		{"p(101)<1", "", "", 0, 2, "0 to 100"},                 // percentile out of range
		{"p(95<1", "", "", 0, 1, "unclosed"},                   // unclosed
		{"avg<", "", "", 0, 4, "want a number"},                // no number
		{"avg", "", "", 0, 3, "want an operator"},              // no operator
		{"avg=<1", "", "", 0, 3, `unknown operator "=<"`},      // bad operator
		{"mean<1", "", "", 0, 0, `unknown aggregation "mean"`}, // bad aggregation
		{"<1", "", "", 0, 0, "want an aggregation"},            // no aggregation
		{"avg<1 and max<2", "", "", 0, 6, "unexpected"},        // trailing junk
		{"avg<1.2.3", "", "", 0, 4, "not a number"},            // malformed number
	}
	for _, tt := range tests {
		th, err := ParseThreshold("m", ThresholdSpec{Threshold: tt.expr})
		if tt.errPos < 0 {
			if err != nil {
				t.Errorf("%q: %v", tt.expr, err)
				continue
			}
			if th.Agg != tt.agg || th.Op != tt.op || th.Value != tt.value {
				t.Errorf("%q: got %s %s %v", tt.expr, th.Agg, th.Op, th.Value)
			}
			continue
		}
		var te *ThresholdError
		if !errors.As(err, &te) {
			t.Errorf("%q: want a *ThresholdError, got %v", tt.expr, err)
			continue
		}
		if te.Pos != tt.errPos || !strings.Contains(err.Error(), tt.errText) || !strings.Contains(err.Error(), tt.expr) {
			t.Errorf("%q: error %q at %d; want position %d mentioning %q and the expression", tt.expr, err, te.Pos, tt.errPos, tt.errText)
		}
	}
}

func TestParseMetricKey(t *testing.T) {
	tests := []struct {
		key     string
		name    string
		filter  string // formatted
		wantErr string
	}{
		{"http_req_duration", "http_req_duration", "", ""},
		{"http_req_duration{flow:sale}", "http_req_duration", "flow:sale", ""},
		{"http_req_duration{status:200,scenario:checkout}", "http_req_duration", "scenario:checkout,status:200", ""},
		{"http_req_duration{ scenario : checkout , status: 200 }", "http_req_duration", "scenario:checkout,status:200", ""},
		{`checks{check:"a, b: {c}"}`, "checks", "check:a, b: {c}", ""},
		{"http_req_duration{flow:sale", "", "", `missing "}"`},
		{"http_req_duration{flow}", "", "", "want tag:value"},
		{"http_req_duration{flow:a,flow:b}", "", "", "given twice"},
		{"1abc", "", "", "invalid character"},
		{"", "", "", "1 to 128"},
		{"x{a:'b}", "", "", "unclosed quote"},
	}
	for _, tt := range tests {
		name, filter, err := ParseMetricKey(tt.key)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want one mentioning %q", tt.key, err, tt.wantErr)
			}
			continue
		}
		if err != nil || name != tt.name || formatTags(filter) != tt.filter {
			t.Errorf("%q: got %q %q %v; want %q %q", tt.key, name, formatTags(filter), err, tt.name, tt.filter)
		}
	}
}

func TestThresholdSpecJSON(t *testing.T) {
	var m map[string][]ThresholdSpec
	in := `{"http_req_failed":["rate<0.01"],
	        "http_req_duration{flow:sale}":[{"threshold":"p(95)<2000","abortOnFail":true,"delayAbortEval":"10s"}]}`
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	if m["http_req_failed"][0] != (ThresholdSpec{Threshold: "rate<0.01"}) {
		t.Errorf("string form: %+v", m["http_req_failed"][0])
	}
	want := ThresholdSpec{Threshold: "p(95)<2000", AbortOnFail: true, DelayAbortEval: 10 * time.Second}
	if m["http_req_duration{flow:sale}"][0] != want {
		t.Errorf("object form: %+v", m["http_req_duration{flow:sale}"][0])
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string][]ThresholdSpec
	if err := json.Unmarshal(out, &back); err != nil || back["http_req_duration{flow:sale}"][0] != want {
		t.Errorf("round trip %s: %+v %v", out, back, err)
	}
	for _, bad := range []string{`{"threshold":"avg<1","abortOnFial":true}`, `{"abortOnFail":true}`, `{"threshold":"avg<1","delayAbortEval":"soon"}`, `3`} {
		var s ThresholdSpec
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestThresholdEvaluation(t *testing.T) {
	reg := NewRegistry()
	reg.Trend("pos_checkout_duration", true)
	reg.Gauge("connector_backlog")
	reg.Counter("pos_transactions")
	var samples []testSample
	// 100 sale requests of 1..100 ms, 10 returns of 1000 ms; 2 of the returns fail (500).
	for i := 1; i <= 100; i++ {
		samples = append(samples, testSample{metric: "http_req_duration", v: float64(i), tags: []Tag{tag("flow", "sale"), tag("scenario", "checkout"), tag("status", "200")}})
		samples = append(samples, testSample{metric: "http_req_failed", v: 0, tags: []Tag{tag("flow", "sale"), tag("scenario", "checkout")}})
	}
	for i := range 10 {
		st, failed := "200", 0.0
		if i < 2 {
			st, failed = "500", 1
		}
		samples = append(samples, testSample{metric: "http_req_duration", v: 1000, tags: []Tag{tag("flow", "return"), tag("scenario", "returns"), tag("status", st)}})
		samples = append(samples, testSample{metric: "http_req_failed", v: failed, tags: []Tag{tag("flow", "return"), tag("scenario", "returns")}})
	}
	samples = append(samples,
		testSample{metric: "connector_backlog", v: 7, at: time.Second},
		testSample{metric: "connector_backlog", v: 3, at: 2 * time.Second}, // last value
		testSample{metric: "pos_transactions", v: 30, tags: []Tag{tag("scenario", "checkout")}},
		testSample{metric: "pos_transactions", v: 10, tags: []Tag{tag("scenario", "returns")}},
	)
	tests := []struct {
		key, expr string
		ok        bool
		noData    bool
		observed  float64
	}{
		{"http_req_duration", "max<=1000", true, false, 1000},
		{"http_req_duration", "p(50)<100", true, false, 55},                                // 110 samples: median among the sales
		{"http_req_duration{flow:sale}", "p(95)<100", true, false, 95},                     // sub-metric
		{"http_req_duration{flow:sale}", "avg==50.5", true, false, 50.5},                   // exact avg
		{"http_req_duration{flow:return}", "p(95)<500", false, false, 1000},                // fails
		{"http_req_duration{scenario:returns,status:500}", "max==1000", true, false, 1000}, // two tags
		{"http_req_duration{scenario:returns,status:200}", "min>=1000", true, false, 1000},
		{"http_req_duration{flow:exchange}", "p(95)<500", false, true, 0}, // no samples: fails
		{"pos_checkout_duration", "p(95)<2000", false, true, 0},           // registered, never emitted
		{"http_req_failed", "rate<0.05", true, false, 2.0 / 110},
		{"http_req_failed{flow:return}", "rate<0.05", false, false, 0.2},
		{"connector_backlog", "value<5", true, false, 3},
		{"pos_transactions", "count==40", true, false, 40},
		{"pos_transactions{scenario:checkout}", "rate==3", true, false, 3}, // 30 over 10 s
		{"unknown_metric", "count>0", false, true, 0},
	}
	specs := map[string][]ThresholdSpec{}
	for _, tt := range tests {
		specs[tt.key] = append(specs[tt.key], ThresholdSpec{Threshold: tt.expr})
	}
	res := resultOf(reg, 10*time.Second, specs, samples...)
	byKey := map[string]ThresholdResult{}
	for _, r := range res.Thresholds {
		byKey[r.Key+" "+r.Expression] = r
	}
	for _, tt := range tests {
		r, found := byKey[tt.key+" "+tt.expr]
		if !found {
			t.Errorf("%s %s: not evaluated", tt.key, tt.expr)
			continue
		}
		// Percentiles are within HDR precision (3 significant digits).
		if r.OK != tt.ok || r.NoData != tt.noData || math.Abs(r.Observed-tt.observed) > tt.observed*0.001+1e-12 {
			t.Errorf("%s %s: ok=%v noData=%v observed=%v (%s); want ok=%v noData=%v observed=%v",
				tt.key, tt.expr, r.OK, r.NoData, r.Observed, r.Message, tt.ok, tt.noData, tt.observed)
		}
		if !r.OK && r.Message == "" {
			t.Errorf("%s %s: a failure without a message", tt.key, tt.expr)
		}
		if r.NoData && !strings.Contains(r.Message, "no samples") {
			t.Errorf("%s %s: message %q does not say there were no samples", tt.key, tt.expr, r.Message)
		}
	}
	if res.Passed() {
		t.Error("Passed() with failing thresholds")
	}
}

// An aggregation that does not fit the metric's type is rejected before the run.
func TestRunRejectsBadThresholds(t *testing.T) {
	eng := New()
	cases := []struct{ key, expr string }{
		{"http_reqs", "p(95)<1"}, {"http_req_duration", "rate<1"}, {"vus", "avg<1"},
		{"http_req_failed", "count<1"}, {"iterations", "p(95)<2s"}, {"bad key{", "count>1"},
	}
	for _, c := range cases {
		_, err := eng.Run(t.Context(), Plan{
			Scenarios:  []Scenario{{Name: "s", Executor: SharedIterations, Exec: noop}},
			Thresholds: map[string][]ThresholdSpec{c.key: {{Threshold: c.expr}}},
		})
		if err == nil || !strings.Contains(err.Error(), c.expr) && !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s %s: error %v, want one naming it", c.key, c.expr, err)
		}
	}
}
