package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// shippedFiles returns every scenario file in this folder and below (certification cases
// included), testdata excluded.
func shippedFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestShippedFilesLoad(t *testing.T) {
	files := shippedFiles(t)
	for _, want := range []string{"smoke.yaml", "black-friday.yaml", "returns-wave.yaml", "offline-resync.yaml",
		"peripheral-storm.yaml", "soak.yaml", "pilot-gate.yaml"} {
		if !slices.Contains(files, want) {
			t.Errorf("%s is not shipped", want)
		}
	}
	for _, p := range files {
		t.Run(p, func(t *testing.T) {
			f, err := Load(p)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if filepath.Dir(p) == "." && f.Name != strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) {
				t.Errorf("name %q does not match the file name", f.Name)
			}
			if f.Description == "" {
				t.Error("no description")
			}
			// Certification cases carry their metadata; other folders (matrix/: the bug
			// switch detection matrix of harness/matrix_test.go) are plain scenarios.
			if f.Certification == nil && filepath.Dir(p) == "certification" {
				t.Errorf("a file under %s needs certification metadata", filepath.Dir(p))
			}
			// The canonical form loads again to the same file.
			out, err := f.Canonical()
			if err != nil {
				t.Fatal(err)
			}
			g, err := Parse(p, out)
			if err != nil {
				t.Fatalf("canonical form does not load: %v\n%s", err, out)
			}
			f.order, g.order = nil, nil
			if !reflect.DeepEqual(f, g) {
				t.Errorf("canonical form loads differently:\n%s", out)
			}
		})
	}
}

func TestSmokeIsShortAndFast(t *testing.T) {
	f, err := Load("smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d := f.TrafficDuration(); d >= time.Minute {
		t.Errorf("smoke traffic lasts %s, want under a minute", d)
	}
	r := f.Resolved()
	if r.NetSuite.Profile != Fast || r.Gateway.Profile != Fast || f.Fixtures.Size != "small" {
		t.Errorf("smoke must use the fast profiles on the small world, got %+v, %s", r, f.Fixtures.Size)
	}
	if f.Seed != 42 || f.Drain.Timeout.Std() != 2*time.Minute {
		t.Errorf("seed %d, drain %s; want 42 and 2m as the issue's example", f.Seed, f.Drain.Timeout)
	}
	if got := f.ScenarioNames(); !slices.Equal(got, []string{"checkout", "returns"}) {
		t.Errorf("scenario order %v", got)
	}
	co := f.Scenarios["checkout"]
	if co.Executor != ConstantArrivalRate || co.Rate != 20 || co.Duration.Std() != 30*time.Second || co.PreAllocatedVUs != 20 ||
		co.MaxVUs != 20 || co.TimeUnit.Std() != time.Second || co.GracefulStop.Std() != 30*time.Second {
		t.Errorf("checkout = %+v", co)
	}
	if co.Options.Tenders == nil || co.Options.Tenders.Card != 0.8 || co.Options.BasketSize.Mean != 4 {
		t.Errorf("checkout options = %+v", co.Options)
	}
	if f.Scenarios["returns"].StartTime.Std() != 5*time.Second {
		t.Errorf("returns startTime = %s", f.Scenarios["returns"].StartTime)
	}
	if len(f.Faults) != 1 || f.Faults[0].Effect != "lostResponse" || f.Faults[0].Probability != 0.01 {
		t.Errorf("faults = %+v", f.Faults)
	}
}

// TestTreeMatchesYAMLDecoder checks that the position-keeping conversion yields the same
// values as goccy/go-yaml's own decoder.
func TestTreeMatchesYAMLDecoder(t *testing.T) {
	inputs := map[string][]byte{
		"anchors": []byte("base: &b {rate: 2, timeUnit: 1s}\nx:\n  <<: *b\n  rate: 3\nlist: [*b, {a: ~}]\nn: -4\nf: 1.5\nbig: 18446744073709551615\ns: !!str 12\nlit: |\n  two\n  lines\n"),
	}
	for _, p := range shippedFiles(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs[p] = data
	}
	for name, data := range inputs {
		tr, perr := parseTree(data)
		if perr != nil {
			t.Fatalf("%s: %v", name, perr)
		}
		var want any
		if err := yaml.Unmarshal(data, &want); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(tr.root, want) {
			t.Errorf("%s: tree\n%#v\nwant\n%#v", name, tr.root, want)
		}
	}
}

