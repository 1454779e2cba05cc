package scenarios

import (
	"encoding/json"
	"slices"
	"time"
)

// commonOptions are the keys every scenario may have.
var commonOptions = []string{"executor", "exec", "startTime", "gracefulStop", "env", "tags", "options"}

// ExecutorOptions returns the k6 options an executor accepts beyond the common ones
// (executor, exec, startTime, gracefulStop, env, tags, options) and, of those, the ones it
// requires. It returns nil, nil for an unknown executor.
func ExecutorOptions(e Executor) (accepted, required []string) {
	switch e {
	case SharedIterations, PerVUIterations:
		return []string{"vus", "iterations", "maxDuration"}, nil
	case ConstantVUs:
		return []string{"vus", "duration"}, []string{"duration"}
	case RampingVUs:
		return []string{"startVUs", "stages", "gracefulRampDown"}, []string{"stages"}
	case ConstantArrivalRate:
		return []string{"rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs"},
			[]string{"rate", "duration", "preAllocatedVUs"}
	case RampingArrivalRate:
		return []string{"startRate", "timeUnit", "stages", "preAllocatedVUs", "maxVUs"},
			[]string{"stages", "preAllocatedVUs"}
	}
	return nil, nil
}

// MarshalJSON writes the common options and exactly the options of the scenario's executor,
// so a marshalled File loads again unchanged.
func (s Scenario) MarshalJSON() ([]byte, error) {
	type plain Scenario
	b, err := json.Marshal(plain(s))
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	accepted, _ := ExecutorOptions(s.Executor)
	for k := range m {
		if !slices.Contains(commonOptions, k) && !slices.Contains(accepted, k) {
			delete(m, k)
		}
	}
	return json.Marshal(m)
}

// Span returns how long the scenario's executor runs, from its startTime: duration for
// constant-vus and constant-arrival-rate, the stages' total for the ramping executors, and
// maxDuration (an upper bound) for the iteration executors. gracefulStop is not included.
func (s *Scenario) Span() time.Duration {
	switch s.Executor {
	case ConstantVUs, ConstantArrivalRate:
		return s.Duration.Std()
	case RampingVUs, RampingArrivalRate:
		var d time.Duration
		for _, st := range s.Stages {
			d += st.Duration.Std()
		}
		return d
	case SharedIterations, PerVUIterations:
		return s.MaxDuration.Std()
	}
	return 0
}

// TrafficDuration returns when the last scenario ends: the largest startTime + Span. It is
// the length of the traffic, drain excluded.
func (f *File) TrafficDuration() time.Duration {
	var end time.Duration
	for _, s := range f.Scenarios {
		end = max(end, s.StartTime.Std()+s.Span())
	}
	return end
}
