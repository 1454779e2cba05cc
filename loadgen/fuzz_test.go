package loadgen

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseThreshold: thresholds come from scenario files; no input may panic, and what
// parses is consistent.
func FuzzParseThreshold(f *testing.F) {
	for _, s := range [][2]string{
		{"http_req_duration", "p(95)<500"}, {"http_req_duration{flow:sale}", "avg <= 2.5"},
		{`checks{check:"a,b"}`, "rate>0.99"}, {"x{a:1,b:2}", "p(99.9)!=1e3"}, {"x{", "p(95<1"},
		{"x", "p(95)<2s"}, {"x{a:'b}", "count>=10"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, key, expr string) {
		th, err := ParseThreshold(key, ThresholdSpec{Threshold: expr})
		if err != nil {
			if !strings.Contains(err.Error(), "threshold") {
				t.Fatalf("error does not say it is about a threshold: %v", err)
			}
			return
		}
		switch th.Op {
		case "<", "<=", ">", ">=", "==", "!=":
		default:
			t.Fatalf("parsed operator %q", th.Op)
		}
		if _, ok := parsePercentileAgg(th.Agg); !ok && !strings.Contains("avg min med max count rate value", th.Agg) {
			t.Fatalf("parsed aggregation %q", th.Agg)
		}
		// The filter round-trips through its canonical key.
		name, filter, err := ParseMetricKey(metricKey(th.Metric, th.Filter))
		if err != nil && !strings.ContainsAny(formatTags(th.Filter), "{}:,'\"") {
			t.Fatalf("canonical key of %q does not parse: %v", key, err)
		}
		if err == nil && (name != th.Metric || formatTags(filter) != formatTags(th.Filter)) {
			t.Fatalf("key %q: canonical form parses to %q %v", key, name, filter)
		}
	})
}

func FuzzParseSegment(f *testing.F) {
	for _, s := range []string{"", "1/1", "2/4", " 3 / 3 ", "0/4", "5/4", "a/b", "1/2/3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seg, err := ParseSegment(s)
		if err != nil {
			return
		}
		if seg.validate() != nil {
			t.Fatalf("%q parsed to an invalid %v", s, seg)
		}
		if again, err := ParseSegment(seg.String()); err != nil || again.norm() != seg.norm() {
			t.Fatalf("%q → %v → %v %v", s, seg, again, err)
		}
	})
}

func FuzzThresholdSpecJSON(f *testing.F) {
	for _, s := range []string{`"p(95)<500"`, `{"threshold":"rate<0.01","abortOnFail":true,"delayAbortEval":"10s"}`, `{"threshold":"x","delayAbortEval":5}`, `{}`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var spec ThresholdSpec
		if err := json.Unmarshal([]byte(s), &spec); err != nil {
			return
		}
		b, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		var back ThresholdSpec
		if err := json.Unmarshal(b, &back); err != nil || back != spec {
			t.Fatalf("%s → %+v → %s → %+v %v", s, spec, b, back, err)
		}
	})
}
