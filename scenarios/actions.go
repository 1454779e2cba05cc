package scenarios

import (
	"slices"
	"strconv"
	"time"
)

// ActionKind names something the harness does to the system under test.
type ActionKind string

// The actions. A kill, a pause and a partition are impairments that a later action (or
// the action's own Duration) ends: restart, unpause, heal.
const (
	// KillConnector kills the connector without warning: SIGKILL of its process (the
	// harness then runs the reference connector as a child process) or a container kill.
	KillConnector ActionKind = "kill-connector"
	// RestartConnector starts the killed connector again on the same data directory
	// and address.
	RestartConnector ActionKind = "restart-connector"
	// PauseConnector freezes the connector (SIGSTOP, docker pause): connections stay open
	// and nothing answers.
	PauseConnector ActionKind = "pause-connector"
	// UnpauseConnector lets a paused connector run on.
	UnpauseConnector ActionKind = "unpause-connector"
	// PartitionNetSuite cuts the connector off from NetSuite: a network partition in
	// image mode, an outage of the NetSuite simulator otherwise.
	PartitionNetSuite ActionKind = "partition-netsuite"
	// PartitionGateway cuts the connector off from the payment gateway.
	PartitionGateway ActionKind = "partition-gateway"
	// Heal ends every partition. (The end of a partition's Duration ends that
	// partition only.)
	Heal ActionKind = "heal"
)

// ActionKinds returns every action, in the order the schema lists them.
func ActionKinds() []ActionKind {
	return []ActionKind{KillConnector, RestartConnector, PartitionNetSuite, PartitionGateway, Heal, PauseConnector, UnpauseConnector}
}

// Undo returns the action that ends k: restart-connector for kill-connector,
// unpause-connector for pause-connector, heal for a partition; "" for the others.
func (k ActionKind) Undo() ActionKind {
	switch k {
	case KillConnector:
		return RestartConnector
	case PauseConnector:
		return UnpauseConnector
	case PartitionNetSuite, PartitionGateway:
		return Heal
	}
	return ""
}

// Action is one thing done to the system under test, at a time relative to the start of
// the traffic (as fault windows are).
type Action struct {
	At Duration   `json:"at"`
	Do ActionKind `json:"do"`
	// Duration, for a kill, a pause or a partition, ends it that long after At (a
	// restart, an unpause, a heal); 0: a later action ends it.
	Duration Duration `json:"duration,omitempty"`
}

// ActionStep is one step of a run's timeline of actions (see [File.ActionTimeline]).
type ActionStep struct {
	At time.Duration
	Do ActionKind
	// Action is the index in File.Actions of the action the step comes from; Undo marks
	// the step that ends that action after its Duration.
	Action int
	Undo   bool
}

