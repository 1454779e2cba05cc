// Package rundir describes the run directory that `doorbuster run` writes and that the
// invariant checker and the reports read: the file names, the Go types of its JSON files,
// and functions to read and write them.
//
//	runs/<YYYYMMDD-HHMMSS>-<scenario name>/
//	  scenario.yaml      the scenario as run, every default filled in (flag overrides applied)
//	  run.json           Run: name, seed, mode, connector, times of the phases, world
//	  journal.db         the registers' truth (written by the POS module)
//	  books/netsuite.db  the NetSuite simulator's books (/_sim/export)
//	  books/gateway.db   the gateway simulator's books (/_sim/export)
//	  faults.json        Faults: the rules of both simulators with their counts, and the events
//	  metrics.json       the engine's loadgen.Result (HDR histograms, time series)
//	  backlog.json       []BacklogSample: the connector's sync status, once a second
//	  actions.json       Actions: what was done to the system under test (scenario actions), if any
//	  connector/         the reference connector as a child process (runs with kill or pause
//	                     actions): data/ its data directory, connector.log its output
//
// The package depends only on the engine (for metrics.json), so that the checker and the
// reports can read a run without importing the harness.
package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/doorbuster/doorbuster/loadgen"
)

// Names of the files of a run directory, relative to it.
const (
	ScenarioFile      = "scenario.yaml"
	RunFile           = "run.json"
	JournalFile       = "journal.db"
	BooksDir          = "books"
	NetSuiteBooksFile = "books/netsuite.db"
	GatewayBooksFile  = "books/gateway.db"
	FaultsFile        = "faults.json"
	MetricsFile       = "metrics.json"
	BacklogFile       = "backlog.json"
	ActionsFile       = "actions.json"
	// ConnectorDataDir and ConnectorLogFile are the child connector process's data
	// directory and output.
	ConnectorDataDir = "connector/data"
	ConnectorLogFile = "connector/connector.log"
)

// Version is the version of run.json and faults.json this package writes.
const Version = 1

// Modes of a run: where the simulators and the connector run.
const (
	ModeEmbedded = "embedded" // simulators and the reference connector in the harness's process
	ModeURL      = "url"      // a connector already running, against `doorbuster sim`
	ModeImage    = "image"    // containers started by the harness
)

// Run is run.json: what was run, against what, and when each phase ended.
type Run struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	// Scenario is the scenario file as given on the command line.
	Scenario string `json:"scenario"`
	Seed     int64  `json:"seed"`
	Mode     string `json:"mode"`
	// Segment is the execution segment "i/n" ("1/1" for the whole plan).
	Segment           string     `json:"segment"`
	Connector         Connector  `json:"connector"`
	Simulators        Simulators `json:"simulators"`
	DoorbusterVersion string     `json:"doorbusterVersion"`
	World             World      `json:"world"`

	StartedAt time.Time `json:"startedAt"`
	// TrafficStartedAt is when the fault clocks started and the engine began the plan;
	// fault windows count from it.
	TrafficStartedAt *time.Time `json:"trafficStartedAt,omitempty"`
	TrafficEndedAt   *time.Time `json:"trafficEndedAt,omitempty"`
	// DrainedAt is when the connector's backlog was first seen empty after the traffic;
	// nil when the drain timed out or did not run.
	DrainedAt *time.Time `json:"drainedAt,omitempty"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
	// DrainTimedOut: the backlog was not empty within the scenario's drain timeout.
	DrainTimedOut bool `json:"drainTimedOut"`
	// Stopped is "" when the traffic ran to its end, "graceful" after an interrupt
	// (Ctrl-C), "hard" after a second interrupt, "threshold" after an abortOnFail threshold.
	Stopped string `json:"stopped,omitempty"`
	// Error is why the run failed, when it did after the run directory was made.
	Error string `json:"error,omitempty"`
}

// Connector identifies the connector under test.
type Connector struct {
	URL     string   `json:"url"`
	Version string   `json:"version,omitempty"` // as reported by the connector, when it does
	Image   string   `json:"image,omitempty"`   // image mode
	Digest  string   `json:"digest,omitempty"`  // image mode
	Bugs    []string `json:"bugs,omitempty"`    // bug switches of the reference connector
	// Reference is true when the connector is Doorbuster's reference connector.
	Reference bool `json:"reference"`
}

// Simulators are the base URLs the simulators served the run on.
type Simulators struct {
	NetSuite string `json:"netsuite"`
	Gateway  string `json:"gateway"`
}

// World identifies the fixture world.
type World struct {
	Size string `json:"size"`
	Seed int64  `json:"seed"`
	File string `json:"file,omitempty"` // a world file, when the world was not generated
}

// Faults is faults.json: every rule of both simulators with its counts, and every fault
// they injected. Latency rules made from the simulators' latency profiles (Profile true)
// hit nearly every request; their events are counted in ProfileEvents, not listed.
type Faults struct {
	Version int `json:"version"`
	// ClockStart is when each simulator's fault clock started (rule windows count from
	// it), by target ("netsuite", "gateway").
	ClockStart map[string]time.Time `json:"clockStart"`
	Rules      []FaultRule          `json:"rules"`
	// Events are the injected faults of both simulators, by time.
	Events []FaultEvent `json:"events"`
	// ProfileEvents counts the latency of profile rules applied, per target.
	ProfileEvents map[string]int64 `json:"profileEvents"`
	// EventsLost counts events a simulator dropped before the harness read them (its
	// event buffer overflowed), per target; 0 normally.
	EventsLost map[string]int64 `json:"eventsLost,omitempty"`
}

// FaultRule is one rule of a simulator with its counts.
type FaultRule struct {
	Target string `json:"target"`
	Name   string `json:"name"`
	// Profile marks a latency rule made from the simulator's latency profile.
	Profile bool `json:"profile"`
	// Rule is the rule as the simulator reports it (fault engine rules-file schema).
	Rule     json.RawMessage `json:"rule"`
	Matched  int64           `json:"matched"`
	Injected int64           `json:"injected"`
}

// FaultEvent is one injected fault.
type FaultEvent struct {
	Seq    int64     `json:"seq"` // per target
	Time   time.Time `json:"time"`
	Rule   string    `json:"rule"`
	Target string    `json:"target"`
	Effect string    `json:"effect"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
}

