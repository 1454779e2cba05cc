package certify

import (
	"fmt"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/scenarios"
)

// Action is one step of a case's timeline of actions, relative to the start of the
// traffic. The harness plays them (kill, restart, pause, partition, heal); certify lists
// them and reports what the harness did (actions.json).
type Action struct {
	At time.Duration        `json:"at"`
	Do scenarios.ActionKind `json:"do"`
}

func (a Action) String() string { return fmt.Sprintf("%s at %s", a.Do, fmtDuration(a.At)) }

// timeline returns a file's actions as steps in time order (the ends of actions with a
// duration included).
func timeline(f *scenarios.File) []Action {
	var out []Action
	for _, s := range f.ActionTimeline() {
		out = append(out, Action{At: s.At, Do: s.Do})
	}
	return out
}

// isContract says whether a case runs the contract conformance test.
//
// Interim: the scenario format has no key for it yet (proposed: certification.contract:
// true); the catalog's contract case is known by its id.
func isContract(id string) bool { return id == "C00-contract" }

// killsConnector reports whether a file's actions kill or pause the connector: the
// harness then runs the embedded reference connector as a child process.
func killsConnector(f *scenarios.File) bool {
	for _, a := range f.Actions {
		switch a.Do {
		case scenarios.KillConnector, scenarios.RestartConnector, scenarios.PauseConnector, scenarios.UnpauseConnector:
			return true
		}
	}
	return false
}

// playedActions reads what the harness did of the case's actions from the run
// directory's actions.json, and the failures of the steps it tried (a step not done
// because the run stopped, or because what it ends was not in force, is not one).
func playedActions(dir string) ([]ActionResult, []string, error) {
	acts, err := rundir.LoadActions(dir)
	if err != nil {
		return nil, nil, err
	}
	var out []ActionResult
	var failed []string
	for _, s := range acts.Steps {
		r := ActionResult{Do: s.Do, AtMs: s.AtMs, Error: s.Error}
		if s.Time != nil {
			r.DoneMs = ms(s.Time.Sub(acts.TrafficStartedAt))
		}
		out = append(out, r)
		if s.Error != "" && !isNotDone(s.Error) {
			failed = append(failed, fmt.Sprintf("action %s (due at %s): %s", s.Do, fmtDuration(time.Duration(s.AtMs*float64(time.Millisecond))), s.Error))
		}
	}
	return out, failed, nil
}

// isNotDone reports whether an action step's error says it was skipped, not tried.
func isNotDone(e string) bool { return strings.HasPrefix(e, "not done: ") }