func TestPositionsThroughAliasesAndMerges(t *testing.T) {
	src := `defaults: &arrival
  executor: constant-arrival-rate
  exec: sale
  rate: 5
  duration: 30s
  preAllocatedVUs: 5
scenarios:
  a:
    <<: *arrival
    rat: 10
  b: *arrival
`
	_, err := Parse("m.yaml", []byte(src))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %v", err)
	}
	got := e.Error()
	for _, want := range []string{
		`m.yaml:1:1: defaults: unknown key`,
		`m.yaml:10:5: scenarios.a.rat: unknown key (did you mean "rate"?)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestProblems(t *testing.T) {
	// A valid scenario the cases below break, one thing at a time.
	const base = `name: t
scenarios:
  checkout:
    executor: constant-arrival-rate
    exec: sale
    rate: 20
    duration: 30s
    preAllocatedVUs: 20
`
	tests := []struct {
		name string
		src  string
		want []string // each must appear in the error, in "line:col: path: msg" form
	}{
		{
			// A typo in an executor option: named with the closest key.
			name: "unknown key with suggestion",
			src:  strings.Replace(base, "    rate: 20", "    rat: 20", 1),
			want: []string{`t.yaml:6:5: scenarios.checkout.rat: unknown key (did you mean "rate"?)`},
		},
		{
			// A typo at the top level.
			name: "unknown top-level key",
			src:  base + "treshold: {}\n",
			want: []string{`t.yaml:9:1: treshold: unknown key (did you mean "thresholds"?)`},
		},
		{
			// k6 wants a whole number of VUs.
			name: "wrong type",
			src:  strings.Replace(base, "preAllocatedVUs: 20", `preAllocatedVUs: "twenty"`, 1),
			want: []string{`t.yaml:8:22: scenarios.checkout.preAllocatedVUs: expected a whole number, got "twenty"`},
		},
		{
			// A duration without a unit is a number, not a duration.
			name: "duration as a number",
			src:  strings.Replace(base, "duration: 30s", "duration: 30", 1),
			want: []string{`t.yaml:7:15: scenarios.checkout.duration: expected a duration like "30s", got 30`},
		},
		{
			// A unit Go does not know.
			name: "bad duration unit",
			src:  strings.Replace(base, "duration: 30s", "duration: 30sec", 1),
			want: []string{`t.yaml:7:15: scenarios.checkout.duration: expected a duration like "30s", got "30sec"`},
		},
		{
			// A duration that matches the pattern but overflows.
			name: "duration overflow",
			src:  strings.Replace(base, "duration: 30s", "duration: 99999999999999h", 1),
			want: []string{`t.yaml:7:15: scenarios.checkout.duration: expected a duration like "30s", got "99999999999999h"`},
		},
		{
			// constant-arrival-rate needs rate, as in k6.
			name: "missing required executor option",
			src:  strings.Replace(base, "    rate: 20\n", "", 1),
			want: []string{`t.yaml:3:3: scenarios.checkout: executor constant-arrival-rate needs "rate"`},
		},
		{
			// vus belongs to other executors: an error, as in k6.
			name: "option not allowed for executor",
			src:  base + "    vus: 10\n",
			want: []string{`t.yaml:9:5: scenarios.checkout.vus: option not valid for executor constant-arrival-rate`},
		},
		{
			name: "executor missing",
			src:  strings.Replace(base, "    executor: constant-arrival-rate\n", "", 1),
			want: []string{`t.yaml:3:3: scenarios.checkout: missing required key "executor"`},
		},
		{
			// An enum typo gets a suggestion too.
			name: "unknown flow",
			src:  strings.Replace(base, "exec: sale", "exec: sael", 1),
			want: []string{`t.yaml:5:11: scenarios.checkout.exec: expected one of "sale", `, `got "sael" (did you mean "sale"?)`},
		},
		{
			name: "empty stages",
			src: `scenarios:
  ramp: {executor: ramping-vus, exec: sale, stages: []}
`,
			want: []string{`t.yaml:2:53: scenarios.ramp.stages: expected a list of stages like [{duration: 1m, target: 50}], got an empty list`},
		},
		{
			name: "stage without target",
			src: `scenarios:
  ramp:
    executor: ramping-arrival-rate
    exec: sale
    preAllocatedVUs: 2
    stages:
      - {duration: 1m}
`,
			want: []string{`t.yaml:7:9: scenarios.ramp.stages[0]: missing required key "target"`},
		},
		{
			name: "maxVUs below preAllocatedVUs",
			src:  base + "    maxVUs: 5\n",
			want: []string{`t.yaml:9:13: scenarios.checkout.maxVUs: maxVUs (5) can't be less than preAllocatedVUs (20)`},
		},
		{
			name: "shared iterations fewer than VUs",
			src:  "scenarios:\n  it: {executor: shared-iterations, exec: sale, vus: 10, iterations: 5}\n",
			want: []string{`t.yaml:2:70: scenarios.it.iterations: the number of iterations (5) can't be less than the number of VUs (10)`},
		},
		{
			name: "duration under k6's minimum",
			src:  strings.Replace(base, "duration: 30s", "duration: 500ms", 1),
			want: []string{`t.yaml:7:15: scenarios.checkout.duration: the duration should be at least 1s, got 500ms`},
		},
		{
			name: "bad threshold syntax",
			src:  base + "thresholds:\n  pos_checkout_duration: [\"p95<2s\"]\n",
			want: []string{`t.yaml:10:27: thresholds.pos_checkout_duration[0]: expected a threshold like "p(95)<2s"`},
		},
		{
			// A Rate metric has no percentiles.
			name: "aggregation not valid for the metric",
			src:  base + "thresholds:\n  http_req_failed: [\"p(95)<0.01\"]\n",
			want: []string{`t.yaml:10:21: thresholds.http_req_failed[0]: http_req_failed is a rate metric: its thresholds use rate, not p(95)`},
		},
		{
			name: "bad threshold tag filter",
			src:  base + "thresholds:\n  http_req_duration{scenario}: [\"p(95)<1s\"]\n",
			want: []string{`t.yaml:10:3: thresholds.http_req_duration{scenario}: expected tag filters as tag:value pairs`},
		},
		{
			name: "threshold object with unknown key",
			src:  base + "thresholds:\n  checks:\n    - {threshold: \"rate>0.9\", abortOnFial: true}\n",
			want: []string{`t.yaml:11:31: thresholds.checks[0].abortOnFial: unknown key (did you mean "abortOnFail"?)`},
		},
		{
			name: "bad metric name",
			src:  base + "thresholds:\n  \"http req\": [\"rate<1\"]\n",
			want: []string{`t.yaml:10:3: thresholds.http req: expected a metric name like http_req_duration`},
		},
		{
			// One rule, two effects: exactly one is allowed.
			name: "bad fault effect (two effects)",
			src:  base + "faults:\n  - {name: x, target: netsuite, effect: {lostResponse: {}, reset: {}}}\n",
			want: []string{`t.yaml:10:41: faults[0].effect: expected exactly one effect of latency, error, throttle, timeout, reset, lostResponse, slowBody, malformed, outage, got lostResponse and reset`},
		},
		{
			name: "unknown fault effect",
			src:  base + "faults:\n  - {name: x, target: netsuite, effect: {lostRespone: {}}}\n",
			want: []string{`t.yaml:10:42: faults[0].effect.lostRespone: unknown key (did you mean "lostResponse"?)`},
		},
		{
			name: "probability out of range",
			src:  base + "faults:\n  - {name: x, target: netsuite, effect: {reset: {}}, probability: 1.5}\n",
			want: []string{`t.yaml:10:67: faults[0].probability: expected a probability greater than 0 and at most 1, got 1.5`},
		},
		{
			name: "latency fault with two distributions",
			src:  base + "faults:\n  - {name: x, target: netsuite, effect: {latency: {delay: 1s, median: 2s}}}\n",
			want: []string{`t.yaml:10:51: faults[0].effect.latency: expected exactly one of delay (fixed), lower/upper (uniform) or median/sigma/max (lognormal), got delay and median/sigma/max`},
		},
		{
			name: "error fault without status",
			src:  base + "faults:\n  - {name: x, target: gateway, effect: {error: {code: boom}}}\n",
			want: []string{`t.yaml:10:41: faults[0].effect.error: missing required key "status"`},
		},
		{
			name: "fault window after the run",
			src:  base + "faults:\n  - {name: x, target: netsuite, effect: {outage: {}}, window: {start: 3h}}\n",
			want: []string{`t.yaml:10:71: faults[0].window.start: the window opens at 3h, after the run ends (traffic 30s + drain timeout 5m)`},
		},
		{
			name: "duplicate fault names and recordType on the gateway",
			src: base + `faults:
  - {name: x, target: netsuite, effect: {reset: {}}}
  - {name: x, target: gateway, match: {recordType: cashSale}, effect: {reset: {}}}
`,
			want: []string{
				`t.yaml:11:12: faults[1].name: rule name "x" is already used by faults[0]`,
				`t.yaml:11:40: faults[1].match.recordType: recordType only applies to target netsuite`,
			},
		},
		{
			name: "tenders not adding up",
			src:  base + "    options: {tenders: {card: 0.8, cash: 0.3}}\n",
			want: []string{`t.yaml:9:24: scenarios.checkout.options.tenders: tender fractions must add up to 1, got 1.1`},
		},
		{
			name: "unknown flow option",
			src:  base + "    options: {basketsize: {mean: 3}}\n",
			want: []string{`t.yaml:9:15: scenarios.checkout.options.basketsize: unknown key (did you mean "basketSize"?)`},
		},
		{
			name: "custom invariants",
			src: base + `invariants:
  skip: [exactly-onec]
  custom:
    - {id: mine, statement: s, sql: "select 1"}
    - {id: mine, statement: s, sql: "delete from t"}
`,
			want: []string{
				`t.yaml:10:10: invariants.skip[0]: expected one of "exactly-once"`,
				`(did you mean "exactly-once"?)`,
			},
		},
		{
			name: "custom invariant ids and SQL",
			src: base + `invariants:
  custom:
    - {id: mine, statement: s, sql: "select 1"}
    - {id: mine, statement: s, sql: "delete from t"}
    - {id: amounts, statement: s, sql: "WITH x AS (SELECT 1) SELECT * FROM x"}
`,
			want: []string{
				`t.yaml:12:12: invariants.custom[1].id: invariant id "mine" is already used by invariants.custom[0]`,
				`t.yaml:12:37: invariants.custom[1].sql: expected a SELECT`,
				`t.yaml:13:12: invariants.custom[2].id: "amounts" is a built-in invariant`,
			},
		},
		{
			name: "profile typo",
			src:  base + "netsuite: {profile: realstic}\n",
			want: []string{`t.yaml:9:21: netsuite.profile: expected one of "fast", "realistic", got "realstic" (did you mean "realistic"?)`},
		},
		{
			name: "latency override out of order",
			src:  base + "gateway: {latency: {refund: {lower: 5ms, upper: 1ms}}}\n",
			want: []string{`t.yaml:9:49: gateway.latency.refund.upper: expected more than lower (5ms), got 1ms`},
		},
		{
			name: "uniform latency missing upper",
			src:  base + "gateway: {latency: {refund: {lower: 5ms}}}\n",
			want: []string{`t.yaml:9:30: gateway.latency.refund.lower: lower needs "upper" beside it`},
		},
		{
			name: "fixtures size and file",
			src:  base + "fixtures: {size: small, file: w.json}\n",
			want: []string{`t.yaml:9:25: fixtures.file: give fixtures.size or fixtures.file, not both`},
		},
		{
			name: "bad scenario name",
			src:  base + "  \"check out\": {executor: constant-vus, exec: sale, duration: 1m}\n",
			want: []string{`t.yaml:9:3: scenarios.check out: expected a scenario name of up to 64 letters, digits, '_' or '-', got "check out"`},
		},
		{
			name: "drain poll longer than timeout",
			src:  base + "drain: {timeout: 1m, pollInterval: 2m}\n",
			want: []string{`t.yaml:9:36: drain.pollInterval: expected at most the drain timeout (1m), got 2m`},
		},
		{
			name: "no scenarios",
			src:  "name: t\n",
			want: []string{`t.yaml:1:1: missing required key "scenarios"`},
		},
		{
			name: "top level not a mapping",
			src:  "- a\n- b\n",
			want: []string{`t.yaml:1:1: expected a mapping of scenario-file keys`},
		},
		{
			name: "empty file",
			src:  "# nothing\n",
			want: []string{`t.yaml:1:1: empty file`},
		},
		{
			name: "YAML syntax error",
			src:  "scenarios: [a\nb: c\n",
			want: []string{`t.yaml:2:1: YAML: `},
		},
		{
			name: "duplicate key",
			src:  base + "name: u\n",
			want: []string{`t.yaml:9:1: YAML: mapping key "name" already defined at [1:1]`},
		},
		{
			name: "two documents",
			src:  base + "---\nname: u\n",
			want: []string{`t.yaml:10:1: expected one YAML document`},
		},
		{
			name: "unknown tag",
			src:  base + "seed: !!binary aGk=\n",
			want: []string{`t.yaml:9:7: unsupported YAML tag !!binary`},
		},
		{
			// An alias inside the node it names would be a cycle.
			name: "self-referring alias",
			src:  "x: &a [1, *a]\n" + base,
			want: []string{`t.yaml:1:11: alias *a refers to no anchor before it`},
		},
		{
			name: "alias bomb",
			src: "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
				"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
			want: []string{`too many values`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("t.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error; loaded %+v", f)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %T: %v", err, err)
			}
			for _, p := range e.Problems {
				if p.File != "t.yaml" || p.Line < 1 || p.Col < 1 || p.Msg == "" {
					t.Errorf("incomplete problem %+v", p)
				}
			}
			got := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
		})
	}
}

