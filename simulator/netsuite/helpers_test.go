package netsuite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dghubble/oauth1"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/money"
)

// tinyWorld is a hand-made world small enough to compute every posting by hand:
//
//	locations 1 (store, CA-SF 8.625 %), 2 (store, NY-NYC 8.875 %), 3 (warehouse)
//	items 1001 TV $499.99 cost $300, taxable; 1002 bananas $0.59/lb cost $0.20, not taxable;
//	      1003 socks $9.99 cost $4, taxable — each 10 on hand at every location
//	payment methods 1 Cash → 101, 2 Card → 102, 3 Gift Certificate → 105
func tinyWorld() *fixtures.World {
	accts := fixtures.GLAccounts{Cash: "100", UndepositedFunds: "101", CardClearing: "102", InventoryAsset: "103",
		SalesTaxPayable: "104", GiftCertLiability: "105", Income: "106", COGS: "107", InventoryAdjusting: "108"}
	stock := []fixtures.Stock{{LocationID: "1", Quantity: 10}, {LocationID: "2", Quantity: 10}, {LocationID: "3", Quantity: 10}}
	item := func(id, sku, upc, name string, price, cost int64, taxable bool, tax string, weighed bool) fixtures.Item {
		return fixtures.Item{ID: id, SKU: sku, UPC: fixtures.UPC(upc), Name: name, Price: money.FromCents(price),
			AverageCost: money.FromCents(cost), Taxable: taxable, TaxCodeID: tax, Weighed: weighed,
			IncomeAccountID: "106", COGSAccountID: "107", AssetAccountID: "103",
			OnHand: append([]fixtures.Stock(nil), stock...)}
	}
	w := &fixtures.World{
		Version: fixtures.FormatVersion, Seed: 1, Size: fixtures.Small, Currency: "USD",
		Credentials: fixtures.Credentials{AccountID: "1234567", ConsumerKey: "ck-test", ConsumerSecret: "cs-test",
			TokenID: "tk-test", TokenSecret: "ts-test"},
		Accounts:     accts,
		Subsidiaries: []fixtures.Subsidiary{{ID: "1", Name: "Doorbuster Inc.", Country: "US", Currency: "USD"}},
		Locations: []fixtures.Location{
			{ID: "1", Name: "Store 001 San Francisco", Kind: fixtures.Store, SubsidiaryID: "1", TaxCodeID: "1"},
			{ID: "2", Name: "Store 002 New York", Kind: fixtures.Store, SubsidiaryID: "1", TaxCodeID: "2"},
			{ID: "3", Name: "DC 1 Reno", Kind: fixtures.Warehouse, SubsidiaryID: "1", TaxCodeID: "3"},
		},
		Registers: []fixtures.Register{{ID: "S001-R01", LocationID: "1", Number: 1, ReaderID: "tmr_S001R01"}},
		AccountList: []fixtures.Account{
			{ID: "100", Number: "1000", Name: "Cash", Type: fixtures.Bank},
			{ID: "101", Number: "1010", Name: "Undeposited Funds", Type: fixtures.OtherCurAsset},
			{ID: "102", Number: "1020", Name: "Card Clearing", Type: fixtures.OtherCurAsset},
			{ID: "103", Number: "1300", Name: "Inventory Asset", Type: fixtures.OtherCurAsset},
			{ID: "104", Number: "2200", Name: "Sales Tax Payable", Type: fixtures.OtherCurLiab},
			{ID: "105", Number: "2400", Name: "Gift Certificates", Type: fixtures.OtherCurLiab},
			{ID: "106", Number: "4000", Name: "Sales", Type: fixtures.Income},
			{ID: "107", Number: "5000", Name: "COGS", Type: fixtures.COGS},
			{ID: "108", Number: "5100", Name: "Inventory Adjustments", Type: fixtures.Expense},
		},
		TaxCodes: []fixtures.TaxCode{
			{ID: "1", Name: "CA-SF", Rate: 8.625, Jurisdiction: "San Francisco, CA"},
			{ID: "2", Name: "NY-NYC", Rate: 8.875, Jurisdiction: "New York, NY"},
			{ID: "3", Name: "NON-TAXABLE", Rate: 0, Jurisdiction: "US"},
		},
		PaymentMethods: []fixtures.PaymentMethod{
			{ID: "1", Name: "Cash", Kind: fixtures.Cash, AccountID: "101"},
			{ID: "2", Name: "Card", Kind: fixtures.Card, AccountID: "102"},
			{ID: "3", Name: "Gift Certificate", Kind: fixtures.GiftCard, AccountID: "105"},
		},
		Items: []fixtures.Item{
			item("1001", "ELEC-000001", "00000000001", "55in TV", 49999, 30000, true, "1", false),
			item("1002", "PRD-000002", "20000000002", "Bananas (per lb)", 59, 20, false, "3", true),
			item("1003", "APP-000003", "00000000003", "Socks", 999, 400, true, "1", false),
		},
		Customers: []fixtures.Customer{
			{ID: "100001", EntityID: "CUS100001", ExternalID: "LOY-70000000001", FirstName: "Ada", LastName: "Lovelace",
				Email: "ada@example.com", Phone: "+12015550100", LoyaltyID: "70000000001"},
			{ID: "100002", EntityID: "CUS100002", ExternalID: "LOY-70000000002", FirstName: "Alan", LastName: "Turing",
				Email: "alan@example.com", Phone: "+12015550101", LoyaltyID: "70000000002"},
		},
	}
	w.Reindex()
	return w
}

