package loadgen

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Summary is k6's handleSummary data: what `k6 run --summary-export` and handleSummary(data)
// see, with the same field names.
type Summary struct {
	RootGroup SummaryGroup             `json:"root_group"`
	Options   map[string]any           `json:"options"`
	State     SummaryState             `json:"state"`
	Metrics   map[string]SummaryMetric `json:"metrics"`
}

// SummaryGroup is k6's group; the engine has only the root group.
type SummaryGroup struct {
	Name   string         `json:"name"`
	Path   string         `json:"path"`
	ID     string         `json:"id"`
	Groups []SummaryGroup `json:"groups"`
	Checks []SummaryCheck `json:"checks"`
}

// SummaryCheck is one check's tally.
type SummaryCheck struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	ID     string `json:"id"`
	Passes int64  `json:"passes"`
	Fails  int64  `json:"fails"`
}

// SummaryState is k6's state.
type SummaryState struct {
	IsStdOutTTY       bool    `json:"isStdOutTTY"`
	IsStdErrTTY       bool    `json:"isStdErrTTY"`
	TestRunDurationMs float64 `json:"testRunDurationMs"`
}

// SummaryMetric is one metric or sub-metric.
type SummaryMetric struct {
	Type       string                      `json:"type"`
	Contains   string                      `json:"contains"`
	Values     map[string]float64          `json:"values"`
	Thresholds map[string]SummaryThreshold `json:"thresholds,omitempty"`
}

// SummaryThreshold is one threshold's outcome.
type SummaryThreshold struct {
	OK bool `json:"ok"`
}

// Summary returns the k6-shaped summary of the result: every metric that received
// samples, and every (sub-)metric a threshold names (with empty values when it received
// none, and the threshold failing).
func (res *Result) Summary() *Summary {
	s := &Summary{
		RootGroup: SummaryGroup{Name: "", Path: "", ID: groupID(""), Groups: []SummaryGroup{}, Checks: []SummaryCheck{}},
		Options:   res.Options,
		State:     SummaryState{TestRunDurationMs: float64(res.Duration) / float64(time.Millisecond)},
		Metrics:   map[string]SummaryMetric{},
	}
	if s.Options == nil {
		s.Options = map[string]any{}
	}
	for _, c := range res.checkTallies() {
		s.RootGroup.Checks = append(s.RootGroup.Checks, SummaryCheck{Name: c.name, Path: "::" + c.name, ID: groupID("::" + c.name), Passes: c.passes, Fails: c.fails})
	}
	add := func(key, name string, filter []Tag) SummaryMetric {
		if m, ok := s.Metrics[key]; ok {
			return m
		}
		snap := res.Metric(name, filter...)
		sm := SummaryMetric{Type: "counter", Contains: "default", Values: map[string]float64{}}
		if snap != nil {
			sm.Type, sm.Contains = snap.Type.String(), snap.Contains.String()
			if snap.Count > 0 {
				sm.Values = snap.Values(res.SummaryTrendStats)
			}
		}
		s.Metrics[key] = sm
		return sm
	}
	for name := range res.MetricTypes {
		if snap := res.Metric(name); snap != nil && snap.Count > 0 {
			add(name, name, nil)
		}
	}
	for _, t := range res.Thresholds {
		name, filter, err := ParseMetricKey(t.Key)
		if err != nil {
			continue
		}
		key := t.Key // as written, as k6
		sm := add(key, name, filter)
		if sm.Thresholds == nil {
			sm.Thresholds = map[string]SummaryThreshold{}
		}
		sm.Thresholds[t.Expression] = SummaryThreshold{OK: t.OK}
		s.Metrics[key] = sm
	}
	return s
}

// groupID is k6's group id: the hex MD5 of the path; the engine uses a stable FNV hash.
func groupID(path string) string {
	return strconv.FormatUint(hashString(fnvOffset, path), 16)
}

type checkTally struct {
	name          string
	passes, fails int64
}

func (res *Result) checkTallies() []checkTally {
	by := map[string]*checkTally{}
	var order []string
	for _, s := range res.Series {
		if s.Metric != MetricChecks {
			continue
		}
		name := s.Tags["check"]
		c := by[name]
		if c == nil {
			c = &checkTally{name: name}
			by[name] = c
			order = append(order, name)
		}
		c.passes += s.NonZero
		c.fails += s.Count - s.NonZero
	}
	slices.Sort(order)
	out := make([]checkTally, 0, len(order))
	for _, n := range order {
		out = append(out, *by[n])
	}
	return out
}

