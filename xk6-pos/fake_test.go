package pos

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/simulator/gateway"
)

// fakeConnector implements the POS contract minimally over a world, remembering every
// transaction it accepted (single or batch), with switches to misbehave.
type fakeConnector struct {
	t   testing.TB
	w   *fixtures.World
	srv *httptest.Server

	mu       sync.Mutex
	accepted map[string][]byte // id → body as received
	order    []string
	batches  []int // sizes of the batches received
	singles  int   // single submissions received (resubmissions included)
	lookups  int
	failNext int  // answer 503 to the next failNext submissions
	loseNext int  // store, then answer 503 (a lost response) to the next loseNext submissions
	down     bool // 503 to everything

	inflight map[string]int // register → submissions being served
	overlaps int            // submissions that found another of their register in flight
	hold     time.Duration  // how long a submission is held before it is answered
}

func newFakeConnector(t testing.TB, w *fixtures.World) *fakeConnector {
	f := &fakeConnector{t: t, w: w, accepted: map[string][]byte{}, inflight: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeConnector) reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeConnector) fail(w http.ResponseWriter, status int, code, field, msg string) {
	f.reply(w, status, contract.ErrorReply{Error: contract.Error{Code: code, Field: field, Message: msg}})
}

func (f *fakeConnector) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		f.fail(w, http.StatusServiceUnavailable, "unavailable", "", "down")
		return
	}
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/pos/v1/items/"):
		f.lookup(w, r)
	case r.Method == http.MethodPost && r.URL.Path == contract.PathTransactions:
		f.submit(w, r)
	case r.Method == http.MethodPost && r.URL.Path == contract.PathBatch:
		f.batch(w, r)
	default:
		f.fail(w, http.StatusNotFound, "not_found", "", r.Method+" "+r.URL.Path)
	}
}

func (f *fakeConnector) lookup(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.lookups++
	f.mu.Unlock()
	barcode := strings.TrimPrefix(r.URL.Path, "/pos/v1/items/")
	loc, ok := f.w.Location(r.URL.Query().Get("location"))
	if !ok {
		f.fail(w, http.StatusBadRequest, contract.CodeInvalidField, "location", "unknown location")
		return
	}
	it, ok := f.w.ItemByUPC(barcode)
	if !ok {
		f.fail(w, http.StatusNotFound, contract.CodeNotFound, "barcode", "no item has barcode "+barcode)
		return
	}
	tc, _ := f.w.ItemTaxCode(it, loc)
	on, _ := it.OnHandAt(loc.ID)
	f.reply(w, http.StatusOK, contract.Item{SKU: it.SKU, ItemID: it.ID, Barcode: it.UPC, Name: it.Name, Price: it.Price,
		TaxCode: tc.Name, TaxRate: tc.Rate, OnHand: on})
}

// store accepts one decoded transaction: 202 new, 200 same body again, 409 other body.
func (f *fakeConnector) store(tx *contract.Transaction, body []byte) (int, string) {
	if prev, ok := f.accepted[tx.ID]; ok {
		if !bytes.Equal(prev, body) {
			return http.StatusConflict, contract.ItemRejected
		}
		return http.StatusOK, contract.ItemDuplicate
	}
	f.accepted[tx.ID] = append([]byte(nil), body...)
	f.order = append(f.order, tx.ID)
	return http.StatusAccepted, contract.ItemAccepted
}

func (f *fakeConnector) submit(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	tx, e := contract.DecodeTransaction(body)
	if e != nil {
		f.reply(w, http.StatusUnprocessableEntity, contract.ErrorReply{Error: *e})
		return
	}
	f.mu.Lock()
	f.singles++
	if f.inflight[tx.RegisterID] > 0 {
		f.overlaps++
	}
	f.inflight[tx.RegisterID]++
	hold := f.hold
	f.mu.Unlock()
	time.Sleep(hold) // long enough for another submission of the register to overlap
	f.mu.Lock()
	f.inflight[tx.RegisterID]--
	if f.failNext > 0 {
		f.failNext--
		f.mu.Unlock()
		f.fail(w, http.StatusServiceUnavailable, "unavailable", "", "try again")
		return
	}
	status, _ := f.store(tx, body)
	lost := false
	if f.loseNext > 0 && status == http.StatusAccepted {
		f.loseNext--
		lost = true
	}
	f.mu.Unlock()
	if lost {
		f.fail(w, http.StatusBadGateway, "unavailable", "", "stored, but the answer was lost")
		return
	}
	if status == http.StatusConflict {
		f.fail(w, status, "id_conflict", "id", "other content")
		return
	}
	f.reply(w, status, contract.Acceptance{ID: tx.ID, AcceptedAt: time.Now().UTC()})
}

