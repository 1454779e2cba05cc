package harness

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/reports"
)

// TestDrainTimeoutFailsTheVerdict: a connector whose backlog never empties makes the
// drain time out, and that fails the verdict (invariants-failed, saying so) even though
// the (empty) journal and books agree.
func TestDrainTimeoutFailsTheVerdict(t *testing.T) {
	st, _ := runningStack(t, 7)
	ep := st.Endpoints()
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case contract.PathReady, contract.PathHealth:
			w.Write([]byte(`{"status":"ok"}`))
		case contract.PathSyncStatus:
			json.NewEncoder(w).Encode(contract.SyncStatus{Pending: 3, InFlight: 1})
		default:
			http.NotFound(w, r)
		}
	}))
	defer stuck.Close()
	body := strings.Replace(strings.Replace(statusScenario, "drain: {timeout: 10s}", "drain: {timeout: 1s, pollInterval: 200ms}", 1),
		"duration: 2s", "duration: 1s", 1)
	var tr *statusTraffic
	out, err := Run(context.Background(), Config{
		ScenarioPath: writeScenario(t, "stuck.yaml", body), OutDir: filepath.Join(t.TempDir(), "run"),
		ConnectorURL: stuck.URL, NetSuiteURL: ep.NetSuite, GatewayURL: ep.Gateway, NewTraffic: newStatusTraffic(&tr),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out.DrainTimedOut || out.Passed() || out.Summary == nil {
		t.Fatalf("drain timed out %v, passed %v, summary %v", out.DrainTimedOut, out.Passed(), out.Summary)
	}
	v := out.Summary.Verdict
	if v.Status != reports.StatusInvariantsFailed || v.Invariants != "pass" || len(v.Reasons) != 1 ||
		!strings.Contains(v.Reasons[0], "did not drain") || !strings.Contains(v.Reasons[0], "3 pending, 1 in flight") {
		t.Errorf("verdict %+v", v)
	}
}

// brokenJournal is the stand-in traffic writing a journal the checker cannot read.
type brokenJournal struct{ *statusTraffic }

func (b brokenJournal) Close() error {
	return os.WriteFile(b.journal, []byte("not a database"), 0o644)
}

// TestCheckErrorMakesTheVerdictIncomplete: when the checker cannot run, the run still
// ends with its reports, and they say the verdict could not be made.
func TestCheckErrorMakesTheVerdictIncomplete(t *testing.T) {
	var tr *statusTraffic
	inner := newStatusTraffic(&tr)
	out, err := Run(context.Background(), Config{
		ScenarioPath: writeScenario(t, "s.yaml", strings.Replace(statusScenario, "duration: 2s", "duration: 1s", 1)),
		OutDir:       filepath.Join(t.TempDir(), "run"),
		NewTraffic: func(w *fixtures.World, cfg TrafficConfig) (Traffic, error) {
			t, err := inner(w, cfg)
			return brokenJournal{t.(*statusTraffic)}, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.CheckErr == nil || out.Invariants != nil || out.Passed() || out.Summary == nil ||
		out.Summary.Verdict.Status != reports.StatusIncomplete {
		t.Errorf("check error %v, invariants %+v, summary %+v", out.CheckErr, out.Invariants, out.Summary)
	}
}
