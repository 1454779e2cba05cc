package contract

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/fixtures"
)

// fakeConnector is an in-memory connector that speaks the contract, with switches
// that break it in one way each, to prove that Conform notices.
type fakeConnector struct {
	world *fixtures.World
	bugs  map[string]bool

	mu       sync.Mutex
	accepted map[string]Acceptance
}

func newFakeConnector(w *fixtures.World, bugs ...string) *fakeConnector {
	f := &fakeConnector{world: w, bugs: map[string]bool{}, accepted: map[string]Acceptance{}}
	for _, b := range bugs {
		f.bugs[b] = true
	}
	return f
}

func (f *fakeConnector) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if f.bugs["unhealthy"] {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		doc := OpenAPI()
		if f.bugs["openapi-missing-batch"] {
			doc = []byte(strings.ReplaceAll(string(doc), "/pos/v1/transactions:batch:", "/pos/v1/batch:"))
		}
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(doc)
	})
	mux.HandleFunc("GET /pos/v1/items/{barcode}", f.item)
	mux.HandleFunc("POST /pos/v1/transactions", f.submit)
	mux.HandleFunc("POST /pos/v1/transactions:batch", f.batch)
	mux.HandleFunc("GET /pos/v1/transactions/{id}", f.status)
	mux.HandleFunc("GET /pos/v1/sync/status", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		n := len(f.accepted)
		f.mu.Unlock()
		if f.bugs["sync-status-loses-count"] {
			n = 0
		}
		writeJSON(w, http.StatusOK, SyncStatus{Pending: n})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeConnector) fail(w http.ResponseWriter, e *Error) {
	status := http.StatusUnprocessableEntity
	switch e.Code {
	case CodeMalformedJSON:
		status = http.StatusBadRequest
	case CodeNotFound:
		status = http.StatusNotFound
	case CodeTooLarge:
		status = http.StatusRequestEntityTooLarge
	}
	if f.bugs["error-without-field"] {
		e.Field = ""
	}
	if f.bugs["invalid-is-500"] && status != http.StatusNotFound {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, ErrorReply{Error: *e})
}

func (f *fakeConnector) item(w http.ResponseWriter, r *http.Request) {
	loc, ok := f.world.Location(r.URL.Query().Get("location"))
	if !ok {
		f.fail(w, &Error{Code: CodeInvalidField, Field: "location", Message: "unknown location"})
		return
	}
	it, ok := f.world.ItemByUPC(r.PathValue("barcode"))
	if !ok {
		if f.bugs["unknown-item-200"] {
			writeJSON(w, http.StatusOK, Item{})
			return
		}
		f.fail(w, &Error{Code: CodeNotFound, Message: "no item with this barcode"})
		return
	}
	tc, _ := f.world.ItemTaxCode(it, loc)
	if f.bugs["tax-from-item"] {
		tc, _ = f.world.TaxCode(f.world.Locations[len(f.world.Locations)-1].TaxCodeID)
	}
	onHand, _ := it.OnHandAt(loc.ID)
	reply := Item{SKU: it.SKU, ItemID: it.ID, Barcode: it.UPC, Name: it.Name, Price: it.Price,
		TaxCode: tc.Name, TaxRate: tc.Rate, OnHand: onHand}
	if f.bugs["price-in-cents"] {
		reply.Price *= 100
	}
	if f.bugs["item-field-names"] {
		b, _ := json.Marshal(reply)
		b = []byte(strings.Replace(string(b), `"sku"`, `"SKU"`, 1))
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// accept stores t once and reports whether it was new.
func (f *fakeConnector) accept(t *Transaction) (Acceptance, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.accepted[t.ID]; ok && !f.bugs["resubmit-202"] {
		return a, false
	}
	a := Acceptance{ID: t.ID, AcceptedAt: time.Now().UTC()}
	f.accepted[t.ID] = a
	return a, true
}

func (f *fakeConnector) submit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		f.fail(w, &Error{Code: CodeMalformedJSON, Message: err.Error()})
		return
	}
	var t *Transaction
	var e *Error
	if f.bugs["no-validation"] {
		t = new(Transaction)
		if err := json.Unmarshal(body, t); err != nil {
			e = &Error{Code: CodeMalformedJSON, Message: err.Error()}
		}
	} else {
		t, e = DecodeTransaction(body)
	}
	if e != nil {
		f.fail(w, e)
		return
	}
	a, created := f.accept(t)
	status := http.StatusOK
	if created {
		status = http.StatusAccepted
	}
	writeJSON(w, status, a)
}

func (f *fakeConnector) batch(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	raws, e := DecodeBatch(body)
	if e != nil {
		f.fail(w, e)
		return
	}
	var res BatchResult
	for _, raw := range raws {
		t, e := DecodeTransaction(raw)
		if e != nil {
			var id struct{ ID string }
			json.Unmarshal(raw, &id)
			if f.bugs["error-without-field"] {
				e.Field = ""
			}
			res.Results = append(res.Results, ItemResult{ID: id.ID, Status: ItemRejected, Error: e})
			continue
		}
		_, created := f.accept(t)
		st := ItemDuplicate
		if created || f.bugs["batch-no-duplicates"] {
			st = ItemAccepted
		}
		res.Results = append(res.Results, ItemResult{ID: t.ID, Status: st})
	}
	if f.bugs["batch-reversed"] {
		for i, j := 0, len(res.Results)-1; i < j; i, j = i+1, j-1 {
			res.Results[i], res.Results[j] = res.Results[j], res.Results[i]
		}
	}
	writeJSON(w, http.StatusOK, res)
}

