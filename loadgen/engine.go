package loadgen

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Plan is what one Run executes.
type Plan struct {
	// Seed seeds every VU's Rand (with the VU's ID).
	Seed      int64
	Scenarios []Scenario
	// Thresholds maps a metric key — a name with an optional tag filter,
	// "http_req_duration{scenario:checkout,status:200}" — to its thresholds.
	Thresholds map[string][]ThresholdSpec
	// Segment selects one slice of the work of every scenario (zero: all of it).
	Segment Segment

	// Setup runs before the scenarios, Teardown after them (also after a graceful stop,
	// not after a hard stop or a failed Setup), each bounded by its timeout [60s].
	Setup           func(ctx context.Context) error
	SetupTimeout    time.Duration
	Teardown        func(ctx context.Context) error
	TeardownTimeout time.Duration

	// SummaryTrendStats are the Trend statistics of the summary
	// [avg, min, med, max, p(90), p(95)], k6's summaryTrendStats.
	SummaryTrendStats []string
}

// Defaults of Plan and the Engine's options.
const (
	DefaultSetupTimeout      = 60 * time.Second
	DefaultAbortEvalInterval = time.Second
	DefaultHTTPTimeout       = 60 * time.Second
)

// DefaultMaxSeries bounds the (metric, tag set) series of a run (see WithMaxSeries).
const DefaultMaxSeries = 100_000

// DefaultSummaryTrendStats are k6's default summaryTrendStats.
var defaultSummaryTrendStats = []string{"avg", "min", "med", "max", "p(90)", "p(95)"}

// Engine runs plans. It can run any number of plans, one at a time.
type Engine struct {
	reg               *Registry
	log               *slog.Logger
	transport         http.RoundTripper
	httpTimeout       time.Duration
	abortEvalInterval time.Duration
	vuSampleInterval  time.Duration
	maxSeries         int

	mu      sync.Mutex
	current *run
}

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger [slog.Default()'s handler, discarding debug].
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithTransport sets the transport under the VUs' instrumented HTTP clients. The default
// is a transport of its own (keep-alive, up to 10,000 idle connections per host) whose
// dialer counts bytes exactly for data_sent and data_received; with another transport they
// are estimated from headers and bodies.
func WithTransport(rt http.RoundTripper) Option { return func(e *Engine) { e.transport = rt } }

// WithHTTPTimeout sets the VUs' HTTP client timeout [60s, as k6].
func WithHTTPTimeout(d time.Duration) Option { return func(e *Engine) { e.httpTimeout = d } }

// WithAbortEvalInterval sets how often thresholds with abortOnFail are evaluated during a
// run [1s].
func WithAbortEvalInterval(d time.Duration) Option {
	return func(e *Engine) { e.abortEvalInterval = d }
}

// WithMaxSeries bounds the number of (metric, tag set) series a run keeps [100,000, about
// 1 KB each]. Beyond it, samples with a new tag set are folded into one series per metric
// and scenario tagged overflow:true, and a warning is logged: tag requests with a "name"
// (WithTags) rather than letting ids in URL paths become tags.
func WithMaxSeries(n int) Option { return func(e *Engine) { e.maxSeries = n } }

// WithRegistry makes the engine record into reg instead of a registry of its own.
func WithRegistry(reg *Registry) Option { return func(e *Engine) { e.reg = reg } }

// New returns an engine with the options applied over the defaults above.
func New(opts ...Option) *Engine {
	e := &Engine{
		abortEvalInterval: DefaultAbortEvalInterval,
		httpTimeout:       DefaultHTTPTimeout,
		vuSampleInterval:  time.Second,
		maxSeries:         DefaultMaxSeries,
	}
	for _, o := range opts {
		o(e)
	}
	if e.reg == nil {
		e.reg = NewRegistry()
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.transport == nil {
		e.transport = newCountingTransport()
	}
	return e
}

// Metrics returns the engine's registry: register module metrics here before Run.
func (e *Engine) Metrics() *Registry { return e.reg }

// ErrRunning is returned by Run when the engine is already running a plan.
var ErrRunning = errors.New("loadgen: engine is already running a plan")

// Stop stops the current run, if any. Graceful (hard false) is the same as cancelling
// Run's context: no new iterations, running ones get their scenario's gracefulStop. Hard
// interrupts running iterations at once (their contexts are cancelled) and makes Run
// return without waiting for them longer than a moment, and without Teardown.
func (e *Engine) Stop(hard bool) {
	e.mu.Lock()
	r := e.current
	e.mu.Unlock()
	if r != nil {
		r.stop(hard)
	}
}

// Progress returns a snapshot of each scenario of the current run, in plan order, or nil
// when no run is in progress.
func (e *Engine) Progress() []ScenarioProgress {
	e.mu.Lock()
	r := e.current
	e.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.progress()
}

// Emit records a sample that does not come from a VU (a module's background poller, for
// example), tagged with tags. Outside a run it is dropped.
func (e *Engine) Emit(m *Metric, value float64, tags ...Tag) {
	e.mu.Lock()
	r := e.current
	e.mu.Unlock()
	if r != nil {
		r.emitExternal(m, NewTagSet(tags...), value, time.Now())
	}
}

// ScenarioProgress is a live snapshot of one scenario, for progress bars.
type ScenarioProgress struct {
	Name     string        `json:"name"`
	Executor Executor      `json:"executor"`
	Started  bool          `json:"started"`
	Done     bool          `json:"done"`
	Elapsed  time.Duration `json:"elapsed"`  // since the scenario started
	Duration time.Duration `json:"duration"` // planned active duration (maxDuration for iteration executors)
	// Rate is completed iterations per second over the last second or so.
	Rate float64 `json:"rate"`
	// TargetRate is the arrival-rate executors' current target in iterations per second
	// (of this segment), 0 for the others.
	TargetRate   float64 `json:"targetRate"`
	ActiveVUs    int     `json:"activeVUs"`    // VUs running an iteration or looping
	AllocatedVUs int     `json:"allocatedVUs"` // VUs initialised
	Iterations   int64   `json:"iterations"`   // completed
	Interrupted  int64   `json:"interrupted"`  // cut by gracefulStop, gracefulRampDown or a hard stop
	Dropped      int64   `json:"dropped"`
	Errors       int64   `json:"errors"` // iterations whose Exec returned an error
	// TotalIterations is the planned number for the iteration executors, else 0.
	TotalIterations int64 `json:"totalIterations"`
}
