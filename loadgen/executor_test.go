package loadgen

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// concurrency tracks how many iterations run at once.
type concurrency struct {
	mu      sync.Mutex
	now     int
	peak    int
	byVU    map[int]int
	samples []struct {
		at time.Duration
		n  int
	}
	start time.Time
}

func newConcurrency() *concurrency {
	return &concurrency{byVU: map[int]int{}, start: time.Now()}
}

func (c *concurrency) enter(vu *VU) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now++
	c.peak = max(c.peak, c.now)
	c.byVU[vu.ID]++
	c.samples = append(c.samples, struct {
		at time.Duration
		n  int
	}{time.Since(c.start), c.now})
}

func (c *concurrency) leave() {
	c.mu.Lock()
	c.now--
	c.mu.Unlock()
}

// sleepExec sleeps d per iteration (returning early when cancelled).
func sleepExec(c *concurrency, d time.Duration) Exec {
	return func(ctx context.Context, vu *VU) error {
		if c != nil {
			c.enter(vu)
			defer c.leave()
		}
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func mustRun(t *testing.T, eng *Engine, p Plan) *Result {
	t.Helper()
	res, err := eng.Run(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func counterTotal(res *Result, name string, filter ...Tag) float64 {
	m := res.Metric(name, filter...)
	if m == nil {
		return -1
	}
	return m.Sum
}

func TestSharedIterations(t *testing.T) {
	c := newConcurrency()
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "s", Executor: SharedIterations, VUs: 3, Iterations: 20, Exec: sleepExec(c, time.Millisecond),
	}}})
	if got := counterTotal(res, MetricIterations); got != 20 {
		t.Errorf("iterations %v, want 20", got)
	}
	if res.Scenarios[0].Iterations != 20 || len(c.byVU) != 3 || c.peak > 3 {
		t.Errorf("scenario %+v, VUs used %d, peak %d", res.Scenarios[0], len(c.byVU), c.peak)
	}
	if got := res.Metric(MetricIterationDuration).Count; got != 20 {
		t.Errorf("iteration_duration samples %d", got)
	}
}

func TestPerVUIterations(t *testing.T) {
	c := newConcurrency()
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "p", Executor: PerVUIterations, VUs: 3, Iterations: 4, Exec: sleepExec(c, time.Millisecond),
	}}})
	if got := counterTotal(res, MetricIterations); got != 12 {
		t.Errorf("iterations %v, want 12", got)
	}
	for id, n := range c.byVU {
		if n != 4 {
			t.Errorf("VU %d ran %d iterations, want 4", id, n)
		}
	}
}

// maxDuration cuts the iteration executors; what was not started is dropped, what was
// running past gracefulStop is interrupted.
func TestMaxDurationDropsIterations(t *testing.T) {
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "p", Executor: PerVUIterations, VUs: 2, Iterations: 100, MaxDuration: 120 * time.Millisecond,
		GracefulStop: Ptr(10 * time.Millisecond), Exec: sleepExec(nil, 50*time.Millisecond),
	}}})
	sc := res.Scenarios[0]
	if sc.Iterations+sc.Interrupted+sc.Dropped != 200 {
		t.Errorf("complete %d + interrupted %d + dropped %d != 200", sc.Iterations, sc.Interrupted, sc.Dropped)
	}
	if sc.Interrupted != 2 || sc.Iterations < 2 || sc.Iterations > 6 {
		t.Errorf("complete %d, interrupted %d; want 2-6 and 2", sc.Iterations, sc.Interrupted)
	}
	if got := counterTotal(res, MetricDroppedIterations); got != float64(sc.Dropped) {
		t.Errorf("dropped_iterations %v, scenario says %d", got, sc.Dropped)
	}
}

func TestConstantVUs(t *testing.T) {
	c := newConcurrency()
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "c", Executor: ConstantVUs, VUs: 4, Duration: 300 * time.Millisecond, Exec: sleepExec(c, 10*time.Millisecond),
	}}})
	if c.peak != 4 || len(c.byVU) != 4 {
		t.Errorf("peak concurrency %d over %d VUs, want 4 and 4", c.peak, len(c.byVU))
	}
	if n := res.Scenarios[0].Iterations; n < 40 || n > 130 {
		t.Errorf("%d iterations in 300ms on 4 VUs of 10ms", n)
	}
	if res.Duration < 300*time.Millisecond || res.Duration > 800*time.Millisecond {
		t.Errorf("run took %v", res.Duration)
	}
}

