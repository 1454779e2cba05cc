package certify

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/scenarios"
)

// fakeActor records what it was asked to do.
type fakeActor struct {
	mu   sync.Mutex
	done []string
	fail scenarios.ActionKind
}

func (f *fakeActor) record(k scenarios.ActionKind) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = append(f.done, string(k))
	if k == f.fail {
		return errors.New("refused")
	}
	return nil
}

func (f *fakeActor) KillConnector(context.Context) error { return f.record(scenarios.KillConnector) }
func (f *fakeActor) RestartConnector(context.Context) error {
	return f.record(scenarios.RestartConnector)
}
func (f *fakeActor) PauseConnector(context.Context) error { return f.record(scenarios.PauseConnector) }
func (f *fakeActor) UnpauseConnector(context.Context) error {
	return f.record(scenarios.UnpauseConnector)
}
func (f *fakeActor) Partition(_ context.Context, k scenarios.ActionKind, cut bool) error {
	if !cut {
		return f.record(scenarios.Heal)
	}
	return f.record(k)
}

func startedNow(context.Context) (time.Time, error) { return time.Now(), nil }

func TestPlay(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	acts := []Action{
		{10 * time.Millisecond, scenarios.KillConnector}, {30 * time.Millisecond, scenarios.RestartConnector},
		{40 * time.Millisecond, scenarios.PartitionGateway}, {50 * time.Millisecond, scenarios.Heal},
	}
	a := &fakeActor{fail: scenarios.PartitionGateway}
	logs := play(context.Background(), acts, a, startedNow, log)
	if want := []string{"kill-connector", "restart-connector", "partition-gateway"}; !slices.Equal(a.done, want) {
		t.Errorf("done %v, want %v (a failed partition leaves nothing to heal)", a.done, want)
	}
	if len(logs) != 4 || logs[2].Err != "refused" || logs[0].Done < 10*time.Millisecond || logs[1].Done < 30*time.Millisecond {
		t.Errorf("logs %+v", logs)
	}

	// Stopped before the restart is due: the restart is still done, a later kill is not.
	ctx, cancel := context.WithCancel(context.Background())
	a = &fakeActor{}
	long := []Action{{0, scenarios.KillConnector}, {time.Hour, scenarios.RestartConnector}, {2 * time.Hour, scenarios.KillConnector}, {3 * time.Hour, scenarios.RestartConnector}}
	done := make(chan []actionLog)
	go func() { done <- play(ctx, long, a, startedNow, log) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case logs = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("play did not return after its context ended")
	}
	if want := []string{"kill-connector", "restart-connector"}; !slices.Equal(a.done, want) {
		t.Errorf("after the stop: done %v, want %v", a.done, want)
	}
	if len(logs) != 3 || logs[2].Err == "" {
		t.Errorf("the kill after the stop is not reported as not done: %+v", logs)
	}

	// The traffic never started: nothing is done, everything says why.
	a = &fakeActor{}
	logs = play(context.Background(), acts, a, func(context.Context) (time.Time, error) { return time.Time{}, errors.New("no traffic") }, log)
	if len(a.done) != 0 || len(logs) != len(acts) || logs[0].Err == "" {
		t.Errorf("no traffic: done %v, logs %+v", a.done, logs)
	}
}

func TestPartitionRules(t *testing.T) {
	acts := []Action{
		{5 * time.Second, scenarios.KillConnector}, {10 * time.Second, scenarios.PartitionGateway},
		{12 * time.Second, scenarios.RestartConnector}, {20 * time.Second, scenarios.Heal},
		{25 * time.Second, scenarios.PartitionNetSuite},
	}
	rules, rest, err := partitionRules(acts, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Action{acts[0], acts[2]}; !slices.Equal(rest, want) {
		t.Errorf("rest %v, want %v", rest, want)
	}
	if len(rules) != 2 {
		t.Fatalf("rules %+v", rules)
	}
	gw, ns := rules[0], rules[1]
	if gw.Target != "gateway" || gw.Match.Path != "/v1/refunds" || gw.Window.Start.Std() != 10*time.Second || gw.Window.Duration.Std() != 10*time.Second {
		t.Errorf("gateway rule %+v %+v", gw, gw.Window)
	}
	if ns.Target != "netsuite" || ns.Window.Start.Std() != 25*time.Second || ns.Window.Duration.Std() != 35*time.Second {
		t.Errorf("netsuite rule %+v %+v", ns, ns.Window)
	}
	// The rules load as a scenario's faults.
	f, err := scenarios.Parse("x.yaml", []byte("scenarios:\n  s: {executor: constant-vus, exec: sale, vus: 1, duration: 1m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	f.Faults = rules
	b, err := f.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	g, err := scenarios.Parse("y.yaml", b)
	if err != nil {
		t.Fatalf("the derived file does not load: %v\n%s", err, b)
	}
	if len(g.Faults) != 2 || g.Faults[0].Effect != "outage" {
		t.Errorf("faults after a round trip: %+v", g.Faults)
	}
}
