package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// builtins are the built-in metrics of a run.
type builtins struct {
	vus, vusMax, iterations, iterDuration, iterLatency, dropped, checks *Metric
	httpReqs, httpDuration, httpBlocked, httpConnecting, httpTLS, httpSending, httpWaiting,
	httpReceiving, httpFailed, dataSent, dataReceived *Metric
}

func lookupBuiltins(reg *Registry) builtins {
	g := func(name string) *Metric {
		m := reg.Get(name)
		if m == nil { // a registry not made by NewRegistry
			panic("loadgen: registry lacks built-in metric " + name)
		}
		return m
	}
	return builtins{
		vus: g(MetricVUs), vusMax: g(MetricVUsMax), iterations: g(MetricIterations),
		iterDuration: g(MetricIterationDuration), iterLatency: g(MetricIterationLatency),
		dropped: g(MetricDroppedIterations), checks: g(MetricChecks),
		httpReqs: g(MetricHTTPReqs), httpDuration: g(MetricHTTPReqDuration),
		httpBlocked: g(MetricHTTPReqBlocked), httpConnecting: g(MetricHTTPReqConnecting), httpTLS: g(MetricHTTPReqTLS),
		httpSending: g(MetricHTTPReqSending), httpWaiting: g(MetricHTTPReqWaiting),
		httpReceiving: g(MetricHTTPReqReceiving), httpFailed: g(MetricHTTPReqFailed),
		dataSent: g(MetricDataSent), dataReceived: g(MetricDataReceived),
	}
}

// run is one execution of a plan.
type run struct {
	e          *Engine
	plan       Plan
	thresholds []*Threshold
	builtin    builtins
	pool       batchPool
	col        *collector
	start      time.Time // samples' times count from here (before Setup)
	begin      time.Time // the scenarios' startTime counts from here (after Setup)

	graceful   context.Context // done: start no new iterations
	stopGrace  context.CancelCauseFunc
	hard       context.Context // done: interrupt everything
	stopHard   context.CancelFunc
	stopMu     sync.Mutex
	stopReason string
	abortMsg   string

	nextVUID  atomic.Int64
	scenarios []*scenarioRun
}

type stopCause struct{ reason string }

func (s stopCause) Error() string { return "loadgen: run stopped: " + s.reason }

func (r *run) stopWith(reason string, hard bool) {
	r.stopMu.Lock()
	if r.stopReason == "" || (hard && r.stopReason != "hard") {
		if r.stopReason == "" || hard {
			r.stopReason = reason
		}
	}
	r.stopMu.Unlock()
	r.stopGrace(stopCause{reason})
	if hard {
		r.stopHard()
	}
}

func (r *run) stop(hard bool) {
	if hard {
		r.stopWith("hard", true)
		return
	}
	r.stopWith("graceful", false)
}

func (r *run) since() int64 { return int64(time.Since(r.start)) }

func (r *run) emitExternal(m *Metric, tags *TagSet, v float64, _ time.Time) {
	b := r.pool.get()
	b = append(b, sample{m: m, tags: tags, v: v, t: r.since()})
	r.col.send(b)
}

// Run executes the plan and returns what it measured. Cancelling ctx stops the run
// gracefully (no new iterations; running ones get their scenario's gracefulStop; Teardown
// runs) and Run still returns the Result; Stop(true) stops it at once. The error is for a
// plan that cannot run (invalid options or thresholds, a failing Setup or InitVU) or a
// failing Teardown (then with the Result); failed thresholds are in Result.Thresholds, not
// an error.
func (e *Engine) Run(ctx context.Context, p Plan) (*Result, error) {
	r, err := e.prepare(ctx, p)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.current != nil {
		e.mu.Unlock()
		r.stopHard()
		return nil, ErrRunning
	}
	e.current = r
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.current = nil
		e.mu.Unlock()
		r.stopHard()
	}()
	return r.execute(ctx)
}

