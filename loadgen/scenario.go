package loadgen

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Exec runs one iteration of a scenario on vu. Return promptly when ctx is done: the
// engine cancels it when gracefulStop or gracefulRampDown expires, or on a hard stop. An
// error is counted (ScenarioResult.Errors) and logged at debug level; it does not stop the
// VU (as an exception in a k6 iteration).
type Exec func(ctx context.Context, vu *VU) error

// Executor is the name of a k6 executor.
type Executor string

// The executors, with k6's names and meanings.
const (
	// SharedIterations: VUs share Iterations; each VU runs iterations as fast as it can
	// until they are all taken or MaxDuration passes. Options: VUs [1], Iterations [1],
	// MaxDuration [10m].
	SharedIterations Executor = "shared-iterations"
	// PerVUIterations: each of VUs runs Iterations iterations. Options as SharedIterations.
	PerVUIterations Executor = "per-vu-iterations"
	// ConstantVUs: VUs loop for Duration. Options: VUs [1], Duration (required).
	ConstantVUs Executor = "constant-vus"
	// RampingVUs: the number of looping VUs follows Stages, linearly from StartVUs [1].
	// VUs above a falling target finish their iteration within GracefulRampDown [30s].
	RampingVUs Executor = "ramping-vus"
	// ConstantArrivalRate: Rate iterations start per TimeUnit [1s], evenly spread, for
	// Duration, open model: an arrival that finds no free VU among PreAllocatedVUs, and
	// cannot get a new one within MaxVUs [PreAllocatedVUs], is a dropped iteration.
	ConstantArrivalRate Executor = "constant-arrival-rate"
	// RampingArrivalRate: as ConstantArrivalRate, the rate following Stages linearly from
	// StartRate [0].
	RampingArrivalRate Executor = "ramping-arrival-rate"
)

// executorNames lists the executors.
var executorNames = []Executor{SharedIterations, PerVUIterations, ConstantVUs, RampingVUs, ConstantArrivalRate, RampingArrivalRate}

// Stage is one step of a ramping executor: reach Target (VUs, or iterations per TimeUnit)
// linearly over Duration.
type Stage struct {
	Duration time.Duration `json:"duration"`
	Target   int64         `json:"target"`
}

// Defaults of the options, as k6's.
const (
	DefaultGracefulStop     = 30 * time.Second
	DefaultGracefulRampDown = 30 * time.Second
	DefaultMaxDuration      = 10 * time.Minute
	DefaultTimeUnit         = time.Second
)

// Scenario is one k6 scenario: an executor with its options and the Exec it runs. Option
// fields carry k6's names; a field that does not belong to the executor must stay zero
// (the run fails naming it, as k6 rejects unknown options). Pointer fields distinguish
// "unset" (the k6 default) from an explicit zero.
type Scenario struct {
	Name     string   // [a-zA-Z0-9_-]+, unique in the plan; tags every sample "scenario"
	Executor Executor // one of the six
	Exec     Exec     // the iteration
	// ExecName is k6's `exec` (the function's name); reported in the summary's options.
	ExecName string

	// Common options.
	StartTime    time.Duration     // delay from the start of the run [0]
	GracefulStop *time.Duration    // time running iterations get after the scenario ends [30s]
	Env          map[string]string // VU.Env
	Tags         map[string]string // added to every sample of the scenario

	// InitVU, if set, runs once for each VU the scenario allocates (at start for
	// pre-allocated VUs, on demand up to MaxVUs), before its first iteration: a module puts
	// its per-VU state in vu.State here. An error fails the run before it starts (initial
	// VUs) or drops the arrival (VUs allocated during the run).
	InitVU func(ctx context.Context, vu *VU) error

	// shared-iterations, per-vu-iterations, constant-vus.
	VUs         int           // [1]
	Iterations  int64         // [1]
	MaxDuration time.Duration // [10m]
	Duration    time.Duration // constant-vus, constant-arrival-rate (required)

	// ramping-vus, ramping-arrival-rate.
	Stages           []Stage
	StartVUs         *int           // ramping-vus [1]
	GracefulRampDown *time.Duration // ramping-vus [30s]

	// constant-arrival-rate, ramping-arrival-rate.
	Rate            int64         // iterations per TimeUnit (constant-arrival-rate, required)
	StartRate       int64         // ramping-arrival-rate [0]
	TimeUnit        time.Duration // [1s]
	PreAllocatedVUs int           // required
	MaxVUs          int           // [PreAllocatedVUs]
}

// Ptr returns a pointer to v, for the optional fields of Scenario:
// Scenario{GracefulStop: loadgen.Ptr(0 * time.Second)}.
func Ptr[T any](v T) *T { return &v }

var scenarioNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,100}$`)

// withDefaults checks the scenario's options for its executor and returns a copy with
// k6's defaults filled in.
func (s Scenario) withDefaults() (Scenario, error) {
	fail := func(format string, args ...any) (Scenario, error) {
		return s, fmt.Errorf("scenario %q (%s): %s", s.Name, s.Executor, fmt.Sprintf(format, args...))
	}
	if !scenarioNameRE.MatchString(s.Name) {
		return s, fmt.Errorf("scenario name %q: want 1-100 letters, digits, _ or -", s.Name)
	}
	known := false
	for _, e := range executorNames {
		known = known || e == s.Executor
	}
	if !known {
		return fail("unknown executor %q (want one of %v)", s.Executor, executorNames)
	}
	if s.Exec == nil {
		return fail("no exec function")
	}
	if s.StartTime < 0 {
		return fail("startTime %v is negative", s.StartTime)
	}
	if s.GracefulStop == nil {
		s.GracefulStop = Ptr(DefaultGracefulStop)
	} else if *s.GracefulStop < 0 {
		return fail("gracefulStop %v is negative", *s.GracefulStop)
	}

	// Options that do not belong to the executor must be unset.
	type opt struct {
		name string
		set  bool
	}
	opts := []opt{
		{"vus", s.VUs != 0}, {"iterations", s.Iterations != 0}, {"maxDuration", s.MaxDuration != 0},
		{"duration", s.Duration != 0}, {"stages", s.Stages != nil}, {"startVUs", s.StartVUs != nil},
		{"gracefulRampDown", s.GracefulRampDown != nil}, {"rate", s.Rate != 0}, {"startRate", s.StartRate != 0},
		{"timeUnit", s.TimeUnit != 0}, {"preAllocatedVUs", s.PreAllocatedVUs != 0}, {"maxVUs", s.MaxVUs != 0},
	}
	allowed := map[Executor][]string{
		SharedIterations:    {"vus", "iterations", "maxDuration"},
		PerVUIterations:     {"vus", "iterations", "maxDuration"},
		ConstantVUs:         {"vus", "duration"},
		RampingVUs:          {"stages", "startVUs", "gracefulRampDown"},
		ConstantArrivalRate: {"rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs"},
		RampingArrivalRate:  {"startRate", "timeUnit", "stages", "preAllocatedVUs", "maxVUs"},
	}[s.Executor]
	for _, o := range opts {
		if !o.set {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == o.name
		}
		if !ok {
			return fail("option %s is not valid for this executor (valid: %v)", o.name, allowed)
		}
	}

	switch s.Executor {
	case SharedIterations, PerVUIterations:
		if s.VUs == 0 {
			s.VUs = 1
		}
		if s.Iterations == 0 {
			s.Iterations = 1
		}
		if s.MaxDuration == 0 {
			s.MaxDuration = DefaultMaxDuration
		}
		if s.VUs < 0 || s.Iterations < 0 || s.MaxDuration < 0 {
			return fail("vus, iterations and maxDuration must be positive")
		}
		if s.Executor == SharedIterations && s.Iterations < int64(s.VUs) {
			return fail("iterations (%d) must be at least vus (%d)", s.Iterations, s.VUs)
		}
	case ConstantVUs:
		if s.VUs == 0 {
			s.VUs = 1
		}
		if s.VUs < 0 {
			return fail("vus must be positive")
		}
		if s.Duration <= 0 {
			return fail("duration is required and must be positive")
		}
	case RampingVUs:
		if s.StartVUs == nil {
			s.StartVUs = Ptr(1)
		} else if *s.StartVUs < 0 {
			return fail("startVUs must not be negative")
		}
		if s.GracefulRampDown == nil {
			s.GracefulRampDown = Ptr(DefaultGracefulRampDown)
		} else if *s.GracefulRampDown < 0 {
			return fail("gracefulRampDown must not be negative")
		}
		if err := checkStages(s.Stages); err != nil {
			return fail("%v", err)
		}
	case ConstantArrivalRate, RampingArrivalRate:
		if s.TimeUnit == 0 {
			s.TimeUnit = DefaultTimeUnit
		}
		if s.TimeUnit < 0 {
			return fail("timeUnit must be positive")
		}
		if s.PreAllocatedVUs < 0 || s.MaxVUs < 0 {
			return fail("preAllocatedVUs and maxVUs must not be negative")
		}
		if s.MaxVUs == 0 {
			s.MaxVUs = s.PreAllocatedVUs
		}
		if s.MaxVUs < s.PreAllocatedVUs {
			return fail("maxVUs (%d) must be at least preAllocatedVUs (%d)", s.MaxVUs, s.PreAllocatedVUs)
		}
		if s.MaxVUs == 0 {
			return fail("preAllocatedVUs is required")
		}
		if s.Executor == ConstantArrivalRate {
			if s.Rate <= 0 {
				return fail("rate is required and must be positive")
			}
			if s.Duration <= 0 {
				return fail("duration is required and must be positive")
			}
		} else {
			if s.StartRate < 0 {
				return fail("startRate must not be negative")
			}
			if err := checkStages(s.Stages); err != nil {
				return fail("%v", err)
			}
		}
	}
	return s, nil
}

func checkStages(stages []Stage) error {
	if len(stages) == 0 {
		return errors.New("stages are required")
	}
	var total time.Duration
	for i, st := range stages {
		if st.Duration < 0 {
			return fmt.Errorf("stages[%d].duration %v is negative", i, st.Duration)
		}
		if st.Target < 0 {
			return fmt.Errorf("stages[%d].target %d is negative", i, st.Target)
		}
		total += st.Duration
	}
	if total <= 0 {
		return errors.New("stages last no time")
	}
	return nil
}

// activeDuration is how long the scenario starts iterations (without gracefulStop);
// for the iteration executors it is MaxDuration, an upper bound.
func (s Scenario) activeDuration() time.Duration {
	switch s.Executor {
	case SharedIterations, PerVUIterations:
		return s.MaxDuration
	case ConstantVUs, ConstantArrivalRate:
		return s.Duration
	default:
		var d time.Duration
		for _, st := range s.Stages {
			d += st.Duration
		}
		return d
	}
}
