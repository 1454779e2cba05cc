package invariants

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidateCustom(t *testing.T) {
	ctx := context.Background()
	valid := []Custom{
		{ID: "big-sales", Statement: "no sale over 10,000.00", SQL: "SELECT id AS tx_id FROM main.tx WHERE total_cents > 1000000"},
		{ID: "helpers", SQL: `WITH x AS (SELECT tx_id FROM pos_origin WHERE tx_id IS NOT NULL)
			SELECT x.tx_id, g.id FROM x JOIN gw.payment_intents g ON g.pos_tx = x.tx_id WHERE g.status = 'canceled';`},
		{ID: "values.1", SQL: "-- a comment; with a semicolon\nSELECT 'a;b' AS x /* ; */ WHERE 0"},
	}
	if err := ValidateCustom(ctx, valid); err != nil {
		t.Fatalf("valid customs: %v", err)
	}
	if err := ValidateCustom(ctx, nil); err != nil {
		t.Fatalf("no customs: %v", err)
	}
	for _, c := range []struct {
		name   string
		custom Custom
		want   string // in the error, after the id
	}{
		{"syntax", Custom{ID: "typo", SQL: "SELECT id FROM main.tx WHERE AND"}, "syntax error"},
		{"not a query", Custom{ID: "typo2", SQL: "SELEC id FROM main.tx"}, "must be a query"},
		{"unknown table", Custom{ID: "no-table", SQL: "SELECT * FROM ns.cash_sales"}, "no such table: ns.cash_sales"},
		{"unknown column", Custom{ID: "no-column", SQL: "SELECT amount FROM main.tx"}, "no such column: amount"},
		{"unknown function", Custom{ID: "no-func", SQL: "SELECT builtin_df(id) FROM main.tx"}, "no such function"},
		{"two statements", Custom{ID: "two", SQL: "SELECT 1; DELETE FROM pos_origin"}, "single statement"},
		{"a write", Custom{ID: "write", SQL: "DELETE FROM main.tx"}, "must be a query"},
		{"a write in a WITH", Custom{ID: "with-write", SQL: "WITH x AS (SELECT 1) DELETE FROM pos_origin"}, "readonly"},
		{"no sql", Custom{ID: "empty", SQL: "  "}, "no sql"},
		{"no id", Custom{SQL: "SELECT 1"}, "no id"},
		{"bad id", Custom{ID: "has space", SQL: "SELECT 1"}, "letters, digits"},
		{"built-in id", Custom{ID: ExactlyOnce, SQL: "SELECT 1"}, "built-in"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := ValidateCustom(ctx, append([]Custom{valid[0]}, c.custom))
			if err == nil {
				t.Fatal("no error")
			}
			var ce *CustomError
			if !errors.As(err, &ce) {
				t.Fatalf("%T %v, want a *CustomError", err, err)
			}
			id := c.custom.ID
			if id == "" {
				id = "#2"
			}
			if ce.ID != id || !strings.Contains(err.Error(), `custom invariant "`+id+`"`) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want one naming %q with %q", err, id, c.want)
			}
			if strings.Contains(err.Error(), valid[0].ID) {
				t.Errorf("error %q blames the valid invariant too", err)
			}
		})
	}
	t.Run("duplicate id", func(t *testing.T) {
		err := ValidateCustom(ctx, []Custom{valid[0], valid[0]})
		if err == nil || !strings.Contains(err.Error(), "used twice") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("every bad one is named", func(t *testing.T) {
		err := ValidateCustom(ctx, []Custom{{ID: "a", SQL: "SELEC 1"}, {ID: "b", SQL: "SELECT * FROM nothing"}})
		if err == nil || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), `"b"`) {
			t.Fatalf("error %v", err)
		}
	})
}