func (e *Engine) prepare(ctx context.Context, p Plan) (*run, error) {
	if len(p.Scenarios) == 0 {
		return nil, errors.New("loadgen: plan has no scenarios")
	}
	if err := p.Segment.validate(); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	if p.SetupTimeout <= 0 {
		p.SetupTimeout = DefaultSetupTimeout
	}
	if p.TeardownTimeout <= 0 {
		p.TeardownTimeout = DefaultSetupTimeout
	}
	if len(p.SummaryTrendStats) == 0 {
		p.SummaryTrendStats = defaultSummaryTrendStats
	}
	for _, st := range p.SummaryTrendStats {
		if _, ok := parsePercentileAgg(st); !ok && st != "avg" && st != "min" && st != "med" && st != "max" && st != "count" {
			return nil, fmt.Errorf("loadgen: summary trend stat %q: want avg, min, med, max, count or p(N)", st)
		}
	}
	ths, err := ParseThresholds(p.Thresholds)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	for _, t := range ths {
		if m := e.reg.Get(t.Metric); m != nil {
			if err := t.validFor(m.Type); err != nil {
				return nil, fmt.Errorf("loadgen: %w", err)
			}
		}
	}
	r := &run{e: e, plan: p, thresholds: ths, builtin: lookupBuiltins(e.reg)}
	// The collector exists before the run is current, so an Engine.Emit racing the
	// start finds it (its samples wait in the channel until the loop starts).
	r.col = newCollector(&r.pool)
	if e.maxSeries > 0 {
		r.col.maxSeries = e.maxSeries
	}
	r.start = time.Now()
	r.hard, r.stopHard = context.WithCancel(context.WithoutCancel(ctx))
	r.graceful, r.stopGrace = context.WithCancelCause(r.hard)
	seen := map[string]bool{}
	for i, s := range p.Scenarios {
		s, err := s.withDefaults()
		if err != nil {
			return nil, fmt.Errorf("loadgen: %w", err)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("loadgen: scenario name %q used twice", s.Name)
		}
		seen[s.Name] = true
		sr, err := newScenarioRun(r, s, i)
		if err != nil {
			return nil, fmt.Errorf("loadgen: %w", err)
		}
		r.scenarios = append(r.scenarios, sr)
	}
	return r, nil
}

func (r *run) execute(ctx context.Context) (*Result, error) {
	p := r.plan
	stopWatch := context.AfterFunc(ctx, func() { r.stopWith("graceful", false) })
	defer stopWatch()

	go r.col.loop()
	finishCollector := sync.OnceFunc(func() { close(r.col.finish); <-r.col.done })
	defer finishCollector()

	if p.Setup != nil {
		sctx, cancel := context.WithTimeout(r.graceful, p.SetupTimeout)
		err := callSafely(func() error { return p.Setup(sctx) })
		cancel()
		if err != nil {
			return nil, fmt.Errorf("loadgen: setup: %w", err)
		}
	}
	// Initialise the VUs every scenario needs from the start (k6 does it before the run).
	for _, sr := range r.scenarios {
		if err := sr.initVUs(r.graceful); err != nil {
			return nil, fmt.Errorf("loadgen: scenario %q: %w", sr.s.Name, err)
		}
	}

	r.begin = time.Now()
	var wg sync.WaitGroup
	for _, sr := range r.scenarios {
		wg.Go(func() { sr.execute() })
	}
	houseDone := make(chan struct{})
	houseStopped := make(chan struct{})
	go func() { defer close(houseStopped); r.housekeep(houseDone) }()

	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-r.hard.Done():
		// Hard stop: iterations were cancelled; give them a moment, then leave them.
		select {
		case <-finished:
		case <-time.After(500 * time.Millisecond):
			r.e.log.Warn("loadgen: hard stop: some iterations did not return in time; abandoning them")
		}
	}
	end := time.Now()
	close(houseDone)
	<-houseStopped
	r.sampleVUs()

	var teardownErr error
	if p.Teardown != nil && r.hard.Err() == nil {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.TeardownTimeout)
		context.AfterFunc(r.hard, cancel)
		teardownErr = callSafely(func() error { return p.Teardown(tctx) })
		cancel()
	}
	finishCollector()
	if r.col.overflowed {
		r.e.log.Warn("loadgen: too many distinct tag sets; some samples were folded into overflow:true series", "maxSeries", r.col.maxSeries)
	}
	res := r.result(end)
	if teardownErr != nil {
		return res, fmt.Errorf("loadgen: teardown: %w", teardownErr)
	}
	return res, nil
}

// callSafely calls f, turning a panic into an error.
func callSafely(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	return f()
}

// housekeep samples vus and vus_max, closes timeline seconds, computes progress rates and
// evaluates abortOnFail thresholds, about every second, until done is closed.
func (r *run) housekeep(done <-chan struct{}) {
	interval := min(r.e.abortEvalInterval, r.e.vuSampleInterval)
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	lastVU := time.Now()
	lastAbort := time.Now()
	r.sampleVUs()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			for _, sr := range r.scenarios {
				sr.updateRate(now)
			}
			if now.Sub(lastVU) >= r.e.vuSampleInterval-interval/2 {
				lastVU = now
				r.sampleVUs()
			}
			since := r.since()
			r.col.do(func(c *collector) { c.tick(since) })
			if now.Sub(lastAbort) >= r.e.abortEvalInterval-interval/2 {
				lastAbort = now
				r.evalAbort(now.Sub(r.start))
			}
		}
	}
}

