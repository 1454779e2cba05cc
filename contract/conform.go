package contract

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/money"
)

// CheckResult is the outcome of one conformance check.
type CheckResult struct {
	ID     string `json:"id"`   // stable, e.g. "sale-resubmit"
	Name   string `json:"name"` // one line saying what is checked
	Passed bool   `json:"passed"`
	Detail string `json:"detail"` // what was seen, and on failure what was expected
}

// The conformance checks, in the order Conform runs them.
const (
	CheckHealth         = "health"
	CheckOpenAPI        = "openapi"
	CheckItemLookup     = "item-lookup"
	CheckItemTax        = "item-tax"
	CheckItemUnknown    = "item-unknown"
	CheckSaleAccepted   = "sale-accepted"
	CheckSaleResubmit   = "sale-resubmit"
	CheckSaleConcurrent = "sale-concurrent"
	CheckInvalidLines   = "invalid-no-lines"
	CheckInvalidType    = "invalid-type"
	CheckInvalidTenders = "invalid-tenders"
	CheckInvalidJSON    = "invalid-json"
	CheckBatch          = "batch"
	CheckBatchResubmit  = "batch-resubmit"
	CheckTxState        = "tx-state"
	CheckTxUnknown      = "tx-unknown"
	CheckSyncStatus     = "sync-status"
)

// ConformOption changes how Conform runs.
type ConformOption func(*conformer)

// WithHTTPClient sets the client Conform uses (default: a client with a 15 s timeout).
func WithHTTPClient(c *http.Client) ConformOption { return func(k *conformer) { k.client = c } }

// WithIDPrefix sets the prefix of the transaction ids Conform submits (default
// "conform-" and 8 random hex digits). Ids must be new to the connector: a connector
// remembers every id it ever accepted.
func WithIDPrefix(p string) ConformOption { return func(k *conformer) { k.prefix = p } }

// WithBatchSize sets how many new transactions the batch check sends (default 5).
func WithBatchSize(n int) ConformOption {
	return func(k *conformer) { k.batchSize = max(1, min(n, MaxBatch-3)) }
}

// WithLocation sets the store the checks sell at (default: the world's first store).
func WithLocation(id string) ConformOption { return func(k *conformer) { k.locationID = id } }

