package harness_test

// The detection matrix (issue 7, "Proof on the bug switches"): every bug switch of the
// reference connector is run against a short scenario of scenarios/matrix/ built to
// trigger it, and the run must fail with the invariant that names the bug; the clean
// connector must pass every invariant and threshold on five seeds (no false alarms).
//
// By default (`make test`) the reduced form runs: each switch once on its scenario's
// seed, the clean connector on each scenario's seed and on seeds 1–5 of the shortest
// scenario. DOORBUSTER_MATRIX=full (`make certify-matrix`) runs every switch and the clean
// connector on seeds 1–5 of every scenario. Each run's scenario preconditions (more than 100 sales in
// one offline batch, across midnight; partial card returns with lost refund answers;
// lost NetSuite answers and 429s; …) are checked from its run directory, so a scenario
// that stopped exercising its bug fails here rather than passing for the wrong reason.

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"
	_ "modernc.org/sqlite"

	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/harness"
	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/scenarios"
)

// matrixConnectorArg, as the only argument of the test binary, makes it run the reference
// connector from the environment contract instead of the tests: the child process that
// the crash scenario's actions kill and restart.
const matrixConnectorArg = "doorbuster-matrix-connector"

func init() {
	if len(os.Args) == 2 && os.Args[1] == matrixConnectorArg {
		os.Exit(runMatrixConnector())
	}
}

// runMatrixConnector is `doorbuster connector` for the matrix's child processes.
func runMatrixConnector() int {
	gin.SetMode(gin.ReleaseMode)
	cfg, err := connector.ConfigFromEnv(os.Getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "connector:", err)
		return 2
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := connector.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "connector:", err)
		return 1
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "connector:", err)
		return 1
	}
	return 0
}

// matrixDir holds the matrix's scenario files.
const matrixDir = "../scenarios/matrix"

// matrixScenario is one scenario file of the matrix and what its runs must show to have
// exercised the bugs it is for.
type matrixScenario struct {
	file   string
	weight int // the longer its runs, the sooner they start
	// exercised checks a run directory for the scenario's preconditions; it returns what
	// is missing.
	exercised func(dir string, j *sql.DB) []string
}

var (
	scSales    = matrixScenario{"sales.yaml", 0, salesExercised}
	scReturns  = matrixScenario{"returns.yaml", 1, returnsExercised}
	scOffline  = matrixScenario{"offline.yaml", 3, offlineExercised}
	scCrash    = matrixScenario{"crash.yaml", 2, crashExercised}
	scShortest = scSales
)

// matrixScenarios are every scenario of the matrix.
var matrixScenarios = []matrixScenario{scSales, scReturns, scOffline, scCrash}

// detectionRow is a bug switch, the scenario that triggers it, and the invariants that
// must catch it.
type detectionRow struct {
	bug      connector.Bug
	sc       matrixScenario
	caughtBy []string
}

// detection is the matrix: each bug switch, the scenario that triggers it, and the
// invariants that name it (README.md's bug-switch table, "caught by").
var detection = []detectionRow{
	{connector.BugNoUpsert, scSales, []string{invariants.ExactlyOnce}},
	{connector.BugDropOn429, scSales, []string{invariants.ExactlyOnce}},
	{connector.BugSyncDate, scOffline, []string{invariants.OfflineTranDate}},
	{connector.BugDefaultLocation, scSales, []string{invariants.SaleLocation, invariants.InventoryConserved}},
	{connector.BugTaxOnTotal, scSales, []string{invariants.Amounts}},
	{connector.BugFullRefund, scReturns, []string{invariants.ReturnsBounded, invariants.Amounts, invariants.PaymentsReconcile}},
	{connector.BugMemoryOutbox, scCrash, []string{invariants.ExactlyOnce}},
	{connector.BugBatchTruncate, scOffline, []string{invariants.ExactlyOnce}},
	{connector.BugRefundNoIdempotency, scReturns, []string{invariants.PaymentsReconcile}},
	{connector.BugNewCustomerEachTime, scSales, []string{invariants.OneCustomerPerIdentity}},
}

// matrixSeeds are the seeds the clean connector must pass on, and (full form) the bug
// switches must be caught on.
var matrixSeeds = []int64{1, 2, 3, 4, 5}

