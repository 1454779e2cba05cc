package loadgen

import (
	"time"
)

// Result is what a run measured. It is JSON-serialisable (histograms as base64 of the
// standard HdrHistogram V2 compressed encoding), so the Results of the segments of a
// distributed run can be written, read back and merged exactly with Merge.
type Result struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Duration is the test run duration, from Start (before Setup) to the end of the
	// scenarios (Teardown excluded); Counter rates are per second of it.
	Duration time.Duration `json:"duration"`
	Seed     int64         `json:"seed"`
	Segment  Segment       `json:"segment"`
	// Stopped is "" when the plan ran to its end, "graceful" after a context cancellation
	// or Stop(false), "hard" after Stop(true), "threshold" after an abortOnFail threshold.
	Stopped     string `json:"stopped,omitempty"`
	AbortReason string `json:"abortReason,omitempty"`

	Scenarios  []ScenarioResult  `json:"scenarios"`
	Thresholds []ThresholdResult `json:"thresholds"`
	// ThresholdSpecs are the plan's thresholds, kept to evaluate them again after Merge.
	ThresholdSpecs map[string][]ThresholdSpec `json:"thresholdSpecs,omitempty"`
	// MetricTypes describes every metric that was registered during the run.
	MetricTypes map[string]MetricInfo `json:"metricTypes"`
	// Series holds one entry per (metric, tag set) that received samples.
	Series []*SeriesSnapshot `json:"series"`
	// TimeSeries holds, per metric, one point per second of the run that had samples.
	TimeSeries map[string][]Point `json:"timeSeries"`
	// SummaryTrendStats are the Trend statistics of the summary.
	SummaryTrendStats []string `json:"summaryTrendStats"`
	// Options are the plan's scenarios as k6 options, for the summary.
	Options map[string]any `json:"options,omitempty"`
}

// MetricInfo is a metric's type and value type.
type MetricInfo struct {
	Type     MetricType `json:"type"`
	Contains ValueType  `json:"contains"`
}

// ScenarioResult is how one scenario went.
type ScenarioResult struct {
	Name        string        `json:"name"`
	Executor    Executor      `json:"executor"`
	Exec        string        `json:"exec,omitempty"`
	Duration    time.Duration `json:"duration"` // from its start to its last iteration's end
	Iterations  int64         `json:"iterations"`
	Interrupted int64         `json:"interrupted"`
	Dropped     int64         `json:"dropped"`
	Errors      int64         `json:"errors"`
	MaxVUs      int           `json:"maxVUs"` // VUs allocated
	// FirstError is the first error an iteration returned, for the operator.
	FirstError string `json:"firstError,omitempty"`
}

// Point is one second of one metric, over all its series. Second counts from the start of
// the run (Result.Start + Second seconds).
// For a Counter, Sum is the total of the second; for a Rate, Sum counts non-zero samples;
// for a Gauge, Last is the last value. Percentiles are filled for Trends.
type Point struct {
	Second int64   `json:"second"`
	Count  int64   `json:"count"`
	Sum    float64 `json:"sum"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Last   float64 `json:"last"`
	P50    float64 `json:"p50,omitempty"`
	P90    float64 `json:"p90,omitempty"`
	P95    float64 `json:"p95,omitempty"`
	P99    float64 `json:"p99,omitempty"`
}
