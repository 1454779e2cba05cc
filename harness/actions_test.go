package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/reports"
	"github.com/doorbuster/doorbuster/scenarios"
)

// actionsScenario sells for 5 s while the connector is killed -9 and restarted, paused
// and resumed, and cut off from NetSuite; every acknowledged sale must still be posted
// exactly once.
const actionsScenario = `name: actions
seed: 5
fixtures: {size: small}
netsuite: {profile: fast}
gateway: {profile: fast}
scenarios:
  checkout:
    executor: constant-arrival-rate
    exec: sale
    rate: 6
    timeUnit: 1s
    duration: 5s
    preAllocatedVUs: 8
    maxVUs: 20
    options: {basketSize: {mean: 2}, tenders: {card: 0.5, cash: 0.5}, declineRate: 0, insufficientFundsRate: 0}
actions:
  - {at: 1s, do: kill-connector, duration: 1s}
  - {at: 2500ms, do: pause-connector, duration: 500ms}
  - {at: 3200ms, do: partition-netsuite, duration: 1s}
thresholds:
  pos_transactions{outcome:acknowledged}: ["count>=15"]
drain: {timeout: 40s}
`

// TestActionsEmbedded: with kill and pause actions the reference connector runs as a
// child process that is really killed (SIGKILL), restarted on the same data directory,
// frozen and resumed; the partition is an outage rule for its window. The run directory
// records what was done, and nothing the connector acknowledged is lost or doubled. The
// invariant check's worker runs as doorbuster's invariants-worker, as `doorbuster run`
// runs it.
func TestActionsEmbedded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	var progress, logs bytes.Buffer // slog serialises its writes; read after Run returns
	connector := connectorCommand(t)
	out, err := Run(context.Background(), Config{
		ScenarioPath: writeScenario(t, "actions.yaml", actionsScenario), OutDir: dir,
		ConnectorCommand: connector, Progress: &progress, Version: "test",
		InvariantsWorker: []string{connector[0], "invariants-worker"},
		Logger:           slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	if l := logs.String(); !strings.Contains(l, "worker process started") || strings.Contains(l, "did not start") ||
		strings.Contains(l, "ended before") {
		t.Errorf("the invariant check's worker process did not do its work:\n%s", l)
	}
	if out.Summary == nil || out.Summary.Verdict.Status != reports.StatusPass {
		var v any
		if out.Summary != nil {
			v = out.Summary.Verdict
		}
		log, _ := os.ReadFile(filepath.Join(dir, rundir.ConnectorLogFile))
		t.Fatalf("verdict %+v\nprogress:\n%s\nconnector log:\n%s", v, progress.String(), log)
	}
	acts, err := rundir.LoadActions(dir)
	if err != nil {
		t.Fatal(err)
	}
	type did struct{ do, how string }
	var got []did
	for _, s := range acts.Steps {
		if s.Time == nil || s.Error != "" {
			t.Errorf("step %+v not done", s)
			continue
		}
		if late := s.Time.Sub(acts.TrafficStartedAt) - time.Duration(s.AtMs*float64(time.Millisecond)); late < 0 || late > 2*time.Second {
			t.Errorf("step %s due at %vms done %s after", s.Do, s.AtMs, late)
		}
		got = append(got, did{s.Do, s.How})
	}
	want := []did{{"kill-connector", "signal"}, {"restart-connector", "signal"}, {"pause-connector", "signal"},
		{"unpause-connector", "signal"}, {"partition-netsuite", "fault-rule"}, {"heal", "fault-rule"}}
	if !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	var kinds []string
	for _, w := range acts.Windows {
		if w.End == nil || !w.End.After(w.Start) {
			t.Errorf("window %+v", w)
		}
		kinds = append(kinds, w.Kind+"/"+w.Target)
	}
	if !slices.Equal(kinds, []string{"connector-killed/connector", "connector-paused/connector", "partition/netsuite"}) {
		t.Errorf("windows %v", kinds)
	}

	// A real process: started twice on one data directory, killed without a shutdown.
	log, err := os.ReadFile(filepath.Join(dir, rundir.ConnectorLogFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "doorbuster: starting"); n != 2 || !strings.Contains(string(log), "signal: killed") {
		t.Errorf("connector log: %d starts, a kill %v:\n%s", n, strings.Contains(string(log), "signal: killed"), log)
	}
	if _, err := os.Stat(filepath.Join(dir, rundir.ConnectorDataDir, "outbox.db")); err != nil {
		t.Errorf("the connector's data directory: %v", err)
	}

	// The partition: an outage rule on NetSuite for its window, which the connector hit.
	fl, err := rundir.LoadFaults(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rule *rundir.FaultRule
	var names []string
	for i := range fl.Rules {
		names = append(names, fl.Rules[i].Name)
		if fl.Rules[i].Name == "action.partition-netsuite.2" {
			rule = &fl.Rules[i]
		}
	}
	if rule == nil {
		t.Fatalf("faults.json has no outage rule for the partition: %v", names)
	}
	var r struct {
		Target string
		Effect map[string]any
		Window struct{ Start, Duration string }
	}
	if err := json.Unmarshal(rule.Rule, &r); err != nil || r.Target != "netsuite" || r.Effect["outage"] == nil ||
		r.Window.Start != "3.2s" || r.Window.Duration != "1s" {
		t.Errorf("partition rule %s (%v)", rule.Rule, err)
	}
	t.Logf("partition rule: matched %d, injected %d", rule.Matched, rule.Injected)

	// Nothing acknowledged was lost or doubled.
	rep, err := invariants.ReadJSON(filepath.Join(dir, invariants.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := rep.Result(invariants.ExactlyOnce); r.Verdict != invariants.Pass || rep.Counts.Acknowledged < 15 {
		t.Errorf("exactly-once %+v, %d acknowledged", r, rep.Counts.Acknowledged)
	}
	// Reports shade the windows.
	var shaded []string
	for _, w := range out.Summary.Faults.Windows {
		shaded = append(shaded, w.Rule)
	}
	for _, w := range []string{"action: connector-killed", "action: connector-paused", "action: partition"} {
		if !slices.Contains(shaded, w) {
			t.Errorf("summary fault windows %v lack %q", shaded, w)
		}
	}
}

// fakeActor is a container stack's connector controls, recording each call.
type fakeActor struct {
	*embedded
	mu    sync.Mutex
	calls []string
	fail  string // a call that fails
}

func (f *fakeActor) call(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	if name == f.fail {
		return fmt.Errorf("%s refused", name)
	}
	return nil
}

func (f *fakeActor) KillConnector(context.Context) error    { return f.call("kill") }
func (f *fakeActor) RestartConnector(context.Context) error { return f.call("restart") }
func (f *fakeActor) PauseConnector(context.Context) error   { return f.call("pause") }
func (f *fakeActor) UnpauseConnector(context.Context) error { return f.call("unpause") }
func (f *fakeActor) PartitionConnector(_ context.Context, from string) error {
	return f.call("partition " + from)
}
func (f *fakeActor) Heal(context.Context) error { return f.call("heal") }

func parseActions(t *testing.T, actions string) *scenarios.File {
	t.Helper()
	f, err := scenarios.Parse("p.yaml", []byte(`name: p
scenarios:
  s: {executor: constant-vus, exec: sale, vus: 1, duration: 10s}
actions:
`+actions))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPlayer: the steps are done in time order through the stack's abilities; the end
// of one partition's duration heals it alone (the others are cut again); the windows
// follow what was done.
func TestPlayer(t *testing.T) {
	f := parseActions(t, `  - {at: 10ms, do: partition-netsuite, duration: 60ms}
  - {at: 20ms, do: partition-gateway}
  - {at: 30ms, do: kill-connector, duration: 10ms}
  - {at: 50ms, do: pause-connector, duration: 10ms}
  - {at: 90ms, do: heal}
`)
	fa := &fakeActor{}
	p := newPlayer(f, fa, newAdmin(), nil, slog.New(slog.DiscardHandler), func(string, ...any) {}, time.Second)
	start := time.Now()
	p.play(context.Background(), start)
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 90*time.Millisecond {
		t.Errorf("played in %s, before the last step was due", took)
	}
	want := []string{"partition netsuite", "partition gateway", "kill", "restart", "pause", "unpause",
		"heal", "partition gateway", // the netsuite partition's end: the gateway stays cut
		"heal"}
	if !slices.Equal(fa.calls, want) {
		t.Errorf("calls\n got %v\nwant %v", fa.calls, want)
	}
	res := p.result()
	var windows []string
	for _, w := range res.Windows {
		if w.End == nil {
			t.Errorf("window %+v left open", w)
		}
		windows = append(windows, w.Kind+"/"+w.Target)
	}
	if !slices.Equal(windows, []string{"partition/netsuite", "partition/gateway", "connector-killed/connector", "connector-paused/connector"}) {
		t.Errorf("windows %v", windows)
	}
	if len(p.failures()) != 0 || len(res.Steps) != 8 {
		t.Errorf("failures %v, %d steps", p.failures(), len(res.Steps))
	}
}

// TestPlayerStoppedAndFailing: after a graceful stop the impairments still due are
// skipped and what ends one is done at once; a failing step is reported.
func TestPlayerStoppedAndFailing(t *testing.T) {
	f := parseActions(t, `  - {at: 1ms, do: pause-connector, duration: 1s}
  - {at: 2s, do: kill-connector, duration: 1s}
`)
	fa := &fakeActor{fail: "pause"}
	p := newPlayer(f, fa, newAdmin(), nil, slog.New(slog.DiscardHandler), func(string, ...any) {}, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	p.play(ctx, start)
	time.Sleep(50 * time.Millisecond) // the pause is done
	cancel()
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("a stopped player took %s", took)
	}
	if want := []string{"pause"}; !slices.Equal(fa.calls, want) {
		t.Errorf("calls %v, want %v (the kill and its restart skipped; no unpause of what was not paused)", fa.calls, want)
	}
	if got := p.failures(); len(got) != 1 || !strings.Contains(got[0], "pause refused") {
		t.Errorf("failures %v", got)
	}
	var skipped int
	for _, s := range p.result().Steps {
		if strings.HasPrefix(s.Error, "not done: ") {
			skipped++
		}
	}
	if skipped != 3 {
		t.Errorf("steps %+v", p.result().Steps)
	}
}

// TestPlayerRecoversAtOnce: a graceful stop during an impairment ends it at once.
func TestPlayerRecoversAtOnce(t *testing.T) {
	f := parseActions(t, "  - {at: 1ms, do: kill-connector, duration: 5s}\n")
	fa := &fakeActor{}
	p := newPlayer(f, fa, newAdmin(), nil, slog.New(slog.DiscardHandler), func(string, ...any) {}, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	p.play(ctx, time.Now())
	time.Sleep(50 * time.Millisecond)
	cancel()
	start := time.Now()
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second || !slices.Equal(fa.calls, []string{"kill", "restart"}) {
		t.Errorf("calls %v after %s", fa.calls, took)
	}
}

// TestConnectorProcessGetsBugs: the child connector gets the environment contract and
// the bug switches (CONNECTOR_BUGS), and stops when the stack closes.
func TestConnectorProcessGetsBugs(t *testing.T) {
	w, err := fixtures.Generate(3, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := connectorCommand(t)
	st, err := startEmbedded(context.Background(), embeddedConfig{world: w, seed: 3, concurrencyLimit: 15,
		bugs: []connector.Bug{"sync-date"}, log: slog.New(slog.DiscardHandler),
		process: &processConfig{command: cmd, dataDir: filepath.Join(dir, "data"),
			logPath: filepath.Join(dir, "connector.log"), readyTimeout: 30 * time.Second, adm: newAdmin()}})
	if err != nil {
		t.Fatal(err)
	}
	if st.proc == nil || !st.Connector().Reference || !slices.Equal(st.Connector().Bugs, []string{"sync-date"}) {
		t.Errorf("stack %+v", st.Connector())
	}
	if err := st.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(filepath.Join(dir, "connector.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "bugs=[sync-date]") || !strings.Contains(string(log), "exited: exit status 0") {
		t.Errorf("connector log:\n%s", log)
	}
	portsClosed(t, st.Endpoints().Connector)
}