// TestMatrixScenariosLoad: every matrix file is a valid scenario, and every bug switch of
// the connector has a row in the matrix.
func TestMatrixScenariosLoad(t *testing.T) {
	for _, sc := range matrixScenarios {
		if _, err := scenarios.Load(filepath.Join(matrixDir, sc.file)); err != nil {
			t.Errorf("%s: %v", sc.file, err)
		}
	}
	for _, b := range connector.AllBugs() {
		if !slices.ContainsFunc(detection, func(d detectionRow) bool { return d.bug == b }) {
			t.Errorf("bug switch %s has no row in the detection matrix", b)
		}
	}
}

// matrixRun is one run of the matrix: what to run, then (once done is closed) what
// came of it.
type matrixRun struct {
	name string // subtest name
	sc   matrixScenario
	seed int64    // 0: the file's
	bug  string   // "" for the clean connector
	want []string // the invariants that must fail (none for a clean run)

	done     chan struct{}
	dir      string
	progress syncBuffer
	out      *harness.Outcome
	err      error
	took     time.Duration
}

// matrixRow is one run of the matrix, for the table logged at the end.
type matrixRow struct {
	bug, scenario string
	seed          int64
	want          []string
	failed        []string
	violations    map[string]int64
	took          time.Duration
	ok            bool
}

// defaultMatrixParallel is how many runs go at once: a run is mostly waiting (traffic
// at a fixed rate, simulated latencies), about a third of a core under -race.
const defaultMatrixParallel = 4

// TestBugMatrix runs the detection matrix (see the file comment). The runs go in the
// background, DOORBUSTER_MATRIX_PARALLEL at a time [4]; a subtest per run checks it.
func TestBugMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real traffic: about 15 s a run")
	}
	full := os.Getenv("DOORBUSTER_MATRIX") == "full"
	parallel := defaultMatrixParallel
	if v := os.Getenv("DOORBUSTER_MATRIX_PARALLEL"); v != "" {
		if _, err := fmt.Sscan(v, &parallel); err != nil || parallel < 1 {
			t.Fatalf("DOORBUSTER_MATRIX_PARALLEL=%q: want a positive integer", v)
		}
	}

	var runs []*matrixRun
	for _, d := range detection {
		if !full {
			runs = append(runs, &matrixRun{name: "bugs/" + string(d.bug), sc: d.sc, bug: string(d.bug), want: d.caughtBy})
			continue
		}
		for _, seed := range matrixSeeds {
			runs = append(runs, &matrixRun{name: fmt.Sprintf("bugs/%s/seed-%d", d.bug, seed), sc: d.sc, seed: seed, bug: string(d.bug), want: d.caughtBy})
		}
	}
	for _, sc := range matrixScenarios {
		seeds := matrixSeeds
		if !full && sc.file != scShortest.file {
			f, err := scenarios.Load(filepath.Join(matrixDir, sc.file))
			if err != nil {
				t.Fatal(err)
			}
			seeds = []int64{f.Seed} // the file's, as the bug runs
		}
		for _, seed := range seeds {
			runs = append(runs, &matrixRun{name: fmt.Sprintf("clean/%s/seed-%d", strings.TrimSuffix(sc.file, ".yaml"), seed), sc: sc, seed: seed})
		}
	}

	// Only the runs -run selects, the longest first (they would finish last otherwise).
	runs = slices.DeleteFunc(runs, func(r *matrixRun) bool { return !selected(t, r.name) })
	launch := slices.Clone(runs)
	slices.SortStableFunc(launch, func(a, b *matrixRun) int { return b.sc.weight - a.sc.weight })

	keep := os.Getenv("DOORBUSTER_MATRIX_KEEP")
	start := time.Now()
	sem := make(chan struct{}, parallel)
	for _, r := range runs {
		r.done = make(chan struct{})
		r.dir = filepath.Join(t.TempDir(), "run")
		if keep != "" {
			r.dir = filepath.Join(keep, strings.ReplaceAll(r.name, "/", "-"))
		}
	}
	for _, r := range launch {
		go func() {
			defer close(r.done)
			sem <- struct{}{}
			defer func() { <-sem }()
			r.start()
		}()
	}
	var rows []matrixRow
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			<-r.done
			var row matrixRow
			defer func() { rows = append(rows, row) }()
			r.check(t, &row)
		})
	}
	logMatrix(t, rows, full, parallel, time.Since(start))
}