func (f *fakeConnector) batch(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	raws, e := contract.DecodeBatch(body)
	if e != nil {
		f.reply(w, http.StatusBadRequest, contract.ErrorReply{Error: *e})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, len(raws))
	var res contract.BatchResult
	for _, raw := range raws {
		tx, e := contract.DecodeTransaction(raw)
		if e != nil {
			res.Results = append(res.Results, contract.ItemResult{Status: contract.ItemRejected, Error: e})
			continue
		}
		_, st := f.store(tx, raw)
		res.Results = append(res.Results, contract.ItemResult{ID: tx.ID, Status: st})
	}
	f.reply(w, http.StatusOK, res)
}

func (f *fakeConnector) transactions() map[string]*contract.Transaction {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]*contract.Transaction{}
	for id, b := range f.accepted {
		var tx contract.Transaction
		if err := json.Unmarshal(b, &tx); err != nil {
			f.t.Fatal(err)
		}
		out[id] = &tx
	}
	return out
}

// env is a test run: a world, the fake connector, the real gateway, a module.
type env struct {
	t       *testing.T
	w       *fixtures.World
	conn    *fakeConnector
	gw      *httptest.Server
	gwKey   string
	mod     *Module
	reg     *loadgen.Registry
	journal string
	now     func() time.Time
}

func newEnv(t *testing.T, mods ...func(*Config)) *env {
	t.Helper()
	w := smallWorld(t)
	e := &env{t: t, w: w, conn: newFakeConnector(t, w), reg: loadgen.NewRegistry(), gwKey: w.Gateway.SecretKey}
	g, err := gateway.New(w, gateway.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	e.gw = httptest.NewServer(g.Handler())
	t.Cleanup(e.gw.Close)
	e.journal = filepath.Join(t.TempDir(), "journal.db")
	cfg := Config{ConnectorURL: e.conn.srv.URL, GatewayURL: e.gw.URL, JournalPath: e.journal, Seed: 42,
		Registry: e.reg, RunID: "t1", Meta: map[string]string{"scenario": "test"}}
	for _, m := range mods {
		m(&cfg)
	}
	mod, err := New(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.mod = mod
	t.Cleanup(func() { mod.Close() })
	return e
}

// run runs flow with opts through a real engine: shared iterations over vus VUs.
func (e *env) run(name, flowName string, opts map[string]any, iterations int64, vus int) *loadgen.Result {
	e.t.Helper()
	o, err := ParseOptions(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	exec, initVU, err := e.mod.Exec(flowName, o)
	if err != nil {
		e.t.Fatal(err)
	}
	eng := loadgen.New(loadgen.WithRegistry(e.reg))
	res, err := eng.Run(context.Background(), loadgen.Plan{Seed: 42, Scenarios: []loadgen.Scenario{{
		Name: name, Executor: loadgen.SharedIterations, VUs: vus, Iterations: iterations, ExecName: flowName,
		Exec: exec, InitVU: initVU, MaxDuration: time.Minute,
	}}})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, sc := range res.Scenarios {
		if sc.Errors > 0 {
			e.t.Fatalf("scenario %s: %d iterations failed, the first: %s", sc.Name, sc.Errors, sc.FirstError)
		}
	}
	return res
}

// failedChecks lists the checks that failed at least once.
func failedChecks(res *loadgen.Result) []string {
	var out []string
	for _, s := range res.Series {
		if s.Metric != loadgen.MetricChecks {
			continue
		}
		if s.Count > s.NonZero {
			out = append(out, fmt.Sprintf("%s (%d of %d failed)", s.Tags["check"], s.Count-s.NonZero, s.Count))
		}
	}
	return out
}

// counter sums a Counter's samples carrying every tag of filter.
func counter(res *loadgen.Result, name string, filter ...loadgen.Tag) float64 {
	m := res.Metric(name, filter...)
	if m == nil {
		return 0
	}
	return m.Sum
}

// closeJournal closes the module and opens its journal for queries.
func (e *env) closeJournal() *sql.DB {
	e.t.Helper()
	if err := e.mod.Close(); err != nil {
		e.t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+e.journal+"?mode=ro")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

// intent reads a payment intent from the gateway.
func (e *env) intent(id string) intentJSON {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.gw.URL+"/v1/payment_intents/"+url.PathEscape(id), nil)
	req.Header.Set("Authorization", "Bearer "+e.gwKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var pi intentJSON
	if err := json.NewDecoder(resp.Body).Decode(&pi); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("intent %s: %d %v", id, resp.StatusCode, err)
	}
	return pi
}

func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}
