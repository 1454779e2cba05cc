package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/scenarios"
)

// Defaults of Config.
const (
	DefaultRunsDir          = "runs"
	DefaultReadyTimeout     = 2 * time.Minute
	DefaultInterruptDrain   = 10 * time.Second
	DefaultStockProbe       = 100
	DefaultStockSettle      = 2 * time.Second
	DefaultSampleInterval   = time.Second
	DefaultProgressInterval = 5 * time.Second
)

// MetricConnectorBacklog is the Gauge the harness records from the connector's sync
// status (pending + in flight) every second, for thresholds and charts.
const MetricConnectorBacklog = "connector_backlog"

// probeTimeout bounds the stock probe after the drain.
const probeTimeout = 30 * time.Second

// run is the state of one Run, torn down by teardown in reverse order of setup.
type run struct {
	cfg   Config
	log   *slog.Logger
	adm   *admin
	prog  *progress
	phase atomic.Value // string, for the status line

	file    *scenarios.File
	world   *fixtures.World
	dir     string
	meta    rundir.Run
	stack   Stack
	traffic Traffic
	mon     *monitor
	eng     *loadgen.Engine
	player  *player // the scenario's actions; nil without any

	trafficClosed bool
}

// Run does one run as cfg says and returns its Outcome. A run that cannot start returns
// a *SetupError; a run stopped by Config.Abort returns ErrAborted with what it has.
// Thresholds failing is not an error: see Outcome.ThresholdsPassed.
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	if err := cfg.check(); err != nil {
		return nil, setupErr(err, "")
	}
	cfg.RunsDir = cmpOr(cfg.RunsDir, DefaultRunsDir)
	cfg.ReadyTimeout = cmpOr(cfg.ReadyTimeout, DefaultReadyTimeout)
	cfg.InterruptDrain = cmpOr(cfg.InterruptDrain, DefaultInterruptDrain)
	cfg.StockProbe = cmpOr(cfg.StockProbe, DefaultStockProbe)
	cfg.StockSettle = cmpOr(cfg.StockSettle, DefaultStockSettle)
	cfg.SampleInterval = cmpOr(cfg.SampleInterval, DefaultSampleInterval)
	cfg.ProgressInterval = cmpOr(cfg.ProgressInterval, DefaultProgressInterval)
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.NewTraffic == nil {
		cfg.NewTraffic = newPOSTraffic
	}
	r := &run{cfg: cfg, adm: newAdmin()}
	r.phase.Store("starting")
	logOut := io.Discard
	if cfg.Progress != nil {
		r.prog = newProgress(cfg.Progress, cfg.ProgressBars || isTerminal(cfg.Progress), cfg.ProgressInterval, progressSource{
			scenarios: func() []loadgen.ScenarioProgress {
				if r.eng == nil {
					return nil
				}
				return r.eng.Progress()
			},
			status: func() (rundir.BacklogSample, int64) {
				if r.mon == nil {
					return rundir.BacklogSample{}, 0
				}
				return r.mon.status()
			},
			phase: func() string { return r.phase.Load().(string) },
		})
		logOut = r.prog
	}
	r.log = cfg.Logger
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	defer r.teardown(ctx)
	return r.do(ctx)
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// teardown stops everything the run started, in reverse order; each step is idempotent.
func (r *run) teardown(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if r.prog != nil {
		r.prog.finish()
	}
	if r.mon != nil {
		r.mon.finishQuietly()
	}
	if r.player != nil {
		r.player.stop()
	}
	r.closeTraffic()
	if r.stack != nil {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := r.stack.Close(cctx); err != nil {
			r.log.Warn("stopping the stack", "err", err)
		}
		cancel()
	}
	r.adm.close()
}

func (r *run) closeTraffic() error {
	if r.traffic == nil || r.trafficClosed {
		return nil
	}
	r.trafficClosed = true
	return r.traffic.Close()
}

// aborted reports whether Config.Abort is closed.
func (r *run) aborted() bool {
	if r.cfg.Abort == nil {
		return false
	}
	select {
	case <-r.cfg.Abort:
		return true
	default:
		return false
	}
}

