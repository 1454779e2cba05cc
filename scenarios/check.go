package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits mirrored from the fault engine's own validation, so a file it would refuse is
// refused here first, with a line and column.
const (
	maxLatency    = time.Hour
	maxHold       = time.Hour
	maxRetryAfter = 24 * time.Hour
	minDuration   = time.Second // k6: scenario durations must be at least 1s
)

// check runs the semantic checks on a decoded, defaulted file.
func check(f *File, t *tree, ps *problems, o *options) {
	has := func(tokens ...string) bool { _, ok := t.lookup(tokens...); return ok }

	if f.Fixtures.Size != "" && f.Fixtures.File != "" {
		ps.add([]string{"fixtures", "file"}, true, "give fixtures.size or fixtures.file, not both (a world file has its own size)")
	}
	checkLatency(ps, []string{"netsuite", "latency", "recordWrite"}, f.NetSuite.Latency.RecordWrite)
	checkLatency(ps, []string{"netsuite", "latency", "recordRead"}, f.NetSuite.Latency.RecordRead)
	checkLatency(ps, []string{"netsuite", "latency", "suiteql"}, f.NetSuite.Latency.SuiteQL)
	checkLatency(ps, []string{"gateway", "latency", "authorize"}, f.Gateway.Latency.Authorize)
	checkLatency(ps, []string{"gateway", "latency", "capture"}, f.Gateway.Latency.Capture)
	checkLatency(ps, []string{"gateway", "latency", "refund"}, f.Gateway.Latency.Refund)

	for _, name := range f.order {
		checkScenario(f.Scenarios[name], t, ps)
	}

	if f.Drain.Timeout <= 0 {
		ps.add([]string{"drain", "timeout"}, false, "expected a positive duration, got %s", f.Drain.Timeout)
	}
	if f.Drain.PollInterval <= 0 {
		ps.add([]string{"drain", "pollInterval"}, false, "expected a positive duration, got %s", f.Drain.PollInterval)
	} else if f.Drain.Timeout > 0 && f.Drain.PollInterval > f.Drain.Timeout {
		ps.add([]string{"drain", "pollInterval"}, false, "expected at most the drain timeout (%s), got %s", f.Drain.Timeout, f.Drain.PollInterval)
	}

	checkFaults(f, ps, has)
	checkActions(f, ps, has)
	checkThresholds(f, ps, o)
	checkInvariants(f, ps)
	if c := f.Certification; c != nil && has("certification", "duration") && c.Duration <= 0 {
		ps.add([]string{"certification", "duration"}, false, "expected a positive duration, got %s", c.Duration)
	}
}

func checkScenario(s *Scenario, t *tree, ps *problems) {
	at := func(opt ...string) []string { return append([]string{"scenarios", s.Name}, opt...) }
	raw, _ := t.lookup(at()...)
	keys, _ := raw.(map[string]any)
	accepted, required := ExecutorOptions(s.Executor)
	for _, k := range t.order[pointer(at()...)] {
		if _, ok := keys[k]; !ok || slices.Contains(commonOptions, k) || slices.Contains(accepted, k) {
			continue
		}
		var users []string
		for _, e := range []Executor{SharedIterations, PerVUIterations, ConstantVUs, RampingVUs, ConstantArrivalRate, RampingArrivalRate} {
			if a, _ := ExecutorOptions(e); slices.Contains(a, k) {
				users = append(users, string(e))
			}
		}
		ps.add(at(k), true, "option not valid for executor %s (it takes %s; %s is for %s)",
			s.Executor, strings.Join(accepted, ", "), k, strings.Join(users, ", "))
	}
	for _, r := range required {
		if _, ok := keys[r]; !ok {
			ps.add(at(), true, "executor %s needs %q", s.Executor, r)
		}
	}
	set := func(k string) bool { _, ok := keys[k]; return ok }
	atLeast := func(opt string, d Duration, min time.Duration) {
		if set(opt) && d.Std() < min {
			ps.add(at(opt), false, "the %s should be at least %s, got %s", opt, Duration(min), d)
		}
	}
	positive := func(opt string, d Duration) {
		if set(opt) && d <= 0 {
			ps.add(at(opt), false, "expected a positive duration, got %s", d)
		}
	}
	switch s.Executor {
	case SharedIterations:
		if s.Iterations < s.VUs {
			ps.add(at("iterations"), false, "the number of iterations (%d) can't be less than the number of VUs (%d)", s.Iterations, s.VUs)
		}
		atLeast("maxDuration", s.MaxDuration, minDuration)
	case PerVUIterations:
		atLeast("maxDuration", s.MaxDuration, minDuration)
	case ConstantVUs:
		atLeast("duration", s.Duration, minDuration)
	case RampingVUs:
		checkStages(s, at, ps)
		if s.StartVUs == 0 && !slices.ContainsFunc(s.Stages, func(st Stage) bool { return st.Target > 0 }) {
			ps.add(at("stages"), false, "either startVUs or one of the stages' target should be greater than 0")
		}
	case ConstantArrivalRate, RampingArrivalRate:
		if s.Executor == ConstantArrivalRate {
			atLeast("duration", s.Duration, minDuration)
		} else {
			checkStages(s, at, ps)
			if s.StartRate == 0 && !slices.ContainsFunc(s.Stages, func(st Stage) bool { return st.Target > 0 }) {
				ps.add(at("stages"), false, "either startRate or one of the stages' target should be greater than 0")
			}
		}
		positive("timeUnit", s.TimeUnit)
		if set("maxVUs") && s.MaxVUs < s.PreAllocatedVUs {
			ps.add(at("maxVUs"), false, "maxVUs (%d) can't be less than preAllocatedVUs (%d)", s.MaxVUs, s.PreAllocatedVUs)
		}
		if set("preAllocatedVUs") && s.PreAllocatedVUs == 0 && s.MaxVUs == 0 {
			ps.add(at("preAllocatedVUs"), false, "no VUs to run iterations: give preAllocatedVUs or maxVUs more than 0")
		}
	}
	checkFlowOptions(s, at, ps)
}

