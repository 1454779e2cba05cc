package loadgen

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// scenarioRun executes one scenario of a run (this segment's slice of it).
type scenarioRun struct {
	r    *run
	s    Scenario // defaults filled
	idx  int      // position in the plan (segment offset)
	tags *TagSet  // scenario=name plus the scenario's tags

	// This segment's slice.
	vus        int   // closed executors: VUs to run (ramping-vus: the most ever needed)
	iterations int64 // shared-iterations: iterations of the slice; per-vu-iterations: per VU
	preAlloc   int
	maxVUs     int
	steps      []vuStep // ramping-vus
	arrivals   arrivals // arrival-rate executors

	initial []*VU // VUs initialised before the start

	startedAt   atomic.Int64 // ns since run start, -1 before
	endedAt     atomic.Int64 // ns since run start, -1 before
	active      atomic.Int64
	allocated   atomic.Int64
	completed   atomic.Int64
	interrupted atomic.Int64
	dropped     atomic.Int64
	errs        atomic.Int64
	iterSeq     atomic.Int64
	firstErrMu  sync.Mutex
	firstErr    string
	rateBits    atomic.Uint64 // float64 iterations/s
	lastTick    time.Time     // housekeeper only
	lastDone    int64         // housekeeper only
}

func newScenarioRun(r *run, s Scenario, idx int) (*scenarioRun, error) {
	seg := r.plan.Segment
	tags := []Tag{{Key: "scenario", Value: s.Name}}
	for k, v := range s.Tags {
		if k == "scenario" {
			continue
		}
		tags = append(tags, Tag{Key: k, Value: v})
	}
	sr := &scenarioRun{r: r, s: s, idx: idx, tags: NewTagSet(tags...)}
	sr.startedAt.Store(-1)
	sr.endedAt.Store(-1)
	share := func(n int64) int64 { return seg.Share(n, idx) }
	switch s.Executor {
	case SharedIterations:
		sr.vus = int(share(int64(s.VUs)))
		sr.iterations = share(s.Iterations)
		if sr.vus == 0 && sr.iterations > 0 {
			return nil, fmt.Errorf("scenario %q: segment %s gets %d iterations but no VU (vus %d over %d segments): use more vus or fewer segments",
				s.Name, seg, sr.iterations, s.VUs, seg.norm().Count)
		}
	case PerVUIterations:
		sr.vus = int(share(int64(s.VUs)))
		sr.iterations = s.Iterations
	case ConstantVUs:
		sr.vus = int(share(int64(s.VUs)))
	case RampingVUs:
		sr.steps = rampingVUsSteps(int64(*s.StartVUs), s.Stages)
		most := int64(*s.StartVUs)
		for _, st := range s.Stages {
			most = max(most, st.Target)
		}
		sr.vus = int(share(most))
	case ConstantArrivalRate, RampingArrivalRate:
		sr.preAlloc = int(share(int64(s.PreAllocatedVUs)))
		sr.maxVUs = int(share(int64(s.MaxVUs)))
		if s.Executor == ConstantArrivalRate {
			sr.arrivals = constantArrivals{rate: s.Rate, timeUnit: s.TimeUnit, duration: s.Duration}
		} else {
			sr.arrivals = newRampingArrivals(s.StartRate, s.TimeUnit, s.Stages)
		}
		if sr.maxVUs == 0 && share(sr.arrivals.total()) > 0 {
			return nil, fmt.Errorf("scenario %q: segment %s gets arrivals but no VU (maxVUs %d over %d segments): use more VUs or fewer segments",
				s.Name, seg, s.MaxVUs, seg.norm().Count)
		}
	}
	return sr, nil
}

func (sr *scenarioRun) initialVUs() int {
	if sr.arrivals != nil {
		return sr.preAlloc
	}
	return sr.vus
}

// initVUs makes and initialises the VUs the scenario needs from its start.
func (sr *scenarioRun) initVUs(ctx context.Context) error {
	n := sr.initialVUs()
	for range n {
		vu, err := sr.allocVU(ctx)
		if err != nil {
			return err
		}
		sr.initial = append(sr.initial, vu)
	}
	return nil
}