// ActionTimeline returns the actions as steps by time: each action, and the end of each
// action that has a Duration. Steps at the same time keep the order of the file, an
// action's end coming right after the action that precedes it.
func (f *File) ActionTimeline() []ActionStep {
	var out []ActionStep
	for i, a := range f.Actions {
		out = append(out, ActionStep{At: a.At.Std(), Do: a.Do, Action: i})
		if a.Duration > 0 && a.Do.Undo() != "" {
			out = append(out, ActionStep{At: a.At.Std() + a.Duration.Std(), Do: a.Do.Undo(), Action: i, Undo: true})
		}
	}
	slices.SortStableFunc(out, func(a, b ActionStep) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	return out
}

// checkActions checks the actions: in time order, within the traffic, each impairment
// ended before the run ends, and each end following what it ends.
func checkActions(f *File, ps *problems, has func(...string) bool) {
	at := func(i int, k ...string) []string { return append([]string{"actions", strconv.Itoa(i)}, k...) }
	traffic := f.TrafficDuration()
	end := traffic + f.Drain.Timeout.Std()
	bad := map[int]bool{}
	for i, a := range f.Actions {
		if i > 0 && a.At < f.Actions[i-1].At {
			ps.add(at(i, "at"), false, "expected %s or later (the time of the action above), got %s: list the actions in time order", f.Actions[i-1].At, a.At)
			bad[i] = true
		}
		if traffic > 0 && a.At.Std() >= traffic {
			ps.add(at(i, "at"), false, "expected a time within the traffic (before %s), got %s", Duration(traffic), a.At)
			bad[i] = true
		}
		if has(at(i, "duration")...) {
			switch {
			case a.Do.Undo() == "":
				ps.add(at(i, "duration"), true, "%s ends another action: a duration applies to %s, %s, %s and %s",
					a.Do, KillConnector, PauseConnector, PartitionNetSuite, PartitionGateway)
				bad[i] = true
			case a.Duration <= 0:
				ps.add(at(i, "duration"), false, "expected a positive duration, got %s", a.Duration)
				bad[i] = true
			case a.At.Std()+a.Duration.Std() > end:
				ps.add(at(i, "duration"), false, "the %s ends at %s, after the run (traffic %s + drain timeout %s)",
					a.Do, Duration(a.At.Std()+a.Duration.Std()), Duration(traffic), f.Drain.Timeout)
				bad[i] = true
			}
		}
	}
	if len(bad) > 0 {
		return // the timeline below would only repeat these problems
	}

	// Play the timeline: each step must find the system in a state it applies to.
	killed, paused := -1, -1            // the action that killed / paused the connector
	partitioned := map[ActionKind]int{} // partition → the action that made it
	failed := false
	problem := func(s ActionStep, format string, args ...any) {
		key := "do"
		if s.Undo {
			key = "duration"
		}
		ps.add(at(s.Action, key), false, format, args...)
		failed = true
	}
	for _, s := range f.ActionTimeline() {
		if failed {
			return // the first problem only: the states after it are not what the file meant
		}
		switch s.Do {
		case KillConnector:
			switch {
			case killed >= 0:
				problem(s, "the connector is already killed (by actions[%d]) at %s", killed, Duration(s.At))
			case paused >= 0:
				problem(s, "the connector is paused (by actions[%d]) at %s: unpause it before killing it", paused, Duration(s.At))
			default:
				killed = s.Action
			}
		case RestartConnector:
			if killed < 0 {
				problem(s, "restart-connector at %s: the connector is not killed then (give a kill-connector before it)", Duration(s.At))
			}
			killed = -1
		case PauseConnector:
			switch {
			case paused >= 0:
				problem(s, "the connector is already paused (by actions[%d]) at %s", paused, Duration(s.At))
			case killed >= 0:
				problem(s, "the connector is killed (by actions[%d]) at %s: there is nothing to pause", killed, Duration(s.At))
			default:
				paused = s.Action
			}
		case UnpauseConnector:
			if paused < 0 {
				problem(s, "unpause-connector at %s: the connector is not paused then (give a pause-connector before it)", Duration(s.At))
			}
			paused = -1
		case PartitionNetSuite, PartitionGateway:
			if j, ok := partitioned[s.Do]; ok {
				problem(s, "the connector is already cut off by actions[%d] at %s", j, Duration(s.At))
			} else {
				partitioned[s.Do] = s.Action
			}
		case Heal:
			switch {
			case s.Undo:
				// The end of one partition's duration heals that partition (if a heal
				// has not already).
				if p := f.Actions[s.Action].Do; partitioned[p] == s.Action {
					delete(partitioned, p)
				}
			case len(partitioned) == 0:
				problem(s, "heal at %s: nothing is partitioned then (give a partition before it)", Duration(s.At))
			default:
				clear(partitioned)
			}
		}
	}
	if failed {
		return
	}
	never := func(i int, what string, undo ActionKind) {
		ps.add(at(i, "do"), false, "the connector is %s and never %s: give the action a duration, or add a later %s", what,
			map[ActionKind]string{RestartConnector: "restarted", UnpauseConnector: "unpaused", Heal: "healed"}[undo], undo)
	}
	if killed >= 0 {
		never(killed, "killed", RestartConnector)
	}
	if paused >= 0 {
		never(paused, "paused", UnpauseConnector)
	}
	for _, k := range []ActionKind{PartitionNetSuite, PartitionGateway} {
		if i, ok := partitioned[k]; ok {
			never(i, "cut off from "+map[ActionKind]string{PartitionNetSuite: "NetSuite", PartitionGateway: "the gateway"}[k], Heal)
		}
	}
}