func checkStages(s *Scenario, at func(...string) []string, ps *problems) {
	var total time.Duration
	for _, st := range s.Stages {
		total += st.Duration.Std()
	}
	if len(s.Stages) > 0 && total <= 0 {
		ps.add(at("stages"), false, "the stages add up to 0s: give at least one stage a duration")
	}
}

func checkFlowOptions(s *Scenario, at func(...string) []string, ps *problems) {
	o := s.Options
	if tn := o.Tenders; tn != nil {
		if sum := tn.Card + tn.Cash + tn.GiftCard + tn.Split; math.Abs(sum-1) > 1e-6 {
			ps.add(at("options", "tenders"), false, "tender fractions must add up to 1, got %s", strconv.FormatFloat(sum, 'g', 6, 64))
		}
	}
	if b := o.BasketSize; b != nil && b.Max > 0 && b.Mean > float64(b.Max) {
		ps.add(at("options", "basketSize", "max"), false, "expected at least the mean (%g), got %d", b.Mean, b.Max)
	}
	if h := o.HotItems; h != nil && h.Count == 0 && h.Share > 0 {
		ps.add(at("options", "hotItems"), false, "a share of %g needs a count of at least 1", h.Share)
	}
	if d := o.OfflineDuration; d != nil && *d <= 0 {
		ps.add(at("options", "offlineDuration"), false, "expected a positive duration, got %s", *d)
	}
}

// checkLatency checks a latency spec as the fault engine does: exactly one distribution,
// bounds in order, at most 1h.
func checkLatency(ps *problems, at []string, l *Latency) {
	if l == nil {
		return
	}
	var kinds []string
	if l.Delay != 0 {
		kinds = append(kinds, "delay")
	}
	if l.Lower != 0 || l.Upper != 0 {
		kinds = append(kinds, "lower/upper")
	}
	if l.Median != 0 || l.Sigma != 0 || l.Max != 0 {
		kinds = append(kinds, "median/sigma/max")
	}
	if len(kinds) != 1 {
		got := "none set above zero"
		if len(kinds) > 1 {
			got = strings.Join(kinds, " and ")
		}
		ps.add(at, false, "expected exactly one of delay (fixed), lower/upper (uniform) or median/sigma/max (lognormal), got %s", got)
		return
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"delay", l.Delay}, {"lower", l.Lower}, {"upper", l.Upper}, {"median", l.Median}, {"max", l.Max}} {
		if d.v.Std() > maxLatency {
			ps.add(append(slices.Clone(at), d.key), false, "expected at most %s, got %s", Duration(maxLatency), d.v)
		}
	}
	switch l.Kind() {
	case "uniform":
		if l.Upper <= l.Lower {
			ps.add(append(slices.Clone(at), "upper"), false, "expected more than lower (%s), got %s", l.Lower, l.Upper)
		}
	case "lognormal":
		if l.Median <= 0 {
			ps.add(at, false, "a lognormal latency needs a median above 0")
		} else if l.Max != 0 && l.Max < l.Median {
			ps.add(append(slices.Clone(at), "max"), false, "expected at least the median (%s), got %s", l.Median, l.Max)
		}
	}
}