func TestCustomInvariantsInACheck(t *testing.T) {
	sc := runScript(t)
	customs := []Custom{
		{ID: "cash-sales", Statement: "no cash sale (to see evidence)", SQL: `SELECT j.id AS tx_id, 'a cash sale' AS what,
			t.amount_cents AS actual, j.location_id AS store FROM main.tx j JOIN main.tender t ON t.tx_id = j.id
			WHERE j.type = 'sale' AND t.type = 'cash' ORDER BY j.id`},
		{ID: "nothing", SQL: "SELECT id FROM main.tx WHERE total_cents > 100000000"},
		{ID: "runtime-error", SQL: "SELECT abs(-9223372036854775807 - 1) FROM main.tx"},
		{ID: "skipped", SQL: "SELECT id FROM main.tx"},
	}
	if err := ValidateCustom(context.Background(), customs); err != nil {
		t.Fatal(err)
	}
	r := check(t, sc.dir, Options{Custom: customs, Skip: []string{"skipped", StockViewConverges}})
	want := map[string]Verdict{"cash-sales": Fail, "nothing": Pass, "runtime-error": Error, "skipped": NotApplicable,
		StockViewConverges: NotApplicable, ExactlyOnce: Pass}
	for id, v := range want {
		res, ok := r.Result(id)
		if !ok || res.Verdict != v {
			t.Errorf("%s: %s (%s), want %s", id, res.Verdict, res.Reason, v)
		}
	}
	if r.Verdict != Fail || r.Summary.Error != 1 {
		t.Errorf("verdict %s, summary %+v", r.Verdict, r.Summary)
	}
	cash, _ := r.Result("cash-sales")
	if cash.Violations != 5 || len(cash.Evidence) != 5 || !cash.Custom || cash.Statement != "no cash sale (to see evidence)" {
		t.Fatalf("cash-sales: %+v", cash)
	}
	e := cash.Evidence[0]
	if e.TxID != sc.cashSale || e.What != "a cash sale" || e.Actual == "" || e.Detail != "store=1" {
		t.Errorf("evidence %+v", e)
	}
	if res, _ := r.Result("runtime-error"); !strings.Contains(res.Reason, `custom invariant "runtime-error"`) {
		t.Errorf("runtime error reason %q", res.Reason)
	}
	// The evidence limit bounds the kept rows, not the count.
	r = check(t, sc.dir, Options{Custom: customs[:1], SampleLimit: 2})
	if cash, _ := r.Result("cash-sales"); cash.Violations != 5 || len(cash.Evidence) != 2 {
		t.Errorf("with SampleLimit 2: %d violations, %d evidence", cash.Violations, len(cash.Evidence))
	}
}

