package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
)

var generatedAt = time.Date(2025, 11, 28, 14, 1, 0, 0, time.UTC)

func renderFixture(t *testing.T) (string, *Summary) {
	t.Helper()
	dir := fixtureRun(t)
	s, err := Render(context.Background(), dir, Options{Now: func() time.Time { return generatedAt }, Version: "v0.1.0-test"})
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

// TestGolden compares the rendered summary.md, junit.xml and summary.json with
// testdata/golden (go test ./reports -update regenerates them).
func TestGolden(t *testing.T) {
	dir, _ := renderFixture(t)
	for _, name := range []string{MarkdownFile, JUnitFile, SummaryFile} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./reports -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (go test ./reports -update regenerates it):\n%s", name, golden, firstDiff(string(want), string(got)))
		}
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n want: " + w + "\n  got: " + g
		}
	}
	return "(no line differs)"
}

func TestRenderFixture(t *testing.T) {
	dir, s := renderFixture(t)
	if s.Verdict.Status != StatusInvariantsFailed {
		t.Errorf("status = %s, want %s", s.Verdict.Status, StatusInvariantsFailed)
	}
	if s.Verdict.Thresholds != "fail" || s.Verdict.Invariants != "fail" {
		t.Errorf("verdict thresholds=%s invariants=%s, want fail and fail", s.Verdict.Thresholds, s.Verdict.Invariants)
	}
	wantReasons := []string{
		"invariant exactly-once failed: 3 violations",
		"invariant offline-trandate failed: 1 violation",
		"invariant stock-view-converges could not be evaluated: query failed: no such table: stock_probe_v2",
		"threshold http_req_duration{scenario:checkout} 'p(95)<300' failed: ",
		"threshold pos_sync_latency 'p(95)<5000' failed: no samples",
	}
	if len(s.Verdict.Reasons) != len(wantReasons) {
		t.Fatalf("reasons = %q, want %d", s.Verdict.Reasons, len(wantReasons))
	}
	for i, w := range wantReasons {
		if !strings.HasPrefix(s.Verdict.Reasons[i], w) {
			t.Errorf("reason %d = %q, want prefix %q", i, s.Verdict.Reasons[i], w)
		}
	}
	for _, name := range []string{SummaryFile, K6SummaryFile, JUnitFile, MarkdownFile, HTMLFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s not written: %v", name, err)
		}
	}
	if got, want := strings.Join(s.Outputs, ","), "summary.json,k6-summary.json,junit.xml,summary.md,report.html"; got != want {
		t.Errorf("outputs = %s, want %s", got, want)
	}
	if len(s.Missing) != 0 {
		t.Errorf("missing = %+v, want none", s.Missing)
	}
	// KPIs from both sources.
	k := s.KPIs
	if k.Transactions == nil || *k.Transactions != 238 {
		t.Errorf("transactions = %v, want 238", k.Transactions)
	}
	if k.SyncLatency == nil || k.SyncLatency.P95Ms != 7300 {
		t.Errorf("sync latency = %+v, want p95 7300 from invariants.json", k.SyncLatency)
	}
	if k.FaultsInjected == nil || *k.FaultsInjected != 8 {
		t.Errorf("faults injected = %v, want 8 (profile rules excluded)", k.FaultsInjected)
	}
	if k.DrainTimeMs == nil || *k.DrainTimeMs != 6000 {
		t.Errorf("drain = %v, want 6000", k.DrainTimeMs)
	}
	// Sub-metrics: every threshold's and the per-scenario breakdown.
	for _, key := range []string{"http_req_duration", "http_req_duration{scenario:checkout}", "http_req_duration{scenario:returns}",
		"iterations{scenario:returns}", "vus"} {
		if _, ok := s.Metrics[key]; !ok {
			t.Errorf("metrics has no %s", key)
		}
	}
	if _, ok := s.Metrics["pos_sync_latency"]; ok {
		t.Error("metrics has pos_sync_latency, a metric that does not exist")
	}
	if v := s.Metrics["iterations{scenario:returns}"].Values["count"]; v != 40 {
		t.Errorf("iterations{scenario:returns} count = %v, want 40", v)
	}
	if len(s.Scenarios) != 2 || s.Scenarios[0].Transactions == nil || *s.Scenarios[0].Transactions != 198 {
		t.Errorf("scenarios = %+v", s.Scenarios)
	}
}