func TestProblemsAreBoundedAndOrdered(t *testing.T) {
	var b strings.Builder
	b.WriteString("scenarios:\n  s: {executor: constant-vus, exec: sale, duration: 1m}\n")
	for i := range 30 {
		fmt.Fprintf(&b, "bogus%d: 1\n", i)
	}
	_, err := Parse("t.yaml", []byte(b.String()))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %v", err)
	}
	if len(e.Problems) != maxProblems || e.Omitted != 30-maxProblems {
		t.Fatalf("got %d problems, %d omitted; want %d and %d", len(e.Problems), e.Omitted, maxProblems, 30-maxProblems)
	}
	for i, p := range e.Problems {
		if p.Line != 3+i {
			t.Errorf("problem %d at line %d, want %d (ordered by position)", i, p.Line, 3+i)
		}
	}
	if !strings.HasSuffix(err.Error(), "… and 10 more problems") {
		t.Errorf("error does not count the omitted problems:\n%s", err)
	}
}

func TestExecutorDefaults(t *testing.T) {
	src := `scenarios:
  shared: {executor: shared-iterations, exec: sale}
  pervu: {executor: per-vu-iterations, exec: sale, vus: 3, iterations: 7}
  cvus: {executor: constant-vus, exec: sale, duration: 1m}
  rvus: {executor: ramping-vus, exec: sale, stages: [{duration: 10s, target: 5}]}
  rvus0: {executor: ramping-vus, exec: sale, startVUs: 0, stages: [{duration: 10s, target: 5}]}
  car: {executor: constant-arrival-rate, exec: sale, rate: 3, duration: 1m, preAllocatedVUs: 4}
  rar: {executor: ramping-arrival-rate, exec: sale, preAllocatedVUs: 2, maxVUs: 9, timeUnit: 1m, stages: [{duration: 1m, target: 60}], startTime: 10s, gracefulStop: 5s}
`
	f, err := Parse("d.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	sec := func(n int) Duration { return Duration(time.Duration(n) * time.Second) }
	want := map[string]Scenario{
		"shared": {Executor: SharedIterations, VUs: 1, Iterations: 1, MaxDuration: sec(600)},
		"pervu":  {Executor: PerVUIterations, VUs: 3, Iterations: 7, MaxDuration: sec(600)},
		"cvus":   {Executor: ConstantVUs, VUs: 1, Duration: sec(60)},
		"rvus":   {Executor: RampingVUs, StartVUs: 1, GracefulRampDown: sec(30), Stages: []Stage{{sec(10), 5}}},
		"rvus0":  {Executor: RampingVUs, StartVUs: 0, GracefulRampDown: sec(30), Stages: []Stage{{sec(10), 5}}},
		"car":    {Executor: ConstantArrivalRate, Rate: 3, Duration: sec(60), TimeUnit: sec(1), PreAllocatedVUs: 4, MaxVUs: 4},
		"rar":    {Executor: RampingArrivalRate, TimeUnit: sec(60), PreAllocatedVUs: 2, MaxVUs: 9, Stages: []Stage{{sec(60), 60}}, StartTime: sec(10), GracefulStop: sec(5)},
	}
	for name, w := range want {
		w.Name, w.Exec = name, FlowSale
		if w.GracefulStop == 0 {
			w.GracefulStop = sec(30)
		}
		if got := *f.Scenarios[name]; !reflect.DeepEqual(got, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, w)
		}
	}
	if f.Name != "d" || f.Seed != DefaultSeed || f.Fixtures.Size != "small" || f.Drain.Timeout.Std() != DefaultDrainTimeout ||
		f.Drain.PollInterval.Std() != DefaultDrainPoll || f.NetSuite.Profile != Fast || f.Gateway.Profile != Fast {
		t.Errorf("file defaults: %+v", f)
	}
	if got := f.TrafficDuration(); got != 10*time.Minute {
		t.Errorf("TrafficDuration = %s, want 10m (shared-iterations' maxDuration)", got)
	}
}

