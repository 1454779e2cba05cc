package reports

import "time"

// SchemaVersion is the version of the summary.json schema (SCHEMA.md). It changes when
// a field is renamed or removed or changes meaning; added fields keep it.
const SchemaVersion = 1

// Status is a run's overall verdict.
type Status string

// Statuses. When several apply the first in this order wins: a run that failed, an
// interrupted run (its figures are partial), failed invariants, failed thresholds,
// missing inputs. Verdict.Reasons lists all of them in that order.
const (
	// StatusPass: the traffic ran to its end, every threshold passed and every invariant held.
	StatusPass Status = "pass"
	// StatusError: run.json records an error that ended the run.
	StatusError Status = "error"
	// StatusInterrupted: the traffic was stopped early by an interrupt (run.json's
	// stopped is graceful or hard); k6 exits 105 for this.
	StatusInterrupted Status = "interrupted"
	// StatusInvariantsFailed: at least one invariant failed or could not be evaluated.
	StatusInvariantsFailed Status = "invariants-failed"
	// StatusThresholdsFailed: at least one threshold failed, or an abortOnFail threshold
	// stopped the run (k6 exits 99 for this).
	StatusThresholdsFailed Status = "thresholds-failed"
	// StatusIncomplete: a file the verdict needs (metrics.json or invariants.json) is missing.
	StatusIncomplete Status = "incomplete"
)

// Summary is summary.json: everything a run's reports show, in one versioned document.
// Optional values are pointers (null in JSON) when there was nothing to measure.
type Summary struct {
	SchemaVersion int       `json:"schemaVersion"`
	GeneratedAt   time.Time `json:"generatedAt"`
	Generator     string    `json:"generator"`
	Run           RunInfo   `json:"run"`
	Verdict       Verdict   `json:"verdict"`
	KPIs          KPIs      `json:"kpis"`
	// Thresholds in the engine's order (sorted by metric key, then as written).
	Thresholds []Threshold `json:"thresholds"`
	// Invariants is null when invariants.json is missing.
	Invariants *Invariants `json:"invariants"`
	// Metrics by key: "name" for a whole metric, "name{tag:value,...}" for a sub-metric
	// (every threshold's, and the per-scenario breakdown of every metric tagged scenario).
	Metrics   map[string]Metric `json:"metrics"`
	Scenarios []Scenario        `json:"scenarios"`
	// Stores are per-location tallies from journal.db, by location id.
	Stores []Store `json:"stores"`
	// Faults is null when faults.json is missing.
	Faults *Faults `json:"faults"`
	// Missing lists the inputs that were absent or unreadable.
	Missing []Missing `json:"missing"`
	// Outputs are the files Render wrote, relative to the run directory.
	Outputs []string `json:"outputs"`
}

// RunInfo identifies the run: run.json's fields and the engine's duration.
type RunInfo struct {
	Name     string `json:"name"`
	Scenario string `json:"scenario,omitempty"`
	Seed     int64  `json:"seed"`
	Mode     string `json:"mode,omitempty"`
	Segment  string `json:"segment,omitempty"`

	Connector         Connector `json:"connector"`
	DoorbusterVersion string    `json:"doorbusterVersion,omitempty"`
	World             World     `json:"world"`

	StartedAt        *time.Time `json:"startedAt"`
	TrafficStartedAt *time.Time `json:"trafficStartedAt"`
	TrafficEndedAt   *time.Time `json:"trafficEndedAt"`
	DrainedAt        *time.Time `json:"drainedAt"`
	EndedAt          *time.Time `json:"endedAt"`
	DrainTimedOut    bool       `json:"drainTimedOut"`
	// Stopped is "" when the traffic ran to its end, else graceful | hard | threshold.
	Stopped string `json:"stopped,omitempty"`
	// Error is the error run.json recorded, if any.
	Error string `json:"error,omitempty"`
	// TestRunDurationMs is the engine's test run duration (k6's state.testRunDurationMs).
	TestRunDurationMs *float64 `json:"testRunDurationMs"`
}