func TestRampingVUs(t *testing.T) {
	c := newConcurrency()
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "r", Executor: RampingVUs, StartVUs: Ptr(0),
		Stages:           []Stage{{200 * time.Millisecond, 4}, {600 * time.Millisecond, 4}, {200 * time.Millisecond, 0}},
		GracefulRampDown: Ptr(time.Second),
		Exec:             sleepExec(c, 5*time.Millisecond),
	}}})
	if c.peak != 4 || len(c.byVU) != 4 {
		t.Errorf("peak %d over %d VUs, want 4", c.peak, len(c.byVU))
	}
	level := func(from, to time.Duration) (hi int) {
		for _, s := range c.samples {
			if s.at >= from && s.at < to {
				hi = max(hi, s.n)
			}
		}
		return hi
	}
	// Generous windows: a loaded CI machine delays goroutines.
	if hi := level(0, 40*time.Millisecond); hi > 1 {
		t.Errorf("first 40ms: %d VUs, want at most 1", hi)
	}
	if hi := level(300*time.Millisecond, 750*time.Millisecond); hi != 4 {
		t.Errorf("hold stage: up to %d VUs, want 4", hi)
	}
	if res.Scenarios[0].Interrupted != 0 {
		t.Errorf("%d interrupted with a long gracefulRampDown", res.Scenarios[0].Interrupted)
	}
	// Ramp-down: no VU starts an iteration once the target is 0.
	for _, s := range c.samples {
		if s.at > time.Second+100*time.Millisecond {
			t.Errorf("an iteration started at %v, after the ramp down", s.at)
			break
		}
	}
}

// A VU ramped down mid-iteration gets gracefulRampDown, then its iteration is cut.
func TestGracefulRampDown(t *testing.T) {
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "r", Executor: RampingVUs, StartVUs: Ptr(2),
		Stages:           []Stage{{50 * time.Millisecond, 2}, {0, 0}, {300 * time.Millisecond, 0}},
		GracefulRampDown: Ptr(20 * time.Millisecond),
		Exec:             sleepExec(nil, time.Second),
	}}})
	sc := res.Scenarios[0]
	if sc.Interrupted != 2 || sc.Iterations != 0 {
		t.Errorf("interrupted %d complete %d, want 2 and 0", sc.Interrupted, sc.Iterations)
	}
	if sc.Duration > 300*time.Millisecond+200*time.Millisecond {
		t.Errorf("scenario took %v", sc.Duration)
	}
}

// Arrivals are evenly spaced (intended starts exactly), independent of service time.
func TestConstantArrivalRateSpacing(t *testing.T) {
	var mu sync.Mutex
	var intended, actual []time.Time
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "a", Executor: ConstantArrivalRate, Rate: 100, TimeUnit: time.Second, Duration: 400 * time.Millisecond,
		PreAllocatedVUs: 40, // plenty: a busy CI machine may delay the dispatcher into bursts
		Exec: func(ctx context.Context, vu *VU) error {
			mu.Lock()
			intended = append(intended, vu.IntendedStart)
			actual = append(actual, vu.Start)
			mu.Unlock()
			return nil
		},
	}}})
	if len(intended) != 40 || res.Scenarios[0].Dropped != 0 {
		t.Fatalf("%d iterations, %d dropped; want 40 and 0", len(intended), res.Scenarios[0].Dropped)
	}
	slices.SortFunc(intended, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(intended); i++ {
		if d := intended[i].Sub(intended[i-1]); d != 10*time.Millisecond {
			t.Fatalf("arrivals %d and %d are %v apart, want 10ms", i-1, i, d)
		}
	}
	for i := range actual {
		if actual[i].Before(intended[0]) {
			t.Fatalf("an iteration started before the scenario")
		}
	}
	if m := res.Metric(MetricIterationLatency); m.Count != 40 {
		t.Errorf("iteration_latency has %d samples", m.Count)
	}
}

