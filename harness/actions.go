package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/scenarios"
)

// ActionRulePrefix starts the names of the outage rules that stand for partitions where
// there is no network to cut (embedded and url modes); a scenario's own rules may not
// use it.
const ActionRulePrefix = "action."

// needsProcess reports whether the actions kill or pause the connector: the embedded
// reference connector then runs as a child process.
func needsProcess(f *scenarios.File) bool {
	for _, a := range f.Actions {
		switch a.Do {
		case scenarios.KillConnector, scenarios.RestartConnector, scenarios.PauseConnector, scenarios.UnpauseConnector:
			return true
		}
	}
	return false
}

// impairs reports whether an action impairs the system (as opposed to ending an impairment).
func impairs(k scenarios.ActionKind) bool { return k.Undo() != "" }

// partitionTarget returns the simulator a partition cuts the connector off from.
func partitionTarget(k scenarios.ActionKind) string {
	if k == scenarios.PartitionGateway {
		return targetGateway
	}
	return targetNetSuite
}

// checkActionsFor checks, before anything starts, that the mode can play the actions.
func checkActionsFor(f *scenarios.File, mode string) error {
	if mode == rundir.ModeURL {
		for i, a := range f.Actions {
			if !strings.HasPrefix(string(a.Do), "partition-") && a.Do != scenarios.Heal {
				return fmt.Errorf("actions[%d] (%s at %s): with --connector-url the harness did not start the connector and cannot %s it; run the reference connector embedded, or your connector with --connector-image",
					i, a.Do, a.At, strings.TrimSuffix(string(a.Do), "-connector"))
			}
		}
	}
	return nil
}

// checkStackAbilities checks that a started stack can do what the actions ask.
func checkStackAbilities(f *scenarios.File, st Stack) error {
	for i, a := range f.Actions {
		var ok bool
		switch a.Do {
		case scenarios.KillConnector, scenarios.RestartConnector:
			_, ok = st.(ConnectorKiller)
		case scenarios.PauseConnector, scenarios.UnpauseConnector:
			_, ok = st.(ConnectorPauser)
		default:
			ok = true // partitions fall back to outage rules
		}
		if !ok {
			return fmt.Errorf("actions[%d] (%s at %s): this stack cannot %s the connector", i, a.Do, a.At, strings.TrimSuffix(string(a.Do), "-connector"))
		}
	}
	return nil
}

// player does a run's actions at their times from the start of the traffic, and keeps
// what it did for actions.json.
type player struct {
	file     *scenarios.File
	timeline []scenarios.ActionStep
	stack    Stack
	adm      *admin
	sims     map[string]string // target → simulator base URL
	log      *slog.Logger
	note     func(format string, args ...any)
	// stepTimeout bounds one step (a restart waits until the connector is ready).
	stepTimeout time.Duration

	start time.Time
	abort chan struct{} // closed to stop at once
	done  chan struct{}

	mu  sync.Mutex
	did []rundir.ActionStep
	// What is in force (the playing goroutine's): a step that ends something not in
	// force (its impairment was skipped or failed) is not done.
	killed, paused bool
	cut            map[string]bool // partitions, by target
}

func newPlayer(f *scenarios.File, st Stack, adm *admin, sims map[string]string, log *slog.Logger, note func(string, ...any), stepTimeout time.Duration) *player {
	return &player{file: f, timeline: f.ActionTimeline(), stack: st, adm: adm, sims: sims, log: log, note: note,
		stepTimeout: stepTimeout, abort: make(chan struct{}), done: make(chan struct{}), cut: map[string]bool{}}
}

// play does the steps from start. ctx ending is a graceful stop: impairments not yet
// done are skipped, and what ends an impairment (restart, unpause, heal) is done at
// once, so the drain can go on. stop (closing abort) ends it at once.
func (p *player) play(ctx context.Context, start time.Time) {
	p.start = start
	go func() {
		defer close(p.done)
		for i, s := range p.timeline {
			if ctx.Err() == nil {
				t := time.NewTimer(time.Until(start.Add(s.At)))
				select {
				case <-t.C:
				case <-ctx.Done():
				case <-p.abort:
				}
				t.Stop()
			}
			if isClosed(p.abort) {
				for _, rest := range p.timeline[i:] {
					p.record(rest, "", "", errNotDone("the run ended first"), time.Time{})
				}
				return
			}
			if ctx.Err() != nil && impairs(s.Do) {
				p.record(s, "", "", errNotDone("the traffic was stopped"), time.Time{})
				continue
			}
			if why := p.nothingToEnd(s); why != "" {
				p.record(s, "", "", errNotDone(why), time.Time{})
				continue
			}
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.stepTimeout)
			go func() {
				select {
				case <-p.abort:
					cancel()
				case <-sctx.Done():
				}
			}()
			how, rule, err := p.do(sctx, i, s)
			cancel()
			p.record(s, how, rule, err, time.Now().UTC())
		}
	}()
}

