package harness

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/reports"
)

// Config is one run: the scenario file, the flag overrides, where the connector is, and
// where output goes. The zero value of every optional field is a sensible default.
type Config struct {
	// ScenarioPath is the scenario file (required).
	ScenarioPath string

	// Seed, when not nil, replaces the scenario's seed (world, baskets, faults).
	Seed *int64
	// DurationScale, when > 0, multiplies the traffic's timeline (scenarios.File.ScaleDuration).
	DurationScale float64
	// TrafficDuration, when > 0, scales the timeline so the traffic lasts this long
	// (exclusive with DurationScale).
	TrafficDuration time.Duration
	// OutDir is the run directory; "" makes RunsDir/<YYYYMMDD-HHMMSS>-<name> (UTC).
	OutDir string
	// RunsDir is where OutDir is made when empty [runs].
	RunsDir string
	// Bugs are bug switches of the embedded reference connector, added to the
	// scenario's connector.bugs.
	Bugs []string
	// Segment runs one slice of the traffic (zero: all of it).
	Segment loadgen.Segment

	// ConnectorURL selects url mode: a connector already running, against simulators
	// whose base URLs are NetSuiteURL and GatewayURL (or are read from EnvFile).
	ConnectorURL string
	NetSuiteURL  string
	GatewayURL   string
	// GatewayKey is the gateway's secret key in url mode ["" = the world's, or EnvFile's].
	GatewayKey string
	// EnvFile is an environment file as `doorbuster sim --env-file` writes it (url mode):
	// NETSUITE_BASE_URL, GATEWAY_BASE_URL, GATEWAY_API_KEY, NETSUITE_ACCOUNT_ID, ….
	EnvFile string
	// KeepBooks, in url mode, leaves the simulators' books as they are instead of
	// resetting them to the world before the traffic.
	KeepBooks bool
	// ConnectorImage selects image mode: the connector runs from this container image,
	// started by Containers.
	ConnectorImage string
	// SimImage is the Doorbuster image the simulators run in image mode; "" builds one
	// from this repository. ConnectorImage equal to SimImage runs its reference connector.
	SimImage string
	// Containers starts the container stack in image mode [Containers{SimImage,
	// Version}: package compose, on the local Docker engine].
	Containers ContainerStarter

	// NewTraffic makes the POS traffic module [the xk6-pos module].
	NewTraffic NewTraffic
	// ConnectorCommand runs the reference connector as a child process, which embedded
	// runs do when the scenario's actions kill or pause the connector; the environment
	// contract is added to the command's environment [this executable's `connector`
	// command: os.Executable() connector].
	ConnectorCommand []string
	// InvariantsWorker runs part of the invariant check in a child process, which
	// keeps two cores busy without sharing SQLite's page cache lock (a program and
	// arguments that serve invariants.ServeWorker, e.g. os.Executable()
	// invariants-worker) [none: a second connection in this process].
	InvariantsWorker []string

	// Stdout receives the end-of-test summary [discarded when nil].
	Stdout io.Writer
	// Progress receives live progress [none when nil]: bars when it is a terminal
	// (or ProgressBars), else a plain line every ProgressInterval.
	Progress         io.Writer
	ProgressBars     bool
	ProgressInterval time.Duration // plain lines [5s]
	// Logger receives the harness's, the simulators' and the connector's logs
	// [warnings and errors to Progress, or discarded].
	Logger *slog.Logger
	// Version is Doorbuster's version, written to run.json.
	Version string

	// Abort, when closed, stops the run at once (a second Ctrl-C): running iterations are
	// interrupted, the drain and the exports are skipped, everything is torn down.
	Abort <-chan struct{}

	// ReadyTimeout bounds the wait for the simulators and the connector to be ready [2m].
	ReadyTimeout time.Duration
	// InterruptDrain bounds the drain after a graceful interrupt [10s].
	InterruptDrain time.Duration
	// StockProbe is how many (item, store) pairs are probed after the drain [100].
	StockProbe int
	// StockSettle is how long the connector must have posted nothing (its sync status's
	// lastPostedAt) before its stock view is probed, so that a connector refreshing its
	// view once its backlog is empty gets to do so [2s; negative: no wait].
	StockSettle time.Duration
	// SampleInterval is how often the connector's backlog and the fault events are read [1s].
	SampleInterval time.Duration
}

