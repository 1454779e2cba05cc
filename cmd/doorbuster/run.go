package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"

	"github.com/doorbuster/doorbuster/harness"
	"github.com/doorbuster/doorbuster/loadgen"
)

// defaultScenario is the scenario `doorbuster run` runs without an argument.
const defaultScenario = "scenarios/smoke.yaml"

// runOptions are the flags of `doorbuster run`.
type runOptions struct {
	Seed           int64
	SeedSet        bool
	Duration       string
	Out            string
	ConnectorURL   string
	NetSuiteURL    string
	GatewayURL     string
	EnvFile        string
	KeepBooks      bool
	ConnectorImage string
	SimImage       string
	Bugs           []string
	Segment        string
	Quiet          bool
}

// runDeps are what `doorbuster run` needs from the process, replaceable in tests.
type runDeps struct {
	// signals delivers interrupts: the first stops the run gracefully, the second at once.
	signals func() (<-chan os.Signal, func())
	// exit ends the process if an aborted run does not return promptly.
	exit func(code int)
	// progressBars forces bars even when stderr is not a terminal.
	progressBars bool
	// abortGrace is how long an aborted run may take to return before exit [10s].
	abortGrace time.Duration
}

func processDeps() runDeps {
	return runDeps{
		signals: func() (<-chan os.Signal, func()) {
			ch := make(chan os.Signal, 2)
			signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
			return ch, func() { signal.Stop(ch) }
		},
		exit:       os.Exit,
		abortGrace: 10 * time.Second,
	}
}

func newRunCmd(streams ioStreams) *cobra.Command {
	return newRunCmdWith(streams, processDeps())
}

func newRunCmdWith(streams ioStreams, deps runDeps) *cobra.Command {
	var opts runOptions
	cmd := &cobra.Command{
		Use:   "run [FILE]",
		Short: "Run a scenario against a connector and write the run directory",
		Long: `Run one scenario file (default ` + defaultScenario + `): start the fixture world, the NetSuite and
gateway simulators with the scenario's latency profiles and faults, and the connector
under test; drive the POS traffic; drain the connector's backlog; then write the run
directory and print a k6-style summary on stdout. Live progress goes to stderr (bars on
a terminal, a plain line every 5 seconds otherwise).

Where the connector comes from:
  (default)           embedded: the simulators and the reference connector run in this
                      process on loopback ports; --bug switches its bugs on
  --connector-url     a connector already running against ` + "`doorbuster sim`" + `; the
                      simulators' admin API is found with --netsuite-url/--gateway-url or
                      --env-file (as ` + "`doorbuster sim --env-file`" + ` writes it); their books are
                      reset to the world first unless --keep-books
  --connector-image   containers through the local Docker engine: the simulators run in
                      the Doorbuster image (--sim-image, or one built from this repository)
                      and your image gets the environment contract; --connector-image equal
                      to --sim-image runs the reference connector's container

A scenario's actions (kill -9, restart, pause the connector, partition it from NetSuite
or the gateway) are played during the traffic: in embedded mode the reference connector
then runs as a child process of this executable (` + "`doorbuster connector`" + `); with
--connector-image the container is killed, paused or disconnected; without containers
a partition is an outage of that simulator. What was done is in actions.json.

After the drain the invariant checker holds the journal against the books
(invariants.json), pos_sync_latency thresholds are evaluated on the sync latencies it
measured, and the reports are written; their paths are printed at the end.

The run directory (--out, default runs/<YYYYMMDD-HHMMSS>-<name>, UTC) holds scenario.yaml,
run.json, journal.db, books/netsuite.db, books/gateway.db, faults.json, metrics.json,
backlog.json, invariants.json and the reports: summary.json, k6-summary.json, junit.xml,
summary.md and report.html.

Ctrl-C once stops starting iterations, lets running ones finish (gracefulStop), drains
briefly and still writes the run directory; Ctrl-C again exits at once.

Exit codes (the reports' verdict, as ` + "`doorbuster report`" + ` gives it; the first that
applies wins): 105 interrupted, 97 an invariant failed or the backlog did not drain
within the drain timeout, 99 a threshold failed, 0 pass; 2 a bad scenario or setup
(world or connector would not start, a custom invariant's SQL does not run), 1 anything
else (a run error, a verdict that could not be made).`,
		Example: `  # The smoke scenario, embedded
  doorbuster run

  # Black Friday at a quarter of its length, another seed, into a chosen directory
  doorbuster run scenarios/black-friday.yaml --duration 0.25 --seed 7 --out runs/bf-7

  # Squeeze the whole traffic into 2 minutes
  doorbuster run scenarios/soak.yaml --duration 2m

  # Watch the reference connector fail for a known reason
  doorbuster run --bug no-upsert --bug sync-date

  # Your connector, already running against ` + "`doorbuster sim --env-file sim.env`" + `
  doorbuster run scenarios/pilot-gate.yaml --connector-url http://127.0.0.1:8088 --env-file sim.env

  # Your connector's image against the simulators' image from ` + "`make images`" + `
  doorbuster run scenarios/pilot-gate.yaml --connector-image acme/pos-connector:1.4 --sim-image doorbuster:dev

  # The second of four machines sharing the load
  doorbuster run scenarios/black-friday.yaml --connector-url http://127.0.0.1:8088 --env-file sim.env --segment 2/4`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SeedSet = cmd.Flags().Changed("seed")
			path := defaultScenario
			if len(args) == 1 {
				path = args[0]
			}
			return runRun(cmd.Context(), streams, deps, path, opts)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&opts.Seed, "seed", 0, "replace the scenario's seed (world, baskets, faults)")
	f.StringVar(&opts.Duration, "duration", "", "scale the traffic's timeline: a factor like 0.5, or a total length like 2m")
	f.StringVar(&opts.Out, "out", "", "run directory (default runs/<YYYYMMDD-HHMMSS>-<name>, UTC)")
	f.StringVar(&opts.ConnectorURL, "connector-url", "", "use a connector already running at this URL (url mode)")
	f.StringVar(&opts.NetSuiteURL, "netsuite-url", "", "url mode: the NetSuite simulator's base URL")
	f.StringVar(&opts.GatewayURL, "gateway-url", "", "url mode: the gateway simulator's base URL")
	f.StringVar(&opts.EnvFile, "env-file", "", "url mode: the simulators' environment file (doorbuster sim --env-file)")
	f.BoolVar(&opts.KeepBooks, "keep-books", false, "url mode: do not reset the simulators' books to the world first")
	f.StringVar(&opts.ConnectorImage, "connector-image", "", "run the connector from this container image (image mode)")
	f.StringVar(&opts.SimImage, "sim-image", "", "image mode: the Doorbuster image the simulators run (default: build one from this repository, e.g. doorbuster:dev from `make images`)")
	f.StringArrayVar(&opts.Bugs, "bug", nil, "switch on a bug of the embedded reference connector (repeatable)")
	f.StringVar(&opts.Segment, "segment", "", "run the i-th of n equal slices of the traffic, as i/n")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "no live progress (the summary still prints)")
	return cmd
}