// nothingToEnd says why a step that ends an impairment has nothing to end ("" when it
// has).
func (p *player) nothingToEnd(s scenarios.ActionStep) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case s.Do == scenarios.RestartConnector && !p.killed:
		return "the connector was not killed"
	case s.Do == scenarios.UnpauseConnector && !p.paused:
		return "the connector was not paused"
	case s.Do == scenarios.Heal && s.Undo && !p.cut[partitionTarget(p.file.Actions[s.Action].Do)]:
		return "the partition was not in force"
	case s.Do == scenarios.Heal && len(p.cut) == 0:
		return "nothing was partitioned"
	}
	return ""
}

// notDone is a step not done because the run stopped or there was nothing to end.
type notDone string

func (e notDone) Error() string { return "not done: " + string(e) }

func errNotDone(why string) error { return notDone(why) }

func (p *player) record(s scenarios.ActionStep, how, rule string, err error, at time.Time) {
	rs := rundir.ActionStep{Do: string(s.Do), Action: s.Action, Undo: s.Undo, AtMs: float64(s.At.Microseconds()) / 1000, How: how, Rule: rule}
	if err != nil {
		rs.Error = err.Error()
		var nd notDone
		if !errors.As(err, &nd) {
			p.log.Warn("an action failed", "action", s.Do, "due", scenarios.Duration(s.At), "err", err)
		}
	} else {
		rs.Time = &at
		what := string(s.Do)
		if s.Undo {
			what += " (end of actions[" + fmt.Sprint(s.Action) + "]'s duration)"
		}
		p.note("action: %s at %s (due at %s)", what, scenarios.Duration(at.Sub(p.start).Round(time.Millisecond)), scenarios.Duration(s.At))
	}
	p.mu.Lock()
	p.did = append(p.did, rs)
	p.mu.Unlock()
}

// do performs step i.
func (p *player) do(ctx context.Context, i int, s scenarios.ActionStep) (how, rule string, err error) {
	switch s.Do {
	case scenarios.KillConnector, scenarios.RestartConnector:
		k, ok := p.stack.(ConnectorKiller)
		if !ok {
			return "", "", errors.New("this stack cannot kill or restart the connector")
		}
		if s.Do == scenarios.KillConnector {
			err = k.KillConnector(ctx)
		} else {
			err = k.RestartConnector(ctx)
		}
		if err == nil {
			p.set(func() { p.killed = s.Do == scenarios.KillConnector })
		}
		return p.how(), "", err
	case scenarios.PauseConnector, scenarios.UnpauseConnector:
		pz, ok := p.stack.(ConnectorPauser)
		if !ok {
			return "", "", errors.New("this stack cannot pause the connector")
		}
		if s.Do == scenarios.PauseConnector {
			err = pz.PauseConnector(ctx)
		} else {
			err = pz.UnpauseConnector(ctx)
		}
		if err == nil {
			p.set(func() { p.paused = s.Do == scenarios.PauseConnector })
		}
		return p.how(), "", err
	case scenarios.PartitionNetSuite, scenarios.PartitionGateway:
		target := partitionTarget(s.Do)
		how, rule := rundir.ActionByContainer, ""
		if pt, ok := p.stack.(Partitioner); ok {
			err = pt.PartitionConnector(ctx, target)
		} else {
			how = rundir.ActionByFaultRule
			rule, err = p.outageRule(ctx, i, s)
		}
		if err == nil {
			p.set(func() { p.cut[target] = true })
		}
		return how, rule, err
	case scenarios.Heal:
		var keep []string
		p.set(func() {
			if s.Undo { // the end of one partition's duration: the others stay cut
				delete(p.cut, partitionTarget(p.file.Actions[s.Action].Do))
				for t := range p.cut {
					keep = append(keep, t)
				}
			} else {
				clear(p.cut)
			}
		})
		pt, ok := p.stack.(Partitioner)
		if !ok {
			// The outage rule's window ends the partition by itself.
			return rundir.ActionByFaultRule, "", nil
		}
		slices.Sort(keep)
		if err := pt.Heal(ctx); err != nil {
			return rundir.ActionByContainer, "", err
		}
		for _, t := range keep {
			if err := pt.PartitionConnector(ctx, t); err != nil {
				return rundir.ActionByContainer, "", fmt.Errorf("cut the connector off from %s again after healing: %w", t, err)
			}
		}
		return rundir.ActionByContainer, "", nil
	}
	return "", "", fmt.Errorf("unknown action %q", s.Do)
}

