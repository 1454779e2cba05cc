package harness

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	_ "modernc.org/sqlite"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/reports"
	"github.com/doorbuster/doorbuster/scenarios"
	"github.com/doorbuster/doorbuster/simulator/faults"
)

// writeScenario writes a scenario file into a temporary directory and returns its path.
func writeScenario(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// statusTraffic is a stand-in traffic module: each iteration reads the connector's sync
// status through the VU's instrumented client, and the journal is an empty SQLite file.
// It exercises everything of a run but the POS flows.
type statusTraffic struct {
	connector string
	gateway   string
	key       string
	journal   string
	flushed   bool
	probed    int
	closed    bool
}

func (s *statusTraffic) Exec(flow string, _ scenarios.FlowOptions) (loadgen.Exec, func(context.Context, *loadgen.VU) error, error) {
	return func(ctx context.Context, vu *loadgen.VU) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.connector+contract.PathSyncStatus, nil)
		if err != nil {
			return err
		}
		resp, err := vu.HTTP().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		vu.Check(ctx, "status 200", resp.StatusCode == http.StatusOK)
		greq, err := http.NewRequestWithContext(ctx, http.MethodGet, s.gateway+"/v1/terminal/readers", nil)
		if err != nil {
			return err
		}
		greq.Header.Set("Authorization", "Bearer "+s.key)
		gresp, err := vu.HTTP().Do(greq)
		if err != nil {
			return err
		}
		defer gresp.Body.Close()
		vu.Check(ctx, "readers 200", gresp.StatusCode == http.StatusOK)
		return nil
	}, nil, nil
}

func (s *statusTraffic) Flush(context.Context) error { s.flushed = true; return nil }
func (s *statusTraffic) ProbeStock(_ context.Context, n int) error {
	s.probed = n
	return nil
}
func (s *statusTraffic) Close() error {
	s.closed = true
	db, err := sql.Open("sqlite", s.journal)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(invariants.JournalSchema) // an empty journal, as the checker reads it
	return err
}

func newStatusTraffic(got **statusTraffic) NewTraffic {
	return func(_ *fixtures.World, cfg TrafficConfig) (Traffic, error) {
		*got = &statusTraffic{connector: cfg.ConnectorURL, gateway: cfg.GatewayURL, key: cfg.GatewayKey, journal: cfg.JournalPath}
		return *got, nil
	}
}

const statusScenario = `name: status
seed: 7
fixtures: {size: small}
netsuite: {profile: fast}
gateway: {profile: fast}
faults:
  - {name: slow-suiteql, target: netsuite, match: {method: POST, path: /services/rest/query/v1/suiteql}, effect: {latency: {delay: 1ms}}}
  - {name: slow-readers, target: gateway, match: {method: GET, path: /v1/terminal/readers}, effect: {latency: {delay: 1ms}}}
scenarios:
  poll:
    executor: constant-arrival-rate
    exec: sale
    rate: 10
    timeUnit: 1s
    duration: 2s
    preAllocatedVUs: 2
thresholds:
  http_req_failed: ["rate<0.01"]
  http_req_duration: ["p(95)<2s"]
drain: {timeout: 10s}
`

// goroutinesSettle waits until the number of goroutines is back to at most n.
func goroutinesSettle(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left after the run (had %d before):\n%s", runtime.NumGoroutine(), n, buf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// portsClosed asserts nothing listens any more at the run's URLs.
func portsClosed(t *testing.T, urls ...string) {
	t.Helper()
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" {
			t.Errorf("bad URL %q in run.json", u)
			continue
		}
		if c, err := net.DialTimeout("tcp", p.Host, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the run", u)
		}
	}
}