// planOptions is the plan as k6 options, for the summary.
func planOptions(p Plan) map[string]any {
	scen := map[string]any{}
	for _, s := range p.Scenarios {
		o := map[string]any{"executor": string(s.Executor)}
		put := func(k string, set bool, v any) {
			if set {
				o[k] = v
			}
		}
		put("exec", s.ExecName != "", s.ExecName)
		put("startTime", s.StartTime != 0, s.StartTime.String())
		put("gracefulStop", s.GracefulStop != nil, durPtr(s.GracefulStop))
		put("env", len(s.Env) > 0, s.Env)
		put("tags", len(s.Tags) > 0, s.Tags)
		put("vus", s.VUs != 0, s.VUs)
		put("iterations", s.Iterations != 0, s.Iterations)
		put("maxDuration", s.MaxDuration != 0, s.MaxDuration.String())
		put("duration", s.Duration != 0, s.Duration.String())
		put("startVUs", s.StartVUs != nil, derefInt(s.StartVUs))
		put("gracefulRampDown", s.GracefulRampDown != nil, durPtr(s.GracefulRampDown))
		put("rate", s.Rate != 0, s.Rate)
		put("startRate", s.StartRate != 0, s.StartRate)
		put("timeUnit", s.TimeUnit != 0, s.TimeUnit.String())
		put("preAllocatedVUs", s.PreAllocatedVUs != 0, s.PreAllocatedVUs)
		put("maxVUs", s.MaxVUs != 0, s.MaxVUs)
		if len(s.Stages) > 0 {
			var st []map[string]any
			for _, x := range s.Stages {
				st = append(st, map[string]any{"duration": x.Duration.String(), "target": x.Target})
			}
			o["stages"] = st
		}
		scen[s.Name] = o
	}
	out := map[string]any{"scenarios": scen}
	if len(p.Thresholds) > 0 {
		out["thresholds"] = p.Thresholds
	}
	stats := p.SummaryTrendStats
	if len(stats) == 0 {
		stats = defaultSummaryTrendStats
	}
	out["summaryTrendStats"] = stats
	if !p.Segment.Whole() {
		out["segment"] = p.Segment.String()
	}
	return out
}

