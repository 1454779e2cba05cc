package loadgen

import (
	"fmt"
	"math"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// TaggedValue is one sample added to a finished Result (see Result.AddTrend).
type TaggedValue struct {
	// Value is the sample: milliseconds for a time Trend, as every time metric.
	Value float64
	// Tags are the sample's tags (no scenario is implied).
	Tags []Tag
	// Time is when the sample was taken; the zero time keeps it out of the per-second
	// time series (it still counts in its series, thresholds and the summary).
	Time time.Time
}

// AddTrend adds samples of the Trend called name to a finished Result: measurements
// known only after the run, such as how long a connector took to post what the
// registers sold, which exists once its backlog has drained. The metric joins
// MetricTypes when new (even without samples, so that its thresholds then say it
// received none); each sample joins the series of its tag set, histograms merged
// exactly as during a run, and the per-second time series when it has a Time. Call
// EvaluateThresholds after the last AddTrend.
//
// It fails, leaving the Result as it was, when name is not a valid metric name, is a
// metric of another type or value type, or a value is NaN or infinite.
func (res *Result) AddTrend(name string, isTime bool, samples []TaggedValue) error {
	if err := validMetricName(name); err != nil {
		return fmt.Errorf("loadgen: add samples: %w", err)
	}
	info := MetricInfo{Type: Trend, Contains: Default}
	if isTime {
		info.Contains = Time
	}
	if have, ok := res.MetricTypes[name]; ok && have != info {
		return fmt.Errorf("loadgen: add samples: metric %q is a %s of %s values, not a %s of %s values",
			name, have.Type, have.Contains, info.Type, info.Contains)
	}
	for i, s := range samples {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			return fmt.Errorf("loadgen: add samples: %s sample %d: value %v is not a finite number", name, i, s.Value)
		}
	}
	// Decode every histogram that will take samples before changing anything.
	byKey := map[string]*SeriesSnapshot{}
	for _, s := range res.Series {
		if s.Metric == name {
			byKey[s.key()] = s
		}
	}
	type target struct {
		s     *SeriesSnapshot
		hist  *hdrhistogram.PackedHistogram
		isNew bool
	}
	targets := map[string]*target{}
	keys := make([]string, len(samples))
	for i, v := range samples {
		tags := map[string]string{}
		for _, t := range NewTagSet(v.Tags...).tags {
			tags[t.Key] = t.Value
		}
		probe := &SeriesSnapshot{Metric: name, Tags: tags}
		k := probe.key()
		keys[i] = k
		if targets[k] != nil {
			continue
		}
		if s := byKey[k]; s != nil {
			h, err := s.histogram()
			if err != nil {
				return fmt.Errorf("loadgen: add samples: %w", err)
			}
			if h == nil {
				h = newPacked()
			}
			targets[k] = &target{s: s, hist: h}
			continue
		}
		targets[k] = &target{s: probe, hist: newPacked(), isNew: true}
	}

	if res.MetricTypes == nil {
		res.MetricTypes = map[string]MetricInfo{}
	}
	res.MetricTypes[name] = info
	end := int64(res.Duration)
	for i, v := range samples {
		tg := targets[keys[i]]
		s := tg.s
		t := end
		if !v.Time.IsZero() {
			t = int64(v.Time.Sub(res.Start))
		}
		if s.Count == 0 || v.Value < s.Min {
			s.Min = v.Value
		}
		if s.Count == 0 || v.Value > s.Max {
			s.Max = v.Value
		}
		if s.Count == 0 || t >= s.LastT {
			s.Last, s.LastT = v.Value, t
		}
		s.Count++
		s.Sum += v.Value
		if v.Value != 0 {
			s.NonZero++
		}
		_ = tg.hist.RecordValue(histValue(v.Value)) // clamped into range: cannot fail
	}
	for _, tg := range targets {
		b, err := tg.hist.Encode()
		if err != nil {
			return fmt.Errorf("loadgen: add samples: encode %s%v: %w", name, tg.s.Tags, err)
		}
		tg.s.hist, tg.s.Hist = tg.hist, b
		if tg.isNew {
			res.Series = append(res.Series, tg.s)
		}
	}
	sortSeries(res.Series)

	// The per-second series, in time order so the timeline's open seconds close in turn.
	timed := make([]TaggedValue, 0, len(samples))
	for _, v := range samples {
		if !v.Time.IsZero() {
			timed = append(timed, v)
		}
	}
	if len(timed) > 0 {
		slices.SortStableFunc(timed, func(a, b TaggedValue) int { return a.Time.Compare(b.Time) })
		if res.TimeSeries == nil {
			res.TimeSeries = map[string][]Point{}
		}
		tl := &timeline{trend: true, points: slices.Clone(res.TimeSeries[name])}
		for _, v := range timed {
			tl.add(v.Value, int64(v.Time.Sub(res.Start)))
		}
		tl.closeBefore(1 << 62)
		res.TimeSeries[name] = tl.points
	}
	return nil
}

// EvaluateThresholds evaluates the thresholds (ThresholdSpecs) again on the Result's
// data — after AddTrend — and reports whether every one passed. A threshold that
// stopped the run stays marked Aborted.
func (res *Result) EvaluateThresholds() bool {
	type key struct{ metric, expr string }
	aborted := map[key]bool{}
	for _, t := range res.Thresholds {
		if t.Aborted {
			aborted[key{t.Key, t.Expression}] = true
		}
	}
	res.Thresholds = res.evaluateThresholds()
	for i := range res.Thresholds {
		t := &res.Thresholds[i]
		t.Aborted = aborted[key{t.Key, t.Expression}]
	}
	return res.Passed()
}
