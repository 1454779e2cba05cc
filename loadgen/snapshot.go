package loadgen

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// MetricSnapshot aggregates the series of a metric that match a tag filter: the whole
// metric when Filter is empty, a sub-metric ("http_req_duration{flow:sale}") otherwise.
// Trend percentiles come from the exact merge of the series' HDR histograms.
type MetricSnapshot struct {
	Name     string     `json:"name"`
	Type     MetricType `json:"type"`
	Contains ValueType  `json:"contains"`
	Filter   []Tag      `json:"filter,omitempty"`
	Count    int64      `json:"count"` // samples
	Sum      float64    `json:"sum"`
	Min      float64    `json:"min"`
	Max      float64    `json:"max"`
	Last     float64    `json:"last"` // the latest sample (Gauge value)
	NonZero  int64      `json:"nonZero"`
	// Duration is the test run duration Counter rates are computed over.
	Duration time.Duration `json:"duration"`

	lastT int64
	hist  *hdrhistogram.Histogram
}

// Key is "name" or "name{k:v,...}".
func (m *MetricSnapshot) Key() string { return metricKey(m.Name, m.Filter) }

func metricKey(name string, filter []Tag) string {
	if len(filter) == 0 {
		return name
	}
	return name + "{" + formatTags(filter) + "}"
}

func (m *MetricSnapshot) addSeries(count int64, sum, mn, mx, last float64, lastT, nonZero int64, h *hdrhistogram.PackedHistogram) {
	if count == 0 {
		return
	}
	if m.Count == 0 || mn < m.Min {
		m.Min = mn
	}
	if m.Count == 0 || mx > m.Max {
		m.Max = mx
	}
	if m.Count == 0 || lastT >= m.lastT {
		m.Last, m.lastT = last, lastT
	}
	m.Count += count
	m.Sum += sum
	m.NonZero += nonZero
	if h != nil && m.Type == Trend {
		if m.hist == nil {
			m.hist = newDense()
		}
		h.MergeInto(m.hist)
	}
}

// Percentile returns the p-th percentile (0-100) of a Trend, within HDR precision (3
// significant digits) and clamped to the exact min and max; 0 without samples.
func (m *MetricSnapshot) Percentile(p float64) float64 {
	if m.hist == nil || m.Count == 0 {
		return 0
	}
	v := float64(m.hist.ValueAtPercentile(p)) / histScale
	return math.Min(math.Max(v, m.Min), m.Max)
}

// Avg is the mean of the samples.
func (m *MetricSnapshot) Avg() float64 {
	if m.Count == 0 {
		return 0
	}
	return m.Sum / float64(m.Count)
}

// Rate is a Rate's fraction of non-zero samples, or a Counter's total per second of the
// run.
func (m *MetricSnapshot) Rate() float64 {
	switch m.Type {
	case Counter:
		if m.Duration <= 0 {
			return 0
		}
		return m.Sum / m.Duration.Seconds()
	default:
		if m.Count == 0 {
			return 0
		}
		return float64(m.NonZero) / float64(m.Count)
	}
}

// Agg returns an aggregation by k6's name: avg, min, med, max, p(N), count, rate, value,
// passes, fails. A Counter's count is the total of its values (k6), other metrics' the
// number of samples.
func (m *MetricSnapshot) Agg(agg string) (float64, error) {
	switch agg {
	case "avg":
		return m.Avg(), nil
	case "min":
		return m.Min, nil
	case "max":
		return m.Max, nil
	case "med":
		return m.Percentile(50), nil
	case "count":
		if m.Type == Counter {
			return m.Sum, nil
		}
		return float64(m.Count), nil
	case "rate":
		return m.Rate(), nil
	case "value":
		return m.Last, nil
	case "passes":
		return float64(m.NonZero), nil
	case "fails":
		return float64(m.Count - m.NonZero), nil
	}
	if p, ok := parsePercentileAgg(agg); ok {
		return m.Percentile(p), nil
	}
	return 0, fmt.Errorf("unknown aggregation %q", agg)
}

func parsePercentileAgg(agg string) (float64, bool) {
	if !strings.HasPrefix(agg, "p(") || !strings.HasSuffix(agg, ")") {
		return 0, false
	}
	p, err := strconv.ParseFloat(strings.TrimSpace(agg[2:len(agg)-1]), 64)
	if err != nil || p < 0 || p > 100 {
		return 0, false
	}
	return p, true
}

// Values are k6's summary values of the metric: counter {count, rate}, gauge {value, min,
// max}, rate {rate, passes, fails}, trend the given stats.
func (m *MetricSnapshot) Values(trendStats []string) map[string]float64 {
	out := map[string]float64{}
	var names []string
	switch m.Type {
	case Counter:
		names = []string{"count", "rate"}
	case Gauge:
		names = []string{"value", "min", "max"}
	case Rate:
		names = []string{"rate", "passes", "fails"}
	case Trend:
		names = trendStats
	}
	for _, n := range names {
		if v, err := m.Agg(n); err == nil {
			out[n] = v
		}
	}
	return out
}

// evaluate checks t against the snapshot (nil: the metric is unknown).
func evaluate(t *Threshold, m *MetricSnapshot) ThresholdResult {
	r := ThresholdResult{Key: t.Key, Expression: t.Source, AbortOnFail: t.AbortOnFail}
	if m == nil || m.Count == 0 {
		r.NoData = true
		r.Message = fmt.Sprintf("no samples: %s received no data during the run", t.Key)
		if m == nil {
			r.Message = fmt.Sprintf("no samples: metric %q does not exist or received no data", t.Metric)
		}
		return r
	}
	if err := t.validFor(m.Type); err != nil {
		r.Message = err.Error()
		return r
	}
	v, err := m.Agg(t.Agg)
	if err != nil {
		r.Message = err.Error()
		return r
	}
	r.Observed = v
	r.OK = t.compare(v)
	if !r.OK {
		r.Message = fmt.Sprintf("%s=%s is not %s %s", t.Agg, formatFloat(v), t.Op, formatFloat(t.Value))
	}
	return r
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