func TestRunPipelineWithStandInTraffic(t *testing.T) {
	before := runtime.NumGoroutine()
	var tr *statusTraffic
	var stdout, progress bytes.Buffer
	dir := filepath.Join(t.TempDir(), "run")
	out, err := Run(context.Background(), Config{
		ScenarioPath: writeScenario(t, "status.yaml", statusScenario),
		OutDir:       dir, NewTraffic: newStatusTraffic(&tr),
		Stdout: &stdout, Progress: &progress, ProgressInterval: 500 * time.Millisecond,
		Version: "test",
	})
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	if !out.ThresholdsPassed || out.Stopped != "" || out.DrainTimedOut || !out.Passed() {
		t.Errorf("outcome %+v, want a passing run", out)
	}
	if !tr.flushed || tr.probed != DefaultStockProbe || !tr.closed {
		t.Errorf("traffic not flushed/probed/closed: %+v", tr)
	}
	for _, f := range runFiles {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("run directory lacks %s (%v)", f, err)
		}
	}
	if out.Summary == nil || out.Summary.Verdict.Status != reports.StatusPass || out.Summary.Verdict.Invariants != "pass" ||
		len(out.Summary.Outputs) != 5 || out.CheckErr != nil || out.ReportErr != nil {
		t.Errorf("summary %+v, check error %v, report error %v", out.Summary, out.CheckErr, out.ReportErr)
	}
	if out.Invariants == nil || !out.Invariants.Passed {
		t.Errorf("invariants %+v", out.Invariants)
	}
	run, err := rundir.LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if run.Mode != rundir.ModeEmbedded || run.Seed != 7 || run.Name != "status" || !run.Connector.Reference ||
		run.DrainedAt == nil || run.EndedAt == nil || run.TrafficEndedAt == nil || run.World.Size != "small" {
		t.Errorf("run.json = %+v", run)
	}
	res, err := rundir.LoadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	if it := res.Metric(loadgen.MetricIterations); it == nil || it.Sum < 15 {
		t.Errorf("metrics.json iterations = %+v, want about 20", it)
	}
	if bl := res.Metric(MetricConnectorBacklog); bl == nil || bl.Count == 0 {
		t.Errorf("metrics.json has no %s samples", MetricConnectorBacklog)
	}
	fl, err := rundir.LoadFaults(dir)
	if err != nil {
		t.Fatal(err)
	}
	var profileRules, scenarioRules int
	for _, r := range fl.Rules {
		if r.Profile {
			profileRules++
		} else {
			scenarioRules++
			if r.Injected == 0 {
				// slow-suiteql: the connector loads its cache through SuiteQL after the
				// rules are installed; slow-readers: every iteration lists the readers.
				t.Errorf("rule %s injected nothing", r.Name)
			}
		}
	}
	if profileRules != 10 || scenarioRules != 2 {
		t.Errorf("faults.json has %d profile and %d scenario rules, want 10 and 2", profileRules, scenarioRules)
	}
	rulesSeen := map[string]int{}
	for _, ev := range fl.Events {
		rulesSeen[ev.Rule]++
	}
	if rulesSeen["slow-suiteql"] == 0 || rulesSeen["slow-readers"] < 15 || fl.ProfileEvents["netsuite"] == 0 || len(rulesSeen) != 2 {
		t.Errorf("faults.json events by rule %v, profile events %v", rulesSeen, fl.ProfileEvents)
	}
	if out.InjectedFaults != int64(len(fl.Events)) {
		t.Errorf("Outcome.InjectedFaults = %d, faults.json has %d events", out.InjectedFaults, len(fl.Events))
	}
	bl, err := rundir.LoadBacklog(dir)
	if err != nil || len(bl) < 2 {
		t.Errorf("backlog.json: %d samples, %v", len(bl), err)
	}
	for _, b := range []string{rundir.NetSuiteBooksFile, rundir.GatewayBooksFile} {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, b)+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type='table'`).Scan(&n); err != nil || n == 0 {
			t.Errorf("%s: %d tables, %v", b, n, err)
		}
		db.Close()
	}
	scen, err := scenarios.Load(filepath.Join(dir, rundir.ScenarioFile))
	if err != nil {
		t.Errorf("scenario.yaml does not load back: %v", err)
	} else if scen.Seed != 7 {
		t.Errorf("scenario.yaml seed %d", scen.Seed)
	}
	if !strings.Contains(stdout.String(), "http_req_duration") || !strings.Contains(stdout.String(), "THRESHOLDS") {
		t.Errorf("summary on stdout:\n%s", stdout.String())
	}
	if !strings.Contains(progress.String(), "poll [") || !strings.Contains(progress.String(), "connector backlog") {
		t.Errorf("plain progress lines:\n%s", progress.String())
	}
	portsClosed(t, run.Connector.URL, run.Simulators.NetSuite, run.Simulators.Gateway)
	goroutinesSettle(t, before)
}

// runFiles are the files every complete run directory holds.
var runFiles = []string{rundir.ScenarioFile, rundir.RunFile, rundir.JournalFile, rundir.NetSuiteBooksFile,
	rundir.GatewayBooksFile, rundir.FaultsFile, rundir.MetricsFile, rundir.BacklogFile, invariants.FileName,
	reports.SummaryFile, reports.K6SummaryFile, reports.JUnitFile, reports.MarkdownFile, reports.HTMLFile}

func TestRunThresholdFailure(t *testing.T) {
	var tr *statusTraffic
	body := strings.Replace(statusScenario, `http_req_duration: ["p(95)<2s"]`, `http_req_duration: ["max<0.001"]`, 1)
	body = strings.Replace(body, "duration: 2s", "duration: 1s", 1)
	out, err := Run(context.Background(), Config{
		ScenarioPath: writeScenario(t, "fail.yaml", body),
		OutDir:       filepath.Join(t.TempDir(), "run"), NewTraffic: newStatusTraffic(&tr),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.ThresholdsPassed || out.Passed() {
		t.Fatalf("thresholds passed: %+v", out.Result.Thresholds)
	}
	if out.Summary == nil || out.Summary.Verdict.Status != reports.StatusThresholdsFailed {
		t.Errorf("summary %+v", out.Summary)
	}
}

func TestRunSetupErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(t *testing.T) Config
		want []string // in the error message
	}{
		{
			// A typo in a key: the loader's problem with file:line:col.
			name: "bad scenario",
			cfg: func(t *testing.T) Config {
				return Config{ScenarioPath: writeScenario(t, "bad.yaml", strings.Replace(statusScenario, "rate: 10", "rat: 10", 1))}
			},
			want: []string{"bad.yaml:13:5:", "scenarios.poll.rat"},
		},
		{
			// A threshold the engine cannot parse, at its line.
			name: "bad threshold",
			cfg: func(t *testing.T) Config {
				return Config{ScenarioPath: writeScenario(t, "thr.yaml", strings.Replace(statusScenario, `"p(95)<2s"`, `"med<1e400"`, 1))}
			},
			want: []string{"thr.yaml:19:", "not a number"},
		},
		{
			name: "missing file",
			cfg:  func(t *testing.T) Config { return Config{ScenarioPath: filepath.Join(t.TempDir(), "nope.yaml")} },
			want: []string{"nope.yaml"},
		},
		{
			name: "unknown bug",
			cfg: func(t *testing.T) Config {
				return Config{ScenarioPath: writeScenario(t, "s.yaml", statusScenario), Bugs: []string{"no-such-bug"}}
			},
			want: []string{"no-such-bug"},
		},
		{
			// The simulators' container generates its world: a world file cannot go there.
			name: "image mode with a world file",
			cfg: func(t *testing.T) Config {
				dir := t.TempDir()
				wf, err := os.Create(filepath.Join(dir, "world.json"))
				if err != nil {
					t.Fatal(err)
				}
				if err := fixtures.Write(wf, 7, fixtures.Small); err != nil {
					t.Fatal(err)
				}
				wf.Close()
				body := strings.Replace(statusScenario, "fixtures: {size: small}", "fixtures: {file: world.json}", 1)
				path := filepath.Join(dir, "s.yaml")
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				return Config{ScenarioPath: path, ConnectorImage: "example/connector:1"}
			},
			want: []string{"start the containers", "world file", "not supported in image mode"},
		},
		{
			name: "sim image without image mode",
			cfg: func(t *testing.T) Config {
				return Config{ScenarioPath: writeScenario(t, "s.yaml", statusScenario), SimImage: "doorbuster:dev"}
			},
			want: []string{"--sim-image is for image mode"},
		},
		{
			// A custom invariant whose SQL does not run: refused before anything starts.
			name: "bad custom invariant",
			cfg: func(t *testing.T) Config {
				body := statusScenario + "invariants:\n  custom:\n    - {id: no-such-table, statement: x, sql: SELECT * FROM nowhere}\n"
				return Config{ScenarioPath: writeScenario(t, "c.yaml", body)}
			},
			want: []string{"c.yaml: invariants.custom", "no-such-table", "nowhere"},
		},
		{
			name: "url mode without simulators",
			cfg: func(t *testing.T) Config {
				return Config{ScenarioPath: writeScenario(t, "s.yaml", statusScenario), ConnectorURL: "http://127.0.0.1:1"}
			},
			want: []string{"--netsuite-url"},
		},
		{
			// url mode cannot kill a connector the harness did not start.
			name: "kill in url mode",
			cfg: func(t *testing.T) Config {
				body := statusScenario + "actions:\n  - {at: 1s, do: kill-connector, duration: 500ms}\n"
				return Config{ScenarioPath: writeScenario(t, "k.yaml", body), ConnectorURL: "http://127.0.0.1:1",
					NetSuiteURL: "http://127.0.0.1:1", GatewayURL: "http://127.0.0.1:1"}
			},
			want: []string{"k.yaml", "actions[0] (kill-connector at 1s)", "--connector-url", "cannot kill"},
		},
		{
			name: "bugs in url mode",
			cfg: func(t *testing.T) Config {
				return Config{ScenarioPath: writeScenario(t, "s.yaml", statusScenario), ConnectorURL: "http://127.0.0.1:1", Bugs: []string{"sync-date"}}
			},
			want: []string{"--bug"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg(t)
			if cfg.OutDir == "" {
				cfg.OutDir = filepath.Join(t.TempDir(), "run")
			}
			cfg.ReadyTimeout = 2 * time.Second
			_, err := Run(context.Background(), cfg)
			if err == nil || !IsSetup(err) {
				t.Fatalf("err = %v, want a setup error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestProfileRulesFastAndOverrides(t *testing.T) {
	f, err := scenarios.Parse("p.yaml", []byte(`name: p