// Connector identifies the connector under test.
type Connector struct {
	URL       string   `json:"url,omitempty"`
	Version   string   `json:"version,omitempty"`
	Image     string   `json:"image,omitempty"`
	Digest    string   `json:"digest,omitempty"`
	Bugs      []string `json:"bugs,omitempty"`
	Reference bool     `json:"reference"`
}

// World identifies the fixture world.
type World struct {
	Size string `json:"size,omitempty"`
	Seed int64  `json:"seed"`
	File string `json:"file,omitempty"`
}

// Verdict is the run's overall outcome and why.
type Verdict struct {
	Status Status `json:"status"`
	// Reasons explain every failure, most severe first; empty on pass.
	Reasons []string `json:"reasons"`
	// Thresholds is pass | fail | none (no thresholds) | unknown (no metrics.json).
	Thresholds string `json:"thresholds"`
	// Invariants is pass | fail | unknown (no invariants.json).
	Invariants string `json:"invariants"`
}

// Failed reports whether the verdict is anything but pass.
func (v Verdict) Failed() bool { return v.Status != StatusPass }

// KPIs are the headline numbers: from the invariant checker, the engine and the faults.
type KPIs struct {
	// From invariants.json.
	SyncLatency        *LatencyStats `json:"syncLatency"`
	StockAccuracyPct   *float64      `json:"stockAccuracyPct"`
	PostingAccuracyPct *float64      `json:"postingAccuracyPct"`
	DrainTimeMs        *float64      `json:"drainTimeMs"`
	DrainTimedOut      bool          `json:"drainTimedOut"`
	// From metrics.json.
	Transactions          *float64 `json:"transactions"`          // pos_transactions count
	TransactionsPerSecond *float64 `json:"transactionsPerSecond"` // pos_transactions rate
	Iterations            *float64 `json:"iterations"`
	DroppedIterations     *float64 `json:"droppedIterations"`
	CheckoutP95Ms         *float64 `json:"checkoutP95Ms"` // pos_checkout_duration p(95)
	HTTPReqDurationP95Ms  *float64 `json:"httpReqDurationP95Ms"`
	HTTPReqFailedRate     *float64 `json:"httpReqFailedRate"` // 0..1
	ChecksRate            *float64 `json:"checksRate"`        // 0..1
	MaxVUs                *float64 `json:"maxVUs"`            // the vus Gauge's max
	// From faults.json: faults injected (latency profiles excluded).
	FaultsInjected *int64 `json:"faultsInjected"`
}

