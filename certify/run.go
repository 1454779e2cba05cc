package certify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/compose"
	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/harness"
	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/reports"
	"github.com/doorbuster/doorbuster/scenarios"
)

// Options say which cases run against which connector and where the certificate goes.
type Options struct {
	// Suite is pilot or full [pilot]; Cases, when given, are the only cases run (ids or
	// id prefixes such as "C06").
	Suite string
	Cases []string
	// Seed, when not nil, replaces every case's seed (world, baskets, faults).
	Seed *int64
	// OutDir is the certificate directory; it must not hold a certificate yet.
	OutDir string

	// ConnectorURL certifies a connector already running against `doorbuster sim` (url
	// mode); the simulators are found with NetSuiteURL and GatewayURL or EnvFile.
	ConnectorURL string
	NetSuiteURL  string
	GatewayURL   string
	EnvFile      string
	// ConnectorImage certifies a connector image (image mode); SimImage is the Doorbuster
	// image the simulators run ["" builds it from this repository].
	ConnectorImage string
	SimImage       string
	// Bugs are bug switches of the reference connector (embedded or its image).
	Bugs []string

	// ConnectorCommand starts the reference connector as a child process, for the cases
	// that kill it in embedded mode [this executable with the argument "connector"].
	ConnectorCommand []string
	// InvariantsWorker runs part of each invariant check in a child process (see
	// harness.Config.InvariantsWorker) [none].
	InvariantsWorker []string
	// ReadyTimeout bounds the wait for a --connector-url connector to answer [15s].
	ReadyTimeout time.Duration
	// Version is Doorbuster's version, for the certificate and the run directories.
	Version string
	// Progress receives one line per case as it starts and ends [none when nil];
	// HarnessProgress, when set, also receives each run's progress lines.
	Progress        io.Writer
	HarnessProgress io.Writer
	// Logger receives warnings [discarded when nil].
	Logger *slog.Logger
	// Now is the clock of the certificate's times [time.Now].
	Now func() time.Time
	// NewTraffic replaces the POS traffic module (tests).
	NewTraffic harness.NewTraffic
}

// Modes of a certification, as in the certificate.
const (
	ModeEmbedded = rundir.ModeEmbedded
	ModeURL      = rundir.ModeURL
	ModeImage    = rundir.ModeImage
)

// modeEmbeddedProcess is a case's mode when the embedded reference connector ran as a
// child process, so that the case's actions could kill or pause it.
const modeEmbeddedProcess = "embedded-process"

func (o *Options) mode() string {
	switch {
	case o.ConnectorImage != "":
		return ModeImage
	case o.ConnectorURL != "":
		return ModeURL
	}
	return ModeEmbedded
}

// SetupError is a certification that could not start: bad options, an output directory
// that already holds a certificate, a connector that does not answer.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

func setupErr(format string, args ...any) error {
	return &SetupError{Err: fmt.Errorf(format, args...)}
}

// runner is one certification in progress.
type runner struct {
	cat  *Catalog
	opts Options
	log  *slog.Logger
	out  string
	// simImage is the simulators' image in image mode.
	simImage string
}