netsuite: {profile: realistic, latency: {suiteql: {delay: 7ms}}}
gateway: {profile: fast}
scenarios:
  s: {executor: constant-vus, exec: sale, vus: 1, duration: 1s}
`))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := faultRules(f)
	if err != nil {
		t.Fatal(err)
	}
	var ns []map[string]any
	if err := json.Unmarshal(rules[targetNetSuite], &ns); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, r := range ns {
		byName[r["name"].(string)] = r
	}
	if lat := byName["profile.suiteql"]["effect"].(map[string]any)["latency"].(map[string]any); lat["delay"] != "7ms" {
		t.Errorf("suiteql override: %v", lat)
	}
	if lat := byName["profile.recordWrite.PATCH"]["effect"].(map[string]any)["latency"].(map[string]any); lat["median"] != "400ms" {
		t.Errorf("realistic record writes: %v", lat)
	}
	if m := byName["profile.recordRead"]["match"].(map[string]any); m["method"] != "GET" || m["path"] != nsRecordPath {
		t.Errorf("record reads match %v", m)
	}
	var gw []map[string]any
	if err := json.Unmarshal(rules[targetGateway], &gw); err != nil {
		t.Fatal(err)
	}
	if len(gw) != 4 {
		t.Errorf("gateway profile rules: %v", gw)
	}
}

func TestReservedRuleName(t *testing.T) {
	f, err := scenarios.Parse("p.yaml", []byte(`name: p