func durPtr(d *time.Duration) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// WriteText writes an end-of-test summary in k6's style:
//
//	█ THRESHOLDS
//
//	  http_req_duration{flow:sale}
//	  ✓ 'p(95)<500' p(95)=123.45ms
//
//	█ TOTAL RESULTS
//
//	  checks.........................: 100.00% ✓ 1234      ✗ 0
//	  http_req_duration..............: avg=12.3ms min=1.02ms med=10.1ms max=123ms p(90)=20ms p(95)=30ms
//	    { flow:sale }................: avg=...
//	  iterations.....................: 1234    41.13/s
//
//	█ SCENARIOS
//
//	  checkout: 1234 complete and 0 interrupted iterations, 0 dropped (constant-arrival-rate, 30s)
func WriteText(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	sum := res.Summary()

	if len(res.Thresholds) > 0 {
		fmt.Fprint(bw, "\n  █ THRESHOLDS\n")
		var lastKey string
		for _, t := range res.Thresholds {
			if t.Key != lastKey {
				fmt.Fprintf(bw, "\n    %s\n", t.Key)
				lastKey = t.Key
			}
			mark := "✓"
			if !t.OK {
				mark = "✗"
			}
			line := fmt.Sprintf("    %s '%s'", mark, t.Expression)
			switch {
			case t.NoData:
				line += " " + t.Message
			default:
				name, _, _ := ParseMetricKey(t.Key)
				th, err := ParseThreshold(t.Key, ThresholdSpec{Threshold: t.Expression})
				if err == nil {
					line += fmt.Sprintf(" %s=%s", th.Agg, formatValue(res.MetricTypes[name], th.Agg, t.Observed))
				} else if t.Message != "" {
					line += " " + t.Message
				}
			}
			if t.Aborted {
				line += " (aborted the run)"
			}
			fmt.Fprintln(bw, line)
		}
	}

	fmt.Fprint(bw, "\n  █ TOTAL RESULTS\n\n")
	if checks := res.checkTallies(); len(checks) > 0 {
		for _, c := range checks {
			mark := "✓"
			if c.fails > 0 {
				mark = "✗"
			}
			pct := 100 * float64(c.passes) / float64(max(c.passes+c.fails, 1))
			fmt.Fprintf(bw, "    %s %s (%.2f%% — ✓ %d / ✗ %d)\n", mark, c.name, pct, c.passes, c.fails)
		}
		fmt.Fprintln(bw)
	}
	// Metric lines, sub-metrics under their metric.
	var names []string
	for key := range sum.Metrics {
		if !strings.Contains(key, "{") {
			names = append(names, key)
		}
	}
	subs := map[string][]string{}
	for key := range sum.Metrics {
		if i := strings.IndexByte(key, '{'); i >= 0 {
			name := key[:i]
			subs[name] = append(subs[name], key)
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	const width = 40
	for _, name := range names {
		if m, ok := sum.Metrics[name]; ok {
			label := name
			fmt.Fprintf(bw, "    %s%s: %s\n", label, dots(label, width), metricLine(res, name, m))
		}
		sk := subs[name]
		slices.Sort(sk)
		for _, key := range sk {
			label := "  { " + strings.ReplaceAll(key[len(name)+1:len(key)-1], ",", ", ") + " }"
			fmt.Fprintf(bw, "    %s%s: %s\n", label, dots(label, width), metricLine(res, name, sum.Metrics[key]))
		}
	}

	if len(res.Scenarios) > 0 {
		fmt.Fprint(bw, "\n  █ SCENARIOS\n\n")
		for _, sc := range res.Scenarios {
			fmt.Fprintf(bw, "    %s: %d complete and %d interrupted iterations, %d dropped, %d errors (%s, %s, max %d VUs)\n",
				sc.Name, sc.Iterations, sc.Interrupted, sc.Dropped, sc.Errors, sc.Executor, roundDur(sc.Duration), sc.MaxVUs)
			if sc.FirstError != "" {
				fmt.Fprintf(bw, "      first error: %s\n", firstLine(sc.FirstError))
			}
		}
	}
	fmt.Fprintf(bw, "\n  test run duration: %s", roundDur(res.Duration))
	if !res.Segment.Whole() {
		fmt.Fprintf(bw, ", segment %s", res.Segment)
	}
	switch res.Stopped {
	case "graceful":
		fmt.Fprint(bw, " (stopped early)")
	case "hard":
		fmt.Fprint(bw, " (stopped at once)")
	case "threshold":
		fmt.Fprintf(bw, " (aborted: %s)", res.AbortReason)
	}
	fmt.Fprintln(bw)
	return bw.Flush()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d > time.Minute:
		return d.Round(time.Second)
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

func dots(label string, width int) string {
	n := width - len([]rune(label))
	if n < 3 {
		n = 3
	}
	return strings.Repeat(".", n)
}

func metricLine(res *Result, name string, m SummaryMetric) string {
	info := res.MetricTypes[name]
	v := m.Values
	if len(v) == 0 {
		return "no samples"
	}
	switch info.Type {
	case Counter:
		if info.Contains == Data {
			return fmt.Sprintf("%-9s %s/s", formatBytes(v["count"]), formatBytes(v["rate"]))
		}
		return fmt.Sprintf("%-9s %s/s", formatNumber(v["count"]), strconv.FormatFloat(v["rate"], 'f', 2, 64))
	case Gauge:
		return fmt.Sprintf("%-9s min=%s max=%s", formatValue(info, "value", v["value"]), formatValue(info, "min", v["min"]), formatValue(info, "max", v["max"]))
	case Rate:
		return fmt.Sprintf("%.2f%%  ✓ %-8s ✗ %s", 100*v["rate"], formatNumber(v["passes"]), formatNumber(v["fails"]))
	default:
		var parts []string
		for _, st := range res.SummaryTrendStats {
			if x, ok := v[st]; ok {
				parts = append(parts, st+"="+formatValue(info, st, x))
			}
		}
		return strings.Join(parts, " ")
	}
}

// formatValue renders an aggregation of a metric: durations for time metrics (values in
// ms), bytes for data, plain numbers otherwise.
func formatValue(info MetricInfo, agg string, v float64) string {
	if agg == "rate" && info.Type == Rate {
		return fmt.Sprintf("%.2f%%", 100*v)
	}
	if agg == "count" || agg == "rate" {
		return formatNumber(v)
	}
	switch info.Contains {
	case Time:
		return formatMs(v)
	case Data:
		return formatBytes(v)
	}
	return formatNumber(v)
}

func formatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// formatMs renders milliseconds as k6 does: 812µs, 12.34ms, 1.23s, 1m2s.
func formatMs(v float64) string {
	switch {
	case v < 1:
		return trimZeros(strconv.FormatFloat(v*1000, 'f', 2, 64)) + "µs"
	case v < 1000:
		return trimZeros(strconv.FormatFloat(v, 'f', 2, 64)) + "ms"
	case v < 60_000:
		return trimZeros(strconv.FormatFloat(v/1000, 'f', 2, 64)) + "s"
	}
	return time.Duration(v * float64(time.Millisecond)).Round(time.Second).String()
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func formatBytes(v float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + units[i]
	}
	return trimZeros(strconv.FormatFloat(v, 'f', 1, 64)) + " " + units[i]
}