// Conform runs the contract's conformance checks against the connector at baseURL,
// which must be connected to a NetSuite holding world w (so that its item lookups can
// be compared with w). It checks shapes, status codes and idempotent resubmission —
// never the books — and submits a few real transactions (cash sales at one store) on
// the way. Every check is reported, passed or not; a check that depends on an earlier
// one that failed fails with a detail saying so.
//
// The checks, by id:
//
//	health            GET /healthz → 200
//	openapi           GET /openapi.yaml → 200, an OpenAPI 3 document with every contract path
//	item-lookup       GET /pos/v1/items/{upc}?location=… → 200, Item shape, sku/itemId/barcode/price of the world
//	item-tax          the lookup's taxCode/taxRate: the store's code for a taxable item, NON-TAXABLE (0) for an exempt one
//	item-unknown      an unknown barcode → 404, error shape with code not_found
//	sale-accepted     a valid sale → 202 with an Acceptance
//	sale-resubmit     the same sale again → 200 with the same body
//	sale-concurrent   one new sale sent 4 times at once → one 202 and three 200, all the same body
//	invalid-no-lines  a sale without lines → 400/422, error.field "lines", and nothing stored
//	invalid-type      type "refund" → 400/422, error.field "type", and nothing stored
//	invalid-tenders   tenders that do not add up → 400/422, error.field "tenders…", and nothing stored
//	invalid-json      a body cut short → 400 with the error shape
//	batch             an offline batch → 200, one result per transaction in order: new ones accepted,
//	                  an already accepted id and a repeat within the batch duplicate, an invalid one rejected with its field
//	batch-resubmit    the same batch again → every accepted one now duplicate
//	tx-state          GET /pos/v1/transactions/{id} of the sale → 200, TransactionStatus with a valid state
//	tx-unknown        GET /pos/v1/transactions/{id} of an unknown id → 404 with the error shape
//	sync-status       GET /pos/v1/sync/status → 200, SyncStatus shape, counts covering what was accepted
func Conform(ctx context.Context, baseURL string, w *fixtures.World, opts ...ConformOption) []CheckResult {
	k := &conformer{
		base:      strings.TrimRight(baseURL, "/"),
		world:     w,
		client:    &http.Client{Timeout: 15 * time.Second},
		batchSize: 5,
	}
	for _, o := range opts {
		o(k)
	}
	if k.prefix == "" {
		var b [4]byte
		rand.Read(b[:])
		k.prefix = "conform-" + hex.EncodeToString(b[:])
	}
	schemas, err := NewSchemas()
	if err != nil { // the embedded document is tested; this would be a build defect
		return []CheckResult{{ID: "setup", Name: "compile the contract schemas", Detail: err.Error()}}
	}
	k.schemas = schemas
	if err := k.pickFixtures(); err != nil {
		return []CheckResult{{ID: "setup", Name: "pick a store and items from the world", Detail: err.Error()}}
	}

	checks := []struct {
		id, name string
		run      func(context.Context) (string, error)
	}{
		{CheckHealth, "GET /healthz answers 200", k.health},
		{CheckOpenAPI, "GET /openapi.yaml serves the contract's OpenAPI document", k.openAPI},
		{CheckItemLookup, "item lookup by a known UPC at a store returns the item in the contract shape", k.itemLookup},
		{CheckItemTax, "item lookup gives the tax code and rate of the store (NON-TAXABLE for exempt items)", k.itemTax},
		{CheckItemUnknown, "item lookup of an unknown barcode answers 404 with the error shape", k.itemUnknown},
		{CheckSaleAccepted, "a valid sale is accepted with 202", k.saleAccepted},
		{CheckSaleResubmit, "resubmitting an accepted id answers 200 with the same body", k.saleResubmit},
		{CheckSaleConcurrent, "the same new id sent 4 times at once is accepted exactly once", k.saleConcurrent},
		{CheckInvalidLines, "a transaction without lines is refused with error.field and not stored", k.invalidLines},
		{CheckInvalidType, "a transaction of an unknown type is refused with error.field and not stored", k.invalidType},
		{CheckInvalidTenders, "tenders that do not add up to the lines are refused with error.field", k.invalidTenders},
		{CheckInvalidJSON, "malformed JSON is refused with 400 and the error shape", k.invalidJSON},
		{CheckBatch, "an offline batch gets one result per transaction, in order, duplicates reported", k.batch},
		{CheckBatchResubmit, "resubmitting a batch reports every accepted transaction as duplicate", k.batchResubmit},
		{CheckTxState, "GET /pos/v1/transactions/{id} gives a valid state for an accepted id", k.txState},
		{CheckTxUnknown, "GET /pos/v1/transactions/{id} of an unknown id answers 404", k.txUnknown},
		{CheckSyncStatus, "GET /pos/v1/sync/status has the contract shape and counts what was accepted", k.syncStatus},
	}
	results := make([]CheckResult, 0, len(checks))
	for _, c := range checks {
		r := CheckResult{ID: c.id, Name: c.name}
		if err := ctx.Err(); err != nil {
			r.Detail = "not run: " + err.Error()
		} else if detail, err := c.run(ctx); err != nil {
			r.Detail = err.Error()
		} else {
			r.Passed, r.Detail = true, detail
		}
		results = append(results, r)
	}
	return results
}