// set changes the state under the lock.
func (p *player) set(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
}

// how names how the connector is acted on.
func (p *player) how() string {
	if _, ok := p.stack.(*embedded); ok {
		return rundir.ActionBySignal
	}
	return rundir.ActionByContainer
}

// outageRule appends to the simulator the outage rule that stands for partition step i:
// from now until the partition ends (the partition's own end or the next heal). For the
// gateway it covers the refund API, the part of the gateway a connector calls (the
// registers' card terminals go on).
func (p *player) outageRule(ctx context.Context, i int, s scenarios.ActionStep) (string, error) {
	target := partitionTarget(s.Do)
	var until time.Duration
	for _, later := range p.timeline[i+1:] {
		if later.Do == scenarios.Heal && (!later.Undo || later.Action == s.Action) {
			until = later.At
			break
		}
	}
	name := fmt.Sprintf("%s%s.%d", ActionRulePrefix, s.Do, s.Action)
	match := map[string]string{}
	what := "NetSuite"
	if target == targetGateway {
		match["path"] = "/v1/refunds/**"
		what = "the payment gateway"
	}
	window := map[string]string{"start": s.At.String()}
	if until > s.At {
		window["duration"] = (until - s.At).String()
	}
	rule, err := json.Marshal([]map[string]any{{
		"name": name, "target": target, "match": match, "window": window,
		"effect": map[string]any{"outage": map[string]string{"message": "network partition (doorbuster action " + string(s.Do) + "): the connector cannot reach " + what}},
	}})
	if err != nil {
		return name, err
	}
	if err := p.adm.appendFaults(ctx, p.sims[target], rule); err != nil {
		return name, fmt.Errorf("install the outage rule %s: %w", name, err)
	}
	return name, nil
}

// wait waits until every step is done or ctx ends.
func (p *player) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("actions still due: %w", ctx.Err())
	}
}

// halt tells the playing to end at once.
func (p *player) halt() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !isClosed(p.abort) {
		close(p.abort)
	}
}

// stop ends the playing at once and waits for it.
func (p *player) stop() {
	p.halt()
	<-p.done
}

// failures returns the failures of steps that were tried (not the ones skipped because
// the run stopped).
func (p *player) failures() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, s := range p.did {
		if s.Error != "" && !strings.HasPrefix(s.Error, "not done: ") {
			out = append(out, fmt.Sprintf("action %s due at %s: %s", s.Do, scenarios.Duration(time.Duration(s.AtMs*float64(time.Millisecond))), s.Error))
		}
	}
	return out
}

// result returns actions.json: the steps and the windows they opened and closed.
func (p *player) result() rundir.Actions {
	p.mu.Lock()
	steps := append([]rundir.ActionStep{}, p.did...)
	p.mu.Unlock()
	out := rundir.Actions{Version: rundir.Version, TrafficStartedAt: p.start, Steps: steps, Windows: []rundir.ActionWindow{}}
	open := map[string]int{} // window key (kind/target) → index in out.Windows
	opened := func(kind, target string, at time.Time) {
		open[kind+"/"+target] = len(out.Windows)
		out.Windows = append(out.Windows, rundir.ActionWindow{Kind: kind, Target: target, Start: at})
	}
	closed := func(kind, target string, at time.Time) {
		if i, ok := open[kind+"/"+target]; ok {
			out.Windows[i].End = &at
			delete(open, kind+"/"+target)
		}
	}
	for _, s := range steps {
		if s.Time == nil {
			continue
		}
		at := *s.Time
		switch scenarios.ActionKind(s.Do) {
		case scenarios.KillConnector:
			opened("connector-killed", "connector", at)
		case scenarios.RestartConnector:
			closed("connector-killed", "connector", at)
		case scenarios.PauseConnector:
			opened("connector-paused", "connector", at)
		case scenarios.UnpauseConnector:
			closed("connector-paused", "connector", at)
		case scenarios.PartitionNetSuite, scenarios.PartitionGateway:
			opened("partition", partitionTarget(scenarios.ActionKind(s.Do)), at)
		case scenarios.Heal:
			if s.Undo {
				closed("partition", partitionTarget(p.file.Actions[s.Action].Do), at)
			} else {
				closed("partition", targetNetSuite, at)
				closed("partition", targetGateway, at)
			}
		}
	}
	return out
}