faults:
  - {name: profile.x, target: netsuite, effect: {reset: {}}}
scenarios:
  s: {executor: constant-vus, exec: sale, vus: 1, duration: 1s}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := faultRules(f); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("err = %v, want the reserved prefix refused", err)
	}
	f.Faults[0].Name = "action.partition-netsuite.0"
	if _, err := faultRules(f); err == nil || !strings.Contains(err.Error(), "partitions of the scenario's actions") {
		t.Errorf("err = %v, want the reserved prefix refused", err)
	}
}

// binDir holds the doorbuster binary the tests build (see connectorCommand).
var binDir string

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	d, err := os.MkdirTemp("", "harness-test-bin-")
	if err != nil {
		panic(err)
	}
	binDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// buildDoorbuster builds the doorbuster command once per test binary.
var buildDoorbuster = sync.OnceValues(func() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(binDir, "doorbuster")
	cmd := exec.Command(goTool, "build", "-o", out, "github.com/doorbuster/doorbuster/cmd/doorbuster")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/doorbuster: %v\n%s", err, b)
	}
	return out, nil
})

// connectorCommand is the command that runs the reference connector as a process:
// `doorbuster connector` of a freshly built doorbuster.
func connectorCommand(t *testing.T) []string {
	t.Helper()
	bin, err := buildDoorbuster()
	if err != nil {
		t.Fatal(err)
	}
	return []string{bin, "connector"}
}