// conformer holds one conformance run's settings and what earlier checks learned.
type conformer struct {
	base       string
	world      *fixtures.World
	client     *http.Client
	prefix     string
	batchSize  int
	locationID string
	schemas    *Schemas

	store      *fixtures.Location
	register   string
	taxable    *fixtures.Item // a taxable unit item
	exempt     *fixtures.Item // a non-taxable item, if the world has one
	lookup     []byte         // the item-lookup reply
	saleID     string
	saleTx     Transaction
	saleReply  []byte // the body of the 202
	accepted   int    // transactions accepted in this run
	batchSent  []Transaction
	batchReply BatchResult
}

func (k *conformer) pickFixtures() error {
	w := k.world
	if w == nil {
		return errors.New("no fixture world")
	}
	if k.locationID == "" {
		stores := w.Stores()
		if len(stores) == 0 {
			return errors.New("the world has no store")
		}
		k.locationID = stores[0].ID
	}
	loc, ok := w.Location(k.locationID)
	if !ok {
		return fmt.Errorf("the world has no location %q", k.locationID)
	}
	k.store = loc
	if regs := w.RegistersAt(loc.ID); len(regs) > 0 {
		k.register = regs[0].ID
	} else {
		k.register = "CONFORM-R01"
	}
	for i := range w.Items {
		it := &w.Items[i]
		switch {
		case it.Taxable && !it.Weighed && k.taxable == nil:
			k.taxable = it
		case !it.Taxable && k.exempt == nil:
			k.exempt = it
		}
	}
	if k.taxable == nil {
		return errors.New("the world has no taxable unit item")
	}
	return nil
}

// sale returns a valid cash sale of two units of the taxable item.
func (k *conformer) sale(id string, at time.Time) Transaction {
	it := k.taxable
	code, rate := k.expectedTax(it)
	qty := 2.0
	tax := it.Price.Mul(qty).Percent(rate)
	t := Transaction{
		ID:         id,
		Type:       Sale,
		LocationID: k.store.ID,
		RegisterID: k.register,
		CashierID:  "conform",
		OccurredAt: at.UTC().Truncate(time.Second),
		Lines: []Line{{
			SKU: it.SKU, Quantity: qty, UnitPrice: it.Price, TaxCode: code, TaxAmount: tax,
		}},
	}
	if len(k.world.Customers) > 0 {
		c := k.world.Customers[0]
		t.Customer = &Customer{LoyaltyID: c.LoyaltyID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName}
	}
	t.Tenders = []Tender{{Type: Cash, Amount: t.Total()}}
	return t
}

// expectedTax is the tax code name and rate a line of it takes at the store.
func (k *conformer) expectedTax(it *fixtures.Item) (string, float64) {
	tc, ok := k.world.ItemTaxCode(it, k.store)
	if !ok {
		return "", 0
	}
	return tc.Name, tc.Rate
}

func (k *conformer) id(suffix string) string { return k.prefix + "-" + suffix }

// reply is an HTTP answer, its body read.
type reply struct {
	status int
	body   []byte
}

func (r reply) String() string {
	b := r.body
	if len(b) > 300 {
		b = append(b[:300:300], "…"...)
	}
	return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(b))
}

func (k *conformer) do(ctx context.Context, method, path string, body []byte) (reply, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.base+path, rd)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading the reply: %w", method, path, err)
	}
	return reply{status: resp.StatusCode, body: b}, nil
}

func (k *conformer) post(ctx context.Context, path string, v any) (reply, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return reply{}, err
	}
	return k.do(ctx, http.MethodPost, path, b)
}

// expect checks the status and, when schema is not empty, the body's shape.
func (k *conformer) expect(what string, r reply, schema string, statuses ...int) error {
	ok := false
	for _, s := range statuses {
		ok = ok || r.status == s
	}
	if !ok {
		want := make([]string, len(statuses))
		for i, s := range statuses {
			want[i] = fmt.Sprint(s)
		}
		return fmt.Errorf("%s: got %s, want status %s", what, r, strings.Join(want, " or "))
	}
	if schema != "" {
		if err := k.schemas.Validate(schema, r.body); err != nil {
			return fmt.Errorf("%s: body %s", what, err)
		}
	}
	return nil
}

