package reports

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"
)

// windowGap is the longest pause between two events of a rule inside one fault window.
const windowGap = 2 * time.Second

// trendStats are the Trend values summary.json carries: avg, min, med, max, p(90),
// p(95), p(99) and count, and the run's summaryTrendStats.
func trendStats(res *loadgen.Result) []string {
	stats := []string{"avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count"}
	for _, st := range res.SummaryTrendStats {
		if !slices.Contains(stats, st) {
			stats = append(stats, st)
		}
	}
	return stats
}

// Summarize builds summary.json's document from what Load read. generatedAt and
// generator fill the fields of the same names.
func Summarize(in *Input, generatedAt time.Time, generator string) *Summary {
	s := &Summary{
		SchemaVersion: SchemaVersion,
		GeneratedAt:   generatedAt.UTC(),
		Generator:     generator,
		Thresholds:    []Threshold{},
		Metrics:       map[string]Metric{},
		Scenarios:     []Scenario{},
		Stores:        []Store{},
		Missing:       slices.Clone(in.Missing),
		Outputs:       []string{},
	}
	if s.Missing == nil {
		s.Missing = []Missing{}
	}
	s.Run = runInfo(in)
	if res := in.Result; res != nil {
		s.Thresholds = thresholds(res)
		s.Metrics = metrics(res)
		s.Scenarios = scenarios(res)
		engineKPIs(&s.KPIs, res)
	}
	if in.Invariants != nil {
		s.Invariants = invariantsSection(in.Invariants)
		k := in.Invariants.KPIs
		if l := k.SyncLatency; l != nil {
			s.KPIs.SyncLatency = &LatencyStats{Count: l.Count, MinMs: l.MinMs, P50Ms: l.P50Ms, P95Ms: l.P95Ms, P99Ms: l.P99Ms, MaxMs: l.MaxMs}
		}
		s.KPIs.StockAccuracyPct = k.StockAccuracyPct
		s.KPIs.PostingAccuracyPct = k.PostingAccuracyPct
		s.KPIs.DrainTimeMs = k.DrainTimeMs
		s.KPIs.DrainTimedOut = k.DrainTimedOut
	}
	if s.KPIs.SyncLatency == nil && len(in.SyncSamples) > 0 {
		s.KPIs.SyncLatency = latencyStats(in.SyncSamples)
	}
	if s.KPIs.DrainTimeMs == nil && in.Run != nil && in.Run.TrafficEndedAt != nil && in.Run.DrainedAt != nil {
		d := ms(in.Run.DrainedAt.Sub(*in.Run.TrafficEndedAt))
		s.KPIs.DrainTimeMs = &d
	}
	if in.Run != nil && in.Run.DrainTimedOut {
		s.KPIs.DrainTimedOut = true
	}
	if in.Stores != nil {
		s.Stores = in.Stores
	}
	if in.Faults != nil {
		s.Faults = faultsSection(in.Faults)
		n := s.Faults.Injected
		s.KPIs.FaultsInjected = &n
	}
	if in.Actions != nil {
		if s.Faults == nil {
			s.Faults = &Faults{Rules: []FaultRule{}, Windows: []FaultWindow{}}
		}
		actionWindows(s.Faults, in.Actions, in.Run)
	}
	s.Verdict = verdict(in, s)
	return s
}

func runInfo(in *Input) RunInfo {
	var ri RunInfo
	if r := in.Run; r != nil {
		ri = RunInfo{
			Name: r.Name, Scenario: r.Scenario, Seed: r.Seed, Mode: r.Mode, Segment: r.Segment,
			Connector: Connector{URL: r.Connector.URL, Version: r.Connector.Version, Image: r.Connector.Image,
				Digest: r.Connector.Digest, Bugs: r.Connector.Bugs, Reference: r.Connector.Reference},
			DoorbusterVersion: r.DoorbusterVersion,
			World:             World{Size: r.World.Size, Seed: r.World.Seed, File: r.World.File},
			TrafficStartedAt:  utcPtr(r.TrafficStartedAt), TrafficEndedAt: utcPtr(r.TrafficEndedAt),
			DrainedAt: utcPtr(r.DrainedAt), EndedAt: utcPtr(r.EndedAt),
			DrainTimedOut: r.DrainTimedOut, Stopped: r.Stopped, Error: r.Error,
		}
		if !r.StartedAt.IsZero() {
			ri.StartedAt = utcPtr(&r.StartedAt)
		}
	}
	if res := in.Result; res != nil {
		d := ms(res.Duration)
		ri.TestRunDurationMs = &d
		if ri.Stopped == "" {
			ri.Stopped = res.Stopped
		}
		if in.Run == nil {
			ri.Seed = res.Seed
			ri.StartedAt = utcPtr(&res.Start)
		}
	}
	if ri.Name == "" {
		ri.Name = runNameFromDir(in.Dir)
	}
	return ri
}