func (sr *scenarioRun) allocVU(ctx context.Context) (*VU, error) {
	vu := sr.r.newVU(sr)
	if sr.s.InitVU != nil {
		err := callSafely(func() error { return sr.s.InitVU(ctx, vu) })
		vu.flush()
		if err != nil {
			return nil, fmt.Errorf("init VU %d: %w", vu.ID, err)
		}
	}
	sr.allocated.Add(1)
	return vu, nil
}

// iterate runs one iteration on vu under ctx; intended is its planned start (zero: now).
func (sr *scenarioRun) iterate(vu *VU, ctx context.Context, intended time.Time) {
	start := time.Now()
	if intended.IsZero() {
		intended = start
	}
	vu.IntendedStart, vu.Start = intended, start
	vu.IterationInScenario = sr.iterSeq.Add(1) - 1
	err := callSafely(func() error { return sr.s.Exec(ctx, vu) })
	end := time.Now()
	if ctx.Err() != nil {
		sr.interrupted.Add(1)
	} else {
		sr.completed.Add(1)
		b := sr.r.builtin
		vu.emit(b.iterations, sr.tags, 1, end)
		vu.emit(b.iterDuration, sr.tags, ms(end.Sub(start)), end)
		vu.emit(b.iterLatency, sr.tags, ms(end.Sub(intended)), end)
		if err != nil {
			sr.errs.Add(1)
			sr.firstErrMu.Lock()
			if sr.firstErr == "" {
				sr.firstErr = err.Error()
				sr.r.e.log.Debug("loadgen: iteration failed", "scenario", sr.s.Name, "vu", vu.ID, "err", err)
			}
			sr.firstErrMu.Unlock()
		}
	}
	vu.Iteration++
	vu.flush()
}

// drop records n dropped iterations.
func (sr *scenarioRun) drop(n int64) {
	if n <= 0 {
		return
	}
	sr.dropped.Add(n)
	sr.r.emitExternal(sr.r.builtin.dropped, sr.tags, float64(n), time.Now())
}

// sleepUntil waits until t or ctx is done; false if ctx is done.
func sleepUntil(ctx context.Context, timer *time.Timer, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer.Reset(d)
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		timer.Stop()
		return false
	}
}

// execute runs the scenario from its startTime to its end (with gracefulStop).
func (sr *scenarioRun) execute() {
	r := sr.r
	defer func() { sr.endedAt.Store(r.since()) }()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	if !sleepUntil(r.graceful, timer, r.begin.Add(sr.s.StartTime)) {
		return
	}
	begin := time.Now()
	sr.startedAt.Store(int64(begin.Sub(r.start)))

	// stopNew: no new iterations. iterCtx: running iterations, cut gracefulStop later.
	stopNew, cancelNew := context.WithDeadline(r.graceful, begin.Add(sr.s.activeDuration()))
	defer cancelNew()
	iterCtx, cancelIter := context.WithCancel(r.hard)
	defer cancelIter()
	var graceTimer atomic.Pointer[time.Timer]
	stopGrace := context.AfterFunc(stopNew, func() {
		graceTimer.Store(time.AfterFunc(*sr.s.GracefulStop, cancelIter))
	})
	defer func() {
		stopGrace()
		if t := graceTimer.Load(); t != nil {
			t.Stop()
		}
	}()

	switch sr.s.Executor {
	case SharedIterations:
		sr.runShared(stopNew, iterCtx)
	case PerVUIterations:
		sr.runPerVU(stopNew, iterCtx)
	case ConstantVUs:
		sr.runConstantVUs(stopNew, iterCtx)
	case RampingVUs:
		sr.runRampingVUs(begin, stopNew, iterCtx)
	default:
		sr.runArrivals(begin, stopNew, iterCtx)
	}
}

func (sr *scenarioRun) runShared(stopNew, iterCtx context.Context) {
	var remaining atomic.Int64
	remaining.Store(sr.iterations)
	var wg sync.WaitGroup
	for _, vu := range sr.initial {
		wg.Go(func() {
			sr.active.Add(1)
			defer sr.active.Add(-1)
			for stopNew.Err() == nil && remaining.Add(-1) >= 0 {
				sr.iterate(vu, iterCtx, time.Time{})
			}
		})
	}
	wg.Wait()
	sr.drop(max(remaining.Load(), 0))
}