// selected reports whether -test.run (and -test.skip) select the subtest TestBugMatrix/name,
// matching each slash-separated element as the testing package does.
func selected(t *testing.T, name string) bool {
	elems := strings.Split(t.Name()+"/"+name, "/")
	match := func(flagName string, all bool) (bool, bool) {
		f := flag.Lookup(flagName)
		if f == nil || f.Value.String() == "" {
			return false, false
		}
		parts := strings.Split(f.Value.String(), "/")
		for i, p := range parts {
			if i >= len(elems) {
				break
			}
			ok, err := regexp.MatchString(p, elems[i])
			if err != nil {
				t.Fatalf("-%s: %v", flagName, err)
			}
			if !ok {
				return false, true
			}
		}
		return all || len(parts) <= len(elems), true
	}
	if skip, set := match("test.skip", false); set && skip {
		return false
	}
	if run, set := match("test.run", true); set {
		return run
	}
	return true
}

// start does the run.
func (r *matrixRun) start() {
	cfg := harness.Config{
		ScenarioPath:     filepath.Join(matrixDir, r.sc.file),
		OutDir:           r.dir,
		ConnectorCommand: []string{os.Args[0], matrixConnectorArg},
		Progress:         &r.progress,
		Version:          "matrix",
	}
	if r.seed != 0 {
		cfg.Seed = &r.seed
	}
	if r.bug != "" {
		cfg.Bugs = []string{r.bug}
	}
	began := time.Now()
	r.out, r.err = harness.Run(context.Background(), cfg)
	r.took = time.Since(began)
}

// check checks the run's outcome: a bug run must fail with invariant want; a clean run
// must pass every invariant and threshold. The row is filled however the check ends.
func (r *matrixRun) check(t *testing.T, row *matrixRow) {
	t.Helper()
	*row = matrixRow{bug: r.bug, scenario: strings.TrimSuffix(r.sc.file, ".yaml"), seed: r.seed, want: r.want, took: r.took}
	dump := func() {
		t.Logf("progress:\n%s", r.progress.String())
		if b, err := os.ReadFile(filepath.Join(r.dir, rundir.ConnectorLogFile)); err == nil {
			t.Logf("connector log:\n%s", tail(string(b), 4000))
		}
	}
	if r.err != nil {
		dump()
		t.Fatalf("Run: %v", r.err)
	}
	out := r.out
	row.seed = out.Run.Seed

	// The run itself must have gone as planned — traffic to its end, backlog drained,
	// the scenario's preconditions met — so that the verdict is the invariants'.
	if out.Stopped != "" || out.DrainTimedOut || out.Invariants == nil || out.CheckErr != nil {
		dump()
		t.Fatalf("the run did not complete: stopped %q, drain timed out %v, check error %v", out.Stopped, out.DrainTimedOut, out.CheckErr)
	}
	rep, err := invariants.ReadJSON(filepath.Join(r.dir, invariants.FileName))
	if err != nil {
		t.Fatal(err)
	}
	row.violations = map[string]int64{}
	for _, res := range rep.Invariants {
		if res.Verdict == invariants.Fail || res.Verdict == invariants.Error {
			row.failed = append(row.failed, res.ID)
			row.violations[res.ID] = res.Violations
		}
	}
	if missing := exercised(t, r.sc, r.dir); len(missing) > 0 {
		dump()
		t.Fatalf("%s (seed %d) did not exercise what it is for: %s", r.sc.file, row.seed, strings.Join(missing, "; "))
	}

	if r.bug == "" {
		if !out.Invariants.Passed || !out.ThresholdsPassed || !out.Passed() {
			logFailures(t, rep)
			dump()
			t.Fatalf("clean connector on %s seed %d: false alarm: invariants failed %v, thresholds passed %v, verdict pass %v",
				r.sc.file, row.seed, out.Invariants.Failed, out.ThresholdsPassed, out.Passed())
		}
		row.ok = true
		return
	}
	var missed []string
	for _, id := range r.want {
		if !slices.Contains(out.Invariants.Failed, id) {
			missed = append(missed, id)
		}
	}
	if len(missed) > 0 {
		logFailures(t, rep)
		dump()
		t.Fatalf("bug switch %s on %s seed %d: not caught by %v (invariants failed: %v)", r.bug, r.sc.file, row.seed, missed, out.Invariants.Failed)
	}
	if out.Passed() {
		t.Errorf("bug switch %s: the run's verdict is pass although %v failed", r.bug, r.want)
	}
	row.ok = !t.Failed()
}

