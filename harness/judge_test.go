package harness

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doorbuster/doorbuster/contract"
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
