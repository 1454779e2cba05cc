package certify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/doorbuster/doorbuster/scenarios"
)

// harnessPlaysActions says whether the harness plays a scenario's actions (kill,
// restart, pause, partition) itself. Until it does, certify plays them: it starts the
// connector it can kill (a child process, or a container), turns partitions into
// outage fault rules where there is no network to cut, and runs the harness in url mode
// on a copy of the case without its actions. Once the harness plays them, set this to
// true: certify then hands the case files to the harness unchanged.
const harnessPlaysActions = false

// Action is one step of a case's timeline of actions, relative to the start of the
// traffic.
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

// actor performs actions on a running case's connector.
type actor interface {
	KillConnector(ctx context.Context) error
	RestartConnector(ctx context.Context) error
	PauseConnector(ctx context.Context) error
	UnpauseConnector(ctx context.Context) error
	// Partition cuts the connector off from target (or reconnects it) in container mode.
	Partition(ctx context.Context, target scenarios.ActionKind, cut bool) error
}

// actionLog is what happened to one action.
type actionLog struct {
	Action
	// Done is when it was done, relative to the start of the traffic; Err why not.
	Done time.Duration
	Err  string
}

// play waits for the traffic to start (trafficStarted returns its start once known),
// then performs the actions at their times. It returns what it did when all are done
// or ctx ends. Once ctx ends, impairments are no longer made but what ends one
// (restart, unpause, heal) still is: the connector is never left dead or cut off.
func play(ctx context.Context, acts []Action, a actor, trafficStarted func(context.Context) (time.Time, error), log *slog.Logger) []actionLog {
	out := make([]actionLog, 0, len(acts))
	if len(acts) == 0 {
		return out
	}
	start, err := trafficStarted(ctx)
	if err != nil {
		for _, x := range acts {
			out = append(out, actionLog{Action: x, Err: "not done: " + err.Error()})
		}
		return out
	}
	partitioned := map[scenarios.ActionKind]bool{}
	killed, paused := false, false
	for _, x := range acts {
		if ctx.Err() == nil {
			if wait := time.Until(start.Add(x.At)); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
			}
		}
		if ctx.Err() != nil && x.Do.Undo() != "" {
			out = append(out, actionLog{Action: x, Err: "not done: the traffic had ended"})
			continue
		}
		if (x.Do == scenarios.RestartConnector && !killed) || (x.Do == scenarios.UnpauseConnector && !paused) {
			continue // what it ends was not done
		}
		l := do(context.WithoutCancel(ctx), x, a, start, partitioned, log)
		out = append(out, l)
		switch x.Do {
		case scenarios.KillConnector, scenarios.RestartConnector:
			killed = x.Do == scenarios.KillConnector && l.Err == ""
		case scenarios.PauseConnector, scenarios.UnpauseConnector:
			paused = x.Do == scenarios.PauseConnector && l.Err == ""
		}
	}
	return out
}

func do(ctx context.Context, x Action, a actor, start time.Time, partitioned map[scenarios.ActionKind]bool, log *slog.Logger) actionLog {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var err error
	switch x.Do {
	case scenarios.KillConnector:
		err = a.KillConnector(ctx)
	case scenarios.RestartConnector:
		err = a.RestartConnector(ctx)
	case scenarios.PauseConnector:
		err = a.PauseConnector(ctx)
	case scenarios.UnpauseConnector:
		err = a.UnpauseConnector(ctx)
	case scenarios.PartitionNetSuite, scenarios.PartitionGateway:
		if err = a.Partition(ctx, x.Do, true); err == nil {
			partitioned[x.Do] = true
		}
	case scenarios.Heal:
		var errs []error
		for p := range partitioned {
			errs = append(errs, a.Partition(ctx, p, false))
			delete(partitioned, p)
		}
		err = errors.Join(errs...)
	default:
		err = fmt.Errorf("unknown action %q", x.Do)
	}
	l := actionLog{Action: x, Done: time.Since(start).Round(time.Millisecond)}
	if err != nil {
		l.Err = err.Error()
		log.Warn("certify: action failed", "action", x.Do, "err", err)
	}
	return l
}

// partitionRules turns the partitions of a timeline into outage fault rules of the
// simulator cut off, for the same windows: what a partition is where there is no
// network to cut (NetSuite: every request; the gateway: its refund API, which is what a
// connector calls). It returns the rules and the timeline without the partitions.
func partitionRules(acts []Action, trafficEnd time.Duration) ([]scenarios.FaultRule, []Action, error) {
	var rules []scenarios.FaultRule
	var rest []Action
	open := map[scenarios.ActionKind]time.Duration{}
	closeWindow := func(p scenarios.ActionKind, end time.Duration) error {
		r, err := outageRule(p, open[p], end-open[p])
		if err != nil {
			return err
		}
		rules = append(rules, r)
		delete(open, p)
		return nil
	}
	for _, a := range acts {
		switch a.Do {
		case scenarios.PartitionNetSuite, scenarios.PartitionGateway:
			open[a.Do] = a.At
		case scenarios.Heal:
			for _, p := range []scenarios.ActionKind{scenarios.PartitionNetSuite, scenarios.PartitionGateway} {
				if _, ok := open[p]; ok {
					if err := closeWindow(p, a.At); err != nil {
						return nil, nil, err
					}
				}
			}
		default:
			rest = append(rest, a)
		}
	}
	for _, p := range []scenarios.ActionKind{scenarios.PartitionNetSuite, scenarios.PartitionGateway} {
		if _, ok := open[p]; ok {
			if err := closeWindow(p, trafficEnd); err != nil {
				return nil, nil, err
			}
		}
	}
	return rules, rest, nil
}

// outageRule is the fault rule of a partition from NetSuite or the gateway.
func outageRule(p scenarios.ActionKind, start, dur time.Duration) (scenarios.FaultRule, error) {
	r := scenarios.FaultRule{Name: string(p), Effect: "outage", Probability: 1,
		Window: &scenarios.Window{Start: scenarios.Duration(start), Duration: scenarios.Duration(dur)}}
	raw := map[string]any{
		"name":   string(p),
		"effect": map[string]any{"outage": map[string]any{"message": "network partition: the connector cannot reach this service"}},
		"window": map[string]any{"start": scenarios.Duration(start).String(), "duration": scenarios.Duration(dur).String()},
	}
	switch p {
	case scenarios.PartitionNetSuite:
		r.Target = "netsuite"
	case scenarios.PartitionGateway:
		r.Target = "gateway"
		r.Match = scenarios.FaultMatch{Method: "POST", Path: "/v1/refunds"}
		raw["match"] = map[string]any{"method": "POST", "path": "/v1/refunds"}
	default:
		return r, fmt.Errorf("%s is not a partition", p)
	}
	raw["target"] = r.Target
	b, err := json.Marshal(raw)
	if err != nil {
		return r, err
	}
	r.EffectParams = json.RawMessage(`{"message":"network partition: the connector cannot reach this service"}`)
	r.Raw = b
	return r, nil
}