// TestStores checks the per-store tallies from journal.db and the books.
func TestStores(t *testing.T) {
	_, s := renderFixture(t)
	type row struct {
		id, name                        string
		tx, ack, rej, unack, off, cents int64
		syncCount                       int
		syncMaxMs                       float64
	}
	want := []row{
		{"1", "Downtown Flagship", 4, 3, 1, 0, 1, 1299 + 2500 + 999, 3, 4200},
		{"2", "Mall of the North", 4, 3, 0, 1, 0, 15000 - 2500 + 800, 3, 2100},
		{"10", "Airport Kiosk", 4, 4, 0, 0, 1, 4599 + 7700 + 1000 + 250, 3, 7300}, // T-0011 never posted
	}
	if len(s.Stores) != len(want) {
		t.Fatalf("stores = %+v", s.Stores)
	}
	for i, w := range want {
		g := s.Stores[i]
		if g.LocationID != w.id || g.Name != w.name || g.Transactions != w.tx || g.Acknowledged != w.ack ||
			g.Rejected != w.rej || g.Unacknowledged != w.unack || g.Offline != w.off || g.RevenueCents != w.cents {
			t.Errorf("store %d = %+v, want %+v", i, g, w)
		}
		if g.SyncLatency == nil || g.SyncLatency.Count != w.syncCount || g.SyncLatency.MaxMs != w.syncMaxMs {
			t.Errorf("store %s sync latency = %+v, want count %d max %v", w.id, g.SyncLatency, w.syncCount, w.syncMaxMs)
		}
	}
}