// Run certifies a connector with the suite (or the cases) opts selects from cat: each
// case in turn, then the certificate files in opts.OutDir. It returns the certificate
// (sealed and written) — CERTIFIED only when every case passed. An error means the
// certification could not start (a *SetupError) or the certificate could not be
// written; failing cases are in the certificate. Cancelling ctx stops the running case
// gracefully and marks the rest not run; the certificate is still written.
func Run(ctx context.Context, cat *Catalog, opts Options) (*Certificate, error) {
	if opts.Suite == "" {
		opts.Suite = SuitePilot
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &runner{cat: cat, opts: opts, log: opts.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	cases, err := cat.Select(opts.Suite, opts.Cases)
	if err != nil {
		return nil, &SetupError{Err: err}
	}
	if len(cases) == 0 {
		return nil, setupErr("the %s suite has no cases", opts.Suite)
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	if err := r.makeOut(); err != nil {
		return nil, err
	}
	first := cases[0].File
	seed := first.Seed
	if opts.Seed != nil {
		seed = *opts.Seed
	}
	size := first.Fixtures.Size
	if size == "" {
		size = fixtures.Small
	}
	cert := &Certificate{
		Schema: Schema, SchemaVersion: SchemaVersion,
		Doorbuster: Generator{Version: cmpOr(opts.Version, "dev")},
		Suite:      opts.Suite,
		Catalog:    CatalogInfo{Version: cat.Version, Dir: filepath.ToSlash(cat.Dir), Cases: len(cat.Cases)},
		Seed:       seed, World: WorldInfo{Size: string(size), Seed: seed},
		StartedAt: opts.Now().UTC(),
	}
	if opts.mode() == ModeImage {
		cleanup, err := r.prepareImage(ctx)
		if err != nil {
			return nil, err
		}
		defer cleanup(context.WithoutCancel(ctx))
	}
	cert.Connector, err = r.identify(ctx)
	if err != nil {
		return nil, err
	}
	if len(opts.Cases) > 0 {
		cert.Selected = make([]string, len(cases))
		for i, c := range cases {
			cert.Selected[i] = c.ID
		}
	}
	r.progress("certifying %s: %s suite, %d cases, seed %d → %s\n", cert.Connector.Name(), opts.Suite, len(cases), seed, r.out)
	for i, c := range cases {
		if ctx.Err() != nil {
			cert.Cases = append(cert.Cases, notRun(c, seed, "the certification was interrupted before this case"))
			continue
		}
		r.progress("[%d/%d] %s — %s\n", i+1, len(cases), c.ID, c.Title)
		res := r.runCase(ctx, c, seed)
		cert.Cases = append(cert.Cases, res)
		r.progress("       %s in %s\n", strings.ToUpper(res.Verdict), fmtMs(res.DurationMs))
		for _, reason := range res.Reasons {
			r.progress("       - %s\n", reason)
		}
	}
	cert.FinishedAt = opts.Now().UTC()
	cert.DurationMs = float64(cert.FinishedAt.Sub(cert.StartedAt).Microseconds()) / 1000
	cert.finish()
	if err := cert.WriteFiles(r.out); err != nil {
		return cert, err
	}
	return cert, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (r *runner) progress(format string, args ...any) {
	if r.opts.Progress != nil {
		fmt.Fprintf(r.opts.Progress, format, args...)
	}
}

// check validates the options.
func (r *runner) check() error {
	o := &r.opts
	if o.ConnectorURL != "" && o.ConnectorImage != "" {
		return setupErr("--connector-url and --connector-image are exclusive: give one")
	}
	if o.mode() != ModeURL && (o.NetSuiteURL != "" || o.GatewayURL != "" || o.EnvFile != "") {
		return setupErr("--netsuite-url, --gateway-url and --env-file are for --connector-url")
	}
	if o.mode() == ModeURL && len(o.Bugs) > 0 {
		return setupErr("--bug switches the reference connector's bugs; it does not apply to --connector-url")
	}
	if o.mode() != ModeImage && o.SimImage != "" {
		return setupErr("--sim-image is for --connector-image")
	}
	if _, err := connector.ParseBugs(o.Bugs); err != nil {
		return &SetupError{Err: fmt.Errorf("--bug: %w", err)}
	}
	return nil
}

// makeOut creates the certificate directory: OutDir, or certificates/<time>-<suite>.
func (r *runner) makeOut() error {
	out := r.opts.OutDir
	if out == "" {
		out = filepath.Join("certificates", r.opts.Now().UTC().Format("20060102-150405")+"-"+r.opts.Suite)
	}
	if _, err := os.Stat(filepath.Join(out, JSONFile)); err == nil {
		return setupErr("--out %s already holds a certificate: choose another directory", out)
	}
	if entries, err := os.ReadDir(filepath.Join(out, CasesDir)); err == nil && len(entries) > 0 {
		return setupErr("--out %s already holds case runs (%s/): choose another directory", out, CasesDir)
	}
	if err := os.MkdirAll(filepath.Join(out, CasesDir), 0o755); err != nil {
		return &SetupError{Err: fmt.Errorf("--out: %w", err)}
	}
	r.out = out
	return nil
}

// identify says which connector is certified, and checks that it can be reached.
func (r *runner) identify(ctx context.Context) (ConnectorInfo, error) {
	o := &r.opts
	ci := ConnectorInfo{Mode: o.mode(), Bugs: o.Bugs}
	switch ci.Mode {
	case ModeEmbedded:
		ci.Reference = true
		ci.Version = cmpOr(o.Version, "dev")
	case ModeURL:
		ci.URL = strings.TrimRight(o.ConnectorURL, "/")
		if err := waitReady(ctx, ci.URL+contract.PathHealth, cmpOr(o.ReadyTimeout, 15*time.Second)); err != nil {
			return ci, setupErr("--connector-url %s: the connector does not answer %s: %v", ci.URL, contract.PathHealth, err)
		}
		ci.Version = probeVersion(ctx, ci.URL)
	case ModeImage:
		ci.Image = o.ConnectorImage
		ci.ImageDigest = imageDigest(ctx, o.ConnectorImage)
		ci.Reference = o.ConnectorImage == r.simImage
	}
	return ci, nil
}

// prepareImage checks Docker and builds the simulators' image unless one was given.
func (r *runner) prepareImage(ctx context.Context) (func(context.Context) error, error) {
	if err := compose.Available(ctx); err != nil {
		return nil, setupErr("--connector-image needs a Docker engine: %v", err)
	}
	if r.opts.SimImage != "" {
		r.simImage = r.opts.SimImage
		return func(context.Context) error { return nil }, nil
	}
	r.progress("building the simulators' image from this repository (give --sim-image to skip)\n")
	// A tag of its own: the cleanup removes the tags the build applied, and must not take
	// away one the user's images have (doorbuster:dev).
	tag := "doorbuster-certify:" + r.opts.Now().UTC().Format("20060102-150405")
	img, cleanup, err := compose.BuildImage(ctx, compose.BuildOptions{Tag: tag, Version: r.opts.Version, Logger: r.log})
	if err != nil {
		cleanup(context.WithoutCancel(ctx))
		return nil, setupErr("build the simulators' image (or give --sim-image, e.g. doorbuster:dev from `make images`): %v", err)
	}
	r.simImage = img
	return cleanup, nil
}

func notRun(c *Case, seed int64, why string) CaseResult {
	return CaseResult{ID: c.ID, Title: c.Title, Proves: c.Proves, Verdict: CaseNotRun, Reasons: []string{why},
		File: filepath.ToSlash(c.Path), FileHash: c.Hash, Seed: seed,
		Invariants: []InvariantResult{}, Thresholds: []ThresholdResult{}}
}

// caseRun is one case in progress.
type caseRun struct {
	c     *Case
	res   *CaseResult
	dir   string
	file  *scenarios.File // as it runs (derived in image mode or for another seed)
	path  string
	world *fixtures.World
	errs  []string // reasons that make the case an error
	fails []string // reasons that make it a failure
}

// runCase runs one case and judges it.
func (r *runner) runCase(ctx context.Context, c *Case, seed int64) CaseResult {
	start := r.opts.Now()
	res := CaseResult{ID: c.ID, Title: c.Title, Proves: c.Proves, File: filepath.ToSlash(c.Path), FileHash: c.Hash,
		Seed: seed, StartedAt: start.UTC(), RunDir: CasesDir + "/" + c.ID,
		Invariants: []InvariantResult{}, Thresholds: []ThresholdResult{}}
	cr := &caseRun{c: c, res: &res, dir: filepath.Join(r.out, CasesDir, c.ID)}
	r.do(ctx, cr, seed)
	res.Reasons = append(cr.errs, cr.fails...)
	switch {
	case len(cr.errs) > 0:
		res.Verdict = CaseError
	case len(cr.fails) > 0:
		res.Verdict = CaseFail
	default:
		res.Verdict = CasePass
	}
	if _, err := os.Stat(filepath.Join(cr.dir, reports.HTMLFile)); err == nil {
		res.Report = res.RunDir + "/" + reports.HTMLFile
	}
	res.DurationMs = float64(r.opts.Now().Sub(start).Microseconds()) / 1000
	return res
}

func (r *runner) do(ctx context.Context, cr *caseRun, seed int64) {
	if err := os.MkdirAll(cr.dir, 0o755); err != nil {
		cr.errs = append(cr.errs, err.Error())
		return
	}
	if err := r.prepare(cr, seed); err != nil {
		cr.errs = append(cr.errs, "could not prepare the case: "+err.Error())
		return
	}
	if cr.c.Contract {
		r.conform(ctx, cr)
	}
	r.traffic(ctx, cr, seed)
}

// prepare makes the world and the file the case runs: the case file itself, or a copy
// written into the case directory when it must change — its single hot SKU mapped into
// another seed's world. The harness plays the case's actions.
func (r *runner) prepare(cr *caseRun, seed int64) error {
	f, err := scenarios.Parse(cr.c.Path, mustRead(cr.c.Path))
	if err != nil {
		return err
	}
	f.Seed = seed
	size := f.Fixtures.Size
	if size == "" {
		size = fixtures.Small
	}
	if p := f.FixturesPath(); p != "" {
		cr.world, err = fixtures.Load(p)
	} else {
		cr.world, err = fixtures.Generate(seed, size)
	}
	if err != nil {
		return fmt.Errorf("the world: %w", err)
	}
	derived := false
	for _, name := range f.ScenarioNames() {
		sc := f.Scenarios[name]
		if sku := sc.Options.SingleItemSKU; sku != nil {
			if _, ok := cr.world.ItemBySKU(*sku); !ok {
				m, err := sameCatalogPosition(cr.world, *sku)
				if err != nil {
					return fmt.Errorf("scenarios.%s.options.singleItemSKU: %w", name, err)
				}
				sc.Options.SingleItemSKU = &m
				derived = true
			}
		}
	}
	cr.file, cr.path = f, cr.c.Path
	if derived {
		b, err := f.Canonical()
		if err != nil {
			return err
		}
		cr.path = filepath.Join(cr.dir, "case.yaml")
		head := fmt.Sprintf("# %s as certify runs it (%s mode, seed %d): derived from %s.\n", cr.c.ID, r.opts.mode(), seed, filepath.ToSlash(cr.c.Path))
		if err := os.WriteFile(cr.path, append([]byte(head), b...), 0o644); err != nil {
			return err
		}
		if cr.file, err = scenarios.Load(cr.path); err != nil {
			return err
		}
	}
	return nil
}

func mustRead(path string) []byte {
	b, _ := os.ReadFile(path) // Parse reports an empty file
	return b
}

// skuNumber is the catalog position at the end of a generated SKU ("TOY-000033").
var skuNumber = regexp.MustCompile(`-(\d+)$`)

// sameCatalogPosition maps a SKU of one generated world to the item at the same
// catalog position in w (generated SKUs end with it; the department prefix depends on
// the seed).
func sameCatalogPosition(w *fixtures.World, sku string) (string, error) {
	m := skuNumber.FindStringSubmatch(sku)
	if m == nil {
		return "", fmt.Errorf("the world has no item %s", sku)
	}
	for _, it := range w.Items {
		if strings.HasSuffix(it.SKU, "-"+m[1]) {
			return it.SKU, nil
		}
	}
	return "", fmt.Errorf("the world has no item %s, nor one at its catalog position %s", sku, m[1])
}

// stackConfig is the case's stack configuration.
func (r *runner) stackConfig(cr *caseRun, logName string) stackConfig {
	res := cr.file.Resolved()
	sc := stackConfig{world: cr.world, seed: cr.file.Seed, concurrencyLimit: res.NetSuite.ConcurrencyLimit,
		bugs: r.opts.Bugs, log: r.log, logFile: filepath.Join(cr.dir, logName),
		simLogFile: filepath.Join(cr.dir, strings.TrimSuffix(logName, "connector.log")+"simulators.log")}
	if cr.file.Connector != nil {
		sc.workers = cr.file.Connector.Concurrency
		for _, b := range cr.file.Connector.Bugs {
			if !slices.Contains(sc.bugs, b) {
				sc.bugs = append(sc.bugs, b)
			}
		}
	}
	return sc
}

// contractFile holds the conformance checks in the case directory.
const contractFile = "contract.json"

// conform runs the contract conformance test against the connector, on a world of its
// own where certify starts one, and waits until the connector has posted what the
// checks submitted.
func (r *runner) conform(ctx context.Context, cr *caseRun) {
	base := r.opts.ConnectorURL
	var st *caseStack
	var err error
	switch r.opts.mode() {
	case ModeEmbedded:
		st, err = startInProcess(ctx, r.stackConfig(cr, "contract-connector.log"))
	case ModeImage:
		st, err = startImage(ctx, r.stackConfig(cr, "contract-connector.log"), imageStackConfig{simImage: r.simImage, connectorImage: r.opts.ConnectorImage})
	}
	if err != nil {
		cr.errs = append(cr.errs, "contract conformance: could not start the connector: "+err.Error())
		return
	}
	if st != nil {
		base = st.Connector
		defer st.Close(context.WithoutCancel(ctx))
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	checks := contract.Conform(cctx, base, cr.world)
	for _, ch := range checks {
		cr.res.Checks = append(cr.res.Checks, CheckResult{ID: ch.ID, Name: ch.Name, Passed: ch.Passed, Detail: ch.Detail})
		if !ch.Passed {
			cr.fails = append(cr.fails, fmt.Sprintf("contract check %s failed: %s — %s", ch.ID, ch.Name, ch.Detail))
		}
	}
	if len(checks) == 0 {
		cr.errs = append(cr.errs, "contract conformance: no check ran")
	}
	if err := rundir.WriteJSON(filepath.Join(cr.dir, contractFile), checks); err != nil {
		r.log.Warn("certify: write contract.json", "err", err)
	}
	if st == nil {
		// The connector goes on to the next case: let it post what the checks sent first.
		if err := waitDrained(cctx, base); err != nil {
			cr.errs = append(cr.errs, "contract conformance: the connector did not post the checks' transactions: "+err.Error())
		}
	}
}

// waitDrained polls a connector's sync status until nothing is pending or in flight.
func waitDrained(ctx context.Context, base string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+contract.PathSyncStatus, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			var st contract.SyncStatus
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err == nil {
				if st.Pending+st.InFlight == 0 {
					return nil
				}
				last = fmt.Sprintf("%d pending, %d in flight", st.Pending, st.InFlight)
			}
		}
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%v (last: %s)", ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// traffic runs the case's scenario through the harness — which also plays its actions
// — and judges the run directory.
func (r *runner) traffic(ctx context.Context, cr *caseRun, seed int64) {
	o := &r.opts
	cfg := harness.Config{
		ScenarioPath: cr.path, Seed: &seed, OutDir: cr.dir, Version: o.Version,
		NewTraffic: o.NewTraffic, Logger: r.log, InvariantsWorker: o.InvariantsWorker,
	}
	if o.HarnessProgress != nil {
		cfg.Progress = o.HarnessProgress
		cfg.ProgressInterval = 10 * time.Second
	}
	switch cr.res.Mode = o.mode(); cr.res.Mode {
	case ModeURL:
		cfg.ConnectorURL, cfg.NetSuiteURL, cfg.GatewayURL, cfg.EnvFile = o.ConnectorURL, o.NetSuiteURL, o.GatewayURL, o.EnvFile
	case ModeImage:
		cfg.ConnectorImage, cfg.SimImage, cfg.Bugs = o.ConnectorImage, r.simImage, o.Bugs
		cfg.Containers = harness.Containers{SimImage: r.simImage, Version: o.Version}
	default:
		cfg.Bugs, cfg.ConnectorCommand = o.Bugs, o.ConnectorCommand
		if killsConnector(cr.file) {
			cr.res.Mode = modeEmbeddedProcess
		}
	}

	out, runErr := harness.Run(ctx, cfg)
	if len(cr.file.Actions) > 0 {
		played, failed, err := playedActions(cr.dir)
		switch {
		case err == nil:
			cr.res.Actions = played
			cr.errs = append(cr.errs, failed...)
		case runErr == nil:
			cr.errs = append(cr.errs, "what the harness did of the case's actions: "+err.Error())
		}
	}
	if runErr != nil {
		cr.errs = append(cr.errs, "the run failed: "+runErr.Error())
		if out == nil || out.Result == nil {
			return
		}
	}
	r.judge(ctx, cr, out)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// judge checks the run directory's invariants (unless the harness did), renders its
// reports, and turns thresholds, invariants and the drain into the case's verdict.
func (r *runner) judge(ctx context.Context, cr *caseRun, out *harness.Outcome) {
	f, dir := cr.file, cr.dir
	rep, err := invariants.ReadJSON(filepath.Join(dir, invariants.FileName))
	if err != nil {
		opts := invariants.Options{Skip: f.Invariants.Skip, AllowNegativeStock: cr.world.AllowNegativeStock,
			StartStock: startStock(cr.world), Worker: invariants.WorkerCommand(r.opts.InvariantsWorker)}
		for _, c := range f.Invariants.Custom {
			opts.Custom = append(opts.Custom, invariants.Custom{ID: c.ID, Statement: c.Statement, SQL: c.SQL})
		}
		rep, err = invariants.Check(ctx, dir, opts)
		if err != nil {
			cr.errs = append(cr.errs, "the invariant checker could not run: "+err.Error())
			return
		}
		if err := rep.WriteJSON(dir); err != nil {
			r.log.Warn("certify: write invariants.json", "err", err)
		}
	}
	// The harness renders the reports after its check; render them if it did not.
	var sum *reports.Summary
	if b, err := os.ReadFile(filepath.Join(dir, reports.SummaryFile)); err == nil {
		var s reports.Summary
		if json.Unmarshal(b, &s) == nil {
			sum = &s
		}
	}
	if sum == nil {
		if sum, err = reports.Render(ctx, dir, reports.Options{Version: r.opts.Version, SyncSamples: rep.SyncSamples, Logger: r.log}); err != nil {
			r.log.Warn("certify: render the case's reports", "case", cr.c.ID, "err", err)
		}
	}

	// The run itself.
	switch out.Stopped {
	case "graceful", "hard":
		cr.errs = append(cr.errs, "the traffic was interrupted")
	case "threshold":
		cr.fails = append(cr.fails, "the traffic was stopped early by an abortOnFail threshold")
	}
	if out.DrainTimedOut {
		cr.fails = append(cr.fails, fmt.Sprintf("the connector's backlog did not drain within %s (%d pending, %d in flight at the end)",
			f.Drain.Timeout, out.Backlog.Pending, out.Backlog.InFlight))
	}

	// Thresholds.
	for _, t := range out.Result.Thresholds {
		tr := ThresholdResult{Metric: t.Key, Expression: t.Expression, OK: t.OK, Message: t.Message, Source: "engine"}
		if !t.NoData {
			tr.Observed = ptr(t.Observed)
		}
		if t.NoData && isSyncLatency(t.Key) {
			if rep.SyncSamples == nil {
				rep.SyncSamples, _ = invariants.SyncLatencies(ctx, dir)
			}
			tr = syncThreshold(t, rep.SyncSamples)
		}
		cr.res.Thresholds = append(cr.res.Thresholds, tr)
		if !tr.OK {
			msg := tr.Message
			if msg == "" {
				msg = "failed"
			}
			cr.fails = append(cr.fails, fmt.Sprintf("threshold %s %s failed: %s", tr.Metric, tr.Expression, msg))
		}
	}

	// Invariants: the ones the case asserts, in the checker's order.
	for _, inv := range rep.Invariants {
		if slices.Contains(f.Invariants.Skip, inv.ID) {
			continue
		}
		ir := InvariantResult{ID: inv.ID, Statement: inv.Statement, Verdict: string(inv.Verdict), Reason: inv.Reason, Violations: inv.Violations}
		for i, e := range inv.Evidence {
			if i == 3 {
				break
			}
			ir.Evidence = append(ir.Evidence, Evidence{TxID: e.TxID, What: e.What, Expected: e.Expected, Actual: e.Actual})
		}
		cr.res.Invariants = append(cr.res.Invariants, ir)
		switch ir.Verdict {
		case "fail":
			reason := fmt.Sprintf("invariant %s failed: %d violation(s) — %s", ir.ID, ir.Violations, ir.Statement)
			if len(ir.Evidence) > 0 {
				e := ir.Evidence[0]
				reason += fmt.Sprintf(" (e.g. %s", e.What)
				if e.TxID != "" {
					reason += " of " + e.TxID
				}
				if e.Expected != "" || e.Actual != "" {
					reason += fmt.Sprintf(": expected %s, actual %s", e.Expected, e.Actual)
				}
				reason += ")"
			}
			cr.fails = append(cr.fails, reason)
		case "error":
			cr.fails = append(cr.fails, fmt.Sprintf("invariant %s could not be checked: %s", ir.ID, ir.Reason))
		}
	}

	// KPIs.
	k := &CaseKPIs{PostingAccuracyPct: rep.KPIs.PostingAccuracyPct, DrainTimeMs: rep.KPIs.DrainTimeMs}
	if s := rep.KPIs.SyncLatency; s != nil {
		k.SyncLatencyP95Ms, k.SyncLatencyMaxMs = ptr(s.P95Ms), ptr(s.MaxMs)
	}
	if sum != nil {
		k.Transactions, k.CheckoutP95Ms, k.FaultsInjected = sum.KPIs.Transactions, sum.KPIs.CheckoutP95Ms, sum.KPIs.FaultsInjected
	}
	cr.res.KPIs = k
}

func ptr[T any](v T) *T { return &v }

// startStock is the world's on hand per item and location, for inventory-conserved.
func startStock(w *fixtures.World) []invariants.StockLevel {
	var out []invariants.StockLevel
	for _, it := range w.Items {
		for _, s := range it.OnHand {
			out = append(out, invariants.StockLevel{ItemID: it.ID, LocationID: s.LocationID, Quantity: s.Quantity})
		}
	}
	return out
}

// isSyncLatency reports whether a threshold key is on the whole pos_sync_latency metric.
func isSyncLatency(key string) bool { return key == "pos_sync_latency" }

// syncThreshold evaluates a pos_sync_latency threshold the engine had no samples for
// from the checker's sync latency samples (NetSuite's creation time − the POS
// acknowledgement), which exist only after the drain.
//
// Interim: the harness is to feed pos_sync_latency to the engine's thresholds itself;
// once it does, the engine has data and this is not used.
func syncThreshold(t loadgen.ThresholdResult, samples []invariants.SyncSample) ThresholdResult {
	tr := ThresholdResult{Metric: t.Key, Expression: t.Expression, Source: "certify"}
	th, err := loadgen.ParseThreshold(t.Key, loadgen.ThresholdSpec{Threshold: t.Expression})
	if err != nil {
		tr.Message = err.Error()
		return tr
	}
	if len(samples) == 0 {
		tr.Message = "no sync latency samples: nothing was posted"
		return tr
	}
	v := make([]float64, len(samples))
	for i, s := range samples {
		v[i] = ms(s.Latency)
	}
	slices.Sort(v)
	var obs float64
	switch {
	case th.Agg == "max":
		obs = v[len(v)-1]
	case th.Agg == "min":
		obs = v[0]
	case th.Agg == "avg":
		for _, x := range v {
			obs += x
		}
		obs /= float64(len(v))
	case th.Agg == "med":
		obs = nearestRank(v, 50)
	case th.Agg == "count":
		obs = float64(len(v))
	case strings.HasPrefix(th.Agg, "p("):
		obs = nearestRank(v, th.Percentile)
	default:
		tr.Message = fmt.Sprintf("%s cannot be evaluated on sync latency samples", th.Agg)
		return tr
	}
	tr.Observed = &obs
	tr.OK = compare(obs, th.Op, th.Value)
	if !tr.OK {
		tr.Message = fmt.Sprintf("%s=%.1fms is not %s %g (from %d sync latency samples)", th.Agg, obs, th.Op, th.Value, len(v))
	}
	return tr
}

// nearestRank is the p-th percentile of sorted v by nearest rank.
func nearestRank(v []float64, p float64) float64 {
	i := int(float64(len(v))*p/100+0.999999999) - 1
	return v[max(0, min(i, len(v)-1))]
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "==":
		return a == b
	case "!=":
		return a != b
	}
	return false
}
