package loadgen

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// VU is a virtual user: it runs a scenario's iterations one after another. A VU belongs to
// one scenario and is used by one goroutine at a time; its methods are not safe for
// concurrent use (give each goroutine you start its own work, or emit from the VU's).
type VU struct {
	ID       int    // global, 1-based, unique in the run
	Scenario string // the scenario's name
	// Iteration is this VU's iteration number in its scenario, 0-based (k6
	// exec.vu.iterationInScenario).
	Iteration int64
	// IterationInScenario is the current iteration's number among all iterations of the
	// scenario in this process, 0-based and unique (k6 exec.scenario.iterationInInstance).
	IterationInScenario int64
	// Rand is seeded from the plan's Seed and ID: the same plan draws the same numbers.
	Rand *rand.Rand
	// State is the module's per-VU state, set by Scenario.InitVU or by Exec.
	State any
	Env   map[string]string // the scenario's env
	// IntendedStart is when the current iteration was meant to start: the arrival time for
	// arrival-rate executors, the actual start otherwise. iteration_latency counts from it.
	IntendedStart time.Time
	// Start is when the current iteration actually started.
	Start time.Time

	run      *run
	sc       *scenarioRun
	mu       sync.Mutex // guards buf: HTTP bodies may be closed on other goroutines
	base     *TagSet    // scenario name and tags
	buf      []sample
	bufSince time.Time
	client   *http.Client
	lastCtx  *TagSet // one-entry cache: ctx tags → merged with base
	lastTags *TagSet
}

// HTTP returns the VU's instrumented client: every request made with it records
// http_reqs, http_req_duration, http_req_blocked, _connecting, _sending, _waiting,
// _receiving, http_req_failed (status >= 400 or a transport error), data_sent and
// data_received, tagged method, status ("0" on a transport error), name (the request
// context's "name" tag, else the URL path), scenario, and the request context's tags.
// The samples are recorded when the response body is read to EOF or closed: always close
// it.
func (vu *VU) HTTP() *http.Client { return vu.client }

// Emit records a sample of m with value (milliseconds for a time Trend), tagged with the
// scenario, its tags and ctx's tags.
func (vu *VU) Emit(ctx context.Context, m *Metric, value float64) {
	vu.emit(m, vu.tagsFor(ctx), value, time.Now())
}

// EmitDuration records d on a time Trend (in milliseconds).
func (vu *VU) EmitDuration(ctx context.Context, m *Metric, d time.Duration) {
	vu.Emit(ctx, m, float64(d)/float64(time.Millisecond))
}

// Check records ok on the checks Rate, tagged check=name, and returns ok.
func (vu *VU) Check(ctx context.Context, name string, ok bool) bool {
	v := 0.0
	if ok {
		v = 1
	}
	tags := mergeTags(vu.tagsFor(ctx), []Tag{{Key: "check", Value: name}})
	vu.emit(vu.run.builtin.checks, tags, v, time.Now())
	return ok
}

// tagsFor returns the VU's base tags merged with ctx's.
func (vu *VU) tagsFor(ctx context.Context) *TagSet {
	ct := TagsFrom(ctx)
	if ct == nil {
		return vu.base
	}
	vu.mu.Lock()
	defer vu.mu.Unlock()
	if ct == vu.lastCtx {
		return vu.lastTags
	}
	merged := mergeSets(vu.base, ct)
	vu.lastCtx, vu.lastTags = ct, merged
	return merged
}