func (k *conformer) health(ctx context.Context) (string, error) {
	r, err := k.do(ctx, http.MethodGet, PathHealth, nil)
	if err != nil {
		return "", err
	}
	return "200", k.expect("GET "+PathHealth, r, "", http.StatusOK)
}

func (k *conformer) openAPI(ctx context.Context) (string, error) {
	r, err := k.do(ctx, http.MethodGet, PathOpenAPI, nil)
	if err != nil {
		return "", err
	}
	if err := k.expect("GET "+PathOpenAPI, r, "", http.StatusOK); err != nil {
		return "", err
	}
	var doc struct {
		OpenAPI string         `yaml:"openapi"`
		Paths   map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(r.body, &doc); err != nil {
		return "", fmt.Errorf("GET %s: not YAML or JSON: %v", PathOpenAPI, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		return "", fmt.Errorf("GET %s: openapi is %q, want 3.x", PathOpenAPI, doc.OpenAPI)
	}
	for _, p := range []string{PathItem, PathTransactions, PathBatch, PathTransaction, PathSyncStatus} {
		if _, ok := doc.Paths[p]; !ok {
			return "", fmt.Errorf("GET %s: the document has no path %s", PathOpenAPI, p)
		}
	}
	return fmt.Sprintf("OpenAPI %s with every contract path", doc.OpenAPI), nil
}

func itemPath(barcode, location string) string {
	return strings.Replace(PathItem, "{barcode}", url.PathEscape(barcode), 1) + "?location=" + url.QueryEscape(location)
}

func (k *conformer) lookupItem(ctx context.Context, it *fixtures.Item) (Item, reply, error) {
	path := itemPath(it.UPC, k.store.ID)
	r, err := k.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return Item{}, r, err
	}
	if err := k.expect("GET "+path, r, "Item", http.StatusOK); err != nil {
		return Item{}, r, err
	}
	var got Item
	if err := json.Unmarshal(r.body, &got); err != nil {
		return Item{}, r, fmt.Errorf("GET %s: %v", path, err)
	}
	return got, r, nil
}

func (k *conformer) itemLookup(ctx context.Context) (string, error) {
	it := k.taxable
	got, r, err := k.lookupItem(ctx, it)
	if err != nil {
		return "", err
	}
	k.lookup = r.body
	var diffs []string
	check := func(field string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			diffs = append(diffs, fmt.Sprintf("%s %v, want %v", field, got, want))
		}
	}
	check("sku", got.SKU, it.SKU)
	check("itemId", got.ItemID, it.ID)
	check("barcode", got.Barcode, it.UPC)
	check("price", got.Price, it.Price)
	if len(diffs) > 0 {
		return "", fmt.Errorf("item %s at location %s: %s", it.UPC, k.store.ID, strings.Join(diffs, "; "))
	}
	return fmt.Sprintf("item %s (%s) at location %s: price %v, on hand %v", it.UPC, it.SKU, k.store.ID, got.Price, got.OnHand), nil
}

func (k *conformer) itemTax(ctx context.Context) (string, error) {
	if k.lookup == nil {
		return "", errors.New("not checked: the item lookup failed")
	}
	items := []*fixtures.Item{k.taxable}
	if k.exempt != nil {
		items = append(items, k.exempt)
	}
	var seen []string
	for _, it := range items {
		got, _, err := k.lookupItem(ctx, it)
		if err != nil {
			return "", err
		}
		code, rate := k.expectedTax(it)
		if got.TaxCode != code || math.Abs(got.TaxRate-rate) > 1e-9 {
			return "", fmt.Errorf("item %s (taxable %v) at location %s: taxCode %q rate %v, want %q rate %v",
				it.UPC, it.Taxable, k.store.ID, got.TaxCode, got.TaxRate, code, rate)
		}
		seen = append(seen, fmt.Sprintf("%s → %s %v %%", it.SKU, got.TaxCode, got.TaxRate))
	}
	return strings.Join(seen, ", "), nil
}