// An arrival that finds every VU busy, with none left to allocate, is dropped; arrivals
// add up to the schedule.
func TestArrivalRateDrops(t *testing.T) {
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "a", Executor: ConstantArrivalRate, Rate: 100, Duration: 300 * time.Millisecond,
		PreAllocatedVUs: 1, MaxVUs: 1, Exec: sleepExec(nil, 45*time.Millisecond),
	}}})
	sc := res.Scenarios[0]
	if sc.Iterations+sc.Dropped+sc.Interrupted != 30 {
		t.Errorf("complete %d + dropped %d + interrupted %d != 30 arrivals", sc.Iterations, sc.Dropped, sc.Interrupted)
	}
	if sc.Iterations < 4 || sc.Iterations > 8 || sc.Dropped < 20 {
		t.Errorf("complete %d dropped %d; want about 6 and 24", sc.Iterations, sc.Dropped)
	}
	if got := counterTotal(res, MetricDroppedIterations, tag("scenario", "a")); got != float64(sc.Dropped) {
		t.Errorf("dropped_iterations{scenario:a} = %v, want %d", got, sc.Dropped)
	}
	// iteration_latency >= iteration_duration for every iteration: compare maxima.
	if lat, dur := res.Metric(MetricIterationLatency), res.Metric(MetricIterationDuration); lat.Max < dur.Max {
		t.Errorf("iteration_latency max %v < iteration_duration max %v", lat.Max, dur.Max)
	}
}

// Up to maxVUs are allocated on demand instead of dropping.
func TestArrivalRateAllocatesUpToMaxVUs(t *testing.T) {
	var inits atomic.Int64
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "a", Executor: ConstantArrivalRate, Rate: 100, Duration: 300 * time.Millisecond,
		PreAllocatedVUs: 1, MaxVUs: 20, Exec: sleepExec(nil, 40*time.Millisecond),
		InitVU: func(ctx context.Context, vu *VU) error { inits.Add(1); vu.State = vu.ID; return nil },
	}}})
	sc := res.Scenarios[0]
	if sc.Dropped != 0 || sc.Iterations != 30 {
		t.Errorf("complete %d dropped %d; want 30 and 0", sc.Iterations, sc.Dropped)
	}
	if sc.MaxVUs < 4 || sc.MaxVUs > 20 || inits.Load() != int64(sc.MaxVUs) {
		t.Errorf("%d VUs allocated, %d initialised", sc.MaxVUs, inits.Load())
	}
}

// ramping-arrival-rate starts ⌊∫rate⌋ iterations.
func TestRampingArrivalRateCount(t *testing.T) {
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "r", Executor: RampingArrivalRate, StartRate: 0, TimeUnit: time.Second,
		Stages:          []Stage{{300 * time.Millisecond, 400}, {200 * time.Millisecond, 400}},
		PreAllocatedVUs: 50, Exec: noop,
	}}})
	// 0→400/s over 0.3s: 60; 400/s over 0.2s: 80.
	sc := res.Scenarios[0]
	if sc.Iterations+sc.Dropped != 140 || sc.Dropped > 5 {
		t.Errorf("complete %d dropped %d; want 140 arrivals", sc.Iterations, sc.Dropped)
	}
}