func (r *run) do(ctx context.Context) (*Outcome, error) {
	cfg := &r.cfg
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	if err := r.makeDir(); err != nil {
		return nil, err
	}
	out := &Outcome{Dir: r.dir}
	r.meta = rundir.Run{
		Version: rundir.Version, Name: r.file.Name, Scenario: cfg.ScenarioPath, Seed: r.file.Seed,
		Mode: cfg.Mode(), Segment: segmentString(cfg.Segment), DoorbusterVersion: cfg.Version,
		World:     rundir.World{Size: string(r.world.Size), Seed: r.world.Seed, File: r.file.FixturesPath()},
		StartedAt: time.Now().UTC(),
	}
	fail := func(err error) (*Outcome, error) {
		r.meta.Error = err.Error()
		now := time.Now().UTC()
		r.meta.EndedAt = &now
		if werr := rundir.WriteJSON(filepath.Join(r.dir, rundir.RunFile), r.meta); werr != nil {
			r.log.Warn("writing run.json", "err", werr)
		}
		out.Run = r.meta
		return out, err
	}
	if err := r.writeScenario(); err != nil {
		return fail(err)
	}
	if err := rundir.WriteJSON(filepath.Join(r.dir, rundir.RunFile), r.meta); err != nil {
		return fail(err)
	}

	rules, err := faultRules(r.file)
	if err != nil {
		return fail(setupErr(err, "%s", cfg.ScenarioPath))
	}
	if err := checkActionsFor(r.file, cfg.Mode()); err != nil {
		return fail(setupErr(err, "%s", cfg.ScenarioPath))
	}
	src := "generated"
	if p := r.file.FixturesPath(); p != "" {
		src = "from " + p
	}
	r.note("world: %s, seed %d (%s); starting the %s stack", r.world.Size, r.world.Seed, src, cfg.Mode())
	if err := r.startStack(ctx, rules); err != nil {
		return fail(err)
	}
	ep := r.stack.Endpoints()
	r.meta.Connector = r.stack.Connector()
	r.meta.Simulators = rundir.Simulators{NetSuite: ep.NetSuite, Gateway: ep.Gateway}
	if v := r.adm.connectorVersion(ctx, ep.Connector); v != "" && r.meta.Connector.Version == "" {
		r.meta.Connector.Version = v
	}

	sims := map[string]string{targetNetSuite: ep.NetSuite, targetGateway: ep.Gateway}
	who := r.meta.Connector.URL
	if r.meta.Connector.Reference {
		who += " (reference connector"
		if len(r.meta.Connector.Bugs) > 0 {
			who += ", bugs: " + strings.Join(r.meta.Connector.Bugs, ", ")
		}
		who += ")"
	}
	r.note("ready: NetSuite %s, gateway %s, connector %s", ep.NetSuite, ep.Gateway, who)

	r.eng = loadgen.New(loadgen.WithLogger(r.log))
	backlog, err := r.eng.Metrics().New(MetricConnectorBacklog, loadgen.Gauge, loadgen.Default)
	if err != nil {
		return fail(fmt.Errorf("register %s: %w", MetricConnectorBacklog, err))
	}
	tr, err := cfg.NewTraffic(r.world, TrafficConfig{
		ConnectorURL: ep.Connector, GatewayURL: ep.Gateway, GatewayKey: ep.GatewayKey,
		JournalPath: filepath.Join(r.dir, rundir.JournalFile), Seed: r.file.Seed, RunID: runID(time.Now(), cfg.Segment),
		Registry: r.eng.Metrics(), Logger: r.log.With("component", "pos"),
		Meta: map[string]string{"scenario": r.file.Name, "mode": cfg.Mode(), "segment": segmentString(cfg.Segment)},
	})
	if err != nil {
		return fail(setupErr(err, "start the POS traffic"))
	}
	r.traffic = tr
	plan, err := buildPlan(r.file, tr, cfg.Segment)
	if err != nil {
		return fail(setupErr(err, "%s", cfg.ScenarioPath))
	}

	r.mon = newMonitor(r.adm, ep.Connector, sims, cfg.SampleInterval, r.log)
	r.mon.onSample = func(s rundir.BacklogSample) {
		// Only while a scenario runs: the engine drops samples outside a run, and
		// emitting while it sets a run up races with it.
		for _, p := range r.eng.Progress() {
			if p.Started {
				r.eng.Emit(backlog, float64(s.Backlog()))
				return
			}
		}
	}
	r.mon.start(context.WithoutCancel(ctx))
	if r.prog != nil {
		names := make([]string, len(plan.Scenarios))
		for i, s := range plan.Scenarios {
			names[i] = s.Name
		}
		r.note("traffic: %s for %s", strings.Join(names, ", "), scenarios.Duration(r.file.TrafficDuration()))
		r.prog.start(names)
	}

	// The traffic: fault windows count from here.
	clocks := map[string]time.Time{}
	for _, t := range []string{targetNetSuite, targetGateway} {
		at, err := r.adm.startClock(ctx, sims[t])
		if err != nil {
			return fail(setupErr(err, "start the %s simulator's fault clock", t))
		}
		clocks[t] = at
	}
	started := time.Now().UTC()
	r.meta.TrafficStartedAt = &started
	r.phase.Store("traffic")
	if len(r.file.Actions) > 0 {
		p := newPlayer(r.file, r.stack, r.adm, sims, r.log, r.note, cfg.ReadyTimeout+30*time.Second)
		r.player = p
		p.play(ctx, started)
		go func() {
			select {
			case <-cfg.Abort:
				p.halt()
			case <-p.done:
			}
		}()
	}
	runDone := make(chan struct{})
	go func() {
		select {
		case <-cfg.Abort:
			r.eng.Stop(true)
		case <-runDone:
		}
	}()
	res, runErr := r.eng.Run(ctx, plan)
	close(runDone)
	ended := time.Now().UTC()
	r.meta.TrafficEndedAt = &ended
	if res == nil {
		return fail(setupErr(runErr, "run the plan"))
	}
	if runErr != nil {
		r.log.Warn("the engine reported an error after the run", "err", runErr)
	}
	out.Result = res
	out.ThresholdsPassed = res.Passed()
	out.Stopped = res.Stopped
	if r.aborted() {
		out.Stopped = "hard"
	}
	r.meta.Stopped = out.Stopped

	if out.Stopped == "hard" {
		// A second interrupt: keep what is cheap (journal, metrics), skip the rest.
		r.phase.Store("aborted")
		if err := r.closeTraffic(); err != nil {
			r.log.Warn("closing the journal", "err", err)
		}
		if err := rundir.WriteJSON(filepath.Join(r.dir, rundir.MetricsFile), res); err != nil {
			r.log.Warn("writing metrics.json", "err", err)
		}
		out2, _ := fail(ErrAborted)
		return out2, ErrAborted
	}

	// After the traffic: what registers hold, the drain, the stock probe.
	r.phase.Store("draining")
	r.prog.finish() // the bars end with the traffic; the drain reports in lines
	drainTimeout := r.file.Drain.Timeout.Std()
	if ctx.Err() != nil {
		drainTimeout = min(drainTimeout, cfg.InterruptDrain)
	}
	r.note("traffic ended; draining the connector's backlog (up to %s)", scenarios.Duration(drainTimeout))
	dctx, cancel := r.abortable(context.WithoutCancel(ctx), drainTimeout)
	if r.player != nil {
		// The connector comes back (restart, unpause, heal) before the registers upload
		// what they hold and the backlog is judged.
		if err := r.player.wait(dctx); err != nil {
			r.log.Warn("the scenario's actions did not finish within the drain timeout", "err", err)
		}
	}
	if err := r.traffic.Flush(dctx); err != nil && dctx.Err() == nil {
		r.log.Warn("uploading what the registers still hold", "err", err)
	}
	drainedAt, last, err := r.drain(dctx, ep.Connector, r.file.Drain.PollInterval.Std())
	cancel()
	out.Backlog = last
	if err != nil {
		out.DrainTimedOut = true
		r.meta.DrainTimedOut = true
		r.log.Warn("the connector's backlog did not drain", "timeout", drainTimeout, "backlog", last.Backlog(), "err", err)
	} else {
		r.meta.DrainedAt = &drainedAt
		r.note("drained in %s: %d posted, %d dead-lettered", drainedAt.Sub(ended).Round(time.Millisecond), last.Posted, last.DeadLettered)
	}
	if r.aborted() {
		out2, _ := fail(ErrAborted)
		return out2, ErrAborted
	}
	r.phase.Store("probing stock")
	pctx, cancel := r.abortable(context.WithoutCancel(ctx), probeTimeout)
	if !out.DrainTimedOut {
		r.settle(pctx, ep.Connector)
	}
	if err := r.traffic.ProbeStock(pctx, cfg.StockProbe); err != nil {
		r.log.Warn("probing the connector's stock view", "err", err)
	}
	cancel()

	// The run directory.
	r.phase.Store("writing the run directory")
	wctx, cancel := r.abortable(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	r.mon.finish(wctx)
	st, injected := r.mon.status()
	if last.Time.IsZero() {
		out.Backlog = st
	}
	out.InjectedFaults = injected
	var errs []error
	if err := r.closeTraffic(); err != nil {
		errs = append(errs, fmt.Errorf("close the journal: %w", err))
	}
	if err := r.writeFaults(wctx, sims, clocks); err != nil {
		errs = append(errs, err)
	}
	for _, b := range []struct{ base, file string }{
		{ep.NetSuite, rundir.NetSuiteBooksFile}, {ep.Gateway, rundir.GatewayBooksFile},
	} {
		path := filepath.Join(r.dir, b.file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := r.adm.export(wctx, b.base, path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.file, err))
		}
	}
	if err := rundir.WriteJSON(filepath.Join(r.dir, rundir.MetricsFile), res); err != nil {
		errs = append(errs, err)
	}
	if err := rundir.WriteJSON(filepath.Join(r.dir, rundir.BacklogFile), r.mon.backlog()); err != nil {
		errs = append(errs, err)
	}
	if r.player != nil {
		r.player.stop()
		if err := rundir.WriteJSON(filepath.Join(r.dir, rundir.ActionsFile), r.player.result()); err != nil {
			errs = append(errs, err)
		}
		if failed := r.player.failures(); len(failed) > 0 {
			// The run did not do what the scenario asked: no verdict on the connector.
			r.meta.Error = "the scenario's actions failed: " + strings.Join(failed, "; ")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	// run.json before the check: the checker reads the phases' times from it.
	now := time.Now().UTC()
	r.meta.EndedAt = &now
	if err := rundir.WriteJSON(filepath.Join(r.dir, rundir.RunFile), r.meta); err != nil {
		return fail(err)
	}
	out.Run = r.meta

	// The verdict: the invariants, the thresholds on the sync latency they measured,
	// then the reports.
	_, samples := r.check(wctx, out)
	if err := r.addSyncLatency(wctx, res, samples); err != nil {
		r.log.Warn("adding "+MetricSyncLatency+" to the metrics", "err", err)
	} else if err := rundir.WriteJSON(filepath.Join(r.dir, rundir.MetricsFile), res); err != nil {
		return fail(err)
	}
	out.ThresholdsPassed = res.Passed()
	if err := loadgen.WriteText(cfg.Stdout, res); err != nil {
		return fail(fmt.Errorf("write the summary: %w", err))
	}
	if r.aborted() {
		out2, _ := fail(ErrAborted)
		return out2, ErrAborted
	}
	r.render(wctx, out, samples)
	return out, nil
}

// note writes one line about the run's progress to the progress output, if any.
func (r *run) note(format string, args ...any) {
	if r.prog == nil {
		return
	}
	fmt.Fprintf(r.prog, "%s %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// abortable returns a context with timeout that Config.Abort also cancels.
func (r *run) abortable(parent context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	if r.cfg.Abort != nil {
		go func() {
			select {
			case <-r.cfg.Abort:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

// load reads the scenario, checks its custom invariants, applies the overrides and
// makes the world.
func (r *run) load(ctx context.Context) error {
	cfg := &r.cfg
	f, err := scenarios.Load(cfg.ScenarioPath, scenarios.WithThresholdCheck(checkThreshold))
	if err != nil {
		return setupErr(err, "")
	}
	for key, ts := range f.Thresholds {
		for _, t := range ts {
			if t.AbortOnFail && thresholdMetric(key) == MetricSyncLatency {
				r.log.Warn("abortOnFail does not apply to "+MetricSyncLatency+": it is measured after the drain", "threshold", key+" "+t.Expr)
			}
		}
	}
	if c := customInvariants(f); len(c) > 0 {
		if err := invariants.ValidateCustom(ctx, c); err != nil {
			return setupErr(err, "%s: invariants.custom", cfg.ScenarioPath)
		}
	}
	if cfg.Seed != nil {
		f.Seed = *cfg.Seed
	}
	switch {
	case cfg.DurationScale > 0:
		if err := f.ScaleDuration(cfg.DurationScale); err != nil {
			return setupErr(err, "--duration")
		}
	case cfg.TrafficDuration > 0:
		total := f.TrafficDuration()
		if total <= 0 {
			return setupErr(nil, "--duration %s: the scenario's traffic has no duration to scale", cfg.TrafficDuration)
		}
		if err := f.ScaleDuration(float64(cfg.TrafficDuration) / float64(total)); err != nil {
			return setupErr(err, "--duration")
		}
	}
	if len(cfg.Bugs) > 0 {
		if cfg.Mode() == rundir.ModeURL {
			return setupErr(nil, "--bug switches the embedded reference connector's bugs; it does not apply to --connector-url")
		}
		if f.Connector == nil {
			f.Connector = &scenarios.Connector{}
		}
		for _, b := range cfg.Bugs {
			for _, name := range strings.Split(b, ",") {
				if name = strings.TrimSpace(name); name != "" && !slices.Contains(f.Connector.Bugs, name) {
					f.Connector.Bugs = append(f.Connector.Bugs, name)
				}
			}
		}
	}
	if f.Connector != nil {
		if _, err := connector.ParseBugs(f.Connector.Bugs); err != nil {
			return setupErr(err, "bug switches")
		}
	}
	r.file = f
	if p := f.FixturesPath(); p != "" {
		r.world, err = fixtures.Load(p)
		if err != nil {
			return setupErr(err, "%s: fixtures.file", cfg.ScenarioPath)
		}
	} else {
		size := f.Fixtures.Size
		if size == "" {
			size = fixtures.Small
		}
		r.world, err = fixtures.Generate(f.Seed, size)
		if err != nil {
			return setupErr(err, "generate the %s world", size)
		}
	}
	return nil
}

// makeDir creates the run directory: Config.OutDir, or a new RunsDir/<time>-<name>.
func (r *run) makeDir() error {
	if d := r.cfg.OutDir; d != "" {
		if _, err := os.Stat(filepath.Join(d, rundir.RunFile)); err == nil {
			return setupErr(nil, "--out %s already holds a run (run.json): choose another directory", d)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return setupErr(err, "--out")
		}
		r.dir = d
		return nil
	}
	if err := os.MkdirAll(r.cfg.RunsDir, 0o755); err != nil {
		return setupErr(err, "create the runs directory")
	}
	base := filepath.Join(r.cfg.RunsDir, time.Now().UTC().Format("20060102-150405")+"-"+r.file.Name)
	for i := 1; i <= 100; i++ {
		d := base
		if i > 1 {
			d = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Mkdir(d, 0o755)
		if err == nil {
			r.dir = d
			return nil
		}
		if !errors.Is(err, os.ErrExist) {
			return setupErr(err, "create the run directory")
		}
	}
	return setupErr(nil, "create the run directory: %s-1…100 all exist", base)
}

// writeScenario writes the scenario as run.
func (r *run) writeScenario() error {
	b, err := r.file.Canonical()
	if err != nil {
		return err
	}
	head := fmt.Sprintf("# The scenario as run: %s with every default filled in and the command line's overrides applied.\n", r.cfg.ScenarioPath)
	return rundir.WriteFile(filepath.Join(r.dir, rundir.ScenarioFile), append([]byte(head), b...))
}

// startStack starts or finds the simulators and the connector, installs the fault rules
// (before the connector starts, when the harness starts it), and waits until everything
// is ready for traffic.
func (r *run) startStack(ctx context.Context, rules map[string][]byte) error {
	cfg := &r.cfg
	var bugs []connector.Bug
	concurrency := 0
	if f := r.file.Connector; f != nil {
		bugs, _ = connector.ParseBugs(f.Bugs)
		concurrency = f.Concurrency
	}
	simsReady := func(ctx context.Context, ep Endpoints) error { return r.prepareSims(ctx, ep, rules) }
	switch cfg.Mode() {
	case rundir.ModeEmbedded:
		ec := embeddedConfig{world: r.world, seed: r.file.Seed,
			concurrencyLimit: r.file.Resolved().NetSuite.ConcurrencyLimit, workers: concurrency,
			bugs: bugs, version: cfg.Version, log: r.log, simsReady: simsReady}
		if needsProcess(r.file) {
			command := cfg.ConnectorCommand
			if len(command) == 0 {
				exe, err := os.Executable()
				if err != nil {
					return setupErr(err, "find this executable to run the reference connector as a process")
				}
				command = []string{exe, "connector"}
			}
			ec.process = &processConfig{command: command, dataDir: filepath.Join(r.dir, rundir.ConnectorDataDir),
				logPath: filepath.Join(r.dir, rundir.ConnectorLogFile), readyTimeout: cfg.ReadyTimeout, adm: r.adm}
			r.note("the scenario kills or pauses the connector: the reference connector runs as a child process (%s)", rundir.ConnectorLogFile)
		}
		st, err := startEmbedded(ctx, ec)
		if err != nil {
			return setupErr(err, "")
		}
		r.stack = st
	case rundir.ModeURL:
		st, err := urlStack(cfg, r.world)
		if err != nil {
			return setupErr(err, "")
		}
		r.stack = st
		if err := simsReady(ctx, st.Endpoints()); err != nil {
			return err
		}
	case rundir.ModeImage:
		if cfg.Containers == nil {
			cfg.Containers = Containers{SimImage: cfg.SimImage, Version: cfg.Version}
		}
		env := map[string]string{}
		if len(bugs) > 0 {
			names := make([]string, len(bugs))
			for i, b := range bugs {
				names[i] = string(b)
			}
			env[connector.EnvBugs] = strings.Join(names, ",")
		}
		if concurrency > 0 {
			env[connector.EnvConcurrency] = fmt.Sprint(concurrency)
		}
		st, err := cfg.Containers.StartStack(ctx, ContainerRequest{Image: cfg.ConnectorImage, World: r.world,
			WorldFile: r.file.FixturesPath(), WorldSeed: r.world.Seed, WorldSize: r.world.Size,
			NetSuiteConcurrencyLimit: r.file.Resolved().NetSuite.ConcurrencyLimit, ConnectorEnv: env,
			Faults: rules[allTargets], RunDir: r.dir, Logger: r.log})
		if st != nil {
			r.stack = st
		}
		if err != nil {
			return setupErr(err, "start the containers")
		}
		if err := simsReady(ctx, st.Endpoints()); err != nil {
			return err
		}
	}
	u := strings.TrimRight(r.stack.Endpoints().Connector, "/") + contract.PathReady
	if err := r.adm.waitReady(ctx, "the connector", u, cfg.ReadyTimeout); err != nil {
		return setupErr(err, "")
	}
	if err := checkStackAbilities(r.file, r.stack); err != nil {
		return setupErr(err, "%s", cfg.ScenarioPath)
	}
	return nil
}

// prepareSims waits for the simulators, resets their books in url mode (unless
// KeepBooks), and installs each one's fault rules.
func (r *run) prepareSims(ctx context.Context, ep Endpoints, rules map[string][]byte) error {
	sims := map[string]string{targetNetSuite: ep.NetSuite, targetGateway: ep.Gateway}
	for _, t := range []string{targetNetSuite, targetGateway} {
		if err := r.adm.waitReady(ctx, "the "+t+" simulator", simBase(sims[t])+"/healthz", r.cfg.ReadyTimeout); err != nil {
			return setupErr(err, "")
		}
	}
	if r.cfg.Mode() == rundir.ModeURL && !r.cfg.KeepBooks {
		for _, t := range []string{targetNetSuite, targetGateway} {
			if err := r.adm.reset(ctx, sims[t]); err != nil {
				return setupErr(err, "reset the %s simulator's books to the world (--keep-books skips this)", t)
			}
		}
	}
	for _, t := range []string{targetNetSuite, targetGateway} {
		if err := r.adm.putFaults(ctx, sims[t], rules[t]); err != nil {
			if isStatus(err, http.StatusNotFound) {
				return setupErr(err, "the %s simulator at %s does not serve the fault admin API (/_sim/faults), which runs the scenario's faults and latency profile", t, sims[t])
			}
			return setupErr(err, "install the fault rules of the %s simulator", t)
		}
	}
	return nil
}

// drain polls the connector's sync status until nothing is pending or in flight, or ctx
// ends; it returns when the backlog was first seen empty and the last reading.
func (r *run) drain(ctx context.Context, connectorURL string, poll time.Duration) (time.Time, rundir.BacklogSample, error) {
	poll = cmpOr(poll, time.Second)
	var last rundir.BacklogSample
	var lastErr error
	noted := time.Now()
	for {
		st, err := r.adm.syncStatus(ctx, connectorURL)
		now := time.Now().UTC()
		if err == nil {
			last = rundir.BacklogSample{Time: now, Pending: st.Pending, InFlight: st.InFlight, Posted: st.Posted, DeadLettered: st.DeadLettered}
			if last.Backlog() == 0 {
				return now, last, nil
			}
			if now.Sub(noted) >= r.cfg.ProgressInterval {
				r.note("draining: backlog %d (pending %d, in flight %d), %d posted, %d dead-lettered",
					last.Backlog(), last.Pending, last.InFlight, last.Posted, last.DeadLettered)
				noted = now
			}
			lastErr = fmt.Errorf("%d pending, %d in flight", st.Pending, st.InFlight)
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return time.Time{}, last, lastErr
		case <-time.After(poll):
		}
	}
}

// settle waits until the connector has posted nothing for Config.StockSettle (its sync
// status's lastPostedAt), or ctx ends.
func (r *run) settle(ctx context.Context, connectorURL string) {
	if r.cfg.StockSettle <= 0 {
		return
	}
	st, err := r.adm.syncStatus(ctx, connectorURL)
	if err != nil || st.LastPostedAt == nil {
		return
	}
	wait := r.cfg.StockSettle - time.Since(*st.LastPostedAt)
	if wait <= 0 {
		return
	}
	r.note("waiting %s for the connector's stock view to settle after its last posting", wait.Round(time.Millisecond))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// writeFaults writes faults.json: both simulators' rules with counts, and the events.
func (r *run) writeFaults(ctx context.Context, sims map[string]string, clocks map[string]time.Time) error {
	evs, profile, lost := r.mon.faultEvents()
	out := rundir.Faults{Version: rundir.Version, ClockStart: clocks, Rules: []rundir.FaultRule{},
		Events: evs, ProfileEvents: profile}
	for t, n := range lost {
		if n > 0 {
			if out.EventsLost == nil {
				out.EventsLost = map[string]int64{}
			}
			out.EventsLost[t] = n
		}
	}
	for _, t := range []string{targetNetSuite, targetGateway} {
		got, err := r.adm.faults(ctx, sims[t])
		if err != nil {
			return fmt.Errorf("faults.json: %w", err)
		}
		var applied int64
		for _, raw := range got.Rules {
			fr, err := faultRuleOf(t, raw)
			if err != nil {
				return fmt.Errorf("faults.json: %w", err)
			}
			out.Rules = append(out.Rules, fr)
			if fr.Profile {
				applied += fr.Injected
			}
		}
		// The profile rules are quiet: their counts, not their (absent) events.
		out.ProfileEvents[t] = max(out.ProfileEvents[t], applied)
	}
	return rundir.WriteJSON(filepath.Join(r.dir, rundir.FaultsFile), out)
}

// runID is a short id unique to a run (and its segment): milliseconds in base 36, as the
// POS module makes its own, with the segment's index when the plan is split.
func runID(now time.Time, seg loadgen.Segment) string {
	id := strconv.FormatInt(now.UnixMilli()%(36*36*36*36*36*36*36), 36)
	if !seg.Whole() {
		id += "_s" + strconv.Itoa(seg.Index)
	}
	return id
}

// segmentString is "i/n", or "1/1" for the whole plan.
func segmentString(s loadgen.Segment) string {
	return s.String()
}
