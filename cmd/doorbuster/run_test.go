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
	"github.com/doorbuster/doorbuster/reports"
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
	held := &harness.InvariantsVerdict{Passed: true}
	broken := &harness.InvariantsVerdict{Failed: []string{"exactly-once"}}
	verdict := func(st reports.Status) *reports.Summary {
		return &reports.Summary{Verdict: reports.Verdict{Status: st, Reasons: []string{"because"}}}
	}
	for _, tc := range []struct {
		name string
		out  harness.Outcome
		code int
	}{
		// With reports, their verdict decides, as for `doorbuster report`.
		{"verdict pass", harness.Outcome{Result: bad, Summary: &reports.Summary{Verdict: reports.Verdict{Status: reports.StatusPass}}}, exitOK},
		{"verdict thresholds", harness.Outcome{Result: ok, ThresholdsPassed: true, Summary: verdict(reports.StatusThresholdsFailed)}, exitThresholds},
		{"verdict invariants", harness.Outcome{Summary: verdict(reports.StatusInvariantsFailed)}, exitInvariants},
		{"verdict interrupted", harness.Outcome{Summary: verdict(reports.StatusInterrupted)}, exitInterrupted},
		{"verdict error", harness.Outcome{Summary: verdict(reports.StatusError)}, exitError},
		{"verdict incomplete", harness.Outcome{Summary: verdict(reports.StatusIncomplete)}, exitError},
		// Without reports: the same order from the outcome.
		{"pass", harness.Outcome{Result: ok, ThresholdsPassed: true, Invariants: held}, exitOK},
		{"threshold failed", harness.Outcome{Result: bad, Invariants: held}, exitThresholds},
		{"aborted on a threshold", harness.Outcome{Result: bad, Stopped: "threshold", Invariants: held}, exitThresholds},
		{"interrupted", harness.Outcome{Result: ok, ThresholdsPassed: true, Stopped: "graceful"}, exitInterrupted},
		{"interrupted beats invariants", harness.Outcome{Result: bad, Stopped: "graceful", Invariants: broken}, exitInterrupted},
		{"invariants beat thresholds", harness.Outcome{Result: bad, Invariants: broken}, exitInvariants},
		{"drain timeout", harness.Outcome{Result: ok, ThresholdsPassed: true, Invariants: held, DrainTimedOut: true}, exitInvariants},
		{"no check", harness.Outcome{Result: ok, ThresholdsPassed: true, CheckErr: errors.New("no journal")}, exitError},
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

// TestRunVerdictExitCodes runs a short embedded scenario whose threshold cannot hold:
// the run completes, the run directory and the reports are written, their paths are
// printed, and the exit code is k6's 99; with an invariant failing too, 97 wins.
func TestRunVerdictExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded world")
	}
	const body = `name: strict
seed: 3
scenarios:
  checkout: {executor: constant-arrival-rate, exec: sale, rate: 4, duration: 1s, preAllocatedVUs: 2}
thresholds:
  pos_checkout_duration: ["p(95)<1us"]
drain: {timeout: 30s}
`
	for _, tc := range []struct {
		name, extra string
		code        int
		verdict     string
	}{
		{"threshold", "", exitThresholds, "verdict: thresholds-failed"},
		{"invariant and threshold", "invariants:\n  custom:\n    - {id: no-sales, statement: nothing is sold, sql: \"SELECT id AS tx_id, 'a sale' AS what FROM tx LIMIT 1\"}\n",
			exitInvariants, "verdict: invariants-failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "strict.yaml")
			if err := os.WriteFile(path, []byte(body+tc.extra), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "run")
			var stdout, stderr bytes.Buffer
			code := run([]string{"run", path, "--out", out, "--quiet"}, ioStreams{Out: &stdout, ErrOut: &stderr})
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "pos_checkout_duration 'p(95)<1us' failed") || !strings.Contains(stderr.String(), tc.verdict) {
				t.Errorf("stderr does not give the verdict and name the failed threshold:\n%s", stderr.String())
			}
			for _, f := range []string{"summary.json", "k6-summary.json", "junit.xml", "summary.md", "report.html"} {
				if !strings.Contains(stdout.String(), filepath.Join(out, f)+"\n") {
					t.Errorf("stdout does not list %s:\n%s", f, stdout.String())
				}
			}
			if !strings.Contains(stdout.String(), "THRESHOLDS") {
				t.Errorf("no summary on stdout:\n%s", stdout.String())
			}
		})
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
