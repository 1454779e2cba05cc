package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/harness"
	"github.com/doorbuster/doorbuster/loadgen"
)

func TestRunBadScenarioExitsSetup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "typo.yaml")
	body := "name: typo\nscenarios:\n  s:\n    executor: constant-vus\n    exec: sale\n    vus: 1\n    duraton: 1s\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run([]string{"run", path, "--out", filepath.Join(dir, "run"), "-q"}, ioStreams{Out: &out, ErrOut: &errOut})
	if code != exitSetup {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitSetup, errOut.String())
	}
	if want := path + ":7:5: scenarios.s.duraton"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q does not name %q", errOut.String(), want)
	}
}

func TestRunFlagErrorsExitSetup(t *testing.T) {
	for _, args := range [][]string{
		{"run", "x.yaml", "--duration", "-1"},
		{"run", "x.yaml", "--duration", "soon"},
		{"run", "x.yaml", "--segment", "5/4"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, ioStreams{Out: &out, ErrOut: &errOut}); code != exitSetup {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitSetup, errOut.String())
		}
	}
}

func TestRunHelpShowsExamples(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"run", "--help"}, ioStreams{Out: &out, ErrOut: &errOut}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--connector-url", "--bug", "--duration", "Exit codes", "doorbuster run scenarios/black-friday.yaml"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestParseDurationFlag(t *testing.T) {
	for _, tc := range []struct {
		in    string
		scale float64
		total time.Duration
		bad   bool
	}{
		{in: ""},
		{in: "0.5", scale: 0.5},
		{in: "2", scale: 2},
		{in: "2m", total: 2 * time.Minute},
		{in: "90s", total: 90 * time.Second},
		{in: "0", bad: true},
		{in: "-3", bad: true},
		{in: "-2m", bad: true},
		{in: "NaN", bad: true},
		{in: "later", bad: true},
	} {
		scale, total, err := parseDurationFlag(tc.in)
		if (err != nil) != tc.bad || scale != tc.scale || total != tc.total {
			t.Errorf("parseDurationFlag(%q) = %v, %v, %v", tc.in, scale, total, err)
		}
	}
}

func TestOutcomeExitCodes(t *testing.T) {
	ok := &loadgen.Result{Thresholds: []loadgen.ThresholdResult{{Key: "http_req_failed", Expression: "rate<0.01", OK: true}}}
	bad := &loadgen.Result{Thresholds: []loadgen.ThresholdResult{{Key: "http_req_failed", Expression: "rate<0.01", OK: false}}}
	for _, tc := range []struct {
		name string
		out  harness.Outcome
		code int
	}{
		{"pass", harness.Outcome{Result: ok, ThresholdsPassed: true}, exitOK},
		{"threshold failed", harness.Outcome{Result: bad}, exitThresholds},
		{"aborted on a threshold", harness.Outcome{Result: bad, Stopped: "threshold"}, exitThresholds},
		{"interrupted", harness.Outcome{Result: ok, ThresholdsPassed: true, Stopped: "graceful"}, exitInterrupted},
		{"interrupted beats thresholds", harness.Outcome{Result: bad, Stopped: "graceful"}, exitInterrupted},
		{"invariants failed", harness.Outcome{Result: ok, ThresholdsPassed: true,
			Invariants: &harness.InvariantsVerdict{Failed: []string{"exactly-once"}}}, exitInvariants},
	} {
		err := outcomeError(&tc.out)
		code := exitOK
		var ce *exitCodeError
		if errors.As(err, &ce) {
			code = ce.code
		} else if err != nil {
			code = exitError
		}
		if code != tc.code {
			t.Errorf("%s: exit %d (%v), want %d", tc.name, code, err, tc.code)
		}
	}
}

func TestWatchSignals(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	abort := make(chan struct{})
	done := make(chan struct{})
	exited := make(chan int, 1)
	var errOut bytes.Buffer
	deps := runDeps{exit: func(c int) { exited <- c }, abortGrace: 50 * time.Millisecond}
	finished := make(chan struct{})
	go func() {
		watchSignals(ioStreams{ErrOut: &errOut}, deps, sigs, cancel, abort, done)
		close(finished)
	}()
	sigs <- os.Interrupt
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first interrupt did not cancel the run")
	}
	select {
	case <-abort:
		t.Fatal("the first interrupt aborted the run")
	default:
	}
	sigs <- os.Interrupt
	select {
	case <-abort:
	case <-time.After(5 * time.Second):
		t.Fatal("the second interrupt did not abort the run")
	}
	// The run does not return: the process exits after the grace period.
	select {
	case c := <-exited:
		if c != exitInterrupted {
			t.Errorf("exit code %d", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit after the abort grace")
	}
	<-finished
	close(done)
}

// TestRunThresholdFailureExits99 runs a short embedded scenario whose threshold cannot
// hold: the run completes, the run directory is written, and the exit code is k6's 99.
func TestRunThresholdFailureExits99(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded world")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "strict.yaml")
	body := `name: strict
seed: 3
scenarios:
  checkout: {executor: constant-arrival-rate, exec: sale, rate: 4, duration: 1s, preAllocatedVUs: 2}
thresholds:
  pos_checkout_duration: ["p(95)<1us"]
drain: {timeout: 30s}
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", path, "--out", out, "--quiet"}, ioStreams{Out: &stdout, ErrOut: &stderr})
	if code != exitThresholds {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitThresholds, stderr.String())
	}
	if !strings.Contains(stderr.String(), "pos_checkout_duration p(95)<1us") {
		t.Errorf("stderr does not name the failed threshold:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "THRESHOLDS") {
		t.Errorf("no summary on stdout:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(out, "metrics.json")); err != nil {
		t.Errorf("run directory incomplete: %v", err)
	}
}

func FuzzParseDurationFlag(f *testing.F) {
	for _, s := range []string{"", "0.5", "2", "2m", "1h30m", "-1", "0", "NaN", "Inf", "1e9", "5ms", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scale, total, err := parseDurationFlag(s)
		switch {
		case err != nil:
			if scale != 0 || total != 0 {
				t.Errorf("%q: error with values %v %v", s, scale, total)
			}
		case s == "":
			if scale != 0 || total != 0 {
				t.Errorf("empty flag gave %v %v", scale, total)
			}
		case (scale > 0) == (total > 0):
			t.Errorf("%q: want exactly one of a factor and a length, got %v and %v", s, scale, total)
		}
	})
}
