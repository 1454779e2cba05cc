package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/doorbuster/doorbuster/reports"
)

// reportOptions are `doorbuster report`'s inputs.
type reportOptions struct {
	streams ioStreams
	dir     string
}

func newReportCmd(streams ioStreams) *cobra.Command {
	opts := reportOptions{streams: streams}
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Render a run directory's reports again and exit with its verdict",
		Long: `Read a run directory (runs/<time>-<scenario>/) and write its reports again:

  summary.json     the versioned summary (schema: reports/SCHEMA.md)
  k6-summary.json  k6's handleSummary data, for tools that read k6 summaries
  junit.xml        one test case per threshold and per invariant, evidence in failures
  summary.md       for CI step summaries and pull-request comments
  report.html      one self-contained page with charts (no network needed)

The paths of the files written go to stdout, the verdict and any missing inputs to
stderr. Missing inputs do not stop the rendering; the reports say what was missing.

Exit codes: 0 pass, 99 thresholds failed (as k6), 97 invariants failed (this wins when
both failed), 105 the traffic was interrupted (as k6), 1 the run recorded an error or
an input the verdict needs (metrics.json, invariants.json) is missing, 2 DIR is not a
run directory.`,
		Example: `  doorbuster report runs/20251128-140000-smoke
  open runs/20251128-140000-smoke/report.html

  # In GitHub Actions: the Markdown summary on the job page
  doorbuster report "$RUN_DIR"; code=$?
  cat "$RUN_DIR/summary.md" >> "$GITHUB_STEP_SUMMARY"; exit $code`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.dir = args[0]
			return reportRun(cmd.Context(), opts)
		},
	}
}

func reportRun(ctx context.Context, opts reportOptions) error {
	s, err := reports.Render(ctx, opts.dir, reports.Options{Version: version})
	if err != nil {
		if errors.Is(err, reports.ErrNotRunDirectory) {
			return withCode(exitSetup, err)
		}
		return withCode(exitError, err)
	}
	for _, name := range s.Outputs {
		fmt.Fprintln(opts.streams.Out, filepath.Join(opts.dir, name))
	}
	for _, m := range s.Missing {
		fmt.Fprintf(opts.streams.ErrOut, "missing %s: %s\n", m.File, m.Reason)
	}
	fmt.Fprintf(opts.streams.ErrOut, "verdict: %s\n", s.Verdict.Status)
	for _, r := range s.Verdict.Reasons {
		fmt.Fprintf(opts.streams.ErrOut, "  %s\n", r)
	}
	if code := verdictExitCode(s.Verdict.Status); code != exitOK {
		return withCode(code, fmt.Errorf("verdict: %s", s.Verdict.Status))
	}
	return nil
}

// verdictExitCode maps a run's verdict to the process exit code: 0 pass, 99 thresholds
// failed, 97 invariants failed, 105 interrupted, 1 a run error or missing inputs.
func verdictExitCode(st reports.Status) int {
	switch st {
	case reports.StatusPass:
		return exitOK
	case reports.StatusThresholdsFailed:
		return exitThresholds
	case reports.StatusInvariantsFailed:
		return exitInvariants
	case reports.StatusInterrupted:
		return exitInterrupted
	}
	return exitError
}