func TestResolvedProfiles(t *testing.T) {
	tests := []struct {
		name string
		src  string
		ns   func(*NetSuiteSettings)
		gw   func(*GatewaySettings)
	}{
		{
			name: "defaults are fast",
			src:  "",
		},
		{
			name: "realistic presets",
			src:  "netsuite: {profile: realistic}\ngateway: {profile: realistic}\n",
			ns: func(s *NetSuiteSettings) {
				*s = NetSuiteSettings{Profile: Realistic, ConcurrencyLimit: 15,
					RecordWrite: Latency{Median: Duration(400 * time.Millisecond), Sigma: 0.5, Max: Duration(10 * time.Second)},
					RecordRead:  Latency{Median: Duration(150 * time.Millisecond), Sigma: 0.4, Max: Duration(5 * time.Second)},
					SuiteQL:     Latency{Median: Duration(80 * time.Millisecond), Sigma: 0.4, Max: Duration(3 * time.Second)}}
			},
			gw: func(s *GatewaySettings) {
				*s = GatewaySettings{Profile: Realistic,
					Authorize: Latency{Median: Duration(time.Second), Sigma: 0.35, Max: Duration(15 * time.Second)},
					Capture:   Latency{Median: Duration(300 * time.Millisecond), Sigma: 0.4, Max: Duration(5 * time.Second)},
					Refund:    Latency{Median: Duration(300 * time.Millisecond), Sigma: 0.4, Max: Duration(5 * time.Second)}}
			},
		},
		{
			name: "explicit fields override the preset, the rest stays",
			src: `netsuite:
  profile: realistic
  concurrencyLimit: 5
  latency: {suiteql: {delay: 20ms}, recordWrite: {lower: 100ms, upper: 200ms}}
gateway:
  profile: fast
  latency: {authorize: {median: 2s, sigma: 0.2}}
`,
			ns: func(s *NetSuiteSettings) {
				*s, _ = NetSuitePreset(Realistic)
				s.ConcurrencyLimit = 5
				s.SuiteQL = Latency{Delay: Duration(20 * time.Millisecond)}
				s.RecordWrite = Latency{Lower: Duration(100 * time.Millisecond), Upper: Duration(200 * time.Millisecond)}
			},
			gw: func(s *GatewaySettings) {
				s.Authorize = Latency{Median: Duration(2 * time.Second), Sigma: 0.2}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("p.yaml", []byte(tc.src+"scenarios: {s: {executor: constant-vus, exec: sale, duration: 1m}}\n"))
			if err != nil {
				t.Fatal(err)
			}
			wantNS, _ := NetSuitePreset(Fast)
			wantGW, _ := GatewayPreset(Fast)
			if tc.ns != nil {
				tc.ns(&wantNS)
			}
			if tc.gw != nil {
				tc.gw(&wantGW)
			}
			got := f.Resolved()
			if !reflect.DeepEqual(got.NetSuite, wantNS) {
				t.Errorf("netsuite:\n got %+v\nwant %+v", got.NetSuite, wantNS)
			}
			if !reflect.DeepEqual(got.Gateway, wantGW) {
				t.Errorf("gateway:\n got %+v\nwant %+v", got.Gateway, wantGW)
			}
		})
	}
	// The fast preset is milliseconds everywhere.
	ns, _ := NetSuitePreset(Fast)
	gw, _ := GatewayPreset(Fast)
	for _, l := range []Latency{ns.RecordWrite, ns.RecordRead, ns.SuiteQL, gw.Authorize, gw.Capture, gw.Refund} {
		if l.Kind() != "uniform" || l.Upper.Std() > 10*time.Millisecond {
			t.Errorf("fast latency %s is not a few milliseconds", l)
		}
	}
	if _, err := NetSuitePreset("slow"); err == nil {
		t.Error("unknown profile accepted")
	}
}