func TestCheckOptionsAndFiles(t *testing.T) {
	ctx := context.Background()
	empty := t.TempDir()
	if err := CreateEmptyRun(ctx, empty); err != nil {
		t.Fatal(err)
	}
	r, err := Check(ctx, empty, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != Pass || r.Summary.NotApplicable != len(IDs()) {
		t.Errorf("empty run: verdict %s, summary %+v", r.Verdict, r.Summary)
	}
	for _, x := range r.Invariants {
		if x.Reason == "" {
			t.Errorf("%s not applicable without a reason", x.ID)
		}
	}
	if _, err := Check(ctx, empty, Options{Skip: []string{"exactly-one"}}); err == nil || !strings.Contains(err.Error(), `skip "exactly-one"`) {
		t.Errorf("unknown skip: %v", err)
	}
	if _, err := Check(ctx, empty, Options{Custom: []Custom{{ID: "x", SQL: "DROP TABLE tx"}}}); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("bad custom: %v", err)
	}
	if err := os.Remove(filepath.Join(empty, gatewayFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(ctx, empty, Options{}); err == nil || !strings.Contains(err.Error(), "gateway books") || !strings.Contains(err.Error(), "gateway.db") {
		t.Errorf("missing books: %v", err)
	}
	notJournal := t.TempDir()
	if err := CreateEmptyRun(ctx, notJournal); err != nil {
		t.Fatal(err)
	}
	if err := createDB(ctx, filepath.Join(notJournal, journalFile+"x"), "CREATE TABLE other (x)"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(notJournal, journalFile+"x"), filepath.Join(notJournal, journalFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(ctx, notJournal, Options{}); err == nil || !strings.Contains(err.Error(), `has no table "tx"`) {
		t.Errorf("not a journal: %v", err)
	}
}

func TestReportKPIsAndJSON(t *testing.T) {
	sc := runScript(t)
	ended := time.Date(2025, 11, 28, 10, 0, 0, 0, time.UTC)
	run := `{"version":1,"name":"t","trafficEndedAt":"` + ended.Format(time.RFC3339Nano) + `","drainedAt":"` +
		ended.Add(1500*time.Millisecond).Format(time.RFC3339Nano) + `"}`
	if err := os.WriteFile(filepath.Join(sc.dir, "run.json"), []byte(run), 0o644); err != nil {
		t.Fatal(err)
	}
	r := check(t, sc.dir, Options{})
	k := r.KPIs
	if k.SyncLatency == nil || k.SyncLatency.Count != 9 || k.SyncLatency.MinMs < -50 || k.SyncLatency.P50Ms > k.SyncLatency.P95Ms ||
		k.SyncLatency.P99Ms > k.SyncLatency.MaxMs {
		t.Errorf("sync latency %+v", k.SyncLatency)
	}
	if k.StockAccuracyPct == nil || *k.StockAccuracyPct != 100 || k.PostingAccuracyPct == nil || *k.PostingAccuracyPct != 100 {
		t.Errorf("accuracy %v %v", k.StockAccuracyPct, k.PostingAccuracyPct)
	}
	if k.DrainTimeMs == nil || *k.DrainTimeMs != 1500 {
		t.Errorf("drain time %v", k.DrainTimeMs)
	}
	if c := r.Counts; c.JournalTransactions != 9 || c.Acknowledged != 9 || c.Offline != 1 || c.NetSuitePOSRecords != 10 ||
		c.NetSuiteMatched != 10 || c.GatewayRefunds != 1 || c.StockProbes != 2 {
		t.Errorf("counts %+v", c)
	}
	samples, err := SyncLatencies(context.Background(), sc.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 9 {
		t.Fatalf("%d samples", len(samples))
	}
	for i, s := range samples {
		if s.Latency != s.PostedAt.Sub(s.AckedAt) || s.TxID == "" || i > 0 && s.AckedAt.Before(samples[i-1].AckedAt) {
			t.Errorf("sample %d: %+v", i, s)
		}
	}
	if got := Latencies(samples); *got != *k.SyncLatency {
		t.Errorf("Latencies %+v, report %+v", got, k.SyncLatency)
	}

	// Posting accuracy counts a transaction with any posting fault once.
	dir := copyRun(t, sc.dir)
	corrupt(t, dir, append(removeRecord(rec(sc.newCust1, "cashSale")),
		`UPDATE ns.transactions SET location = 4 WHERE id = `+rec(sc.sale, "cashSale"),
		`UPDATE ns.transactions SET trandate = '2000-01-01' WHERE id = `+rec(sc.offline, "cashSale"),
		`UPDATE ns.transactions SET location = 4 WHERE id = `+rec(sc.offline, "cashSale"))...)
	r2 := check(t, dir, Options{})
	if p := r2.KPIs.PostingAccuracyPct; p == nil || *p != 66.6667 {
		t.Errorf("posting accuracy %v, want 66.6667 (6 of 9)", p)
	}

	path := filepath.Join(t.TempDir(), "x")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r2.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(filepath.Join(path, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if back.Version != ReportVersion || back.Verdict != Fail || len(back.Invariants) != len(r2.Invariants) ||
		back.KPIs.SyncLatency == nil || *back.KPIs.PostingAccuracyPct != *r2.KPIs.PostingAccuracyPct {
		t.Errorf("round trip: %+v", back)
	}
	eo, _ := back.Result(ExactlyOnce)
	if eo.Verdict != Fail || len(eo.Evidence) == 0 || eo.Evidence[0].TxID != sc.newCust1 {
		t.Errorf("exactly-once after round trip: %+v", eo)
	}
	raw, _ := os.ReadFile(filepath.Join(path, FileName))
	for _, key := range []string{`"version": 1`, `"verdict": "fail"`, `"syncLatency"`, `"p95Ms"`, `"evidence"`, `"txId"`, `"notApplicable"`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("invariants.json lacks %s", key)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, v := range []string{"2025-11-28T09:00:00Z", "2025-11-28T09:00:00.1Z", "2025-11-28T09:00:00.123Z",
		"2025-11-28T09:00:00.123456789Z", "2025-11-28T23:59:59.000000001Z", "2025-11-28T09:00:00.5+01:00"} {
		want, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseTime(v)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"", "2025-13-28T09:00:00Z", "2025-11-28 09:00:00Z", "2025-11-28T09:00:00.Z", "yesterday"} {
		if _, err := parseTime(v); err == nil {
			t.Errorf("parseTime(%q) accepted", v)
		}
	}
}

// TestWorkerProcess: a check whose worker runs in a process of its own reaches the
// same report as one whose worker is a second connection, and a worker process that
// dies is a clear error.
func TestWorkerProcess(t *testing.T) {
	sc := runScript(t)
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		corrupt []string
	}{{"clean", nil}, {"missing posting", removeRecord(rec(sc.newCust1, "cashSale"))}} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyRun(t, sc.dir)
			if len(c.corrupt) > 0 {
				corrupt(t, dir, c.corrupt...)
			}
			in, err := Check(ctx, dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := Check(ctx, dir, Options{Worker: testWorker})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(failing(in), failing(out)) || in.Counts != out.Counts || len(in.SyncSamples) != len(out.SyncSamples) ||
				len(out.SyncSamples) == 0 {
				t.Fatalf("in-process: failing %v, counts %+v, %d samples; process: failing %v, counts %+v, %d samples",
					failing(in), in.Counts, len(in.SyncSamples), failing(out), out.Counts, len(out.SyncSamples))
			}
			for i, a := range in.SyncSamples {
				if b := out.SyncSamples[i]; a.TxID != b.TxID || !a.AckedAt.Equal(b.AckedAt) || !a.PostedAt.Equal(b.PostedAt) || a.Latency != b.Latency {
					t.Fatalf("sample %d: in-process %+v, process %+v", i, a, b)
				}
			}
		})
	}
	t.Run("worker cannot start", func(t *testing.T) {
		r, err := Check(ctx, sc.dir, Options{Worker: func(ctx context.Context) *exec.Cmd {
			return exec.CommandContext(ctx, filepath.Join(t.TempDir(), "no-such-program"))
		}})
		if err != nil || r.Verdict != Pass {
			t.Fatalf("err %v, report %+v: want the check made in-process", err, r)
		}
	})
	t.Run("worker dies", func(t *testing.T) {
		_, err := Check(ctx, sc.dir, Options{Worker: func(ctx context.Context) *exec.Cmd {
			return exec.CommandContext(ctx, "sh", "-c", "echo no such work >&2; exit 3")
		}})
		if err == nil || !strings.Contains(err.Error(), "worker process ended") || !strings.Contains(err.Error(), "no such work") {
			t.Fatalf("err = %v, want the worker process's end and its stderr", err)
		}
	})
}

// TestSamplesFile: the sync samples survive the worker's file, and a file cut short
// is an error.
func TestSamplesFile(t *testing.T) {
	at := time.Date(2025, 11, 28, 9, 0, 0, 123_000_000, time.UTC)
	want := []SyncSample{{TxID: "T1", AckedAt: at, PostedAt: at.Add(250 * time.Millisecond), Latency: 250 * time.Millisecond},
		{TxID: "", AckedAt: at, PostedAt: at.Add(-time.Second), Latency: -time.Second}}
	p := filepath.Join(t.TempDir(), "samples")
	if err := writeSamples(p, want); err != nil {
		t.Fatal(err)
	}
	got, err := readSamples(p)
	if err != nil || len(got) != len(want) {
		t.Fatalf("%d samples, %v", len(got), err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sample %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	b, _ := os.ReadFile(p)
	for _, n := range []int{0, 1, 3, len(b) - 1} {
		if err := os.WriteFile(p, b[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readSamples(p); err == nil {
			t.Errorf("cut at %d bytes: no error", n)
		}
	}
}

// TestPathsThatNeedEscaping: a run directory (and a temporary directory) whose path
// holds characters an SQLite URI must escape (space, ?, #, %) is checked like any
// other, by the worker process too.
func TestPathsThatNeedEscaping(t *testing.T) {
	odd := filepath.Join(t.TempDir(), "runs 50% off?#1")
	if err := os.MkdirAll(odd, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", odd) // the worker process's directory too
	sc := runScript(t)
	dir := filepath.Join(odd, "run")
	if err := os.CopyFS(dir, os.DirFS(sc.dir)); err != nil {
		t.Fatal(err)
	}
	for _, worker := range []func(context.Context) *exec.Cmd{nil, testWorker} {
		r, err := Check(context.Background(), dir, Options{Worker: worker})
		if err != nil {
			t.Fatal(err)
		}
		if r.Verdict != Pass || r.Counts.JournalTransactions == 0 {
			dumpReport(t, r)
			t.Fatalf("verdict %s, %d journal transactions", r.Verdict, r.Counts.JournalTransactions)
		}
	}
}

// TestStagedRulesNeedNoSession: a rule the worker builds cannot have statements that
// need the session (the worker would leave them out).
func TestStagedRulesNeedNoSession(t *testing.T) {
	for _, r := range rules {
		if r.stage != "" && r.extra != nil {
			t.Errorf("rule %s: built by the worker's stage %s, yet has extra statements", r.id, r.stage)
		}
	}
}
