package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"
)

// -update regenerates testdata/run/metrics.json and the golden files.
var update = flag.Bool("update", false, "regenerate testdata/run/metrics.json and the golden files")

// The fixture run: "doorbuster-smoke", seed 42, traffic from 14:00:00 for 20 s, drained
// at 14:00:26. Two scenarios; one threshold fails on its value and one has no data;
// invariants exactly-once and offline-trandate fail; a 429 burst and a gateway reset
// were injected.
var fixtureStart = time.Date(2025, 11, 28, 14, 0, 0, 0, time.UTC)

const fixtureDir = "testdata/run"

// fixtureRun copies testdata/run into a temporary directory and adds the SQLite files a
// run has: journal.db and the books.
func fixtureRun(t *testing.T) string {
	t.Helper()
	if *update {
		writeFixtureMetrics(t)
	}
	dir := t.TempDir()
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(fixtureDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFixtureDBs(t, dir)
	return dir
}

// writeFixtureDBs writes journal.db (three stores, 12 transactions) and NetSuite books
// naming the stores and holding the cash sales of the acknowledged transactions.
func writeFixtureDBs(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	if err := invariants.CreateEmptyRun(ctx, dir); err != nil {
		t.Fatal(err)
	}
	exec := func(path string, stmts ...string) {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, s := range stmts {
			if _, err := db.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v\n%s", path, err, s)
			}
		}
	}
	type tx struct {
		id, loc, outcome string
		offline          int
		total            int64
		ackAt            float64 // seconds after the start; <0: not acknowledged
		syncMs           float64 // <0: not posted
	}
	txs := []tx{
		{"T-0001", "1", "acknowledged", 0, 1299, 1.2, 850},
		{"T-0002", "1", "acknowledged", 0, 2500, 2.5, 1200},
		{"T-0003", "1", "acknowledged", 1, 999, 6.0, 4200},
		{"T-0004", "1", "rejected", 0, 450, -1, -1},
		{"T-0005", "2", "acknowledged", 0, 15000, 3.1, 640},
		{"T-0006", "2", "acknowledged", 0, -2500, 8.4, 2100},
		{"T-0007", "2", "unacknowledged", 0, 3300, -1, -1},
		{"T-0008", "10", "acknowledged", 0, 4599, 11.0, 900},
		{"T-0009", "10", "acknowledged", 0, 7700, 14.2, 7300},
		{"T-0010", "10", "acknowledged", 1, 1000, 17.5, 1500},
		{"T-0011", "10", "acknowledged", 0, 250, 19.0, -1},
		{"T-0012", "2", "acknowledged", 0, 800, 19.6, 300},
	}
	var journal, books []string
	books = append(books,
		`INSERT INTO locations (id, name, kind) VALUES (1, 'Downtown Flagship', 'store'), (2, 'Mall of the North', 'store'), (10, 'Airport Kiosk', 'store'), (3, 'Warehouse', 'warehouse')`)
	for i, x := range txs {
		ack, status := "NULL", "NULL"
		if x.ackAt >= 0 {
			ack = "'" + fixtureStart.Add(secs(x.ackAt)).Format(time.RFC3339Nano) + "'"
			status = "202"
		}
		typ := "sale"
		if x.total < 0 {
			typ = "return"
		}
		occurred := fixtureStart.Add(secs(x.ackAt - 0.2)).Format(time.RFC3339Nano)
		journal = append(journal, `INSERT INTO tx (id, type, scenario, flow, location_id, register_id, occurred_at, occurred_date,
			offline, total_cents, acked_at, ack_status, outcome, body) VALUES ('`+x.id+`', '`+typ+`', 'checkout', '`+typ+`', '`+x.loc+`',
			'R-`+x.loc+`-1', '`+occurred+`', '2025-11-28', `+itoa(x.offline)+`, `+itoa64(x.total)+`, `+ack+`, `+status+`, '`+x.outcome+`', '{}')`)
		if x.syncMs >= 0 {
			rt := "cashSale"
			if x.total < 0 {
				rt = "cashRefund"
			}
			created := fixtureStart.Add(secs(x.ackAt) + time.Duration(x.syncMs*float64(time.Millisecond))).Format(time.RFC3339Nano)
			books = append(books, `INSERT INTO transactions (id, recordtype, type, trandate, location, memo, total_cents, createddate, lastmodifieddate)
				VALUES (`+itoa(100+i)+`, '`+rt+`', 'CashSale', '2025-11-28', `+x.loc+`, 'POS `+x.id+`', `+itoa64(x.total)+`, '`+created+`', '`+created+`')`)
		}
	}
	exec(filepath.Join(dir, rundir.JournalFile), journal...)
	exec(filepath.Join(dir, rundir.NetSuiteBooksFile), books...)
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func itoa(i int) string     { return strconv.Itoa(i) }
func itoa64(i int64) string { return strconv.FormatInt(i, 10) }

// writeFixtureMetrics writes testdata/run/metrics.json: an engine Result built from
// seeded samples (HDR histograms and all), its thresholds evaluated by the engine.
func writeFixtureMetrics(t *testing.T) {
	t.Helper()
	res := fixtureResult(t)
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fixtureDir, rundir.MetricsFile), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fixtureResult(t *testing.T) *loadgen.Result {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, 7))
	const seconds = 20
	res := &loadgen.Result{
		Start: fixtureStart, End: fixtureStart.Add(20 * time.Second), Duration: 20 * time.Second, Seed: 42,
		Scenarios: []loadgen.ScenarioResult{
			{Name: "checkout", Executor: loadgen.ConstantArrivalRate, Exec: "sale", Duration: 20 * time.Second,
				Iterations: 198, Dropped: 2, Errors: 1, MaxVUs: 12, FirstError: "POST /transactions: 503 Service Unavailable\nretry budget spent"},
			{Name: "returns", Executor: loadgen.ConstantVUs, Exec: "return", Duration: 20 * time.Second, Iterations: 40, MaxVUs: 2},
		},
		ThresholdSpecs: map[string][]loadgen.ThresholdSpec{
			"http_req_duration{scenario:checkout}": {{Threshold: "p(95)<300"}},
			"http_req_failed":                      {{Threshold: "rate<0.01"}},
			"pos_checkout_duration":                {{Threshold: "p(99)<2000"}},
			"pos_sync_latency":                     {{Threshold: "p(95)<5000"}},
		},
		MetricTypes: map[string]loadgen.MetricInfo{
			"iterations":            {Type: loadgen.Counter, Contains: loadgen.Default},
			"dropped_iterations":    {Type: loadgen.Counter, Contains: loadgen.Default},
			"http_reqs":             {Type: loadgen.Counter, Contains: loadgen.Default},
			"data_sent":             {Type: loadgen.Counter, Contains: loadgen.Data},
			"pos_transactions":      {Type: loadgen.Counter, Contains: loadgen.Default},
			"vus":                   {Type: loadgen.Gauge, Contains: loadgen.Default},
			"vus_max":               {Type: loadgen.Gauge, Contains: loadgen.Default},
			"checks":                {Type: loadgen.Rate, Contains: loadgen.Default},
			"http_req_failed":       {Type: loadgen.Rate, Contains: loadgen.Default},
			"http_req_duration":     {Type: loadgen.Trend, Contains: loadgen.Time},
			"pos_checkout_duration": {Type: loadgen.Trend, Contains: loadgen.Time},
		},
		TimeSeries:        map[string][]loadgen.Point{},
		SummaryTrendStats: []string{"avg", "min", "med", "max", "p(90)", "p(95)"},
		Options: map[string]any{"scenarios": map[string]any{
			"checkout": map[string]any{"executor": "constant-arrival-rate", "exec": "sale", "rate": 10, "duration": "20s", "preAllocatedVUs": 10, "maxVUs": 12},
			"returns":  map[string]any{"executor": "constant-vus", "exec": "return", "vus": 2, "duration": "20s"},
		}},
	}
	type sample struct {
		sec int64
		v   float64
	}
	series := map[string]*loadgen.SeriesSnapshot{}
	hists := map[string]*hdrhistogram.PackedHistogram{}
	perSecond := map[string]map[int64][]float64{}
	add := func(metric string, tags map[string]string, sec int64, v float64) {
		key := metric
		for _, k := range []string{"check", "flow", "scenario"} {
			if tv, ok := tags[k]; ok {
				key += "|" + k + "=" + tv
			}
		}
		s := series[key]
		if s == nil {
			s = &loadgen.SeriesSnapshot{Metric: metric, Tags: tags, Min: v, Max: v}
			series[key] = s
		}
		s.Count++
		s.Sum += v
		s.Min, s.Max = math.Min(s.Min, v), math.Max(s.Max, v)
		s.Last, s.LastT = v, sec*int64(time.Second)
		if v != 0 {
			s.NonZero++
		}
		if res.MetricTypes[metric].Type == loadgen.Trend {
			h := hists[key]
			if h == nil {
				h = hdrhistogram.NewPacked(1, 3_600_000_000, 3)
				hists[key] = h
			}
			if err := h.RecordValue(int64(math.Round(v * 1000))); err != nil {
				t.Fatal(err)
			}
		}
		if perSecond[metric] == nil {
			perSecond[metric] = map[int64][]float64{}
		}
		perSecond[metric][sec] = append(perSecond[metric][sec], v)
	}
	for sec := int64(0); sec < seconds; sec++ {
		slow := sec >= 5 && sec < 8 // the 429 burst
		for i := 0; i < 10; i++ {
			if sec == 6 && i >= 8 { // two dropped during the burst
				continue
			}
			sc := map[string]string{"scenario": "checkout"}
			add("iterations", sc, sec, 1)
			for r := 0; r < 3; r++ {
				d := 40 + rng.ExpFloat64()*60
				if slow {
					d += 300 + rng.Float64()*400
				}
				add("http_req_duration", map[string]string{"scenario": "checkout"}, sec, d)
				add("http_reqs", sc, sec, 1)
				add("data_sent", sc, sec, 900+float64(rng.IntN(200)))
				failed := 0.0
				if slow && r == 0 && i < 1 {
					failed = 1
				}
				add("http_req_failed", sc, sec, failed)
			}
			add("pos_transactions", map[string]string{"scenario": "checkout", "flow": "sale"}, sec, 1)
			add("pos_checkout_duration", map[string]string{"scenario": "checkout", "flow": "sale"}, sec, 400+rng.ExpFloat64()*300)
			add("checks", map[string]string{"scenario": "checkout", "check": "receipt printed"}, sec, 1)
		}
		if sec%5 == 0 {
			add("dropped_iterations", map[string]string{"scenario": "checkout"}, sec, map[bool]float64{true: 2, false: 0}[sec == 5])
		}
		for i := 0; i < 2; i++ {
			sc := map[string]string{"scenario": "returns"}
			add("iterations", sc, sec, 1)
			for r := 0; r < 2; r++ {
				add("http_req_duration", sc, sec, 30+rng.ExpFloat64()*40)
				add("http_reqs", sc, sec, 1)
				add("http_req_failed", sc, sec, 0)
			}
			add("pos_transactions", map[string]string{"scenario": "returns", "flow": "return"}, sec, 1)
			ok := 1.0
			if sec == 13 && i == 0 {
				ok = 0
			}
			add("checks", map[string]string{"scenario": "returns", "check": "refund tendered"}, sec, ok)
		}
		add("vus", map[string]string{}, sec, float64(4+min(sec, 8)))
		add("vus_max", map[string]string{}, sec, 14)
	}
	for key, s := range series {
		if h := hists[key]; h != nil {
			b, err := h.Encode()
			if err != nil {
				t.Fatal(err)
			}
			s.Hist = b
		}
		res.Series = append(res.Series, s)
	}
	for metric, secs := range perSecond {
		info := res.MetricTypes[metric]
		keys := make([]int64, 0, len(secs))
		for k := range secs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, sec := range keys {
			vs := secs[sec]
			p := loadgen.Point{Second: sec, Count: int64(len(vs)), Min: vs[0], Max: vs[0], Last: vs[len(vs)-1]}
			for _, v := range vs {
				if info.Type == loadgen.Rate {
					if v != 0 {
						p.Sum++
					}
				} else {
					p.Sum += v
				}
				p.Min, p.Max = math.Min(p.Min, v), math.Max(p.Max, v)
			}
			if info.Type == loadgen.Trend {
				sorted := slices.Sorted(slices.Values(vs))
				pct := func(q float64) float64 { return sorted[min(len(sorted)-1, int(math.Ceil(q*float64(len(sorted))))-1)] }
				p.P50, p.P90, p.P95, p.P99 = pct(0.5), pct(0.9), pct(0.95), pct(0.99)
			}
			res.TimeSeries[metric] = append(res.TimeSeries[metric], p)
		}
	}
	// Merge sorts the series, encodes them and evaluates the thresholds as the engine does.
	merged, err := loadgen.Merge(res)
	if err != nil {
		t.Fatal(err)
	}
	merged.Scenarios = res.Scenarios
	return merged
}