// The JUnit file parses as XML with one suite per kind and a case per threshold and
// invariant; failures carry the evidence.
func TestJUnitParses(t *testing.T) {
	dir, _ := renderFixture(t)
	b, err := os.ReadFile(filepath.Join(dir, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	var got junitSuites
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	if got.Tests != 16 || got.Failures != 4 || got.Errors != 1 || got.Skipped != 1 {
		t.Errorf("totals tests=%d failures=%d errors=%d skipped=%d, want 16 4 1 1", got.Tests, got.Failures, got.Errors, got.Skipped)
	}
	if len(got.Suites) != 2 || got.Suites[0].Name != "thresholds" || got.Suites[1].Name != "invariants" {
		t.Fatalf("suites = %+v", got.Suites)
	}
	if n := len(got.Suites[0].Cases); n != 4 {
		t.Errorf("threshold cases = %d, want 4", n)
	}
	var exactlyOnce *junitTestCase
	for i, c := range got.Suites[1].Cases {
		if c.Name == "exactly-once" {
			exactlyOnce = &got.Suites[1].Cases[i]
		}
	}
	if exactlyOnce == nil || exactlyOnce.Failure == nil {
		t.Fatalf("exactly-once has no failure: %+v", exactlyOnce)
	}
	for _, want := range []string{"T-0002: posted twice | duplicate <cashSale> (expected 1 record, actual 2 records) [ns ids=101,113]", "3 violations, the first 2:"} {
		if !strings.Contains(exactlyOnce.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, exactlyOnce.Failure.Text)
		}
	}
}

// k6-summary.json is exactly the engine's handleSummary data.
func TestK6Summary(t *testing.T) {
	dir, _ := renderFixture(t)
	b, err := os.ReadFile(filepath.Join(dir, K6SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"root_group", "options", "state", "metrics"} {
		if _, ok := got[key]; !ok {
			t.Errorf("k6-summary.json has no %q", key)
		}
	}
	if d := got["state"].(map[string]any)["testRunDurationMs"]; d != 20000.0 {
		t.Errorf("state.testRunDurationMs = %v, want 20000", d)
	}
	m := got["metrics"].(map[string]any)["http_req_duration{scenario:checkout}"].(map[string]any)
	if m["type"] != "trend" || m["contains"] != "time" {
		t.Errorf("http_req_duration{scenario:checkout} = %v", m)
	}
	if ok := m["thresholds"].(map[string]any)["p(95)<300"].(map[string]any)["ok"]; ok != false {
		t.Errorf("threshold ok = %v, want false", ok)
	}
	res, err := rundir.LoadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(res.Summary(), "", "  ")
	if !bytes.Equal(bytes.TrimSpace(b), want) {
		t.Error("k6-summary.json is not the engine's Summary()")
	}
}

// report.html is one self-contained file: nothing is fetched, no script.
func TestHTMLSelfContained(t *testing.T) {
	dir, _ := renderFixture(t)
	b, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "@import", "src=", "href="} {
		if strings.Contains(page, bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
	// url(...) only as data: URLs, and http(s) only as XML namespaces.
	if m := regexp.MustCompile(`url\((?:['"]?)(?:[^d'"]|d[^a])`).FindString(page); m != "" {
		t.Errorf("report.html references an external url: %s", m)
	}
	for _, m := range regexp.MustCompile(`https?://[^\s"'<]+`).FindAllString(page, -1) {
		if m != "http://www.w3.org/2000/svg" && m != "http://www.w3.org/1999/xlink" && !strings.HasPrefix(m, "http://127.0.0.1") {
			t.Errorf("report.html mentions %s", m)
		}
	}
	for _, want := range []string{
		`id="verdict" class="banner invariants-failed"`,
		`<span id="verdict-status">invariants failed</span>`,
		`posted twice | duplicate &lt;cashSale&gt;`,
		`data-invariant="exactly-once" data-verdict="fail" open`,
		`Airport Kiosk (10)`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg"); n != 5 {
		t.Errorf("report.html has %d <svg> elements, want 5", n)
	}
	if n := strings.Count(page, "data-empty"); n != 0 {
		t.Errorf("%d charts are empty, want none", n)
	}
	if n := strings.Count(page, `<details class="inv`); n != 12 {
		t.Errorf("%d invariants, want 12", n)
	}
}

// A run directory with only run.json still renders, says what is missing, and is
// incomplete; charts say "no data".
func TestMissingInputs(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(fixtureDir, rundir.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.RunFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Render(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Verdict.Status != StatusIncomplete {
		t.Errorf("status = %s, want incomplete", s.Verdict.Status)
	}
	var files []string
	for _, m := range s.Missing {
		files = append(files, m.File)
		if m.Reason != "not found" {
			t.Errorf("%s: reason %q, want not found", m.File, m.Reason)
		}
	}
	if got, want := strings.Join(files, ","), "metrics.json,invariants.json,faults.json,backlog.json,scenario.yaml,journal.db,books/netsuite.db"; got != want {
		t.Errorf("missing = %s, want %s", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, K6SummaryFile)); err == nil {
		t.Error("k6-summary.json written without metrics.json")
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), `data-empty="true"`); n != 5 {
		t.Errorf("%d empty charts, want 5", n)
	}
	if !strings.Contains(string(page), "no data") {
		t.Error(`empty charts do not say "no data"`)
	}
	var ju junitSuites
	jb, _ := os.ReadFile(filepath.Join(dir, JUnitFile))
	if err := xml.Unmarshal(jb, &ju); err != nil {
		t.Fatal(err)
	}
	if ju.Errors != 1 {
		t.Errorf("junit errors = %d, want 1 (invariants not checked)", ju.Errors)
	}
}

func TestNotARunDirectory(t *testing.T) {
	for name, dir := range map[string]string{
		"empty":   t.TempDir(),
		"missing": filepath.Join(t.TempDir(), "nope"),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Render(context.Background(), dir, Options{}); err == nil {
				t.Fatal("no error")
			} else if !errors.Is(err, ErrNotRunDirectory) {
				t.Errorf("error %v does not wrap ErrNotRunDirectory", err)
			}
		})
	}
}

// TestVerdict: the status follows the most severe failure.
func TestVerdict(t *testing.T) {
	dir := fixtureRun(t)
	base := func(t *testing.T) *Input {
		in, err := Load(context.Background(), dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	passAll := func(in *Input) {
		for i := range in.Result.Thresholds {
			in.Result.Thresholds[i].OK = true
		}
		for i := range in.Invariants.Invariants {
			if in.Invariants.Invariants[i].Verdict != invariants.NotApplicable {
				in.Invariants.Invariants[i].Verdict = invariants.Pass
			}
		}
		in.Invariants.Verdict = invariants.Pass
	}
	cases := []struct {
		name   string
		modify func(in *Input)
		want   Status
	}{
		{"fixture: both fail, invariants win", func(in *Input) {}, StatusInvariantsFailed},
		{"all pass (not-applicable does not fail)", passAll, StatusPass},
		{"only thresholds fail", func(in *Input) {
			passAll(in)
			in.Result.Thresholds[0].OK = false
		}, StatusThresholdsFailed},
		{"an invariant errors", func(in *Input) {
			passAll(in)
			in.Invariants.Invariants[3].Verdict = invariants.Error
		}, StatusInvariantsFailed},
		{"interrupted", func(in *Input) {
			passAll(in)
			in.Run.Stopped = "graceful"
		}, StatusInterrupted},
		{"interrupted outranks failed invariants", func(in *Input) {
			in.Run.Stopped = "hard"
		}, StatusInterrupted},
		{"threshold abort is a threshold failure", func(in *Input) {
			passAll(in)
			in.Run.Stopped = "threshold"
			in.Result.Thresholds[1].OK, in.Result.Thresholds[1].Aborted = false, true
		}, StatusThresholdsFailed},
		{"run error", func(in *Input) {
			in.Run.Error = "connector died"
			in.Run.Stopped = "graceful"
		}, StatusError},
		{"the backlog did not drain: invariants-failed though every invariant held", func(in *Input) {
			passAll(in)
			in.Run.DrainTimedOut = true
		}, StatusInvariantsFailed},
		{"no invariants.json", func(in *Input) {
			passAll(in)
			in.Invariants = nil
		}, StatusIncomplete},
		{"no metrics.json", func(in *Input) {
			passAll(in)
			in.Result = nil
		}, StatusIncomplete},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base(t)
			c.modify(in)
			s := Summarize(in, generatedAt, "test")
			if s.Verdict.Status != c.want {
				t.Errorf("status = %s, want %s (reasons %q)", s.Verdict.Status, c.want, s.Verdict.Reasons)
			}
			if (c.want == StatusPass) != (len(s.Verdict.Reasons) == 0) {
				t.Errorf("reasons = %q for status %s", s.Verdict.Reasons, s.Verdict.Status)
			}
			if drained := !strings.Contains(strings.Join(s.Verdict.Reasons, "\n"), "did not drain"); drained == in.Run.DrainTimedOut {
				t.Errorf("drain timed out %v, reasons %q", in.Run.DrainTimedOut, s.Verdict.Reasons)
			}
		})
	}
}

// TestWriteSample writes the fixture's report.html to $REPORTS_SAMPLE for a look in a
// browser: REPORTS_SAMPLE=/tmp/report.html go test ./reports -run TestWriteSample
func TestWriteSample(t *testing.T) {
	if os.Getenv("REPORTS_SAMPLE") == "" {
		t.Skip("set REPORTS_SAMPLE=/path/report.html to write the fixture's report")
	}
	dir, _ := renderFixture(t)
	b, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv("REPORTS_SAMPLE"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestActionWindows: the spans the scenario's actions impaired the system (actions.json)
// are fault windows, one still open ending with the run; without actions.json nothing
// is missing.
func TestActionWindows(t *testing.T) {
	dir := fixtureRun(t)
	in, err := Load(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Actions != nil || slices.ContainsFunc(in.Missing, func(m Missing) bool { return m.File == rundir.ActionsFile }) {
		t.Fatalf("a run without actions: %+v, missing %+v", in.Actions, in.Missing)
	}
	start := in.Run.TrafficStartedAt.Add(2 * time.Second)
	end := start.Add(3 * time.Second)
	acts := rundir.Actions{Version: rundir.Version, TrafficStartedAt: *in.Run.TrafficStartedAt, Windows: []rundir.ActionWindow{
		{Kind: "connector-killed", Target: "connector", Start: start, End: &end},
		{Kind: "partition", Target: "netsuite", Start: end},
	}}
	if err := rundir.WriteJSON(filepath.Join(dir, rundir.ActionsFile), acts); err != nil {
		t.Fatal(err)
	}
	in, err = Load(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(in, generatedAt, "test")
	var got []FaultWindow
	for _, w := range s.Faults.Windows {
		if strings.HasPrefix(w.Rule, "action: ") {
			got = append(got, w)
		}
	}
	if len(got) != 2 || got[0].Rule != "action: connector-killed" || !got[0].End.Equal(end) ||
		got[1].Target != "netsuite" || !got[1].End.Equal(*in.Run.EndedAt) {
		t.Errorf("action windows %+v", got)
	}
}