func (k *conformer) unknownUPC() string {
	for n := 0; n < 1000; n++ {
		upc := fixtures.UPC(fmt.Sprintf("9%010d", 9_999_999_999-n))
		if _, ok := k.world.ItemByUPC(upc); !ok {
			return upc
		}
	}
	return "000000000000"
}

func (k *conformer) itemUnknown(ctx context.Context) (string, error) {
	upc := k.unknownUPC()
	path := itemPath(upc, k.store.ID)
	r, err := k.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return "", err
	}
	if err := k.expect("GET "+path, r, "ErrorReply", http.StatusNotFound); err != nil {
		return "", err
	}
	var e ErrorReply
	json.Unmarshal(r.body, &e)
	if e.Error.Code != CodeNotFound {
		return "", fmt.Errorf("GET %s: error code %q, want %q", path, e.Error.Code, CodeNotFound)
	}
	return "404 " + e.Error.Message, nil
}

func (k *conformer) saleAccepted(ctx context.Context) (string, error) {
	id := k.id("sale")
	t := k.sale(id, time.Now())
	r, err := k.post(ctx, PathTransactions, t)
	if err != nil {
		return "", err
	}
	if err := k.expect("POST "+PathTransactions, r, "Acceptance", http.StatusAccepted); err != nil {
		return "", err
	}
	var a Acceptance
	json.Unmarshal(r.body, &a)
	if a.ID != id {
		return "", fmt.Errorf("POST %s: acceptance of id %q, want %q", PathTransactions, a.ID, id)
	}
	k.saleID, k.saleTx, k.saleReply = id, t, r.body
	k.accepted++
	return "202 " + string(bytes.TrimSpace(r.body)), nil
}

func (k *conformer) saleResubmit(ctx context.Context) (string, error) {
	if k.saleID == "" {
		return "", errors.New("not checked: the sale was not accepted")
	}
	// The very same transaction, sent again as a register would after a lost reply.
	r, err := k.post(ctx, PathTransactions, k.saleTx)
	if err != nil {
		return "", err
	}
	if err := k.expect("resubmitting "+k.saleID, r, "Acceptance", http.StatusOK); err != nil {
		return "", err
	}
	if !jsonEqual(r.body, k.saleReply) {
		return "", fmt.Errorf("resubmitting %s: body %s, want the first reply %s", k.saleID, r.body, k.saleReply)
	}
	return "200 with the first reply", nil
}