// LatencyStats summarise sync latency (NetSuite's creation time − POS acknowledgement).
type LatencyStats struct {
	Count int     `json:"count"`
	MinMs float64 `json:"minMs"`
	P50Ms float64 `json:"p50Ms"`
	P95Ms float64 `json:"p95Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

// Threshold is one threshold's outcome.
type Threshold struct {
	// Metric is the (sub-)metric key as written: "http_req_duration{scenario:checkout}".
	Metric     string `json:"metric"`
	Expression string `json:"expression"` // "p(95)<500"
	OK         bool   `json:"ok"`
	// Observed is the aggregation's value (ms for time Trends); null with noData.
	Observed *float64 `json:"observed"`
	NoData   bool     `json:"noData"`
	// Message explains a failure.
	Message     string `json:"message,omitempty"`
	AbortOnFail bool   `json:"abortOnFail,omitempty"`
	Aborted     bool   `json:"aborted,omitempty"`
	// Type and Contains are the metric's type (counter | gauge | rate | trend; "" when
	// the metric does not exist) and value type (default | time | data).
	Type     string `json:"type"`
	Contains string `json:"contains"`
}

// Invariants are the invariant checker's results.
type Invariants struct {
	Verdict   string           `json:"verdict"` // pass | fail
	CheckedAt time.Time        `json:"checkedAt"`
	Counts    map[string]int64 `json:"counts"`
	Pass      int              `json:"pass"`
	Fail      int              `json:"fail"`
	// NotApplicable and Error count the invariants with those verdicts.
	NotApplicable int         `json:"notApplicable"`
	Error         int         `json:"error"`
	Results       []Invariant `json:"results"`
}

// Invariant is one invariant's verdict with its evidence.
type Invariant struct {
	ID        string `json:"id"`
	Statement string `json:"statement"`
	// Verdict is pass | fail | not-applicable | error.
	Verdict    string     `json:"verdict"`
	Reason     string     `json:"reason,omitempty"`
	Note       string     `json:"note,omitempty"`
	Violations int64      `json:"violations"`
	Evidence   []Evidence `json:"evidence"`
	Custom     bool       `json:"custom,omitempty"`
	TookMs     float64    `json:"tookMs"`
}

// Failed reports whether the invariant failed or could not be evaluated.
func (i Invariant) Failed() bool { return i.Verdict == "fail" || i.Verdict == "error" }

// Evidence is one violation.
type Evidence struct {
	TxID     string `json:"txId,omitempty"`
	What     string `json:"what"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// Metric is one metric or sub-metric with k6's summary values: counter {count, rate},
// gauge {value, min, max}, rate {rate, passes, fails}, trend {avg, min, med, max, p(90),
// p(95), p(99), count} plus the run's summaryTrendStats. Time values are in ms.
type Metric struct {
	Type     string             `json:"type"`     // counter | gauge | rate | trend
	Contains string             `json:"contains"` // default | time | data
	Values   map[string]float64 `json:"values"`
}

// Scenario is one scenario's tally with its headline sub-metrics.
type Scenario struct {
	Name        string  `json:"name"`
	Executor    string  `json:"executor"`
	Exec        string  `json:"exec,omitempty"`
	DurationMs  float64 `json:"durationMs"`
	Iterations  int64   `json:"iterations"`
	Interrupted int64   `json:"interrupted"`
	Dropped     int64   `json:"dropped"`
	Errors      int64   `json:"errors"`
	MaxVUs      int     `json:"maxVUs"`
	FirstError  string  `json:"firstError,omitempty"`

	Transactions         *float64 `json:"transactions"`         // pos_transactions{scenario}
	HTTPReqs             *float64 `json:"httpReqs"`             // http_reqs{scenario}
	HTTPReqFailedRate    *float64 `json:"httpReqFailedRate"`    // http_req_failed{scenario}
	HTTPReqDurationP95Ms *float64 `json:"httpReqDurationP95Ms"` // http_req_duration{scenario}
	CheckoutP95Ms        *float64 `json:"checkoutP95Ms"`        // pos_checkout_duration{scenario}
	ChecksRate           *float64 `json:"checksRate"`           // checks{scenario}
}

// Store is one location's tally from journal.db. Revenue is the signed total of the
// acknowledged transactions (returns negative), in cents.
type Store struct {
	LocationID     string        `json:"locationId"`
	Name           string        `json:"name,omitempty"` // from books/netsuite.db
	Transactions   int64         `json:"transactions"`
	Acknowledged   int64         `json:"acknowledged"`
	Rejected       int64         `json:"rejected"`
	Unacknowledged int64         `json:"unacknowledged"`
	Offline        int64         `json:"offline"`
	RevenueCents   int64         `json:"revenueCents"`
	SyncLatency    *LatencyStats `json:"syncLatency"`
}

// Faults summarise faults.json.
type Faults struct {
	Injected   int64            `json:"injected"`
	EventsLost map[string]int64 `json:"eventsLost,omitempty"`
	Rules      []FaultRule      `json:"rules"`
	// Windows group each rule's events into spans of time (events less than
	// windowGap apart belong to one window); charts shade them.
	Windows []FaultWindow `json:"windows"`
}

// FaultRule is one rule with its counts.
type FaultRule struct {
	Target   string `json:"target"`
	Name     string `json:"name"`
	Profile  bool   `json:"profile"`
	Matched  int64  `json:"matched"`
	Injected int64  `json:"injected"`
}

// FaultWindow is a span in which a rule injected faults.
type FaultWindow struct {
	Rule   string    `json:"rule"`
	Target string    `json:"target"`
	Effect string    `json:"effect"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Events int       `json:"events"`
}

// Missing is an input that was absent or unreadable.
type Missing struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}