// TestPOSOptionsCoverEveryScenarioKey sets every flow option a scenario file can hold
// and checks that the POS module takes each one: a key added to one side and not the
// other fails here.
func TestPOSOptionsCoverEveryScenarioKey(t *testing.T) {
	f, err := scenarios.Parse("o.yaml", []byte(`name: o
scenarios:
  s:
    executor: constant-vus
    exec: sale
    duration: 1s
    options:
      basketSize: {mean: 3, max: 9, distribution: geometric}
      tenders: {card: 0.5, cash: 0.3, gift_card: 0.1, split: 0.1}
      knownCustomerRate: 0.2
      newCustomerRate: 0.1
      discountRate: 0.1
      misreadRate: 0.05
      declineRate: 0.02
      hotItems: {count: 3, share: 0.4}
      returnPartialRate: 0.5
      restockRate: 0.7
      offlineDuration: 90s
      offlineRegisters: 0.25
      scansPerIteration: 12
      completionRate: 0.1
      thinkTime: 50ms
      insufficientFundsRate: 0.01
      abandonOnDeclineRate: 0.3
      terminalTimeoutRate: 0.02
      sharedNewCustomers: 5
      zipfExponent: 1.2
      singleItemSKU: SKU-1
      clockStart: "2026-11-27T00:00:00Z"
      stores: 2
      submitRetryFor: 10s
      requestTimeout: 5s
      batchSize: 100
`))
	if err != nil {
		t.Fatal(err)
	}
	o := f.Scenarios["s"].Options
	opts, err := posOptions(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(o)
	var keys map[string]any
	json.Unmarshal(b, &keys)
	if n := reflect.TypeOf(scenarios.FlowOptions{}).NumField(); len(keys) != n {
		t.Errorf("the test sets %d keys; scenarios.FlowOptions has %d: set the new ones", len(keys), n)
	}
	for k := range keys {
		if !opts.IsSet(k) {
			t.Errorf("option %s did not reach the POS module", k)
		}
	}
	if opts.OfflineDuration != 90*time.Second || opts.Tenders.GiftCard != 0.1 || opts.BasketSize.Distribution != "geometric" ||
		opts.StoreCount != 2 || opts.SingleItemSKU != "SKU-1" || opts.SubmitRetryFor != 10*time.Second || opts.BatchSize != 100 {
		t.Errorf("values lost on the way: %+v", opts)
	}
}

// TestFaultRuleSchemasAgree: a fault rule in a scenario file has exactly the fields the
// fault engine's rules (faults.ParseRules, strict) have, so a rule the scenario schema
// accepts is one the simulators take, and the other way round.
func TestFaultRuleSchemasAgree(t *testing.T) {
	var doc struct {
		Defs struct {
			FaultRule struct {
				Properties map[string]any `json:"properties"`
			} `json:"faultRule"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(scenarios.Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	var inSchema []string
	for k := range doc.Defs.FaultRule.Properties {
		inSchema = append(inSchema, k)
	}
	// Every field set: the engine's rules-file form names them all.
	full := faults.Rule{Name: "r", Target: faults.NetSuite, Match: faults.Match{Method: "GET", Path: "/x", RecordType: "cashSale"},
		Effect: &faults.Reset{}, Probability: 0.5, Window: &faults.Window{Start: 1, Duration: 1}, Quiet: true}
	b, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	var inEngine []string
	for k := range fields {
		inEngine = append(inEngine, k)
	}
	slices.Sort(inSchema)
	slices.Sort(inEngine)
	if !slices.Equal(inSchema, inEngine) {
		t.Errorf("scenario schema faultRule fields %v, fault engine rule fields %v", inSchema, inEngine)
	}
	if rules, err := faults.ParseRules(append(append([]byte("["), b...), ']')); err != nil || len(rules) != 1 || !rules[0].Quiet {
		t.Errorf("the engine does not read its own rule back: %v", err)
	}
}