// syncBuffer is a bytes.Buffer safe for the harness's concurrent progress writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exercised opens the run's journal and checks the scenario's preconditions.
func exercised(t *testing.T, sc matrixScenario, dir string) []string {
	t.Helper()
	j, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "journal.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	return sc.exercised(dir, j)
}

// count runs a COUNT query on the journal; an error is reported as a missing precondition.
func count(j *sql.DB, missing *[]string, q string) int64 {
	var n int64
	if err := j.QueryRow(q).Scan(&n); err != nil {
		*missing = append(*missing, fmt.Sprintf("query %q: %v", q, err))
	}
	return n
}

// injected counts the faults the rule named name injected.
func injected(dir, name string, missing *[]string) int64 {
	f, err := rundir.LoadFaults(dir)
	if err != nil {
		*missing = append(*missing, err.Error())
		return 0
	}
	for _, r := range f.Rules {
		if r.Name == name {
			return r.Injected
		}
	}
	*missing = append(*missing, "no fault rule "+name)
	return 0
}

// salesExercised: sales at every store; multi-line taxable baskets whose per-line tax
// differs from the tax on their total; repeat identities, new ones among them; lost
// NetSuite answers and 429s injected.
func salesExercised(dir string, j *sql.DB) []string {
	var m []string
	if n := count(j, &m, `SELECT COUNT(DISTINCT location_id) FROM tx WHERE type = 'sale' AND outcome = 'acknowledged'`); n < 3 {
		m = append(m, fmt.Sprintf("sales at %d stores, want 3", n))
	}
	if n := count(j, &m, `SELECT COUNT(*) FROM (
			SELECT l.tx_id FROM line l JOIN tx ON tx.id = l.tx_id
			WHERE tx.type = 'sale' AND tx.outcome = 'acknowledged' AND l.tax_rate > 0
			GROUP BY l.tx_id, l.tax_rate
			HAVING COUNT(*) >= 2 AND SUM(l.tax_cents) <>
				CAST(round(SUM(l.quantity * l.unit_price_cents - l.discount_cents) * l.tax_rate / 100.0) AS INTEGER))`); n < 5 {
		m = append(m, fmt.Sprintf("%d baskets whose per-line tax differs from the tax on their total, want ≥ 5", n))
	}
	if n := count(j, &m, `SELECT COUNT(*) FROM (SELECT customer_identity FROM tx
			WHERE customer_identity <> '' AND outcome = 'acknowledged' GROUP BY 1 HAVING COUNT(*) >= 2)`); n < 3 {
		m = append(m, fmt.Sprintf("%d customer identities seen more than once, want ≥ 3", n))
	}
	if n := injected(dir, "lost-record-writes", &m); n < 5 {
		m = append(m, fmt.Sprintf("%d lost NetSuite answers, want ≥ 5", n))
	}
	if n := injected(dir, "burst-429", &m); n < 5 {
		m = append(m, fmt.Sprintf("%d NetSuite 429s, want ≥ 5", n))
	}
	return m
}

// returnsExercised: partial returns refunded on a card; lost and reset refund answers.
func returnsExercised(dir string, j *sql.DB) []string {
	var m []string
	if n := count(j, &m, `SELECT COUNT(*) FROM tx r JOIN tx s ON s.id = r.original_tx_id
			WHERE r.type = 'return' AND r.outcome = 'acknowledged' AND -r.total_cents < s.total_cents
			AND EXISTS (SELECT 1 FROM tender t WHERE t.tx_id = r.id AND t.type = 'card')`); n < 10 {
		m = append(m, fmt.Sprintf("%d partial returns refunded on a card, want ≥ 10", n))
	}
	if n := injected(dir, "lost-refund-answers", &m); n < 3 {
		m = append(m, fmt.Sprintf("%d lost refund answers, want ≥ 3", n))
	}
	if n := injected(dir, "reset-refunds", &m); n < 1 {
		m = append(m, "no refund connection reset")
	}
	return m
}

