package rundir

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/loadgen"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	run := Run{Version: Version, Name: "smoke", Seed: 42, Mode: ModeEmbedded, Segment: "1/1",
		Connector: Connector{URL: "http://127.0.0.1:1", Bugs: []string{"sync-date"}, Reference: true},
		StartedAt: at, TrafficEndedAt: &at, World: World{Size: "small", Seed: 42}}
	faults := Faults{Version: Version, ClockStart: map[string]time.Time{"netsuite": at},
		Rules:  []FaultRule{{Target: "netsuite", Name: "lost", Rule: json.RawMessage(`{"name":"lost"}`), Matched: 3, Injected: 1}},
		Events: []FaultEvent{{Seq: 1, Time: at, Rule: "lost", Target: "netsuite", Effect: "lostResponse", Method: "PUT", Path: "/x"}}}
	backlog := []BacklogSample{{Time: at, Pending: 3, InFlight: 1, Posted: 7}}
	for name, v := range map[string]any{RunFile: run, FaultsFile: faults, BacklogFile: backlog,
		MetricsFile: &loadgen.Result{Seed: 42, Start: at}} {
		if err := WriteJSON(filepath.Join(dir, name), v); err != nil {
			t.Fatal(err)
		}
	}
	gotRun, err := LoadRun(dir)
	if err != nil || gotRun.Name != "smoke" || gotRun.Connector.Bugs[0] != "sync-date" || !gotRun.TrafficEndedAt.Equal(at) {
		t.Errorf("LoadRun = %+v, %v", gotRun, err)
	}
	gotFaults, err := LoadFaults(dir)
	if err != nil || len(gotFaults.Events) != 1 || gotFaults.Rules[0].Injected != 1 {
		t.Errorf("LoadFaults = %+v, %v", gotFaults, err)
	}
	gotBacklog, err := LoadBacklog(dir)
	if err != nil || len(gotBacklog) != 1 || gotBacklog[0].Backlog() != 4 {
		t.Errorf("LoadBacklog = %+v, %v", gotBacklog, err)
	}
	res, err := LoadMetrics(dir)
	if err != nil || res.Seed != 42 {
		t.Errorf("LoadMetrics = %+v, %v", res, err)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("%d files in the run directory, want 4", len(entries))
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadRun(dir); err == nil || !strings.Contains(err.Error(), "has no run.json") {
		t.Errorf("missing run.json: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, RunFile), []byte(`{"version": 99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRun(dir); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("future version: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, FaultsFile), []byte(`{`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFaults(dir); err == nil || !strings.Contains(err.Error(), FaultsFile) {
		t.Errorf("bad JSON: %v", err)
	}
}