// Cancelling Run's context stops new iterations; running ones finish within gracefulStop
// and Run still returns a Result.
func TestGracefulStop(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	eng := New()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	res, err := eng.Run(ctx, Plan{Scenarios: []Scenario{{
		Name: "c", Executor: ConstantVUs, VUs: 3, Duration: 10 * time.Second, Exec: sleepExec(nil, 150*time.Millisecond),
	}}, Teardown: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("graceful stop took %v", took)
	}
	sc := res.Scenarios[0]
	if res.Stopped != "graceful" || sc.Iterations != 3 || sc.Interrupted != 0 {
		t.Errorf("stopped %q, complete %d, interrupted %d; want graceful, 3, 0", res.Stopped, sc.Iterations, sc.Interrupted)
	}

	// With a short gracefulStop, running iterations are interrupted.
	ctx2, cancel2 := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel2)
	res, err = eng.Run(ctx2, Plan{Scenarios: []Scenario{{
		Name: "c", Executor: ConstantVUs, VUs: 3, Duration: 10 * time.Second, GracefulStop: Ptr(20 * time.Millisecond),
		Exec: sleepExec(nil, 5*time.Second),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if sc := res.Scenarios[0]; sc.Interrupted != 3 || sc.Iterations != 0 {
		t.Errorf("complete %d interrupted %d; want 0 and 3", sc.Iterations, sc.Interrupted)
	}
}

// Stop(true) interrupts at once, even with a long gracefulStop, and skips Teardown.
func TestHardStop(t *testing.T) {
	eng := New()
	time.AfterFunc(80*time.Millisecond, func() { eng.Stop(false) })
	time.AfterFunc(160*time.Millisecond, func() { eng.Stop(true) })
	var tornDown atomic.Bool
	start := time.Now()
	res, err := eng.Run(t.Context(), Plan{Scenarios: []Scenario{{
		Name: "c", Executor: ConstantVUs, VUs: 2, Duration: time.Minute, Exec: sleepExec(nil, time.Minute),
	}}, Teardown: func(context.Context) error { tornDown.Store(true); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("hard stop took %v", took)
	}
	if res.Stopped != "hard" || res.Scenarios[0].Interrupted != 2 || tornDown.Load() {
		t.Errorf("stopped %q interrupted %d teardown %v", res.Stopped, res.Scenarios[0].Interrupted, tornDown.Load())
	}
}

// A threshold with abortOnFail stops the run once its delay has passed.
func TestAbortOnFail(t *testing.T) {
	eng := New(WithAbortEvalInterval(50 * time.Millisecond))
	start := time.Now()
	res := mustRun(t, eng, Plan{
		Scenarios: []Scenario{{Name: "c", Executor: ConstantVUs, VUs: 1, Duration: 10 * time.Second, Exec: sleepExec(nil, 5*time.Millisecond)}},
		Thresholds: map[string][]ThresholdSpec{
			"iterations": {{Threshold: "count<5", AbortOnFail: true, DelayAbortEval: 100 * time.Millisecond}},
		},
	})
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("abort took %v", took)
	}
	if res.Stopped != "threshold" || res.AbortReason == "" || res.Passed() || !res.Thresholds[0].Aborted {
		t.Errorf("stopped %q reason %q thresholds %+v", res.Stopped, res.AbortReason, res.Thresholds)
	}
	if res.Duration < 100*time.Millisecond {
		t.Errorf("aborted after %v, before delayAbortEval", res.Duration)
	}
}

// startTime delays a scenario; iterations, errors and panics are counted; an engine runs
// more than once.
func TestStartTimeErrorsAndReuse(t *testing.T) {
	eng := New()
	var first atomic.Int64
	boom := errors.New("boom")
	p := Plan{Scenarios: []Scenario{
		{Name: "late", Executor: SharedIterations, StartTime: 100 * time.Millisecond, Exec: func(ctx context.Context, vu *VU) error {
			first.CompareAndSwap(0, int64(time.Now().UnixNano()))
			return boom
		}},
		{Name: "panics", Executor: PerVUIterations, VUs: 1, Iterations: 2, Exec: func(context.Context, *VU) error { panic("oops") }},
	}}
	for range 2 {
		first.Store(0)
		start := time.Now()
		res := mustRun(t, eng, p)
		if d := time.Duration(first.Load() - start.UnixNano()); d < 100*time.Millisecond {
			t.Errorf("late scenario started after %v", d)
		}
		if sc := res.Scenarios[0]; sc.Errors != 1 || sc.Iterations != 1 || sc.FirstError != "boom" {
			t.Errorf("late: %+v", sc)
		}
		if sc := res.Scenarios[1]; sc.Errors != 2 {
			t.Errorf("panics: %+v", sc)
		}
	}
}

func TestInvalidScenarios(t *testing.T) {
	cases := []struct {
		name string
		s    Scenario
	}{
		{"unknown executor", Scenario{Name: "x", Executor: "constant-vu", Exec: noop}},
		{"option of another executor", Scenario{Name: "x", Executor: ConstantVUs, Duration: time.Second, Rate: 3, Exec: noop}},
		{"missing duration", Scenario{Name: "x", Executor: ConstantVUs, Exec: noop}},
		{"missing rate", Scenario{Name: "x", Executor: ConstantArrivalRate, Duration: time.Second, PreAllocatedVUs: 1, Exec: noop}},
		{"maxVUs below preAllocatedVUs", Scenario{Name: "x", Executor: ConstantArrivalRate, Rate: 1, Duration: time.Second, PreAllocatedVUs: 3, MaxVUs: 2, Exec: noop}},
		{"no stages", Scenario{Name: "x", Executor: RampingVUs, Exec: noop}},
		{"negative target", Scenario{Name: "x", Executor: RampingArrivalRate, PreAllocatedVUs: 1, Stages: []Stage{{time.Second, -1}}, Exec: noop}},
		{"no exec", Scenario{Name: "x", Executor: SharedIterations}},
		{"bad name", Scenario{Name: "a b", Executor: SharedIterations, Exec: noop}},
		{"iterations below vus", Scenario{Name: "x", Executor: SharedIterations, VUs: 5, Iterations: 2, Exec: noop}},
	}
	for _, c := range cases {
		_, err := New().Run(t.Context(), Plan{Scenarios: []Scenario{c.s}})
		if err == nil {
			t.Errorf("%s: want an error", c.name)
		}
	}
}
