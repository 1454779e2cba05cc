package loadgen

import (
	"context"
	"time"
)

// testSample is a sample for resultOf.
type testSample struct {
	metric string
	v      float64
	tags   []Tag
	at     time.Duration
}

// resultOf builds the Result a run would return had its VUs emitted samples, over a run
// of duration d.
func resultOf(reg *Registry, d time.Duration, specs map[string][]ThresholdSpec, samples ...testSample) *Result {
	c := newCollector(&batchPool{})
	for _, s := range samples {
		m := reg.Get(s.metric)
		if m == nil {
			panic("unknown metric " + s.metric)
		}
		c.add(&sample{m: m, tags: NewTagSet(s.tags...), v: s.v, t: int64(s.at)})
	}
	res := &Result{Duration: d, ThresholdSpecs: specs, MetricTypes: map[string]MetricInfo{},
		TimeSeries: map[string][]Point{}, SummaryTrendStats: defaultSummaryTrendStats}
	res.fill(reg, c)
	return res
}

func tag(k, v string) Tag { return Tag{Key: k, Value: v} }

func noop(context.Context, *VU) error { return nil }
