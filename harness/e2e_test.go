package harness

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/reports"
	pos "github.com/doorbuster/doorbuster/xk6-pos"
)

// e2eScenario is a short embedded run: sales at 5/s for 3 s and returns beside them, on
// the small world with the fast profiles.
const e2eScenario = `name: e2e
seed: 11
fixtures: {size: small}
netsuite: {profile: fast}
gateway: {profile: fast}
scenarios:
  checkout:
    executor: constant-arrival-rate
    exec: sale
    rate: 5
    timeUnit: 1s
    duration: 3s
    preAllocatedVUs: 5
    options: {basketSize: {mean: 3}, tenders: {card: 0.5, cash: 0.5}}
  returns:
    executor: constant-arrival-rate
    exec: return
    rate: 2
    duration: 2s
    startTime: 1500ms
    preAllocatedVUs: 2
thresholds:
  pos_transactions{outcome:acknowledged}: ["count>=10"]
  pos_checkout_duration: ["p(95)<5s"]
  pos_sync_latency: [{threshold: "p(95)<30s", abortOnFail: true}]
  pos_sync_latency{type:return}: ["max<30s"]
drain: {timeout: 30s}
`

// TestEmbeddedRun is issue 6's "done when": a short embedded run with the real POS
// module and reference connector leaves a complete run directory whose journal holds
// exactly the transactions the registers report acknowledged, all of them in the books.
func TestEmbeddedRun(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := filepath.Join(t.TempDir(), "run")
	var stdout, progress bytes.Buffer
	start := time.Now()
	out, err := Run(context.Background(), Config{
		ScenarioPath: writeScenario(t, "e2e.yaml", e2eScenario),
		OutDir:       dir, Stdout: &stdout, Progress: &progress, Version: "test",
	})
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("run took %s", time.Since(start).Round(time.Millisecond))
	if !out.Passed() || out.DrainTimedOut || out.Summary == nil {
		t.Errorf("outcome: passed %v, drain timed out %v, thresholds %+v\n%s", out.Passed(), out.DrainTimedOut, out.Result.Thresholds, stdout.String())
	}
	if out.Summary != nil && out.Summary.Verdict.Status != reports.StatusPass {
		t.Errorf("verdict %s: %q", out.Summary.Verdict.Status, out.Summary.Verdict.Reasons)
	}
	if rep, err := invariants.ReadJSON(filepath.Join(dir, invariants.FileName)); err != nil {
		t.Error(err)
	} else if r, _ := rep.Result(invariants.ExactlyOnce); r.Verdict != invariants.Pass {
		t.Errorf("exactly-once: %+v", r)
	}
	for _, f := range runFiles {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("run directory lacks %s (%v)", f, err)
		}
	}
	res, err := rundir.LoadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	acked := res.Metric(pos.MetricTransactions, loadgen.Tag{Key: "outcome", Value: pos.OutcomeAcknowledged})
	if acked == nil || acked.Sum < 10 {
		t.Fatalf("pos_transactions{outcome:acknowledged} = %+v, want at least 10", acked)
	}
	ackedSales := res.Metric(pos.MetricTransactions, loadgen.Tag{Key: "outcome", Value: pos.OutcomeAcknowledged}, loadgen.Tag{Key: "type", Value: "sale"})

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, rundir.JournalFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close() // (closed before the leak check too)
	var journalAcked, journalSales int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE type = 'sale') FROM tx WHERE outcome = 'acknowledged'`).Scan(&journalAcked, &journalSales); err != nil {
		t.Fatal(err)
	}
	if float64(journalAcked) != acked.Sum || float64(journalSales) != ackedSales.Sum {
		t.Errorf("journal has %d acknowledged (%d sales); the registers report %v (%v sales)", journalAcked, journalSales, acked.Sum, ackedSales.Sum)
	}
	var probes int
	if err := db.QueryRow(`SELECT count(*) FROM stock_probe`).Scan(&probes); err != nil || probes == 0 {
		t.Errorf("stock_probe: %d rows, %v", probes, err)
	}

	// Every acknowledged sale is in NetSuite's books as a cash sale, once.
	if _, err := db.Exec(`ATTACH DATABASE ? AS ns`, "file:"+filepath.Join(dir, rundir.NetSuiteBooksFile)+"?mode=ro"); err != nil {
		t.Fatal(err)
	}
	var missing, doubled int
	if err := db.QueryRow(`SELECT
		(SELECT count(*) FROM tx WHERE outcome = 'acknowledged' AND type = 'sale' AND NOT EXISTS
			(SELECT 1 FROM ns.transactions n WHERE n.recordtype = 'cashSale' AND n.memo = 'POS ' || tx.id)),
		(SELECT count(*) FROM (SELECT memo FROM ns.transactions WHERE recordtype = 'cashSale' GROUP BY memo HAVING count(*) > 1))`).Scan(&missing, &doubled); err != nil {
		t.Fatal(err)
	}
	if missing != 0 || doubled != 0 {
		t.Errorf("books: %d acknowledged sales missing, %d posted twice", missing, doubled)
	}

	run, err := rundir.LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if run.DrainedAt == nil || run.DrainTimedOut || out.Backlog.Backlog() != 0 || out.Backlog.Posted < journalAcked {
		t.Errorf("drain: run.json %+v, last backlog %+v", run, out.Backlog)
	}
	if !strings.Contains(stdout.String(), "pos_checkout_duration") || !strings.Contains(stdout.String(), "pos_sync_latency") {
		t.Errorf("summary:\n%s", stdout.String())
	}

	// pos_sync_latency: measured after the drain, evaluated like any threshold, in
	// metrics.json, the summary and junit.xml.
	syncThresholds := 0
	for _, th := range res.Thresholds {
		if strings.HasPrefix(th.Key, MetricSyncLatency) {
			syncThresholds++
			if !th.OK || th.NoData || th.Observed <= 0 {
				t.Errorf("threshold %s %s: %+v", th.Key, th.Expression, th)
			}
		}
	}
	sl := res.Metric(MetricSyncLatency)
	if syncThresholds != 2 || sl == nil || sl.Count != int64(journalAcked) || len(res.TagValues(MetricSyncLatency, "store")) == 0 ||
		len(res.TimeSeries[MetricSyncLatency]) == 0 {
		t.Errorf("metrics.json: %d sync latency thresholds, metric %+v, stores %v", syncThresholds, sl, res.TagValues(MetricSyncLatency, "store"))
	}
	if out.Summary != nil {
		found := false
		for _, th := range out.Summary.Thresholds {
			found = found || th.Metric == "pos_sync_latency{type:return}" && th.OK
		}
		if !found {
			t.Errorf("summary.json thresholds %+v", out.Summary.Thresholds)
		}
	}
	if junit, err := os.ReadFile(filepath.Join(dir, reports.JUnitFile)); err != nil || !strings.Contains(string(junit), "pos_sync_latency") {
		t.Errorf("junit.xml lacks pos_sync_latency (%v)", err)
	}
	db.Close()
	t.Logf("phases: started %s, traffic %s → %s, drained %s, ended %s", run.StartedAt.Format("15:04:05.000"),
		run.TrafficStartedAt.Format("15:04:05.000"), run.TrafficEndedAt.Format("15:04:05.000"),
		run.DrainedAt.Format("15:04:05.000"), run.EndedAt.Format("15:04:05.000"))
	portsClosed(t, run.Connector.URL, run.Simulators.NetSuite, run.Simulators.Gateway)
	goroutinesSettle(t, before)
}