func checkFaults(f *File, ps *problems, has func(...string) bool) {
	names := map[string]int{}
	end := f.TrafficDuration() + f.Drain.Timeout.Std()
	for i, r := range f.Faults {
		at := func(k ...string) []string { return append([]string{"faults", strconv.Itoa(i)}, k...) }
		if j, dup := names[r.Name]; dup {
			ps.add(at("name"), false, "rule name %q is already used by faults[%d]", r.Name, j)
		} else {
			names[r.Name] = i
		}
		if r.Match.RecordType != "" && r.Target != "netsuite" {
			ps.add(at("match", "recordType"), true, "recordType only applies to target netsuite")
		}
		if p := r.Match.Path; p != "" {
			if err := checkGlob(p); err != nil {
				ps.add(at("match", "path"), false, "%v", err)
			}
		}
		eff := at("effect", r.Effect)
		switch r.Effect {
		case "latency":
			var l Latency
			if err := json.Unmarshal(r.EffectParams, &l); err == nil {
				checkLatency(ps, eff, &l)
			}
		case "timeout", "slowBody":
			var p struct {
				Duration Duration `json:"duration"`
			}
			if err := json.Unmarshal(r.EffectParams, &p); err == nil && (p.Duration <= 0 || p.Duration.Std() > maxHold) {
				ps.add(append(eff, "duration"), false, "expected a positive duration of at most %s, got %s", Duration(maxHold), p.Duration)
			}
		case "throttle":
			var p struct {
				RetryAfter Duration `json:"retryAfter"`
			}
			if err := json.Unmarshal(r.EffectParams, &p); err == nil && p.RetryAfter.Std() > maxRetryAfter {
				ps.add(append(eff, "retryAfter"), false, "expected at most %s, got %s", Duration(maxRetryAfter), p.RetryAfter)
			}
		case "outage":
			if has(at("probability")...) && r.Probability != 1 {
				ps.add(at("probability"), false, "an outage hits every matching request in its window; leave probability out")
			}
		}
		if w := r.Window; w != nil {
			if has(at("window", "duration")...) && w.Duration <= 0 {
				ps.add(at("window", "duration"), false, "expected a positive duration (leave it out for a window open until the end), got %s", w.Duration)
			}
			if w.Start.Std() >= end {
				ps.add(at("window", "start"), false, "the window opens at %s, after the run ends (traffic %s + drain timeout %s)",
					w.Start, Duration(f.TrafficDuration()), f.Drain.Timeout)
			}
		}
	}
}

// checkGlob checks a path glob as the fault engine reads it: path.Match syntax per segment,
// "**" only as a whole segment.
func checkGlob(pattern string) error {
	segs := strings.Split(pattern, "/")
	if len(segs) > 64 {
		return fmt.Errorf("expected at most 64 path segments, got %d", len(segs))
	}
	for _, s := range segs {
		if s == "**" {
			continue
		}
		if strings.Contains(s, "**") {
			return fmt.Errorf("** must be a whole path segment, got %q", s)
		}
		if _, err := path.Match(s, ""); err != nil {
			return fmt.Errorf("bad glob segment %q", s)
		}
	}
	return nil
}

func checkThresholds(f *File, ps *problems, o *options) {
	for key, list := range f.Thresholds {
		metric, err := checkThresholdKey(key)
		if err != nil {
			ps.add([]string{"thresholds", key}, true, "%v", err)
			continue
		}
		for i, th := range list {
			at := []string{"thresholds", key, strconv.Itoa(i)}
			if v, _ := ps.t.lookup(at...); isMapping(v) {
				at = append(at, "threshold") // the object form: point at its expression
			}
			if err := checkThresholdExpr(metric, th.Expr); err != nil {
				ps.add(at, false, "%v", err)
				continue
			}
			if o.checkThreshold != nil {
				if err := o.checkThreshold(key, th.Expr); err != nil {
					ps.add(at, false, "%v", err)
				}
			}
		}
	}
}

func checkInvariants(f *File, ps *problems) {
	builtin := BuiltinInvariants()
	seen := map[string]int{}
	for i, c := range f.Invariants.Custom {
		at := func(k string) []string { return []string{"invariants", "custom", strconv.Itoa(i), k} }
		switch j, dup := seen[c.ID]; {
		case dup:
			ps.add(at("id"), false, "invariant id %q is already used by invariants.custom[%d]", c.ID, j)
		case slices.Contains(builtin, c.ID):
			ps.add(at("id"), false, "%q is a built-in invariant; give the custom one another id", c.ID)
		default:
			seen[c.ID] = i
		}
		q := strings.ToLower(strings.TrimSpace(c.SQL))
		if !strings.HasPrefix(q, "--") && !strings.HasPrefix(q, "/*") &&
			!strings.HasPrefix(q, "select") && !strings.HasPrefix(q, "with") {
			ps.add(at("sql"), false, "expected a SELECT (or WITH … SELECT) query returning the violating rows")
		}
	}
}

func isMapping(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}