// runNameFromDir takes the scenario name from a run directory named
// <YYYYMMDD-HHMMSS>-<name>.
func runNameFromDir(dir string) string {
	base := strings.TrimRight(dir, "/")
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	if len(base) > 16 && base[8] == '-' && base[15] == '-' {
		return base[16:]
	}
	return base
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func thresholds(res *loadgen.Result) []Threshold {
	out := make([]Threshold, 0, len(res.Thresholds))
	for _, t := range res.Thresholds {
		th := Threshold{Metric: t.Key, Expression: t.Expression, OK: t.OK, NoData: t.NoData,
			Message: t.Message, AbortOnFail: t.AbortOnFail, Aborted: t.Aborted, Contains: "default"}
		if !t.NoData {
			v := t.Observed
			th.Observed = &v
		}
		if name, _, err := loadgen.ParseMetricKey(t.Key); err == nil {
			if info, ok := res.MetricTypes[name]; ok {
				th.Type, th.Contains = info.Type.String(), info.Contains.String()
			}
		}
		out = append(out, th)
	}
	return out
}

// metrics are every metric with samples, every threshold's sub-metric, and the
// per-scenario breakdown of every metric whose samples carry a scenario tag.
func metrics(res *loadgen.Result) map[string]Metric {
	stats := trendStats(res)
	out := map[string]Metric{}
	add := func(key string, snap *loadgen.MetricSnapshot) {
		if snap == nil {
			return
		}
		m := Metric{Type: snap.Type.String(), Contains: snap.Contains.String(), Values: map[string]float64{}}
		if snap.Count > 0 {
			m.Values = snap.Values(stats)
		}
		out[key] = m
	}
	for _, name := range slices.Sorted(maps.Keys(res.MetricTypes)) {
		snap := res.Metric(name)
		if snap == nil || snap.Count == 0 {
			continue
		}
		add(name, snap)
		for _, sc := range res.TagValues(name, "scenario") {
			f := loadgen.Tag{Key: "scenario", Value: sc}
			add(name+"{scenario:"+sc+"}", res.Metric(name, f))
		}
	}
	for _, t := range res.Thresholds {
		if _, ok := out[t.Key]; ok {
			continue
		}
		name, filter, err := loadgen.ParseMetricKey(t.Key)
		if err != nil {
			continue
		}
		add(t.Key, res.Metric(name, filter...))
	}
	return out
}

// agg returns an aggregation of a (sub-)metric, nil when it has no samples.
func agg(res *loadgen.Result, name, aggregation string, filter ...loadgen.Tag) *float64 {
	snap := res.Metric(name, filter...)
	if snap == nil || snap.Count == 0 {
		return nil
	}
	v, err := snap.Agg(aggregation)
	if err != nil {
		return nil
	}
	return &v
}

func engineKPIs(k *KPIs, res *loadgen.Result) {
	k.Transactions = agg(res, "pos_transactions", "count")
	k.TransactionsPerSecond = agg(res, "pos_transactions", "rate")
	k.Iterations = agg(res, loadgen.MetricIterations, "count")
	k.DroppedIterations = agg(res, "dropped_iterations", "count")
	k.CheckoutP95Ms = agg(res, "pos_checkout_duration", "p(95)")
	k.HTTPReqDurationP95Ms = agg(res, "http_req_duration", "p(95)")
	k.HTTPReqFailedRate = agg(res, "http_req_failed", "rate")
	k.ChecksRate = agg(res, loadgen.MetricChecks, "rate")
	k.MaxVUs = agg(res, loadgen.MetricVUs, "max")
}

func scenarios(res *loadgen.Result) []Scenario {
	out := make([]Scenario, 0, len(res.Scenarios))
	for _, sc := range res.Scenarios {
		f := loadgen.Tag{Key: "scenario", Value: sc.Name}
		out = append(out, Scenario{
			Name: sc.Name, Executor: string(sc.Executor), Exec: sc.Exec, DurationMs: ms(sc.Duration),
			Iterations: sc.Iterations, Interrupted: sc.Interrupted, Dropped: sc.Dropped, Errors: sc.Errors,
			MaxVUs: sc.MaxVUs, FirstError: sc.FirstError,
			Transactions:         agg(res, "pos_transactions", "count", f),
			HTTPReqs:             agg(res, "http_reqs", "count", f),
			HTTPReqFailedRate:    agg(res, "http_req_failed", "rate", f),
			HTTPReqDurationP95Ms: agg(res, "http_req_duration", "p(95)", f),
			CheckoutP95Ms:        agg(res, "pos_checkout_duration", "p(95)", f),
			ChecksRate:           agg(res, loadgen.MetricChecks, "rate", f),
		})
	}
	return out
}

func invariantsSection(r *invariants.Report) *Invariants {
	c := r.Counts
	inv := &Invariants{
		Verdict: string(r.Verdict), CheckedAt: r.CheckedAt.UTC(),
		Counts: map[string]int64{
			"journalTransactions": c.JournalTransactions, "acknowledged": c.Acknowledged,
			"rejected": c.Rejected, "unacknowledged": c.Unacknowledged, "offline": c.Offline,
			"payments": c.Payments, "stockProbes": c.StockProbes,
			"netsuitePosRecords": c.NetSuitePOSRecords, "netsuiteMatched": c.NetSuiteMatched,
			"gatewayIntents": c.GatewayIntents, "gatewayRefunds": c.GatewayRefunds,
		},
		Results: []Invariant{},
	}
	for _, x := range r.Invariants {
		ev := make([]Evidence, 0, len(x.Evidence))
		for _, e := range x.Evidence {
			ev = append(ev, Evidence{TxID: e.TxID, What: e.What, Expected: e.Expected, Actual: e.Actual, Detail: e.Detail})
		}
		inv.Results = append(inv.Results, Invariant{ID: x.ID, Statement: x.Statement, Verdict: string(x.Verdict),
			Reason: x.Reason, Note: x.Note, Violations: x.Violations, Evidence: ev, Custom: x.Custom, TookMs: x.TookMs})
		switch x.Verdict {
		case invariants.Pass:
			inv.Pass++
		case invariants.Fail:
			inv.Fail++
		case invariants.NotApplicable:
			inv.NotApplicable++
		default:
			inv.Error++
		}
	}
	return inv
}

func faultsSection(f *rundir.Faults) *Faults {
	out := &Faults{EventsLost: f.EventsLost, Rules: []FaultRule{}, Windows: faultWindows(f.Events)}
	for _, r := range f.Rules {
		out.Rules = append(out.Rules, FaultRule{Target: r.Target, Name: r.Name, Profile: r.Profile, Matched: r.Matched, Injected: r.Injected})
		if !r.Profile {
			out.Injected += r.Injected
		}
	}
	if len(f.Rules) == 0 {
		out.Injected = int64(len(f.Events))
	}
	return out
}

// faultWindows groups each rule's events into windows: events less than windowGap apart
// are one window, which ends one second after its last event (so a single event still
// shows). Windows are ordered by start, then rule.
func faultWindows(events []rundir.FaultEvent) []FaultWindow {
	type key struct{ target, rule string }
	byRule := map[key][]rundir.FaultEvent{}
	for _, e := range events {
		k := key{e.Target, e.Rule}
		byRule[k] = append(byRule[k], e)
	}
	out := []FaultWindow{}
	for k, evs := range byRule {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
		var cur *FaultWindow
		var last time.Time
		for _, e := range evs {
			if cur != nil && e.Time.Sub(last) < windowGap {
				cur.End = e.Time.Add(time.Second).UTC()
				cur.Events++
				last = e.Time
				continue
			}
			last = e.Time
			if cur != nil {
				out = append(out, *cur)
			}
			cur = &FaultWindow{Rule: k.rule, Target: k.target, Effect: e.Effect, Start: e.Time.UTC(),
				End: e.Time.Add(time.Second).UTC(), Events: 1}
		}
		if cur != nil {
			out = append(out, *cur)
		}
	}
	sortWindows(out)
	return out
}

func sortWindows(ws []FaultWindow) {
	slices.SortFunc(ws, func(a, b FaultWindow) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := strings.Compare(a.Target, b.Target); c != 0 {
			return c
		}
		return strings.Compare(a.Rule, b.Rule)
	})
}