// offlineExercised: one register's offline sales, more than 100 of them uploaded in one
// batch (one submission time), occurred on two business days.
func offlineExercised(_ string, j *sql.DB) []string {
	var m []string
	if n := count(j, &m, `SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM tx
			WHERE offline = 1 AND outcome = 'acknowledged' GROUP BY register_id, submitted_at)`); n <= 100 {
		m = append(m, fmt.Sprintf("the largest offline batch held %d sales, want > 100", n))
	}
	if n := count(j, &m, `SELECT COUNT(DISTINCT occurred_date) FROM tx WHERE offline = 1`); n < 2 {
		m = append(m, fmt.Sprintf("offline sales occurred on %d business days, want 2 (across midnight)", n))
	}
	return m
}

// crashExercised: the connector was killed and restarted, with a backlog at the kill.
func crashExercised(dir string, _ *sql.DB) []string {
	var m []string
	acts, err := rundir.LoadActions(dir)
	if err != nil {
		return []string{err.Error()}
	}
	var killedAt time.Time
	var done []string
	for _, s := range acts.Steps {
		if s.Time == nil || s.Error != "" {
			m = append(m, fmt.Sprintf("action %s not done: %s", s.Do, s.Error))
			continue
		}
		done = append(done, s.Do)
		if s.Do == string(scenarios.KillConnector) {
			killedAt = *s.Time
		}
	}
	if !slices.Equal(done, []string{string(scenarios.KillConnector), string(scenarios.RestartConnector)}) {
		m = append(m, fmt.Sprintf("actions done %v, want a kill and a restart", done))
	}
	bl, err := rundir.LoadBacklog(dir)
	if err != nil {
		return append(m, err.Error())
	}
	most := 0
	for _, s := range bl {
		if !killedAt.IsZero() && s.Time.Before(killedAt) {
			most = max(most, s.Backlog())
		}
	}
	if most < 10 {
		m = append(m, fmt.Sprintf("the connector's backlog before the kill was at most %d, want ≥ 10", most))
	}
	return m
}

// logFailures logs the first evidence of every failed invariant.
func logFailures(t *testing.T, rep *invariants.Report) {
	t.Helper()
	for _, r := range rep.Invariants {
		if r.Verdict != invariants.Fail && r.Verdict != invariants.Error {
			continue
		}
		t.Logf("invariant %s: %s, %d violations %s", r.ID, r.Verdict, r.Violations, r.Reason)
		for i, e := range r.Evidence {
			if i == 5 {
				break
			}
			t.Logf("  %+v", e)
		}
	}
}

// logMatrix logs the detection table and the clean runs' verdicts.
func logMatrix(t *testing.T, rows []matrixRow, full bool, parallel int, took time.Duration) {
	sort.SliceStable(rows, func(a, b int) bool {
		if (rows[a].bug == "") != (rows[b].bug == "") {
			return rows[a].bug != ""
		}
		if rows[a].bug != rows[b].bug {
			return rows[a].bug < rows[b].bug
		}
		if rows[a].scenario != rows[b].scenario {
			return rows[a].scenario < rows[b].scenario
		}
		return rows[a].seed < rows[b].seed
	})
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	mode := "reduced"
	if full {
		mode = "full"
	}
	fmt.Fprintf(tw, "detection matrix (%s, %d runs at a time) in %s\n", mode, parallel, took.Round(time.Second))
	fmt.Fprintln(tw, "switch\tscenario\tseed\tcaught by: violations\tall failed invariants: violations\tresult\ttook")
	for _, r := range rows {
		sw := r.bug
		var caught []string
		for _, id := range r.want {
			caught = append(caught, fmt.Sprintf("%s %d", id, r.violations[id]))
		}
		by := strings.Join(caught, ", ")
		if sw == "" {
			sw, by = "(clean)", "-"
		}
		var all []string
		for _, id := range r.failed {
			all = append(all, fmt.Sprintf("%s %d", id, r.violations[id]))
		}
		res := "ok"
		if !r.ok {
			res = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", sw, r.scenario, r.seed, by, strings.Join(all, ", "), res, r.took.Round(100*time.Millisecond))
	}
	tw.Flush()
	t.Log("\n" + b.String())
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
