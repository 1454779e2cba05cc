package harness

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
)

// monitor reads the connector's sync status and the simulators' fault events once a
// second for the whole run: the backlog series of backlog.json, the events of
// faults.json, and the status line of the progress display.
type monitor struct {
	adm       *admin
	connector string
	sims      map[string]string // target → base URL
	interval  time.Duration
	log       *slog.Logger
	// onSample, when set, gets every successful backlog reading (the connector_backlog gauge).
	onSample func(rundir.BacklogSample)

	mu       sync.Mutex
	samples  []rundir.BacklogSample
	last     rundir.BacklogSample
	events   []rundir.FaultEvent
	seq      map[string]int64 // last event sequence number read, per target
	profile  map[string]int64
	lost     map[string]int64
	injected int64 // non-profile events
	warned   map[string]bool

	stop chan struct{}
	done chan struct{}
}

func newMonitor(adm *admin, connector string, sims map[string]string, interval time.Duration, log *slog.Logger) *monitor {
	return &monitor{adm: adm, connector: connector, sims: sims, interval: interval, log: log,
		seq: map[string]int64{}, profile: map[string]int64{}, lost: map[string]int64{}, warned: map[string]bool{}}
}

// start samples now and then every interval until ctx ends or finish is called.
func (m *monitor) start(ctx context.Context) {
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(m.done)
		t := time.NewTicker(m.interval)
		defer t.Stop()
		for {
			m.sample(ctx)
			select {
			case <-ctx.Done():
				return
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
}

// finish stops the sampling, then reads once more so the series ends with the final state.
func (m *monitor) finish(ctx context.Context) {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop = nil
	}
	m.sample(ctx)
}

// sample takes one reading of the backlog and of each simulator's new events.
func (m *monitor) sample(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, max(m.interval, time.Second))
	defer cancel()
	now := time.Now().UTC()
	st, err := m.adm.syncStatus(rctx, m.connector)
	s := rundir.BacklogSample{Time: now, Pending: st.Pending, InFlight: st.InFlight, Posted: st.Posted, DeadLettered: st.DeadLettered}
	if err != nil {
		s = rundir.BacklogSample{Time: now, Error: err.Error()}
		m.warnOnce("status", "cannot read the connector's sync status", err)
	}
	if err == nil && m.onSample != nil {
		m.onSample(s)
	}
	m.mu.Lock()
	m.samples = append(m.samples, s)
	if err == nil {
		m.last = s
	}
	m.mu.Unlock()
	for target, base := range m.sims {
		m.readEvents(rctx, target, base)
	}
}

// readEvents reads the events of one simulator after the last one read. Events of the
// latency profile rules are only counted.
func (m *monitor) readEvents(ctx context.Context, target, base string) {
	m.mu.Lock()
	since := m.seq[target]
	m.mu.Unlock()
	evs, err := m.adm.events(ctx, base, since)
	if err != nil {
		m.warnOnce("events-"+target, "cannot read the "+target+" simulator's fault events", err)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ev := range evs {
		if ev.Seq <= m.seq[target] {
			continue
		}
		if gap := ev.Seq - m.seq[target] - 1; gap > 0 {
			m.lost[target] += gap
		}
		m.seq[target] = ev.Seq
		if strings.HasPrefix(ev.Rule, ProfileRulePrefix) {
			m.profile[target]++
			continue
		}
		if ev.Target == "" {
			ev.Target = target
		}
		m.events = append(m.events, ev)
		m.injected++
	}
}

func (m *monitor) warnOnce(key, msg string, err error) {
	m.mu.Lock()
	seen := m.warned[key]
	m.warned[key] = true
	m.mu.Unlock()
	if !seen {
		m.log.Warn(msg, "err", err)
	}
}

// status returns the last backlog reading and the injected fault count so far.
func (m *monitor) status() (rundir.BacklogSample, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last, m.injected
}

// backlog returns every reading.
func (m *monitor) backlog() []rundir.BacklogSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]rundir.BacklogSample{}, m.samples...)
}

// faultEvents returns the injected faults by time, and the profile and lost counts.
func (m *monitor) faultEvents() (evs []rundir.FaultEvent, profile, lost map[string]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	evs = append([]rundir.FaultEvent{}, m.events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	profile, lost = map[string]int64{}, map[string]int64{}
	for t := range m.sims {
		profile[t], lost[t] = m.profile[t], m.lost[t]
	}
	return evs, profile, lost
}

// finishQuietly stops the sampling without a last reading (teardown after an error).
func (m *monitor) finishQuietly() {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop = nil
	}
}
