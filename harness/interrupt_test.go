package harness

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/reports"
)

// longScenario would run for a minute; the tests below stop it early.
var longScenario = strings.Replace(strings.Replace(statusScenario, "duration: 2s", "duration: 60s", 1),
	"preAllocatedVUs: 2", "preAllocatedVUs: 2\n    gracefulStop: 2s", 1)

func TestGracefulInterrupt(t *testing.T) {
	var tr *statusTraffic
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := filepath.Join(t.TempDir(), "run")
	time.AfterFunc(2*time.Second, cancel)
	start := time.Now()
	out, err := Run(ctx, Config{
		ScenarioPath: writeScenario(t, "long.yaml", longScenario), OutDir: dir,
		NewTraffic: newStatusTraffic(&tr), InterruptDrain: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the interrupted run took %s", took)
	}
	if out.Stopped != "graceful" || !out.Interrupted() || out.Passed() {
		t.Errorf("outcome stopped %q, interrupted %v, passed %v", out.Stopped, out.Interrupted(), out.Passed())
	}
	if out.Summary == nil || out.Summary.Verdict.Status != reports.StatusInterrupted {
		t.Errorf("an interrupted run is still checked and reported, verdict interrupted: %+v", out.Summary)
	}
	run, err := rundir.LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if run.Stopped != "graceful" || run.EndedAt == nil {
		t.Errorf("run.json stopped %q, ended %v", run.Stopped, run.EndedAt)
	}
	for _, f := range []string{rundir.MetricsFile, rundir.NetSuiteBooksFile, rundir.GatewayBooksFile, rundir.FaultsFile, rundir.BacklogFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("an interrupted run still writes %s: %v", f, err)
		}
	}
	if !tr.flushed || !tr.closed {
		t.Errorf("traffic after an interrupt: %+v", tr)
	}
}

func TestAbort(t *testing.T) {
	before := runtime.NumGoroutine()
	var tr *statusTraffic
	abort := make(chan struct{})
	dir := filepath.Join(t.TempDir(), "run")
	var aborted time.Time
	time.AfterFunc(2*time.Second, func() {
		aborted = time.Now()
		close(abort)
	})
	out, err := Run(context.Background(), Config{
		ScenarioPath: writeScenario(t, "long.yaml", longScenario), OutDir: dir,
		NewTraffic: newStatusTraffic(&tr), Abort: abort,
	})
	if !errors.Is(err, ErrAborted) {
		t.Fatalf("err = %v, want ErrAborted", err)
	}
	if took := time.Since(aborted); took > 8*time.Second {
		t.Errorf("Run returned %s after the abort", took)
	}
	if out == nil || out.Stopped != "hard" || tr.flushed || !tr.closed {
		t.Errorf("outcome %+v, traffic %+v", out, tr)
	}
	run, err := rundir.LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if run.Stopped != "hard" || run.Error == "" {
		t.Errorf("run.json stopped %q error %q", run.Stopped, run.Error)
	}
	portsClosed(t, run.Connector.URL, run.Simulators.NetSuite, run.Simulators.Gateway)
	goroutinesSettle(t, before)
}

func TestProgressBarsAndLines(t *testing.T) {
	snap := []loadgen.ScenarioProgress{{Name: "checkout", Executor: loadgen.ConstantArrivalRate, Started: true,
		Elapsed: 3 * time.Second, Duration: 10 * time.Second, Rate: 19.5, TargetRate: 20, ActiveVUs: 3, AllocatedVUs: 20, Iterations: 60}}
	src := progressSource{
		scenarios: func() []loadgen.ScenarioProgress { return snap },
		status: func() (rundir.BacklogSample, int64) {
			return rundir.BacklogSample{Pending: 4, InFlight: 2, Posted: 50}, 3
		},
		phase: func() string { return "traffic" },
	}
	for _, bars := range []bool{false, true} {
		var buf bytes.Buffer
		p := newProgress(&buf, bars, 100*time.Millisecond, src)
		p.start([]string{"checkout"})
		time.Sleep(350 * time.Millisecond)
		if _, err := p.Write([]byte("a log line\n")); err != nil {
			t.Fatal(err)
		}
		p.finish()
		got := buf.String()
		for _, want := range []string{"checkout", "vus 3/20", "connector backlog 6", "faults injected 3", "a log line"} {
			if !strings.Contains(got, want) {
				t.Errorf("bars %v: output lacks %q:\n%s", bars, want, got)
			}
		}
	}
}
