package loadgen

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// TestAddTrendAfterTheRun: samples added to a finished Result behave as if the run had
// recorded them: thresholds (with tag filters) evaluated again, percentiles from the
// merged histograms, time series, the summary, and a JSON round trip.
func TestAddTrendAfterTheRun(t *testing.T) {
	reg := NewRegistry()
	specs := map[string][]ThresholdSpec{
		"sync_latency":            {{Threshold: "p(95)<500"}, {Threshold: "max<2000"}},
		"sync_latency{store:1}":   {{Threshold: "avg<150"}},
		"sync_latency{store:9}":   {{Threshold: "p(95)<1"}},
		"iterations":              {{Threshold: "count>=1"}},
		"never_measured":          {{Threshold: "p(95)<1"}},
		"sync_latency{flow:sale}": {{Threshold: "max==300"}},
	}
	res := resultOf(reg, 10*time.Second, specs, testSample{metric: MetricIterations, v: 1})
	res.Start = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	// During the run nothing was measured: every sync_latency threshold fails for lack of data.
	for _, th := range res.Thresholds {
		if strings.HasPrefix(th.Key, "sync_latency") && (th.OK || !th.NoData) {
			t.Fatalf("before: %+v", th)
		}
	}
	at := func(s float64) time.Time { return res.Start.Add(time.Duration(s * float64(time.Second))) }
	first := []TaggedValue{
		{Value: 100, Tags: []Tag{tag("store", "1"), tag("flow", "sale")}, Time: at(1.2)},
		{Value: 200, Tags: []Tag{tag("store", "1"), tag("flow", "return")}, Time: at(1.7)},
		{Value: 300, Tags: []Tag{tag("store", "2"), tag("flow", "sale")}, Time: at(3.1)},
	}
	if err := res.AddTrend("sync_latency", true, first); err != nil {
		t.Fatal(err)
	}
	// A second call adds to the same series; a sample without a time stays out of the
	// time series.
	if err := res.AddTrend("sync_latency", true, []TaggedValue{{Value: 1000, Tags: []Tag{tag("store", "2")}}}); err != nil {
		t.Fatal(err)
	}
	if err := res.AddTrend("never_measured", false, nil); err != nil {
		t.Fatal(err)
	}
	if res.EvaluateThresholds() {
		t.Error("EvaluateThresholds passed with failing thresholds")
	}
	want := map[string]struct{ ok, noData bool }{
		"sync_latency p(95)<500":           {ok: false}, // p(95) of 100, 200, 300, 1000 is 1000
		"sync_latency max<2000":            {ok: true},
		"sync_latency{store:1} avg<150":    {ok: false}, // 150
		"sync_latency{store:9} p(95)<1":    {noData: true},
		"iterations count>=1":              {ok: true},
		"never_measured p(95)<1":           {noData: true},
		"sync_latency{flow:sale} max==300": {ok: true},
	}
	if len(res.Thresholds) != len(want) {
		t.Fatalf("%d thresholds, want %d", len(res.Thresholds), len(want))
	}
	for _, th := range res.Thresholds {
		w, ok := want[th.Key+" "+th.Expression]
		if !ok || th.OK != w.ok || th.NoData != w.noData {
			t.Errorf("%s %s: ok %v noData %v (%s), want %+v", th.Key, th.Expression, th.OK, th.NoData, th.Message, w)
		}
	}
	if m := res.Metric("never_measured"); m == nil || m.Count != 0 || !strings.Contains(res.Thresholds[indexOf(res, "never_measured")].Message, "received no data") {
		t.Errorf("a metric added without samples: %+v", m)
	}

	check := func(t *testing.T, res *Result) {
		t.Helper()
		m := res.Metric("sync_latency")
		if m == nil || m.Count != 4 || m.Sum != 1600 || m.Min != 100 || m.Max != 1000 || m.Type != Trend || m.Contains != Time {
			t.Fatalf("sync_latency = %+v", m)
		}
		if p := m.Percentile(50); math.Abs(p-200) > 1 {
			t.Errorf("median %v, want 200", p)
		}
		if s2 := res.Metric("sync_latency", tag("store", "2")); s2.Count != 2 || s2.Max != 1000 || s2.Last != 1000 {
			t.Errorf("store 2: %+v", s2)
		}
		pts := res.TimeSeries["sync_latency"]
		if len(pts) != 2 || pts[0].Second != 1 || pts[0].Count != 2 || pts[1].Second != 3 || pts[1].Count != 1 || pts[1].P95 != 300 {
			t.Errorf("time series %+v", pts)
		}
	}
	check(t, res)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	check(t, &back)
	var text strings.Builder
	if err := WriteText(&text, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "sync_latency") || !strings.Contains(text.String(), "p(95)<500") {
		t.Errorf("summary:\n%s", text.String())
	}
}

func indexOf(res *Result, key string) int {
	for i, t := range res.Thresholds {
		if t.Key == key {
			return i
		}
	}
	return -1
}

// TestAddTrendRefusesAndKeepsTheResult: a bad name, a metric of another type or a
// non-finite value are errors that change nothing.
func TestAddTrendRefusesAndKeepsTheResult(t *testing.T) {
	reg := NewRegistry()
	for _, tc := range []struct {
		name   string
		metric string
		isTime bool
		values []float64
		want   string
	}{
		{"counter", MetricHTTPReqs, true, []float64{1}, "is a counter"},
		{"time trend as plain", MetricHTTPReqDuration, false, []float64{1}, "of time values"},
		{"bad name", "sync latency", true, []float64{1}, "invalid character"},
		{"NaN", "sync_latency", true, []float64{1, math.NaN()}, "sample 1"},
		{"Inf", "sync_latency", true, []float64{math.Inf(1)}, "not a finite number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := resultOf(reg, time.Second, nil, testSample{metric: MetricHTTPReqs, v: 1},
				testSample{metric: MetricHTTPReqDuration, v: 5})
			before, _ := json.Marshal(res)
			var vs []TaggedValue
			for _, v := range tc.values {
				vs = append(vs, TaggedValue{Value: v, Time: time.Now()})
			}
			err := res.AddTrend(tc.metric, tc.isTime, vs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if after, _ := json.Marshal(res); string(after) != string(before) {
				t.Error("a refused AddTrend changed the Result")
			}
		})
	}
}

// TestEvaluateThresholdsKeepsAborted: the threshold that stopped the run stays marked.
func TestEvaluateThresholdsKeepsAborted(t *testing.T) {
	reg := NewRegistry()
	res := resultOf(reg, time.Second, map[string][]ThresholdSpec{"http_reqs": {{Threshold: "count>5", AbortOnFail: true}}},
		testSample{metric: MetricHTTPReqs, v: 1})
	res.Stopped, res.Thresholds[0].Aborted = "threshold", true
	if res.EvaluateThresholds() || !res.Thresholds[0].Aborted {
		t.Errorf("thresholds %+v", res.Thresholds)
	}
}