// env is a simulator behind an httptest server with a TBA-signing client.
type env struct {
	t    testing.TB
	srv  *Server
	hs   *httptest.Server
	c    *http.Client
	base string // …/services/rest
}

func newEnv(t testing.TB, w *fixtures.World, cfg Config) *env {
	t.Helper()
	srv, err := New(w, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{t: t, srv: srv, hs: hs, c: signedClient(w.Credentials, nil), base: hs.URL + "/services/rest"}
}

// signedClient signs every request with dghubble/oauth1's HMAC-SHA256 signer.
func signedClient(c fixtures.Credentials, rt http.RoundTripper) *http.Client {
	if rt == nil {
		rt = http.DefaultTransport
	}
	ctx := context.WithValue(context.Background(), oauth1.HTTPClient, &http.Client{Transport: rt})
	cfg := &oauth1.Config{ConsumerKey: c.ConsumerKey, ConsumerSecret: c.ConsumerSecret, Realm: c.AccountID,
		Signer: &oauth1.HMAC256Signer{ConsumerSecret: c.ConsumerSecret}}
	return cfg.Client(ctx, oauth1.NewToken(c.TokenID, c.TokenSecret))
}

// reply is an HTTP answer read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("reply %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// errorDetail returns o:errorDetails[0] of a NetSuite error reply, checking the shape.
func (r reply) errorDetail(t testing.TB) map[string]any {
	t.Helper()
	m := r.json(t)
	for _, k := range []string{"type", "title", "status", "o:errorDetails"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("error reply lacks %q: %s", k, r.body)
		}
	}
	if int(m["status"].(float64)) != r.status {
		t.Errorf("error body status %v, HTTP status %d", m["status"], r.status)
	}
	details, _ := m["o:errorDetails"].([]any)
	if len(details) == 0 {
		t.Fatalf("no o:errorDetails: %s", r.body)
	}
	d := details[0].(map[string]any)
	if d["detail"] == "" || d["o:errorCode"] == "" {
		t.Fatalf("error detail lacks detail or code: %s", r.body)
	}
	return d
}

func (e *env) do(method, path string, body any, headers ...string) reply {
	e.t.Helper()
	return doWith(e.t, e.c, method, e.base+path, body, headers...)
}

func doWith(t testing.TB, c *http.Client, method, url string, body any, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// mustWrite sends a write and expects 204 with a Location; it returns the new id.
func (e *env) mustWrite(method, path string, body any) string {
	e.t.Helper()
	r := e.do(method, path, body)
	if r.status != http.StatusNoContent {
		e.t.Fatalf("%s %s: status %d: %s", method, path, r.status, r.body)
	}
	loc := r.header.Get("Location")
	if loc == "" {
		e.t.Fatalf("%s %s: no Location", method, path)
	}
	return loc[strings.LastIndexByte(loc, '/')+1:]
}

// db is a read-only handle on the books for assertions.
func (e *env) db() *sql.DB { return e.srv.st.b.r }

func (e *env) queryInt(q string, args ...any) int64 {
	e.t.Helper()
	var n sql.NullInt64
	if err := e.db().QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

func (e *env) queryFloat(q string, args ...any) float64 {
	e.t.Helper()
	var n sql.NullFloat64
	if err := e.db().QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n.Float64
}

// glByAccount returns account → debit − credit (cents) of transaction id.
func (e *env) glByAccount(id string) map[int64]int64 {
	e.t.Helper()
	rows, err := e.db().Query("SELECT account, SUM(debit_cents - credit_cents) FROM gl_lines WHERE transaction_id = ? GROUP BY account", id)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var a, v int64
		if err := rows.Scan(&a, &v); err != nil {
			e.t.Fatal(err)
		}
		if v != 0 {
			out[a] = v
		}
	}
	return out
}

func (e *env) onHand(item, loc string) float64 {
	e.t.Helper()
	return e.queryFloat("SELECT onhand FROM inventory WHERE item = ? AND location = ?", item, loc)
}

func (e *env) avgCost(item, loc string) float64 {
	e.t.Helper()
	return e.queryFloat("SELECT averagecost FROM inventory WHERE item = ? AND location = ?", item, loc)
}

// checkBalanced fails if any transaction's GL lines do not balance.
func (e *env) checkBalanced() {
	e.t.Helper()
	var bad sql.NullInt64
	err := e.db().QueryRow(`SELECT transaction_id FROM gl_lines GROUP BY transaction_id
		HAVING SUM(debit_cents) != SUM(credit_cents) LIMIT 1`).Scan(&bad)
	if err == nil {
		e.t.Fatalf("transaction %d does not balance", bad.Int64)
	}
	if err != sql.ErrNoRows {
		e.t.Fatal(err)
	}
}

func ref1(id string) map[string]any { return map[string]any{"id": id} }

// saleLine is a cash sale item line.
func saleLineBody(item string, qty float64, extra ...any) map[string]any {
	l := map[string]any{"item": ref1(item), "quantity": qty}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i].(string)] = extra[i+1]
	}
	return l
}

func items(ls ...map[string]any) map[string]any {
	arr := make([]any, len(ls))
	for i, l := range ls {
		arr[i] = l
	}
	return map[string]any{"items": arr}
}