func TestFaultRulesKeepRawJSON(t *testing.T) {
	src := `scenarios: {s: {executor: constant-vus, exec: sale, duration: 10m}}
faults:
  - name: slow
    target: netsuite
    match: {method: POST, path: /services/rest/query/v1/suiteql}
    effect: {latency: {median: 200ms, sigma: 0.5, max: 2s}}
    probability: 0.5
    window: {start: 1m30s, duration: 2m}
  - {name: gone, target: gateway, effect: {outage: {message: down}}, window: {start: 4m}}
`
	f, err := Parse("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	slow, gone := f.Faults[0], f.Faults[1]
	if slow.Effect != "latency" || string(slow.EffectParams) != `{"max":"2s","median":"200ms","sigma":0.5}` ||
		slow.Probability != 0.5 || slow.Window.Start.Std() != 90*time.Second || slow.Match.Method != "POST" {
		t.Errorf("slow = %+v", slow)
	}
	wantRaw := `{"effect":{"latency":{"max":"2s","median":"200ms","sigma":0.5}},"match":{"method":"POST","path":"/services/rest/query/v1/suiteql"},"name":"slow","probability":0.5,"target":"netsuite","window":{"duration":"2m","start":"1m30s"}}`
	if string(slow.Raw) != wantRaw {
		t.Errorf("raw\n got %s\nwant %s", slow.Raw, wantRaw)
	}
	if gone.Probability != 1 || strings.Contains(string(gone.Raw), "probability") {
		t.Errorf("omitted probability: typed %v (want 1), raw %s (want it left out)", gone.Probability, gone.Raw)
	}
	all, err := f.FaultRulesJSON()
	if err != nil || string(all) != "["+wantRaw+","+string(gone.Raw)+"]" {
		t.Errorf("FaultRulesJSON = %s, %v", all, err)
	}
}

func TestScaleDuration(t *testing.T) {
	src := `scenarios:
  a: {executor: constant-arrival-rate, exec: sale, rate: 10, duration: 10m, preAllocatedVUs: 5, startTime: 1m, gracefulStop: 20s}
  b: {executor: ramping-vus, exec: offline-resync, stages: [{duration: 2m, target: 3}, {duration: 0s, target: 0}], options: {offlineDuration: 4m}}
  c: {executor: shared-iterations, exec: sale, maxDuration: 3m}
faults:
  - {name: w, target: netsuite, effect: {throttle: {retryAfter: 5s}}, window: {start: 5m, duration: 1m}}
drain: {timeout: 2m}
`
	f, err := Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ScaleDuration(0.1); err != nil {
		t.Fatal(err)
	}
	a, b, c := f.Scenarios["a"], f.Scenarios["b"], f.Scenarios["c"]
	check := func(what string, got Duration, want time.Duration) {
		t.Helper()
		if got.Std() != want {
			t.Errorf("%s = %s, want %s", what, got, Duration(want))
		}
	}
	check("a.duration", a.Duration, time.Minute)
	check("a.startTime", a.StartTime, 6*time.Second)
	check("a.gracefulStop (kept)", a.GracefulStop, 20*time.Second)
	check("a.timeUnit (kept)", a.TimeUnit, time.Second)
	check("b.stages[0]", b.Stages[0].Duration, 12*time.Second)
	check("b.stages[1] (zero stays zero)", b.Stages[1].Duration, 0)
	check("b.offlineDuration", *b.Options.OfflineDuration, 24*time.Second)
	check("c.maxDuration", c.MaxDuration, 18*time.Second)
	check("window.start", f.Faults[0].Window.Start, 30*time.Second)
	check("window.duration", f.Faults[0].Window.Duration, 6*time.Second)
	check("drain (kept)", f.Drain.Timeout, 2*time.Minute)
	if want := `{"effect":{"throttle":{"retryAfter":"5s"}},"name":"w","target":"netsuite","window":{"duration":"6s","start":"30s"}}`; string(f.Faults[0].Raw) != want {
		t.Errorf("raw = %s, want %s", f.Faults[0].Raw, want)
	}
	if a.Rate != 10 || a.PreAllocatedVUs != 5 {
		t.Errorf("rates and VUs must not scale: %+v", a)
	}
	if got := f.TrafficDuration(); got != 66*time.Second {
		t.Errorf("TrafficDuration = %s, want 1m6s", got)
	}
	// A tiny factor keeps positive durations positive.
	if err := f.ScaleDuration(1e-9); err != nil {
		t.Fatal(err)
	}
	check("a.duration after a tiny factor", a.Duration, time.Millisecond)
	for _, bad := range []float64{0, -1} {
		if err := f.ScaleDuration(bad); err == nil {
			t.Errorf("factor %v accepted", bad)
		}
	}
}

func TestThresholds(t *testing.T) {
	src := `scenarios: {s: {executor: constant-vus, exec: sale, duration: 1m}}
thresholds:
  http_req_duration{scenario:s, status:200}: ["p(99.9) < 1.5s", "avg<200", "med<=100ms"]
  my_custom_metric: ["p(50)>3", "count==0"]
  checks:
    - {threshold: "rate>0.99", abortOnFail: true, delayAbortEval: 10s}
`
	var seen []string
	f, err := Parse("t.yaml", []byte(src), WithThresholdCheck(func(metric, expr string) error {
		seen = append(seen, metric+" "+expr)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Thresholds["checks"]; len(got) != 1 || !got[0].AbortOnFail || got[0].DelayAbortEval.Std() != 10*time.Second || got[0].Expr != "rate>0.99" {
		t.Errorf("checks = %+v", got)
	}
	if len(seen) != 6 {
		t.Errorf("hook saw %v, want all 6 thresholds", seen)
	}
	// The hook's verdict is reported at the threshold.
	_, err = Parse("t.yaml", []byte(src), WithThresholdCheck(func(metric, expr string) error {
		if expr == "count==0" {
			return errors.New("custom metrics need a type")
		}
		return nil
	}))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:4:33: thresholds.my_custom_metric[1]: custom metrics need a type") {
		t.Errorf("hook error not reported with position: %v", err)
	}
}

// Every flow option the POS module knows is accepted by the schema and decoded.
func TestFlowOptionsOfThePOSModule(t *testing.T) {
	src := `name: opts
scenarios:
  s:
    executor: shared-iterations
    exec: sale
    options:
      stores: ["1", "2"]
      sharedNewCustomers: 3
      clockStart: "2026-11-26T23:59:30Z"
      batchSize: 100
      singleItemSKU: SKU-1
      submitRetryFor: 5s
      requestTimeout: 2s
      zipfExponent: 1.2
      insufficientFundsRate: 0.01
      abandonOnDeclineRate: 0.5
      terminalTimeoutRate: 0.01
`
	f, err := Parse("opts.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	o := f.Scenarios["s"].Options
	if o.BatchSize == nil || *o.BatchSize != 100 || o.SingleItemSKU == nil || *o.SingleItemSKU != "SKU-1" ||
		o.SubmitRetryFor == nil || o.SubmitRetryFor.Std() != 5*time.Second || o.Stores == nil {
		t.Errorf("options decoded as %+v", o)
	}
	if _, err := Parse("bad.yaml", []byte(strings.Replace(src, "batchSize: 100", "batchSize: 5000", 1))); err == nil {
		t.Error("batchSize over the contract's 1000 accepted")
	}
}
