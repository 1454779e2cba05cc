package harness

import (
	"fmt"

	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/scenarios"
)

// checkThreshold is the scenario loader's extra threshold check: the engine's own parser,
// so that an expression the engine would refuse is reported at its line and column.
func checkThreshold(metric, expr string) error {
	_, err := loadgen.ParseThreshold(metric, loadgen.ThresholdSpec{Threshold: expr})
	return err
}

// thresholds maps the scenario's thresholds to the engine's. Thresholds on
// MetricSyncLatency lose abortOnFail: the metric is measured after the drain, so the run
// cannot be stopped on it.
func thresholds(f *scenarios.File) map[string][]loadgen.ThresholdSpec {
	if len(f.Thresholds) == 0 {
		return nil
	}
	out := make(map[string][]loadgen.ThresholdSpec, len(f.Thresholds))
	for key, ts := range f.Thresholds {
		afterDrain := thresholdMetric(key) == MetricSyncLatency
		for _, t := range ts {
			spec := loadgen.ThresholdSpec{Threshold: t.Expr, AbortOnFail: t.AbortOnFail, DelayAbortEval: t.DelayAbortEval.Std()}
			if afterDrain {
				spec.AbortOnFail, spec.DelayAbortEval = false, 0
			}
			out[key] = append(out[key], spec)
		}
	}
	return out
}

// engineScenario maps a scenario's k6 options one to one onto the engine's, setting only
// the options of its executor (the engine refuses the others, as k6).
func engineScenario(s *scenarios.Scenario) (loadgen.Scenario, error) {
	out := loadgen.Scenario{
		Name:         s.Name,
		Executor:     loadgen.Executor(s.Executor),
		ExecName:     string(s.Exec),
		StartTime:    s.StartTime.Std(),
		GracefulStop: loadgen.Ptr(s.GracefulStop.Std()),
		Env:          s.Env,
		Tags:         s.Tags,
	}
	switch s.Executor {
	case scenarios.SharedIterations, scenarios.PerVUIterations:
		out.VUs, out.Iterations, out.MaxDuration = s.VUs, int64(s.Iterations), s.MaxDuration.Std()
	case scenarios.ConstantVUs:
		out.VUs, out.Duration = s.VUs, s.Duration.Std()
	case scenarios.RampingVUs:
		out.StartVUs = loadgen.Ptr(s.StartVUs)
		out.GracefulRampDown = loadgen.Ptr(s.GracefulRampDown.Std())
		out.Stages = stages(s.Stages)
	case scenarios.ConstantArrivalRate:
		out.Rate, out.TimeUnit, out.Duration = int64(s.Rate), s.TimeUnit.Std(), s.Duration.Std()
		out.PreAllocatedVUs, out.MaxVUs = s.PreAllocatedVUs, s.MaxVUs
	case scenarios.RampingArrivalRate:
		out.StartRate, out.TimeUnit, out.Stages = int64(s.StartRate), s.TimeUnit.Std(), stages(s.Stages)
		out.PreAllocatedVUs, out.MaxVUs = s.PreAllocatedVUs, s.MaxVUs
	default:
		return out, fmt.Errorf("scenario %s: unknown executor %q", s.Name, s.Executor)
	}
	return out, nil
}

func stages(ss []scenarios.Stage) []loadgen.Stage {
	out := make([]loadgen.Stage, len(ss))
	for i, s := range ss {
		out[i] = loadgen.Stage{Duration: s.Duration.Std(), Target: int64(s.Target)}
	}
	return out
}

// buildPlan makes the engine's plan: one engine scenario per scenario of the file, in
// file order, running the traffic module's flow.
func buildPlan(f *scenarios.File, tr Traffic, seg loadgen.Segment) (loadgen.Plan, error) {
	p := loadgen.Plan{Seed: f.Seed, Thresholds: thresholds(f), Segment: seg}
	for _, name := range f.ScenarioNames() {
		s := f.Scenarios[name]
		es, err := engineScenario(s)
		if err != nil {
			return p, err
		}
		exec, initVU, err := tr.Exec(string(s.Exec), s.Options)
		if err != nil {
			return p, fmt.Errorf("scenario %s: exec %s: %w", name, s.Exec, err)
		}
		es.Exec, es.InitVU = exec, initVU
		p.Scenarios = append(p.Scenarios, es)
	}
	return p, nil
}