// parseDurationFlag reads --duration: a factor ("0.5") or a total length ("2m").
func parseDurationFlag(s string) (scale float64, total time.Duration, err error) {
	if s == "" {
		return 0, 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if !(f > 0) || f > 1e6 {
			return 0, 0, fmt.Errorf("--duration %s: a scale factor must be a positive number like 0.5", s)
		}
		return f, 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("--duration %q: want a scale factor like 0.5 or a total length like 2m", s)
	}
	return 0, d, nil
}

func runRun(ctx context.Context, streams ioStreams, deps runDeps, path string, opts runOptions) error {
	gin.SetMode(gin.ReleaseMode)
	cfg := harness.Config{
		ScenarioPath: path, OutDir: opts.Out, Bugs: opts.Bugs,
		ConnectorURL: opts.ConnectorURL, NetSuiteURL: opts.NetSuiteURL, GatewayURL: opts.GatewayURL,
		EnvFile: opts.EnvFile, KeepBooks: opts.KeepBooks, ConnectorImage: opts.ConnectorImage, SimImage: opts.SimImage,
		Stdout: streams.Out, Version: version, InvariantsWorker: invariantsWorker(),
	}
	if opts.SeedSet {
		cfg.Seed = &opts.Seed
	}
	var err error
	if cfg.DurationScale, cfg.TrafficDuration, err = parseDurationFlag(opts.Duration); err != nil {
		return withCode(exitSetup, err)
	}
	if cfg.Segment, err = loadgen.ParseSegment(opts.Segment); err != nil {
		return withCode(exitSetup, fmt.Errorf("--segment: %w", err))
	}
	if opts.Quiet {
		cfg.Logger = slog.New(slog.NewTextHandler(streams.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	} else {
		cfg.Progress = streams.ErrOut
		cfg.ProgressBars = deps.progressBars
	}

	// Interrupts: the first cancels ctx (graceful), the second closes abort (at once).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	abort := make(chan struct{})
	cfg.Abort = abort
	done := make(chan struct{})
	defer close(done)
	if deps.signals != nil {
		sigs, stop := deps.signals()
		defer stop()
		go watchSignals(streams, deps, sigs, cancel, abort, done)
	}

	out, err := harness.Run(ctx, cfg)
	if out != nil && out.Dir != "" {
		printOutputs(streams, out)
	}
	switch {
	case errors.Is(err, harness.ErrAborted):
		return withCode(exitInterrupted, errors.New("interrupted: exited at once, the run directory is incomplete"))
	case harness.IsSetup(err):
		if ctx.Err() != nil {
			return withCode(exitInterrupted, fmt.Errorf("interrupted while starting: %w", err))
		}
		return withCode(exitSetup, err)
	case err != nil:
		return err
	}
	return outcomeError(out)
}

// printOutputs names the run directory and the reports on stdout (after the summary),
// and the verdict with its reasons on stderr.
func printOutputs(streams ioStreams, out *harness.Outcome) {
	fmt.Fprintf(streams.Out, "\nrun directory: %s\n", out.Dir)
	if out.Summary == nil {
		return
	}
	for _, name := range out.Summary.Outputs {
		fmt.Fprintf(streams.Out, "  %s\n", filepath.Join(out.Dir, name))
	}
	fmt.Fprintf(streams.ErrOut, "verdict: %s\n", out.Summary.Verdict.Status)
	for _, r := range out.Summary.Verdict.Reasons {
		fmt.Fprintf(streams.ErrOut, "  %s\n", r)
	}
}

// outcomeError maps a finished run to its exit code: the reports' verdict, as
// `doorbuster report` maps it (interrupted 105 > invariants failed 97 > thresholds
// failed 99 > pass 0; 1 for a run error or an incomplete verdict). Without reports it
// decides from the outcome in the same order.
func outcomeError(out *harness.Outcome) error {
	if s := out.Summary; s != nil {
		code := verdictExitCode(s.Verdict.Status)
		if code == exitOK {
			return nil
		}
		msg := string(s.Verdict.Status)
		if len(s.Verdict.Reasons) > 0 {
			msg += ": " + s.Verdict.Reasons[0]
			if n := len(s.Verdict.Reasons) - 1; n > 0 {
				msg += fmt.Sprintf(" (and %d more)", n)
			}
		}
		return withCode(code, errors.New(msg))
	}
	var failed []string
	if out.Result != nil {
		for _, t := range out.Result.Thresholds {
			if !t.OK {
				failed = append(failed, fmt.Sprintf("%s %s", t.Key, t.Expression))
			}
		}
	}
	switch {
	case out.Interrupted():
		return withCode(exitInterrupted, errors.New("interrupted: the traffic was stopped early (the run directory is complete for what ran)"))
	case out.Invariants != nil && !out.Invariants.Passed:
		return withCode(exitInvariants, fmt.Errorf("invariants failed: %s", strings.Join(out.Invariants.Failed, ", ")))
	case out.DrainTimedOut:
		return withCode(exitInvariants, errors.New("the connector's backlog did not drain within the drain timeout"))
	case out.Stopped == "threshold" || !out.ThresholdsPassed:
		return withCode(exitThresholds, fmt.Errorf("thresholds failed: %s", strings.Join(failed, "; ")))
	case out.Invariants == nil:
		why := errors.Join(out.CheckErr, out.ReportErr)
		if why == nil {
			why = errors.New("the invariants were not checked")
		}
		return withCode(exitError, fmt.Errorf("no verdict: %w", why))
	}
	if out.ReportErr != nil {
		return withCode(exitError, out.ReportErr)
	}
	return nil
}

// watchSignals turns the first interrupt into a graceful stop and the second into an
// abort; if the run has not returned a few seconds after the abort, the process exits.
func watchSignals(streams ioStreams, deps runDeps, sigs <-chan os.Signal, cancel context.CancelFunc, abort chan struct{}, done <-chan struct{}) {
	n := 0
	for {
		select {
		case <-done:
			return
		case <-sigs:
			n++
			if n == 1 {
				fmt.Fprintln(streams.ErrOut, "\nstopping: no new iterations, running ones finish, then a short drain; Ctrl-C again to exit at once")
				cancel()
				continue
			}
			fmt.Fprintln(streams.ErrOut, "\nexiting at once")
			close(abort)
			select {
			case <-done:
			case <-time.After(deps.abortGrace):
				if deps.exit != nil {
					deps.exit(exitInterrupted)
				}
			}
			return
		}
	}
}