func (r *run) sampleVUs() {
	var active, alloc int64
	for _, sr := range r.scenarios {
		active += sr.active.Load()
		alloc += sr.allocated.Load()
	}
	b := r.pool.get()
	t := r.since()
	empty := NewTagSet()
	b = append(b, sample{m: r.builtin.vus, tags: empty, v: float64(active), t: t},
		sample{m: r.builtin.vusMax, tags: empty, v: float64(alloc), t: t})
	r.col.send(b)
}

// evalAbort evaluates the abortOnFail thresholds whose delay has passed; a failure stops
// the run gracefully. A threshold without data yet is not a failure here.
func (r *run) evalAbort(elapsed time.Duration) {
	var due []*Threshold
	for _, t := range r.thresholds {
		if t.AbortOnFail && elapsed >= t.DelayAbortEval {
			due = append(due, t)
		}
	}
	if len(due) == 0 || r.graceful.Err() != nil {
		return
	}
	var failed []ThresholdResult
	r.col.do(func(c *collector) {
		for _, t := range due {
			snap := c.snapshot(t.Metric, t.Filter, elapsed)
			res := evaluate(t, snap)
			if !res.OK && !res.NoData {
				failed = append(failed, res)
			}
		}
	})
	if len(failed) > 0 {
		r.stopMu.Lock()
		if r.abortMsg == "" {
			r.abortMsg = fmt.Sprintf("threshold %s %q failed: %s", failed[0].Key, failed[0].Expression, failed[0].Message)
		}
		r.stopMu.Unlock()
		r.e.log.Warn("loadgen: aborting the run: threshold failed", "threshold", failed[0].Key+" "+failed[0].Expression, "why", failed[0].Message)
		r.stopWith("threshold", false)
	}
}

// snapshot aggregates the live series of metric name matching filter.
func (c *collector) snapshot(name string, filter []Tag, d time.Duration) *MetricSnapshot {
	var snap *MetricSnapshot
	for _, s := range c.all() {
		if s.m.Name != name || !s.tags.Contains(filter) {
			continue
		}
		if snap == nil {
			snap = &MetricSnapshot{Name: name, Type: s.m.Type, Contains: s.m.Contains, Filter: filter, Duration: d}
		}
		snap.addSeries(s.count, s.sum, s.min, s.max, s.last, s.lastT, s.nonZero, s.hist)
	}
	return snap
}

func (r *run) progress() []ScenarioProgress {
	out := make([]ScenarioProgress, len(r.scenarios))
	for i, sr := range r.scenarios {
		out[i] = sr.progress()
	}
	return out
}

// newVU makes a VU of scenario sr (not yet initialised by InitVU).
func (r *run) newVU(sr *scenarioRun) *VU {
	id := r.nextVUID.Add(1)
	vu := &VU{
		ID:       int(id),
		Scenario: sr.s.Name,
		Rand:     rand.New(rand.NewPCG(uint64(r.plan.Seed), uint64(id))),
		Env:      sr.s.Env,
		run:      r,
		sc:       sr,
		base:     sr.tags,
	}
	vu.client = &http.Client{Transport: &vuTransport{vu: vu, base: r.e.transport}, Timeout: r.e.httpTimeout}
	return vu
}

// emit buffers a sample; the buffer goes to the collector when full, after each
// iteration, and after InitVU.
func (vu *VU) emit(m *Metric, tags *TagSet, v float64, at time.Time) {
	if m == nil {
		return
	}
	t := int64(at.Sub(vu.run.start))
	vu.mu.Lock()
	if vu.buf == nil {
		vu.buf = vu.run.pool.get()
	}
	vu.buf = append(vu.buf, sample{m: m, tags: tags, v: v, t: t})
	var full []sample
	if len(vu.buf) >= batchCap {
		full, vu.buf = vu.buf, nil
	}
	vu.mu.Unlock()
	if full != nil {
		vu.run.col.send(full)
	}
}

func (vu *VU) flush() {
	vu.mu.Lock()
	b := vu.buf
	vu.buf = nil
	vu.mu.Unlock()
	if len(b) > 0 {
		vu.run.col.send(b)
	} else if b != nil {
		vu.run.pool.put(b)
	}
}

// msSince is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