func (k *conformer) saleConcurrent(ctx context.Context) (string, error) {
	const n = 4
	id := k.id("concurrent")
	body := mustJSON(k.sale(id, time.Now()))
	replies := make([]reply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { replies[i], errs[i] = k.do(ctx, http.MethodPost, PathTransactions, body) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	created := 0
	for i, r := range replies {
		if err := k.expect(fmt.Sprintf("submission %d of %s", i+1, id), r, "Acceptance", http.StatusAccepted, http.StatusOK); err != nil {
			return "", err
		}
		if r.status == http.StatusAccepted {
			created++
		}
		if !jsonEqual(r.body, replies[0].body) {
			return "", fmt.Errorf("submissions of %s got different bodies: %s and %s", id, replies[0].body, r.body)
		}
	}
	if created != 1 {
		return "", fmt.Errorf("%d concurrent submissions of %s got %d × 202, want exactly one", n, id, created)
	}
	k.accepted++
	return "one 202, three 200, same body", nil
}

// refused checks that t is refused with 400 or 422, an error naming a field with
// the prefix field, and that it was not stored.
func (k *conformer) refused(ctx context.Context, body []byte, id, field string) (string, error) {
	r, err := k.do(ctx, http.MethodPost, PathTransactions, body)
	if err != nil {
		return "", err
	}
	if err := k.expect("POST "+PathTransactions, r, "ErrorReply", http.StatusBadRequest, http.StatusUnprocessableEntity); err != nil {
		return "", err
	}
	var e ErrorReply
	json.Unmarshal(r.body, &e)
	if field != "" && !strings.HasPrefix(e.Error.Field, field) {
		return "", fmt.Errorf("POST %s: error.field %q, want %q", PathTransactions, e.Error.Field, field)
	}
	if id != "" {
		st, err := k.do(ctx, http.MethodGet, txPath(id), nil)
		if err != nil {
			return "", err
		}
		if st.status != http.StatusNotFound {
			return "", fmt.Errorf("refused transaction %s was stored: GET %s → %s", id, txPath(id), st)
		}
	}
	return fmt.Sprintf("%d %s: %s", r.status, e.Error.Field, e.Error.Message), nil
}

func (k *conformer) invalidLines(ctx context.Context) (string, error) {
	t := k.sale(k.id("no-lines"), time.Now())
	t.Lines = []Line{}
	return k.refused(ctx, mustJSON(t), t.ID, "lines")
}

func (k *conformer) invalidType(ctx context.Context) (string, error) {
	t := k.sale(k.id("bad-type"), time.Now())
	t.Type = "refund"
	return k.refused(ctx, mustJSON(t), t.ID, "type")
}

func (k *conformer) invalidTenders(ctx context.Context) (string, error) {
	t := k.sale(k.id("bad-tenders"), time.Now())
	t.Tenders[0].Amount -= money.FromCents(1)
	return k.refused(ctx, mustJSON(t), t.ID, "tenders")
}

func (k *conformer) invalidJSON(ctx context.Context) (string, error) {
	body := mustJSON(k.sale(k.id("bad-json"), time.Now()))
	r, err := k.do(ctx, http.MethodPost, PathTransactions, body[:len(body)/2])
	if err != nil {
		return "", err
	}
	if err := k.expect("POST "+PathTransactions+" with a body cut in half", r, "ErrorReply", http.StatusBadRequest); err != nil {
		return "", err
	}
	return "400", nil
}

// batchWant is what each position of the batch should get.
func (k *conformer) batchRequest() ([]Transaction, []string) {
	start := time.Now().Add(-time.Hour)
	var txs []Transaction
	var want []string
	for i := range k.batchSize {
		t := k.sale(k.id(fmt.Sprintf("batch-%03d", i+1)), start.Add(time.Duration(i)*time.Minute))
		t.Offline = true
		txs = append(txs, t)
		want = append(want, ItemAccepted)
		if i == 0 && k.saleID != "" {
			// An id the connector accepted earlier, on its own.
			txs = append(txs, k.saleTx)
			want = append(want, ItemDuplicate)
		}
	}
	bad := k.sale(k.id("batch-bad"), start)
	bad.Offline = true
	bad.Lines = nil
	txs = append(txs, bad)
	want = append(want, ItemRejected)
	// The same transaction twice in one batch: the second is a duplicate.
	txs = append(txs, txs[0])
	want = append(want, ItemDuplicate)
	return txs, want
}

func (k *conformer) sendBatch(ctx context.Context, txs []Transaction, want []string) (BatchResult, error) {
	r, err := k.post(ctx, PathBatch, Batch{Transactions: txs})
	if err != nil {
		return BatchResult{}, err
	}
	if err := k.expect("POST "+PathBatch, r, "BatchResult", http.StatusOK); err != nil {
		return BatchResult{}, err
	}
	var res BatchResult
	json.Unmarshal(r.body, &res)
	if len(res.Results) != len(txs) {
		return res, fmt.Errorf("POST %s: %d results for %d transactions", PathBatch, len(res.Results), len(txs))
	}
	for i, got := range res.Results {
		switch {
		case got.ID != txs[i].ID:
			return res, fmt.Errorf("POST %s: results[%d] is for %q, want %q (results must keep the batch's order)",
				PathBatch, i, got.ID, txs[i].ID)
		case got.Status != want[i]:
			return res, fmt.Errorf("POST %s: results[%d] (%s) is %q, want %q", PathBatch, i, got.ID, got.Status, want[i])
		case got.Status == ItemRejected && (got.Error == nil || got.Error.Field == ""):
			return res, fmt.Errorf("POST %s: results[%d] (%s) is rejected without an error naming the field", PathBatch, i, got.ID)
		}
	}
	return res, nil
}

func (k *conformer) batch(ctx context.Context) (string, error) {
	txs, want := k.batchRequest()
	res, err := k.sendBatch(ctx, txs, want)
	if err != nil {
		return "", err
	}
	k.batchSent, k.batchReply = txs, res
	k.accepted += k.batchSize
	counts := map[string]int{}
	for _, r := range res.Results {
		counts[r.Status]++
	}
	return fmt.Sprintf("%d transactions: %d accepted, %d duplicate, %d rejected",
		len(txs), counts[ItemAccepted], counts[ItemDuplicate], counts[ItemRejected]), nil
}

func (k *conformer) batchResubmit(ctx context.Context) (string, error) {
	if k.batchSent == nil {
		return "", errors.New("not checked: the batch failed")
	}
	want := make([]string, len(k.batchSent))
	for i, r := range k.batchReply.Results {
		want[i] = ItemDuplicate
		if r.Status == ItemRejected {
			want[i] = ItemRejected
		}
	}
	if _, err := k.sendBatch(ctx, k.batchSent, want); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d transactions: all accepted ones duplicate", len(k.batchSent)), nil
}

func txPath(id string) string {
	return strings.Replace(PathTransaction, "{id}", url.PathEscape(id), 1)
}

func (k *conformer) txState(ctx context.Context) (string, error) {
	if k.saleID == "" {
		return "", errors.New("not checked: the sale was not accepted")
	}
	var states []string
	ids := []string{k.saleID}
	if k.batchSent != nil {
		ids = append(ids, k.batchSent[0].ID)
	}
	for _, id := range ids {
		r, err := k.do(ctx, http.MethodGet, txPath(id), nil)
		if err != nil {
			return "", err
		}
		if err := k.expect("GET "+txPath(id), r, "TransactionStatus", http.StatusOK); err != nil {
			return "", err
		}
		var st TransactionStatus
		json.Unmarshal(r.body, &st)
		if st.ID != id {
			return "", fmt.Errorf("GET %s: status of %q", txPath(id), st.ID)
		}
		if st.State == StatePosted && st.NetSuiteID == "" {
			return "", fmt.Errorf("GET %s: posted without a netsuiteId", txPath(id))
		}
		states = append(states, fmt.Sprintf("%s %s", id, st.State))
	}
	return strings.Join(states, ", "), nil
}

func (k *conformer) txUnknown(ctx context.Context) (string, error) {
	id := k.id("never-sent")
	r, err := k.do(ctx, http.MethodGet, txPath(id), nil)
	if err != nil {
		return "", err
	}
	return "404", k.expect("GET "+txPath(id), r, "ErrorReply", http.StatusNotFound)
}

func (k *conformer) syncStatus(ctx context.Context) (string, error) {
	r, err := k.do(ctx, http.MethodGet, PathSyncStatus, nil)
	if err != nil {
		return "", err
	}
	if err := k.expect("GET "+PathSyncStatus, r, "SyncStatus", http.StatusOK); err != nil {
		return "", err
	}
	var s SyncStatus
	json.Unmarshal(r.body, &s)
	if sum := s.Pending + s.InFlight + s.Posted + s.DeadLettered; sum < k.accepted {
		return "", fmt.Errorf("GET %s: counts add up to %d, but %d transactions were accepted in this run", PathSyncStatus, sum, k.accepted)
	}
	return fmt.Sprintf("pending %d, in flight %d, posted %d, dead-lettered %d", s.Pending, s.InFlight, s.Posted, s.DeadLettered), nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only contract types, which always encode
	}
	return b
}

// jsonEqual reports whether two bodies are the same JSON value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
