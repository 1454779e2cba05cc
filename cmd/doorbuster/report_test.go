package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/reports"
)

// reportFixture copies the reports package's fixture run directory (its JSON files; no
// journal) into a temporary directory.
func reportFixture(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "reports", "testdata", "run")
	dir := t.TempDir()
	for _, name := range []string{rundir.RunFile, rundir.MetricsFile, invariants.FileName, rundir.FaultsFile, rundir.BacklogFile, rundir.ScenarioFile} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// passThresholds rewrites metrics.json with every threshold passing.
func passThresholds(t *testing.T, dir string) {
	t.Helper()
	res, err := rundir.LoadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Thresholds {
		res.Thresholds[i] = loadgen.ThresholdResult{Key: res.Thresholds[i].Key, Expression: res.Thresholds[i].Expression, OK: true, Observed: 1}
	}
	if err := rundir.WriteJSON(filepath.Join(dir, rundir.MetricsFile), res); err != nil {
		t.Fatal(err)
	}
}

// passInvariants rewrites invariants.json with every invariant passing.
func passInvariants(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, invariants.FileName)
	r, err := invariants.ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	r.Verdict = invariants.Pass
	for i := range r.Invariants {
		r.Invariants[i].Verdict, r.Invariants[i].Violations, r.Invariants[i].Evidence, r.Invariants[i].Reason = invariants.Pass, 0, nil, ""
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReportCommand(t *testing.T) {
	cases := []struct {
		name     string
		setup    func(t *testing.T) string
		wantCode int
		wantErr  string // in stderr
	}{
		{"invariants and thresholds fail: invariants win", reportFixture, exitInvariants, "verdict: invariants-failed"},
		{"thresholds fail", func(t *testing.T) string {
			dir := reportFixture(t)
			passInvariants(t, dir)
			return dir
		}, exitThresholds, "verdict: thresholds-failed"},
		{"pass", func(t *testing.T) string {
			dir := reportFixture(t)
			passInvariants(t, dir)
			passThresholds(t, dir)
			return dir
		}, exitOK, "verdict: pass"},
		{"no invariants.json: incomplete", func(t *testing.T) string {
			dir := reportFixture(t)
			passThresholds(t, dir)
			if err := os.Remove(filepath.Join(dir, invariants.FileName)); err != nil {
				t.Fatal(err)
			}
			return dir
		}, exitError, "missing invariants.json: not found"},
		{"not a run directory", func(t *testing.T) string { return t.TempDir() }, exitSetup, "not a run directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.setup(t)
			var out, errOut bytes.Buffer
			code := run([]string{"report", dir}, ioStreams{Out: &out, ErrOut: &errOut})
			if code != c.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.wantCode, out.String(), errOut.String())
			}
			if !strings.Contains(errOut.String(), c.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", c.wantErr, errOut.String())
			}
			if c.wantCode == exitSetup {
				return
			}
			// stdout: one path per file written, each of which exists.
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 5 {
				t.Errorf("stdout has %d paths, want 5:\n%s", len(lines), out.String())
			}
			for _, p := range lines {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("printed path %s: %v", p, err)
				}
			}
			if !strings.HasSuffix(lines[len(lines)-1], reports.HTMLFile) {
				t.Errorf("last path %s, want report.html", lines[len(lines)-1])
			}
		})
	}
}

func TestReportHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"report", "--help"}, ioStreams{Out: &out, ErrOut: &errOut}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"doorbuster report runs/", "GITHUB_STEP_SUMMARY", "99 thresholds failed", "97 invariants failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if code := run([]string{"report"}, ioStreams{Out: &out, ErrOut: &errOut}); code == exitOK {
		t.Error("report without DIR exited 0")
	}
}

func TestVerdictExitCode(t *testing.T) {
	for st, want := range map[reports.Status]int{
		reports.StatusPass: exitOK, reports.StatusThresholdsFailed: exitThresholds,
		reports.StatusInvariantsFailed: exitInvariants, reports.StatusInterrupted: exitInterrupted,
		reports.StatusError: exitError, reports.StatusIncomplete: exitError,
	} {
		if got := verdictExitCode(st); got != want {
			t.Errorf("%s: exit %d, want %d", st, got, want)
		}
	}
}
