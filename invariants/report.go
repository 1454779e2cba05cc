package invariants

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ReportVersion is the version of the invariants.json schema. It changes when a field
// is renamed or removed or changes meaning; added fields keep it.
const ReportVersion = 1

// FileName is the name of the report in a run directory.
const FileName = "invariants.json"

// Verdict is the outcome of one invariant or of a whole check.
type Verdict string

// Verdicts. A check passes when no invariant failed or errored; not-applicable
// invariants (nothing in the run to hold them against, or skipped) do not fail it.
const (
	Pass          Verdict = "pass"
	Fail          Verdict = "fail"
	NotApplicable Verdict = "not-applicable"
	// Error: the invariant could not be evaluated (a custom query failed at run
	// time). It fails the check.
	Error Verdict = "error"
)

// Report is the checker's verdict on a run directory: invariants.json.
type Report struct {
	Version   int       `json:"version"`
	RunDir    string    `json:"runDir"`
	CheckedAt time.Time `json:"checkedAt"`
	TookMs    float64   `json:"tookMs"`
	Verdict   Verdict   `json:"verdict"` // pass | fail
	Summary   Summary   `json:"summary"`
	Counts    Counts    `json:"counts"`
	KPIs      KPIs      `json:"kpis"`
	// Invariants in a fixed order: the built-in ones (IDs), then the custom ones in
	// the scenario's order.
	Invariants []Result `json:"invariants"`

	// SyncSamples are the sync latency samples behind KPIs.SyncLatency, ordered by
	// acknowledgement time (not written to JSON; see SyncLatencies).
	SyncSamples []SyncSample `json:"-"`
}

// Summary counts the invariants by verdict.
type Summary struct {
	Pass          int `json:"pass"`
	Fail          int `json:"fail"`
	NotApplicable int `json:"notApplicable"`
	Error         int `json:"error"`
}

// Counts describe what was checked.
type Counts struct {
	JournalTransactions int64 `json:"journalTransactions"`
	Acknowledged        int64 `json:"acknowledged"`
	Rejected            int64 `json:"rejected"`
	Unacknowledged      int64 `json:"unacknowledged"`
	Offline             int64 `json:"offline"`
	Payments            int64 `json:"payments"`    // journal card authorisations
	StockProbes         int64 `json:"stockProbes"` // journal stock probes
	// NetSuitePOSRecords are the cash sales and cash refunds in the books;
	// NetSuiteMatched those that name a journal transaction.
	NetSuitePOSRecords int64 `json:"netsuitePosRecords"`
	NetSuiteMatched    int64 `json:"netsuiteMatched"`
	GatewayIntents     int64 `json:"gatewayIntents"`
	GatewayRefunds     int64 `json:"gatewayRefunds"`
}

// Result is one invariant's verdict.
type Result struct {
	ID        string  `json:"id"`
	Statement string  `json:"statement"`
	Verdict   Verdict `json:"verdict"`
	// Reason says why the invariant is not applicable or errored.
	Reason string `json:"reason,omitempty"`
	// Note qualifies a verdict (e.g. where the start on hand came from).
	Note       string `json:"note,omitempty"`
	Violations int64  `json:"violations"`
	// Evidence holds the first violations (Options.SampleLimit), in a stable order.
	Evidence []Evidence `json:"evidence,omitempty"`
	Custom   bool       `json:"custom,omitempty"`
	TookMs   float64    `json:"tookMs"`
}

// Evidence is one violation: which POS transaction (when there is one), what was
// wrong, and the expected and actual values.
type Evidence struct {
	TxID     string `json:"txId,omitempty"`
	What     string `json:"what"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// KPIs are measured beside the invariants. A nil field had nothing to measure.
type KPIs struct {
	SyncLatency *LatencyStats `json:"syncLatency"`
	// StockAccuracyPct is the share of stock probes whose connector on-hand equals
	// NetSuite's (latest probe per item and location).
	StockAccuracyPct *float64 `json:"stockAccuracyPct"`
	// PostingAccuracyPct is the share of acknowledged transactions posted exactly once
	// with correct amounts, location and (offline) date.
	PostingAccuracyPct *float64 `json:"postingAccuracyPct"`
	// DrainTimeMs is run.json's drainedAt − trafficEndedAt.
	DrainTimeMs   *float64 `json:"drainTimeMs"`
	DrainTimedOut bool     `json:"drainTimedOut,omitempty"`
}

// LatencyStats summarise sync latency: NetSuite's creation time of a transaction's
// record (the later one for an exchange's two) − the POS acknowledgement time.
type LatencyStats struct {
	Count int     `json:"count"`
	MinMs float64 `json:"minMs"`
	P50Ms float64 `json:"p50Ms"`
	P95Ms float64 `json:"p95Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

// SyncSample is one acknowledged transaction's sync latency.
type SyncSample struct {
	TxID     string        `json:"txId"`
	AckedAt  time.Time     `json:"ackedAt"`
	PostedAt time.Time     `json:"postedAt"`
	Latency  time.Duration `json:"latency"`
}

// Failed reports whether the check failed.
func (r *Report) Failed() bool { return r.Verdict != Pass }

// Result returns the result of invariant id.
func (r *Report) Result(id string) (Result, bool) {
	for _, x := range r.Invariants {
		if x.ID == id {
			return x, true
		}
	}
	return Result{}, false
}

// WriteJSON writes the report as indented JSON to path (a directory gets
// invariants.json in it).
func (r *Report) WriteJSON(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, FileName)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("invariants: encoding the report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("invariants: writing the report: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("invariants: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("invariants: %s: %w", path, err)
	}
	if r.Version != ReportVersion {
		return nil, fmt.Errorf("invariants: %s: report version %d, this build reads %d", path, r.Version, ReportVersion)
	}
	return &r, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