// Actions is actions.json: what the harness did to the system under test during the
// run — the scenario's actions (kill, restart, pause, unpause the connector, partition
// it from a simulator, heal) — and the spans they impaired it.
type Actions struct {
	Version int `json:"version"`
	// TrafficStartedAt is when the traffic started: the actions' times count from it.
	TrafficStartedAt time.Time `json:"trafficStartedAt"`
	// Steps are the scenario's actions and the ends of those with a duration, in the
	// order they were due.
	Steps []ActionStep `json:"steps"`
	// Windows are the spans the connector was killed, paused or cut off, by start.
	Windows []ActionWindow `json:"windows"`
}

// How an action step was done.
const (
	ActionBySignal    = "signal"     // a signal to the child connector process (SIGKILL, SIGSTOP, SIGCONT), or its start
	ActionByContainer = "container"  // the container orchestration (kill, start, pause, network disconnect)
	ActionByFaultRule = "fault-rule" // an outage rule of the simulator (a partition without containers)
)

// ActionStep is one action done (or not).
type ActionStep struct {
	// Do is the action: kill-connector, restart-connector, pause-connector,
	// unpause-connector, partition-netsuite, partition-gateway or heal.
	Do string `json:"do"`
	// Action is the index of the scenario's action; Undo marks the end of its duration.
	Action int  `json:"action"`
	Undo   bool `json:"undo,omitempty"`
	// AtMs is when it was due, in milliseconds after TrafficStartedAt.
	AtMs float64 `json:"atMs"`
	// Time is when it was done; nil when it was not (Error says why).
	Time *time.Time `json:"time,omitempty"`
	// How is ActionBySignal, ActionByContainer or ActionByFaultRule.
	How string `json:"how,omitempty"`
	// Rule names the fault rule of a partition done by a fault rule (its window in the
	// rule is the partition's).
	Rule  string `json:"rule,omitempty"`
	Error string `json:"error,omitempty"`
}

// ActionWindow is a span the system under test was impaired by actions.
type ActionWindow struct {
	// Kind is connector-killed, connector-paused or partition.
	Kind string `json:"kind"`
	// Target is what was impaired: connector, or the simulator cut off (netsuite, gateway).
	Target string    `json:"target"`
	Start  time.Time `json:"start"`
	// End is nil when the window was still open when the run ended.
	End *time.Time `json:"end,omitempty"`
}

// BacklogSample is one reading of the connector's sync status.
type BacklogSample struct {
	Time         time.Time `json:"time"`
	Pending      int       `json:"pending"`
	InFlight     int       `json:"inFlight"`
	Posted       int       `json:"posted"`
	DeadLettered int       `json:"deadLettered"`
	// Error is set when the status could not be read; the counts are then zero.
	Error string `json:"error,omitempty"`
}

// Backlog is the work the connector still has: pending + in flight.
func (s BacklogSample) Backlog() int { return s.Pending + s.InFlight }

// WriteJSON writes v as indented JSON to path, through a temporary file renamed into
// place, so a reader never sees half a file.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return WriteFile(path, append(b, '\n'))
}

// WriteFile writes data to path through a temporary file renamed into place.
func WriteFile(path string, data []byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readJSON decodes the file name of dir into v.
func readJSON(dir, name string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("run directory %s has no %s: %w", dir, name, err)
		}
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// LoadRun reads run.json of the run directory dir.
func LoadRun(dir string) (*Run, error) {
	var r Run
	if err := readJSON(dir, RunFile, &r); err != nil {
		return nil, err
	}
	if r.Version != Version {
		return nil, fmt.Errorf("%s: version %d, this Doorbuster reads version %d", filepath.Join(dir, RunFile), r.Version, Version)
	}
	return &r, nil
}

// LoadFaults reads faults.json of the run directory dir.
func LoadFaults(dir string) (*Faults, error) {
	var f Faults
	if err := readJSON(dir, FaultsFile, &f); err != nil {
		return nil, err
	}
	if f.Version != Version {
		return nil, fmt.Errorf("%s: version %d, this Doorbuster reads version %d", filepath.Join(dir, FaultsFile), f.Version, Version)
	}
	return &f, nil
}

// LoadBacklog reads backlog.json of the run directory dir.
func LoadBacklog(dir string) ([]BacklogSample, error) {
	var s []BacklogSample
	if err := readJSON(dir, BacklogFile, &s); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadActions reads actions.json of the run directory dir (a run without actions has
// none: the error then wraps fs.ErrNotExist).
func LoadActions(dir string) (*Actions, error) {
	var a Actions
	if err := readJSON(dir, ActionsFile, &a); err != nil {
		return nil, err
	}
	if a.Version != Version {
		return nil, fmt.Errorf("%s: version %d, this Doorbuster reads version %d", filepath.Join(dir, ActionsFile), a.Version, Version)
	}
	return &a, nil
}

// LoadMetrics reads metrics.json of the run directory dir: the engine's Result, with its
// histograms, ready for Summary, thresholds and charts.
func LoadMetrics(dir string) (*loadgen.Result, error) {
	var r loadgen.Result
	if err := readJSON(dir, MetricsFile, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
