package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Merging the Results of segments gives exactly the percentiles of one run over all the
// samples, also after a round trip through JSON.
func TestMergeIsExact(t *testing.T) {
	reg := NewRegistry()
	rng := rand.New(rand.NewPCG(1, 2))
	specs := map[string][]ThresholdSpec{"http_req_duration{flow:sale}": {{Threshold: "p(99)<300"}}}
	var parts [3][]testSample
	var every []testSample
	for i := range 9000 {
		flow := []string{"sale", "return"}[i%2]
		s := testSample{metric: MetricHTTPReqDuration, v: rng.ExpFloat64() * 80, tags: []Tag{tag("flow", flow)}, at: time.Duration(i) * time.Millisecond / 3}
		c := testSample{metric: MetricHTTPReqs, v: 1, tags: []Tag{tag("flow", flow)}, at: s.at}
		every = append(every, s, c)
		parts[i%3] = append(parts[i%3], s, c)
	}
	whole := resultOf(reg, 3*time.Second, specs, every...)
	var segs []*Result
	for i := range parts {
		r := resultOf(reg, 3*time.Second, specs, parts[i]...)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		segs = append(segs, &back)
	}
	merged, err := Merge(segs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, filter := range [][]Tag{nil, {tag("flow", "sale")}, {tag("flow", "return")}} {
		w, m := whole.Metric(MetricHTTPReqDuration, filter...), merged.Metric(MetricHTTPReqDuration, filter...)
		for _, p := range []float64{0, 50, 90, 95, 99, 99.9, 100} {
			if w.Percentile(p) != m.Percentile(p) {
				t.Errorf("%v p(%v): whole %v, merged %v", filter, p, w.Percentile(p), m.Percentile(p))
			}
		}
		if w.Count != m.Count || w.Min != m.Min || w.Max != m.Max || abs(w.Sum-m.Sum) > 1e-6*w.Sum {
			t.Errorf("%v: whole %+v merged %+v", filter, w, m)
		}
	}
	if got := merged.Metric(MetricHTTPReqs).Sum; got != 9000 {
		t.Errorf("merged http_reqs %v", got)
	}
	if len(merged.Thresholds) != 1 || merged.Thresholds[0].Observed != whole.Thresholds[0].Observed {
		t.Errorf("merged thresholds %+v, whole %+v", merged.Thresholds, whole.Thresholds)
	}
	// Time series add up second by second.
	var wc, mc int64
	for _, p := range whole.TimeSeries[MetricHTTPReqs] {
		wc += p.Count
	}
	for _, p := range merged.TimeSeries[MetricHTTPReqs] {
		mc += p.Count
	}
	if wc != 9000 || mc != 9000 || len(merged.TimeSeries[MetricHTTPReqs]) != 3 {
		t.Errorf("time series counts whole %d merged %d, %d points", wc, mc, len(merged.TimeSeries[MetricHTTPReqs]))
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// The per-second time series holds counts and percentiles of each second.
func TestTimeSeries(t *testing.T) {
	reg := NewRegistry()
	var samples []testSample
	for s := range 3 {
		for i := 1; i <= 100; i++ {
			samples = append(samples, testSample{metric: MetricIterationDuration, v: float64(i * (s + 1)), at: time.Duration(s)*time.Second + time.Duration(i)*time.Millisecond})
		}
	}
	res := resultOf(reg, 3*time.Second, nil, samples...)
	pts := res.TimeSeries[MetricIterationDuration]
	if len(pts) != 3 {
		t.Fatalf("%d points", len(pts))
	}
	for s, p := range pts {
		k := float64(s + 1)
		if p.Second != int64(s) || p.Count != 100 || p.Min != k || p.Max != 100*k || abs(p.P50-50*k) > 0.1*k || abs(p.P99-99*k) > 0.1*k {
			t.Errorf("second %d: %+v", s, p)
		}
	}
}

func TestSummaryShapeAndText(t *testing.T) {
	reg := NewRegistry()
	reg.Trend("pos_checkout_duration", true)
	specs := map[string][]ThresholdSpec{
		"http_req_duration{flow:sale}": {{Threshold: "p(95)<500"}},
		"pos_checkout_duration":        {{Threshold: "p(95)<2000"}},
	}
	var samples []testSample
	for i := 1; i <= 10; i++ {
		samples = append(samples,
			testSample{metric: MetricHTTPReqDuration, v: float64(i * 10), tags: []Tag{tag("flow", "sale")}},
			testSample{metric: MetricHTTPReqs, v: 1},
			testSample{metric: MetricDataReceived, v: 1500},
			testSample{metric: MetricChecks, v: float64(i % 2), tags: []Tag{tag("check", "status is 200")}},
			testSample{metric: MetricVUs, v: float64(i)},
		)
	}
	res := resultOf(reg, 2*time.Second, specs, samples...)
	res.Scenarios = []ScenarioResult{{Name: "checkout", Executor: ConstantArrivalRate, Iterations: 10, Duration: 2 * time.Second}}
	sum := res.Summary()
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	json.Unmarshal(b, &generic)
	for _, k := range []string{"root_group", "options", "state", "metrics"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("summary lacks %q: %s", k, b)
		}
	}
	if sum.State.TestRunDurationMs != 2000 {
		t.Errorf("testRunDurationMs %v", sum.State.TestRunDurationMs)
	}
	reqs := sum.Metrics["http_reqs"]
	if reqs.Type != "counter" || reqs.Values["count"] != 10 || reqs.Values["rate"] != 5 {
		t.Errorf("http_reqs %+v", reqs)
	}
	sub := sum.Metrics["http_req_duration{flow:sale}"]
	if sub.Contains != "time" || sub.Values["max"] != 100 || !sub.Thresholds["p(95)<500"].OK {
		t.Errorf("sub-metric %+v", sub)
	}
	if m := sum.Metrics["pos_checkout_duration"]; m.Thresholds["p(95)<2000"].OK || m.Type != "trend" {
		t.Errorf("no-data metric %+v", m)
	}
	if c := sum.RootGroup.Checks; len(c) != 1 || c[0].Passes != 5 || c[0].Fails != 5 {
		t.Errorf("checks %+v", c)
	}
	if g := sum.Metrics["vus"]; g.Values["value"] != 10 || g.Values["min"] != 1 || g.Values["max"] != 10 {
		t.Errorf("vus gauge %+v", g)
	}

	var out bytes.Buffer
	if err := WriteText(&out, res); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Log(text)
	for _, want := range []string{
		"✓ 'p(95)<500' p(95)=100ms",
		"✗ 'p(95)<2000' no samples",
		"http_req_duration{flow:sale}",
		"{ flow:sale }",
		"avg=55ms min=10ms med=50",
		"http_reqs",
		"15 kB",
		"checks",
		"checkout: 10 complete and 0 interrupted iterations",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary text lacks %q:\n%s", want, text)
		}
	}
}

func TestProgress(t *testing.T) {
	eng := New()
	if eng.Progress() != nil {
		t.Error("progress outside a run")
	}
	seen := make(chan []ScenarioProgress, 1)
	res := mustRun(t, eng, Plan{Scenarios: []Scenario{{
		Name: "p", Executor: PerVUIterations, VUs: 2, Iterations: 3,
		Exec: func(ctx context.Context, vu *VU) error {
			if vu.ID == 1 && vu.Iteration == 2 {
				select {
				case seen <- eng.Progress():
				default:
				}
			}
			return nil
		},
	}}})
	p := <-seen
	if len(p) != 1 || !p[0].Started || p[0].Done || p[0].TotalIterations != 6 || p[0].AllocatedVUs != 2 || p[0].ActiveVUs < 1 {
		t.Errorf("progress %+v", p)
	}
	if res.Scenarios[0].Iterations != 6 {
		t.Errorf("result %+v", res.Scenarios[0])
	}
}

// Beyond maxSeries, new tag sets fold into an overflow series: totals stay right.
func TestSeriesOverflow(t *testing.T) {
	reg := NewRegistry()
	c := newCollector(&batchPool{})
	c.maxSeries = 3
	m := reg.Get(MetricHTTPReqs)
	for i := range 100 {
		c.add(&sample{m: m, tags: NewTagSet(tag("scenario", "s"), tag("name", fmt.Sprint("/items/", i))), v: 1})
	}
	res := &Result{Duration: time.Second, MetricTypes: map[string]MetricInfo{}, TimeSeries: map[string][]Point{}}
	res.fill(reg, c)
	if len(res.Series) != 4 || !c.overflowed {
		t.Errorf("%d series, want 3 + overflow", len(res.Series))
	}
	if got := res.Metric(MetricHTTPReqs, tag("scenario", "s")).Sum; got != 100 {
		t.Errorf("total %v, want 100", got)
	}
	if got := res.Metric(MetricHTTPReqs, tag("overflow", "true")).Sum; got != 97 {
		t.Errorf("overflow %v, want 97", got)
	}
}