// Mode returns the run's mode: rundir.ModeEmbedded, ModeURL or ModeImage.
func (c *Config) Mode() string {
	switch {
	case c.ConnectorImage != "":
		return rundir.ModeImage
	case c.ConnectorURL != "":
		return rundir.ModeURL
	}
	return rundir.ModeEmbedded
}

func (c *Config) check() error {
	if c.ScenarioPath == "" {
		return errors.New("no scenario file given")
	}
	if c.ConnectorImage != "" && c.ConnectorURL != "" {
		return errors.New("--connector-url and --connector-image are exclusive: give one")
	}
	if c.DurationScale < 0 || (c.DurationScale > 0 && c.TrafficDuration > 0) {
		return errors.New("give either a duration scale factor or a total traffic duration, not both")
	}
	if c.TrafficDuration < 0 {
		return errors.New("the traffic duration must be positive")
	}
	if c.SimImage != "" && c.ConnectorImage == "" {
		return errors.New("--sim-image is for image mode: give --connector-image too")
	}
	if c.Mode() != rundir.ModeURL && (c.NetSuiteURL != "" || c.GatewayURL != "" || c.EnvFile != "") {
		return errors.New("--netsuite-url, --gateway-url and --env-file are for url mode: give --connector-url too")
	}
	return nil
}

// Outcome is what a run produced. The exit code of `doorbuster run` derives from it.
type Outcome struct {
	// Dir is the run directory.
	Dir string
	// Run is run.json as written.
	Run rundir.Run
	// Result is what the engine measured (nil if the traffic never started).
	Result *loadgen.Result
	// ThresholdsPassed: every threshold passed (true when there are none).
	ThresholdsPassed bool
	// Stopped is "" when the traffic ran to its end, "graceful" after an interrupt,
	// "hard" after Abort, "threshold" after an abortOnFail threshold.
	Stopped string
	// DrainTimedOut: the connector's backlog did not empty within the drain timeout.
	DrainTimedOut bool
	// Backlog is the connector's last sync status read.
	Backlog rundir.BacklogSample
	// InjectedFaults counts the faults the simulators injected (profile latencies excluded).
	InjectedFaults int64
	// Invariants is the checker's verdict; nil when the check was not made (an abort,
	// or CheckErr).
	Invariants *InvariantsVerdict
	// CheckErr is why the invariant check could not be made (invariants.json is then
	// missing, and the verdict is incomplete).
	CheckErr error
	// Summary is the reports' summary (summary.json): its Verdict is the run's verdict,
	// its Outputs the report files written. Nil when the reports were not written
	// (an abort, or ReportErr).
	Summary *reports.Summary
	// ReportErr is why the reports could not be written.
	ReportErr error
}

// InvariantsVerdict is the invariant checker's verdict on the run directory.
type InvariantsVerdict struct {
	Passed bool
	// Failed lists the ids of the invariants that failed.
	Failed []string
}

// Interrupted reports whether the traffic was cut short by an interrupt.
func (o *Outcome) Interrupted() bool { return o.Stopped == "graceful" || o.Stopped == "hard" }

// Passed reports whether the run passed: the reports' verdict is pass when they were
// written; otherwise it ran to its end, its thresholds passed, the backlog drained, and
// its invariants were checked and held.
func (o *Outcome) Passed() bool {
	if o.Summary != nil {
		return o.Summary.Verdict.Status == reports.StatusPass
	}
	return !o.Interrupted() && o.ThresholdsPassed && !o.DrainTimedOut && o.Invariants != nil && o.Invariants.Passed
}

// SetupError is a run that could not start: a bad scenario file, bad options, or a world
// (simulators, connector) that would not start. `doorbuster run` exits 2 on it.
type SetupError struct {
	Err error
}

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// setupErr wraps err (with a context message) as a *SetupError.
func setupErr(err error, format string, args ...any) error {
	if err == nil {
		return &SetupError{Err: fmt.Errorf(format, args...)}
	}
	if format == "" {
		return &SetupError{Err: err}
	}
	return &SetupError{Err: fmt.Errorf(format+": %w", append(args, err)...)}
}

// IsSetup reports whether err is (or wraps) a *SetupError.
func IsSetup(err error) bool {
	var se *SetupError
	return errors.As(err, &se)
}

// ErrAborted is returned by Run when Config.Abort stopped it.
var ErrAborted = errors.New("run aborted")
