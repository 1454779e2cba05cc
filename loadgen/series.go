package loadgen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// SeriesSnapshot is the aggregate of one (metric, tag set) over a run. Hist holds a Trend's
// HDR histogram (values ×1000: µs for time Trends) in the standard V2 compressed encoding.
type SeriesSnapshot struct {
	Metric  string            `json:"metric"`
	Tags    map[string]string `json:"tags"`
	Count   int64             `json:"count"`
	Sum     float64           `json:"sum"`
	Min     float64           `json:"min"`
	Max     float64           `json:"max"`
	Last    float64           `json:"last"`
	LastT   int64             `json:"lastT"` // ns from the start of the run to the last sample
	NonZero int64             `json:"nonZero"`
	Hist    []byte            `json:"hist,omitempty"`

	hist *hdrhistogram.PackedHistogram
}

// Contains reports whether the series carries every tag of filter.
func (s *SeriesSnapshot) Contains(filter []Tag) bool {
	for _, f := range filter {
		if v, ok := s.Tags[f.Key]; !ok || v != f.Value {
			return false
		}
	}
	return true
}

func (s *SeriesSnapshot) key() string {
	keys := slices.Sorted(maps.Keys(s.Tags))
	var b strings.Builder
	b.WriteString(s.Metric)
	for _, k := range keys {
		b.WriteByte('\x00')
		b.WriteString(k)
		b.WriteByte('\x01')
		b.WriteString(s.Tags[k])
	}
	return b.String()
}

// histogram returns the decoded histogram (nil for non-Trends).
func (s *SeriesSnapshot) histogram() (*hdrhistogram.PackedHistogram, error) {
	if s.hist != nil || len(s.Hist) == 0 {
		return s.hist, nil
	}
	h, err := hdrhistogram.DecodePacked(s.Hist)
	if err != nil {
		return nil, fmt.Errorf("series %s%v: histogram: %w", s.Metric, s.Tags, err)
	}
	s.hist = h
	return h, nil
}

func snapshotSeries(s *series) *SeriesSnapshot {
	tags := make(map[string]string, s.tags.Len())
	for _, t := range s.tags.tags {
		tags[t.Key] = t.Value
	}
	ss := &SeriesSnapshot{Metric: s.m.Name, Tags: tags, Count: s.count, Sum: s.sum, Min: s.min,
		Max: s.max, Last: s.last, LastT: s.lastT, NonZero: s.nonZero}
	if s.hist != nil {
		ss.hist = s.hist
		if b, err := s.hist.Encode(); err == nil {
			ss.Hist = b
		}
	}
	return ss
}

// result builds the Result once the collector is done.
func (r *run) result(end time.Time) *Result {
	res := &Result{
		Start: r.start, End: end, Duration: end.Sub(r.start), Seed: r.plan.Seed,
		Segment: r.plan.Segment, ThresholdSpecs: r.plan.Thresholds,
		MetricTypes: map[string]MetricInfo{}, TimeSeries: map[string][]Point{},
		SummaryTrendStats: r.plan.SummaryTrendStats, Options: planOptions(r.plan),
	}
	r.stopMu.Lock()
	res.Stopped, res.AbortReason = r.stopReason, r.abortMsg
	r.stopMu.Unlock()
	for _, sr := range r.scenarios {
		res.Scenarios = append(res.Scenarios, sr.result())
	}
	res.fill(r.e.reg, r.col) // the collector is done: safe to read
	if res.Stopped == "threshold" {
		for i := range res.Thresholds {
			t := &res.Thresholds[i]
			if t.AbortOnFail && !t.OK && !t.NoData {
				t.Aborted = true
			}
		}
	}
	return res
}

// fill takes the metrics, series and time series of a finished collector and evaluates
// the thresholds.
func (res *Result) fill(reg *Registry, c *collector) {
	for _, m := range reg.All() {
		res.MetricTypes[m.Name] = MetricInfo{Type: m.Type, Contains: m.Contains}
	}
	for _, s := range c.all() {
		// A metric from another registry (a module's own) still describes its samples.
		if _, ok := res.MetricTypes[s.m.Name]; !ok {
			res.MetricTypes[s.m.Name] = MetricInfo{Type: s.m.Type, Contains: s.m.Contains}
		}
		res.Series = append(res.Series, snapshotSeries(s))
	}
	sortSeries(res.Series)
	for m, tl := range c.lines {
		tl.closeBefore(1 << 62)
		res.TimeSeries[m.Name] = tl.points
	}
	res.Thresholds = res.evaluateThresholds()
}

func sortSeries(ss []*SeriesSnapshot) {
	keys := make(map[*SeriesSnapshot]string, len(ss))
	for _, s := range ss {
		keys[s] = s.key()
	}
	slices.SortFunc(ss, func(a, b *SeriesSnapshot) int { return strings.Compare(keys[a], keys[b]) })
}

