package faults

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Engine applies the fault rules of one simulator. It is safe for concurrent use.
type Engine struct {
	target Target
	now    func() time.Time
	log    *slog.Logger
	limit  int

	mu       sync.Mutex
	rng      *rand.Rand // guarded by mu: draws happen in request order
	started  time.Time
	rules    []*ruleState
	events   []Event
	seq      int64
	injected *prometheus.CounterVec
}

// ruleState is a rule with its counters.
type ruleState struct {
	Rule
	matched  int64
	injected int64
}

// RuleStatus is a rule with how many requests it matched (in its window) and how many it hit.
type RuleStatus struct {
	Rule
	Matched  int64
	Injected int64
}

// Event is one injected fault, as GET /_sim/events returns it.
type Event struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Rule   string    `json:"rule"`
	Target Target    `json:"target"`
	Effect string    `json:"effect"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the engine's clock (default time.Now); windows and event times use it.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithLogger sets where injected faults are logged (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithEventLimit sets how many recent events the engine keeps for Events (default 10000).
func WithEventLimit(n int) Option { return func(e *Engine) { e.limit = max(1, n) } }

const defaultEventLimit = 10000

// MetricName is the Prometheus counter of injected faults, labelled target, rule and effect.
const MetricName = "doorbuster_faults_injected_total"

// New returns an engine for target with no rules, its random source seeded with seed and its
// clock started now. It panics if target is neither NetSuite nor Gateway.
func New(target Target, seed int64, opts ...Option) *Engine {
	if !target.valid() {
		panic(fmt.Sprintf("faults.New: unknown target %q", target))
	}
	e := &Engine{
		target: target,
		now:    time.Now,
		log:    slog.Default(),
		limit:  defaultEventLimit,
		rng:    rand.New(rand.NewSource(seed)),
		injected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricName,
			Help: "Faults injected into the simulators, by target, rule and effect.",
		}, []string{"target", "rule", "effect"}),
	}
	for _, o := range opts {
		o(e)
	}
	e.started = e.now()
	return e
}

// Target returns the simulator the engine serves.
func (e *Engine) Target() Target { return e.target }

// MustRegisterMetrics registers the injected-faults counter with reg. Engines of both
// simulators may register with the same registry: they then share one counter.
func (e *Engine) MustRegisterMetrics(reg prometheus.Registerer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := reg.Register(e.injected); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				e.injected = existing
				return
			}
		}
		panic(fmt.Sprintf("faults: register metrics: %v", err))
	}
}

// StartClock restarts the engine's clock: rule windows count from now. It returns the time.
func (e *Engine) StartClock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.started = e.now()
	return e.started
}

// ClockStart returns when the engine's clock was last started.
func (e *Engine) ClockStart() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.started
}

// Replace validates rules and, if all are good, makes them the engine's rules (counts start
// from zero). The error, a *RulesError, names every bad field.
func (e *Engine) Replace(rules []Rule) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.check(rules, nil); err != nil {
		return err
	}
	e.rules = states(rules)
	return nil
}

// Append validates rules and, if all are good, adds them after the engine's rules.
func (e *Engine) Append(rules ...Rule) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.check(rules, e.rules); err != nil {
		return err
	}
	e.rules = append(e.rules, states(rules)...)
	return nil
}

// Clear removes every rule.
func (e *Engine) Clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rules = nil
}

// Rules returns the engine's rules with their counts.
func (e *Engine) Rules() []RuleStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]RuleStatus, len(e.rules))
	for i, r := range e.rules {
		out[i] = RuleStatus{Rule: r.Rule, Matched: r.matched, Injected: r.injected}
	}
	return out
}

// Events returns the kept events with a sequence number above afterSeq, oldest first.
func (e *Engine) Events(afterSeq int64) []Event {
	return e.filterEvents(func(ev *Event) bool { return ev.Seq > afterSeq })
}

// EventsSince returns the kept events at or after t, oldest first.
func (e *Engine) EventsSince(t time.Time) []Event {
	return e.filterEvents(func(ev *Event) bool { return !ev.Time.Before(t) })
}

func (e *Engine) filterEvents(keep func(*Event) bool) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	evs := e.events
	if len(evs) > e.limit {
		evs = evs[len(evs)-e.limit:]
	}
	out := []Event{}
	for i := range evs {
		if keep(&evs[i]) {
			out = append(out, evs[i])
		}
	}
	return out
}

// check validates rules for this engine; existing are rules already installed (for names).
func (e *Engine) check(rules []Rule, existing []*ruleState) error {
	var errs []FieldError
	names := make(map[string]bool, len(existing)+len(rules))
	for _, r := range existing {
		names[r.Name] = true
	}
	for i := range rules {
		prefix := fmt.Sprintf("rules[%d]", i)
		errs = append(errs, rules[i].validate(prefix)...)
		if r := rules[i]; r.Target.valid() && r.Target != e.target {
			errs = append(errs, FieldError{Path: prefix + ".target", Msg: fmt.Sprintf("this is the %s simulator; the rule targets %s", e.target, r.Target)})
		}
		if n := rules[i].Name; n != "" {
			if names[n] {
				errs = append(errs, FieldError{Path: prefix + ".name", Msg: fmt.Sprintf("%q is already used by another rule", n)})
			}
			names[n] = true
		}
	}
	if len(errs) > 0 {
		return &RulesError{Fields: errs}
	}
	return nil
}

func states(rules []Rule) []*ruleState {
	out := make([]*ruleState, len(rules))
	for i, r := range rules {
		out[i] = &ruleState{Rule: r}
	}
	return out
}

// step is one effect to apply to a request.
type step struct {
	rule   *ruleState
	effect Effect
}

// plan decides, under the lock and in request order, which effects hit r: every matching
// rule in its window draws against its probability; latencies hit and evaluation goes on,
// any other effect hits and ends it.
func (e *Engine) plan(r *http.Request) []step {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.rules) == 0 {
		return nil
	}
	elapsed := e.now().Sub(e.started)
	var steps []step
	for _, rs := range e.rules {
		if !rs.Window.contains(elapsed) || !rs.Match.matches(r) {
			continue
		}
		rs.matched++
		if p := rs.probability(); p < 1 && e.rng.Float64() >= p {
			continue
		}
		eff := rs.Effect
		if d, ok := eff.(drawer); ok {
			eff = d.draw(e.rng)
		}
		steps = append(steps, step{rs, eff})
		if _, ok := eff.(passer); !ok {
			break
		}
	}
	return steps
}

// record counts, logs and keeps an event for an effect about to be applied; a quiet
// rule's hit is counted and logged at debug level only.
func (e *Engine) record(s step, r *http.Request) {
	e.mu.Lock()
	s.rule.injected++
	if s.rule.Quiet {
		counter := e.injected
		e.mu.Unlock()
		counter.WithLabelValues(string(e.target), s.rule.Name, s.effect.Name()).Inc()
		e.log.Debug("fault injected", "target", e.target, "rule", s.rule.Name, "effect", s.effect.Name(), "method", r.Method, "path", r.URL.Path)
		return
	}
	e.seq++
	ev := Event{Seq: e.seq, Time: e.now(), Rule: s.rule.Name, Target: e.target, Effect: s.effect.Name(), Method: r.Method, Path: r.URL.Path}
	if len(e.events) >= 2*e.limit {
		e.events = append(e.events[:0], e.events[len(e.events)-e.limit:]...)
	}
	e.events = append(e.events, ev)
	counter := e.injected
	e.mu.Unlock()
	counter.WithLabelValues(string(e.target), ev.Rule, ev.Effect).Inc()
	e.log.Info("fault injected", "seq", ev.Seq, "target", ev.Target, "rule", ev.Rule, "effect", ev.Effect, "method", ev.Method, "path", ev.Path)
}

// Serve applies the faults that hit r. next runs the simulator's handler writing to the given
// writer; Serve calls it at most once (not at all if an effect answers instead).
func (e *Engine) Serve(w http.ResponseWriter, r *http.Request, next func(http.ResponseWriter)) {
	steps := e.plan(r)
	run := next
	for i := len(steps) - 1; i >= 0; i-- {
		s, inner := steps[i], run
		run = func(w http.ResponseWriter) {
			e.record(s, r)
			s.effect.Apply(&Exchange{W: w, R: r, Target: e.target, Rule: s.rule.Name, Log: e.log, next: inner})
		}
	}
	run(w)
}

// Wrap returns h behind the engine, for plain net/http servers. Paths under /_sim/ and
// /metrics pass untouched.
func (e *Engine) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if exempt(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		e.Serve(w, r, func(w http.ResponseWriter) { h.ServeHTTP(w, r) })
	})
}

// exempt reports whether a path is never faulted: the admin API (so an outage can be cleared)
// and metrics.
func exempt(p string) bool {
	return p == "/metrics" || p == "/_sim" || len(p) >= 6 && p[:6] == "/_sim/"
}