func (sr *scenarioRun) runPerVU(stopNew, iterCtx context.Context) {
	var wg sync.WaitGroup
	for _, vu := range sr.initial {
		wg.Go(func() {
			sr.active.Add(1)
			defer sr.active.Add(-1)
			var i int64
			for ; i < sr.iterations && stopNew.Err() == nil; i++ {
				sr.iterate(vu, iterCtx, time.Time{})
			}
			sr.drop(sr.iterations - i)
		})
	}
	wg.Wait()
}

func (sr *scenarioRun) runConstantVUs(stopNew, iterCtx context.Context) {
	var wg sync.WaitGroup
	for _, vu := range sr.initial {
		wg.Go(func() {
			sr.active.Add(1)
			defer sr.active.Add(-1)
			for stopNew.Err() == nil {
				sr.iterate(vu, iterCtx, time.Time{})
			}
		})
	}
	wg.Wait()
}

// rampVU is a ramping-vus VU's activation state.
type rampVU struct {
	vu     *VU
	mu     sync.Mutex
	on     bool
	wake   chan struct{}
	cancel context.CancelFunc // the running iteration's, or nil
	timer  *time.Timer        // gracefulRampDown
}

func (sr *scenarioRun) runRampingVUs(begin time.Time, stopNew, iterCtx context.Context) {
	seg, rampDown := sr.r.plan.Segment, *sr.s.GracefulRampDown
	vus := make([]*rampVU, len(sr.initial))
	for i, vu := range sr.initial {
		vus[i] = &rampVU{vu: vu, wake: make(chan struct{}, 1)}
	}
	setTarget := func(global int64) {
		n := int(seg.Share(global, sr.idx))
		for i, rv := range vus {
			rv.mu.Lock()
			switch want := i < n; {
			case want && !rv.on:
				rv.on = true
				if rv.timer != nil {
					rv.timer.Stop()
					rv.timer = nil
				}
				select {
				case rv.wake <- struct{}{}:
				default:
				}
			case !want && rv.on:
				rv.on = false
				if rv.cancel != nil {
					rv.timer = time.AfterFunc(rampDown, rv.cancel)
				}
			}
			rv.mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for _, rv := range vus {
		wg.Go(func() {
			for {
				rv.mu.Lock()
				on := rv.on
				rv.mu.Unlock()
				if !on {
					select {
					case <-rv.wake:
						continue
					case <-stopNew.Done():
						return
					}
				}
				if stopNew.Err() != nil {
					return
				}
				ctx, cancel := context.WithCancel(iterCtx)
				rv.mu.Lock()
				if !rv.on { // switched off meanwhile
					rv.mu.Unlock()
					cancel()
					continue
				}
				rv.cancel = cancel
				rv.mu.Unlock()
				sr.active.Add(1)
				sr.iterate(rv.vu, ctx, time.Time{})
				sr.active.Add(-1)
				rv.mu.Lock()
				rv.cancel = nil
				if rv.timer != nil {
					rv.timer.Stop()
					rv.timer = nil
				}
				rv.mu.Unlock()
				cancel()
			}
		})
	}
	setTarget(int64(*sr.s.StartVUs))
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for _, st := range sr.steps {
		if !sleepUntil(stopNew, timer, begin.Add(st.At)) {
			break
		}
		setTarget(st.VUs)
	}
	<-stopNew.Done()
	wg.Wait()
}

// arrivalVU is a VU of an arrival-rate scenario with its own goroutine.
type arrivalVU struct {
	vu   *VU
	jobs chan time.Time // the intended start of the next iteration
}

func (sr *scenarioRun) runArrivals(begin time.Time, stopNew, iterCtx context.Context) {
	seg := sr.r.plan.Segment.norm()
	n := int64(seg.Count)
	free := make(chan *arrivalVU, sr.maxVUs) // VUs waiting for work
	var wg sync.WaitGroup
	var all []*arrivalVU
	serve := func(a *arrivalVU) {
		for t := range a.jobs {
			sr.active.Add(1)
			sr.iterate(a.vu, iterCtx, t)
			sr.active.Add(-1)
			free <- a
		}
	}
	start := func(vu *VU) *arrivalVU {
		a := &arrivalVU{vu: vu, jobs: make(chan time.Time, 1)}
		all = append(all, a)
		wg.Go(func() { serve(a) })
		return a
	}
	for _, vu := range sr.initial {
		free <- start(vu)
	}
	// VUs allocated during the run come back through newVUs with their first job.
	type allocated struct {
		vu    *VU
		first time.Time
	}
	newVUs := make(chan allocated, sr.maxVUs)
	var allocWG sync.WaitGroup
	nAlloc := len(sr.initial)
	var pending int64
	lastDrop := time.Now()
	flushDrops := func() {
		sr.drop(pending)
		pending = 0
		lastDrop = time.Now()
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// The first arrival this segment owns: k ≡ Index-1-offset (mod n).
	k := ((int64(seg.Index-1)-int64(sr.idx))%n + n) % n
	for ; ; k += n {
		at, ok := sr.arrivals.at(k)
		if !ok {
			break
		}
		intended := begin.Add(at)
		// The schedule bounds the arrivals; only a stop of the run ends them early (an
		// arrival due exactly at the end still starts).
		if !sleepUntil(sr.r.graceful, timer, intended) {
			break
		}
		for len(newVUs) > 0 { // adopt VUs allocated meanwhile
			nv := <-newVUs
			start(nv.vu).jobs <- nv.first
		}
		select {
		case a := <-free:
			a.jobs <- intended
			continue
		default:
		}
		if nAlloc < sr.maxVUs {
			nAlloc++
			allocWG.Go(func() {
				vu, err := sr.allocVU(stopNew)
				if err != nil {
					sr.r.e.log.Warn("loadgen: cannot allocate a VU; arrival dropped", "scenario", sr.s.Name, "err", err)
					sr.drop(1)
					return
				}
				newVUs <- allocated{vu, intended}
			})
			continue
		}
		pending++
		if pending >= 64 || time.Since(lastDrop) > 100*time.Millisecond {
			flushDrops()
		}
	}
	flushDrops()
	<-stopNew.Done() // k6 keeps the scenario for its whole duration
	allocWG.Wait()
	close(newVUs)
	for nv := range newVUs {
		if sr.r.graceful.Err() != nil { // stopped early: no new iterations
			sr.drop(1)
			continue
		}
		start(nv.vu).jobs <- nv.first
	}
	for _, a := range all {
		close(a.jobs)
	}
	wg.Wait()
}

func (sr *scenarioRun) updateRate(now time.Time) {
	done := sr.completed.Load()
	if !sr.lastTick.IsZero() {
		if dt := now.Sub(sr.lastTick).Seconds(); dt > 0 {
			sr.rateBits.Store(math.Float64bits(float64(done-sr.lastDone) / dt))
		}
	}
	sr.lastTick, sr.lastDone = now, done
}

func (sr *scenarioRun) progress() ScenarioProgress {
	p := ScenarioProgress{
		Name: sr.s.Name, Executor: sr.s.Executor, Duration: sr.s.activeDuration(),
		ActiveVUs: int(sr.active.Load()), AllocatedVUs: int(sr.allocated.Load()),
		Iterations: sr.completed.Load(), Interrupted: sr.interrupted.Load(),
		Dropped: sr.dropped.Load(), Errors: sr.errs.Load(),
		Rate: math.Float64frombits(sr.rateBits.Load()),
	}
	switch sr.s.Executor {
	case SharedIterations:
		p.TotalIterations = sr.iterations
	case PerVUIterations:
		p.TotalIterations = sr.iterations * int64(sr.vus)
	}
	started, ended := sr.startedAt.Load(), sr.endedAt.Load()
	p.Started = started >= 0
	p.Done = ended >= 0
	switch {
	case p.Done && p.Started:
		p.Elapsed = time.Duration(ended - started)
	case p.Started:
		p.Elapsed = time.Duration(sr.r.since() - started)
		if sr.arrivals != nil {
			p.TargetRate = sr.arrivals.rateAt(p.Elapsed) / float64(sr.r.plan.Segment.norm().Count)
		}
	}
	if p.Done {
		p.Rate = 0
	}
	return p
}

func (sr *scenarioRun) result() ScenarioResult {
	p := sr.progress()
	sr.firstErrMu.Lock()
	defer sr.firstErrMu.Unlock()
	return ScenarioResult{
		Name: sr.s.Name, Executor: sr.s.Executor, Exec: sr.s.ExecName, Duration: p.Elapsed,
		Iterations: p.Iterations, Interrupted: p.Interrupted, Dropped: p.Dropped,
		Errors: p.Errors, MaxVUs: p.AllocatedVUs, FirstError: sr.firstErr,
	}
}