// Metric aggregates the series of metric name that carry every tag of filter: the whole
// metric without a filter, a sub-metric with one. It returns nil when the metric was not
// registered; a snapshot with Count 0 when it received no matching samples.
func (res *Result) Metric(name string, filter ...Tag) *MetricSnapshot {
	info, ok := res.MetricTypes[name]
	if !ok {
		return nil
	}
	filter = slices.Clone(filter)
	slices.SortFunc(filter, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	snap := &MetricSnapshot{Name: name, Type: info.Type, Contains: info.Contains, Filter: filter, Duration: res.Duration}
	for _, s := range res.Series {
		if s.Metric != name || !s.Contains(filter) {
			continue
		}
		h, err := s.histogram()
		if err != nil {
			continue // a corrupt histogram in a Result read from disk: counts stay, percentiles lack it
		}
		snap.addSeries(s.Count, s.Sum, s.Min, s.Max, s.Last, s.LastT, s.NonZero, h)
	}
	return snap
}

// TagValues returns the distinct values of tag key among the series of metric name, sorted:
// the scenarios, flows or steps to break a metric down by.
func (res *Result) TagValues(name, key string) []string {
	seen := map[string]bool{}
	for _, s := range res.Series {
		if s.Metric == name {
			if v, ok := s.Tags[key]; ok {
				seen[v] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// Passed reports whether every threshold passed.
func (res *Result) Passed() bool {
	for _, t := range res.Thresholds {
		if !t.OK {
			return false
		}
	}
	return true
}

// evaluateThresholds evaluates ThresholdSpecs against the series.
func (res *Result) evaluateThresholds() []ThresholdResult {
	ths, err := ParseThresholds(res.ThresholdSpecs)
	if err != nil {
		return []ThresholdResult{{Key: "?", Expression: "?", Message: err.Error()}}
	}
	out := make([]ThresholdResult, 0, len(ths))
	for _, t := range ths {
		out = append(out, evaluate(t, res.Metric(t.Metric, t.Filter...)))
	}
	return out
}

// Merge combines the Results of the segments of one distributed run into the Result of the
// whole: series (and their HDR histograms) are merged exactly, so percentiles are exactly
// those of a single run; counters add up; the duration is the longest; thresholds are
// evaluated again on the merged data. Per-second time series are added up second by second
// (from each Result's start); their per-second percentiles are count-weighted means, an
// approximation.
func Merge(results ...*Result) (*Result, error) {
	if len(results) == 0 {
		return nil, fmt.Errorf("loadgen: merge: no results")
	}
	first := results[0]
	out := &Result{
		Start: first.Start, End: first.End, Seed: first.Seed, Segment: Segment{},
		ThresholdSpecs: first.ThresholdSpecs, MetricTypes: map[string]MetricInfo{},
		TimeSeries: map[string][]Point{}, SummaryTrendStats: first.SummaryTrendStats, Options: first.Options,
	}
	seriesBy := map[string]*SeriesSnapshot{}
	scenBy := map[string]int{}
	for i, r := range results {
		if r == nil {
			return nil, fmt.Errorf("loadgen: merge: result %d is nil", i)
		}
		if r.Start.Before(out.Start) {
			out.Start = r.Start
		}
		if r.End.After(out.End) {
			out.End = r.End
		}
		out.Duration = max(out.Duration, r.Duration)
		if out.Stopped == "" {
			out.Stopped, out.AbortReason = r.Stopped, r.AbortReason
		}
		for name, info := range r.MetricTypes {
			if prev, ok := out.MetricTypes[name]; ok && prev != info {
				return nil, fmt.Errorf("loadgen: merge: metric %q is a %s in one result and a %s in another", name, prev.Type, info.Type)
			}
			out.MetricTypes[name] = info
		}
		for _, s := range r.Series {
			h, err := s.histogram()
			if err != nil {
				return nil, fmt.Errorf("loadgen: merge: result %d: %w", i, err)
			}
			k := s.key()
			dst := seriesBy[k]
			if dst == nil {
				dst = &SeriesSnapshot{Metric: s.Metric, Tags: maps.Clone(s.Tags), Min: s.Min, Max: s.Max, LastT: -1}
				if h != nil {
					dst.hist = newPacked()
				}
				seriesBy[k] = dst
				out.Series = append(out.Series, dst)
			}
			if s.Count > 0 {
				dst.Min, dst.Max = min(dst.Min, s.Min), max(dst.Max, s.Max)
			}
			dst.Count += s.Count
			dst.Sum += s.Sum
			dst.NonZero += s.NonZero
			if s.LastT >= dst.LastT {
				dst.Last, dst.LastT = s.Last, s.LastT
			}
			if h != nil && dst.hist != nil {
				dst.hist.Merge(h)
			}
		}
		for name, pts := range r.TimeSeries {
			out.TimeSeries[name] = mergePoints(out.TimeSeries[name], pts)
		}
		for _, sc := range r.Scenarios {
			j, ok := scenBy[sc.Name]
			if !ok {
				scenBy[sc.Name] = len(out.Scenarios)
				out.Scenarios = append(out.Scenarios, sc)
				continue
			}
			d := &out.Scenarios[j]
			d.Duration = max(d.Duration, sc.Duration)
			d.Iterations += sc.Iterations
			d.Interrupted += sc.Interrupted
			d.Dropped += sc.Dropped
			d.Errors += sc.Errors
			d.MaxVUs += sc.MaxVUs
			if d.FirstError == "" {
				d.FirstError = sc.FirstError
			}
		}
	}
	for _, s := range out.Series {
		if s.hist != nil {
			b, err := s.hist.Encode()
			if err != nil {
				return nil, fmt.Errorf("loadgen: merge: encode %s: %w", s.Metric, err)
			}
			s.Hist = b
		}
	}
	sortSeries(out.Series)
	out.Thresholds = out.evaluateThresholds()
	return out, nil
}

func mergePoints(a, b []Point) []Point {
	tl := &timeline{points: slices.Clone(a)}
	for _, p := range b {
		tl.insert(p)
	}
	return tl.points
}