func (f *fakeConnector) status(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	a, ok := f.accepted[r.PathValue("id")]
	f.mu.Unlock()
	if !ok {
		f.fail(w, &Error{Code: CodeNotFound, Message: "never accepted"})
		return
	}
	st := TransactionStatus{ID: a.ID, State: StatePending, AcceptedAt: a.AcceptedAt}
	if f.bugs["bad-state"] {
		st.State = "queued"
	}
	writeJSON(w, http.StatusOK, st)
}

func conformWorld(t *testing.T) *fixtures.World {
	t.Helper()
	w, err := fixtures.Generate(1, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestConformPassesACorrectConnector(t *testing.T) {
	w := conformWorld(t)
	srv := httptest.NewServer(newFakeConnector(w).handler())
	defer srv.Close()
	results := Conform(t.Context(), srv.URL, w, WithIDPrefix("t1"), WithBatchSize(3))
	if len(results) != 17 {
		t.Errorf("%d checks ran, want 17", len(results))
	}
	for _, r := range results {
		if !r.Passed {
			t.Errorf("%s failed: %s", r.ID, r.Detail)
		}
	}
}

// Each broken connector fails the check that looks at what it breaks.
func TestConformCatchesMisbehaviour(t *testing.T) {
	w := conformWorld(t)
	tests := []struct {
		bug       string
		wantFails []string
	}{
		{"unhealthy", []string{CheckHealth}},
		{"openapi-missing-batch", []string{CheckOpenAPI}},
		{"item-field-names", []string{CheckItemLookup}},
		{"price-in-cents", []string{CheckItemLookup}},
		{"tax-from-item", []string{CheckItemTax}},
		{"unknown-item-200", []string{CheckItemUnknown}},
		{"resubmit-202", []string{CheckSaleResubmit, CheckSaleConcurrent}},
		{"no-validation", []string{CheckInvalidLines, CheckInvalidType, CheckInvalidTenders}},
		{"error-without-field", []string{CheckInvalidLines, CheckInvalidType, CheckInvalidTenders, CheckBatch}},
		{"invalid-is-500", []string{CheckInvalidJSON, CheckInvalidLines}},
		{"batch-no-duplicates", []string{CheckBatch, CheckBatchResubmit}},
		{"batch-reversed", []string{CheckBatch}},
		{"bad-state", []string{CheckTxState}},
		{"sync-status-loses-count", []string{CheckSyncStatus}},
	}
	for _, tt := range tests {
		t.Run(tt.bug, func(t *testing.T) {
			srv := httptest.NewServer(newFakeConnector(w, tt.bug).handler())
			defer srv.Close()
			results := Conform(t.Context(), srv.URL, w, WithBatchSize(2))
			failed := map[string]string{}
			for _, r := range results {
				if !r.Passed {
					failed[r.ID] = r.Detail
				}
			}
			for _, id := range tt.wantFails {
				if _, ok := failed[id]; !ok {
					t.Errorf("check %s passed, want it to fail", id)
				}
			}
			if tt.bug != "unhealthy" {
				if d, ok := failed[CheckHealth]; ok {
					t.Errorf("health failed too: %s", d)
				}
			}
			for id, d := range failed {
				if d == "" {
					t.Errorf("check %s failed without a detail", id)
				}
			}
		})
	}
}

func TestConformUnreachable(t *testing.T) {
	w := conformWorld(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	for _, r := range Conform(t.Context(), url, w) {
		if r.Passed {
			t.Errorf("%s passed against a closed port", r.ID)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, r := range Conform(ctx, url, w) {
		if r.Passed || !strings.Contains(r.Detail, "not run") {
			t.Errorf("%s with a cancelled context: %+v", r.ID, r)
		}
	}
	if r := Conform(t.Context(), url, nil); len(r) != 1 || r[0].Passed {
		t.Errorf("no world: %+v", r)
	}
}

// TestConformanceURL runs the conformance checks against a running connector:
//
//	DOORBUSTER_CONNECTOR_URL  the connector's base URL (the test is skipped without it)
//	DOORBUSTER_WORLD          the world file the NetSuite behind it was started with, or
//	DOORBUSTER_WORLD_SEED / DOORBUSTER_WORLD_SIZE  to generate it (default 1 / small)
func TestConformanceURL(t *testing.T) {
	base := os.Getenv("DOORBUSTER_CONNECTOR_URL")
	if base == "" {
		t.Skip("DOORBUSTER_CONNECTOR_URL is not set")
	}
	w, err := worldFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Conform(t.Context(), base, w) {
		if r.Passed {
			t.Logf("ok   %-17s %s", r.ID, r.Detail)
		} else {
			t.Errorf("FAIL %-17s %s: %s", r.ID, r.Name, r.Detail)
		}
	}
}

func worldFromEnv() (*fixtures.World, error) {
	if path := os.Getenv("DOORBUSTER_WORLD"); path != "" {
		return fixtures.Load(path)
	}
	seed := int64(1)
	if s := os.Getenv("DOORBUSTER_WORLD_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errors.New("DOORBUSTER_WORLD_SEED: " + err.Error())
		}
		seed = n
	}
	size := fixtures.Small
	if s := os.Getenv("DOORBUSTER_WORLD_SIZE"); s != "" {
		var err error
		if size, err = fixtures.ParseSize(s); err != nil {
			return nil, err
		}
	}
	return fixtures.Generate(seed, size)
}