// actionWindows adds the spans the scenario's actions impaired the system (actions.json)
// to the fault windows, as rule "action: <kind>" (connector-killed, connector-paused,
// partition); a window still open at the end of the run ends with it.
func actionWindows(f *Faults, a *rundir.Actions, run *rundir.Run) {
	for _, w := range a.Windows {
		end := w.Start.Add(time.Second)
		switch {
		case w.End != nil:
			end = *w.End
		case run != nil && run.EndedAt != nil:
			end = *run.EndedAt
		}
		f.Windows = append(f.Windows, FaultWindow{Rule: "action: " + w.Kind, Target: w.Target, Effect: w.Kind,
			Start: w.Start.UTC(), End: end.UTC(), Events: 1})
	}
	sortWindows(f.Windows)
}

// verdict decides the run's status (see Status for the order when several apply); every
// reason is listed, most severe first (the order of the checks below).
func verdict(in *Input, s *Summary) Verdict {
	v := Verdict{Reasons: []string{}, Thresholds: "unknown", Invariants: "unknown"}
	var statuses []Status
	fail := func(st Status, reason string) {
		if !slices.Contains(statuses, st) {
			statuses = append(statuses, st)
		}
		v.Reasons = append(v.Reasons, reason)
	}

	if s.Run.Error != "" {
		fail(StatusError, "the run failed: "+s.Run.Error)
	}
	switch s.Run.Stopped {
	case "graceful":
		fail(StatusInterrupted, "the traffic was interrupted before its end: the figures are partial")
	case "hard":
		fail(StatusInterrupted, "the run was aborted at once: the figures are partial")
	}

	if inv := s.Invariants; inv != nil {
		v.Invariants = "pass"
		for _, r := range inv.Results {
			switch r.Verdict {
			case "fail":
				fail(StatusInvariantsFailed, fmt.Sprintf("invariant %s failed: %s", r.ID, plural(r.Violations, "violation")))
			case "error":
				fail(StatusInvariantsFailed, fmt.Sprintf("invariant %s could not be evaluated: %s", r.ID, r.Reason))
			}
		}
		if inv.Verdict != string(invariants.Pass) && !slices.Contains(statuses, StatusInvariantsFailed) {
			fail(StatusInvariantsFailed, fmt.Sprintf("the invariant check's verdict is %q", inv.Verdict))
		}
		if slices.Contains(statuses, StatusInvariantsFailed) {
			v.Invariants = "fail"
		}
	}
	if s.KPIs.DrainTimedOut {
		// Whatever the books say, the connector did not post all it acknowledged in time.
		reason := "the connector's backlog did not drain within the drain timeout: acknowledged transactions may be unposted"
		for i := len(in.Backlog) - 1; i >= 0; i-- {
			if b := in.Backlog[i]; b.Error == "" {
				reason += fmt.Sprintf(" (%d pending, %d in flight at the last reading)", b.Pending, b.InFlight)
				break
			}
		}
		fail(StatusInvariantsFailed, reason)
	}
	if in.Result != nil {
		v.Thresholds = "none"
		if len(s.Thresholds) > 0 {
			v.Thresholds = "pass"
		}
		for _, t := range s.Thresholds {
			if t.OK {
				continue
			}
			v.Thresholds = "fail"
			msg := t.Message
			if msg == "" {
				msg = "failed"
			}
			reason := fmt.Sprintf("threshold %s '%s' failed: %s", t.Metric, t.Expression, msg)
			if t.Aborted {
				reason += " (aborted the run)"
			}
			fail(StatusThresholdsFailed, reason)
		}
	}
	if in.Result == nil {
		fail(StatusIncomplete, "metrics.json is missing or unreadable: thresholds were not evaluated")
	}
	if in.Invariants == nil {
		fail(StatusIncomplete, "invariants.json is missing or unreadable: invariants were not checked")
	}
	v.Status = StatusPass
	for _, st := range []Status{StatusError, StatusInterrupted, StatusInvariantsFailed, StatusThresholdsFailed, StatusIncomplete} {
		if slices.Contains(statuses, st) {
			v.Status = st
			break
		}
	}
	return v
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
