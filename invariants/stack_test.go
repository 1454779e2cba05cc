package invariants

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/connector"
	cnetsuite "github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/money"
	"github.com/doorbuster/doorbuster/simulator/gateway"
	"github.com/doorbuster/doorbuster/simulator/netsuite"
)

// stack runs the real NetSuite and gateway simulators and the reference connector
// in-process on loopback, plays registers against them (card payments at the gateway,
// transactions to the connector) and writes the registers' journal, so that a test
// gets a real run directory.
type stack struct {
	t       *testing.T
	ctx     context.Context
	world   *fixtures.World
	dir     string // run directory
	ns      *netsuite.Server
	nsSrv   *httptest.Server
	gw      *gateway.Server
	gwSrv   *httptest.Server
	conn    *connector.Connector
	connURL string
	stop    func()
	journal *sql.DB
}

func newStack(t *testing.T, seed int64, bugs ...connector.Bug) *stack {
	t.Helper()
	ctx := context.Background()
	w, err := fixtures.Generate(seed, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	live := t.TempDir()
	s := &stack{t: t, ctx: ctx, world: w, dir: t.TempDir()}
	s.ns, err = netsuite.New(w, netsuite.Config{BooksPath: filepath.Join(live, "ns.db")})
	if err != nil {
		t.Fatal(err)
	}
	s.nsSrv = httptest.NewServer(s.ns.Handler())
	s.gw, err = gateway.New(w, gateway.Config{BooksPath: filepath.Join(live, "gw.db"), Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	s.gwSrv = httptest.NewServer(s.gw.Handler())
	c := w.Credentials
	s.conn, err = connector.New(connector.Config{
		NetSuiteURL: s.nsSrv.URL,
		NetSuite: cnetsuite.Credentials{AccountID: c.AccountID, ConsumerKey: c.ConsumerKey,
			ConsumerSecret: c.ConsumerSecret, TokenID: c.TokenID, TokenSecret: c.TokenSecret},
		GatewayURL: s.gwSrv.URL, GatewayKey: w.Gateway.SecretKey,
		DataDir: filepath.Join(live, "outbox"), Concurrency: 2, Bugs: bugs, Seed: seed,
		RetryBase: time.Millisecond, RetryMax: 20 * time.Millisecond, RequestTimeout: 10 * time.Second,
		DependencyWait: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.conn.Serve(cctx, ln) }()
	s.connURL = "http://" + ln.Addr().String()
	s.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("connector: %v", err)
		}
		s.conn.Close()
		s.nsSrv.Close()
		s.gwSrv.Close()
		s.ns.Close()
		s.gw.Close()
	}
	t.Cleanup(func() {
		if s.stop != nil {
			s.stop()
		}
		if s.journal != nil {
			s.journal.Close()
		}
	})
	s.journal, err = sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: filepath.Join(s.dir, journalFile)}).String())
	if err != nil {
		t.Fatal(err)
	}
	s.journal.SetMaxOpenConns(1)
	if _, err := s.journal.Exec(JournalSchema); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the connector to be ready", func() bool {
		resp, err := http.Get(s.connURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

func (s *stack) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pay takes a card payment at the gateway as a register's terminal would, and
// journals it.
func (s *stack) pay(tx *contract.Transaction, i int) {
	s.t.Helper()
	td := &tx.Tenders[i]
	form := url.Values{"amount": {fmt.Sprint(td.Amount.Cents())}, "currency": {"usd"},
		"payment_method": {"pm_card_visa"}, "confirm": {"true"},
		"metadata[pos_tx]": {tx.ID}, "metadata[store]": {tx.LocationID}, "metadata[register]": {tx.RegisterID}}
	req, _ := http.NewRequest("POST", s.gwSrv.URL+"/v1/payment_intents", strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer "+s.world.Gateway.SecretKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var pi struct {
		ID, Status string
	}
	s.do(req, http.StatusOK, &pi)
	if pi.Status != "succeeded" {
		s.t.Fatalf("payment of %s: status %s", tx.ID, pi.Status)
	}
	td.PaymentIntentID = pi.ID
	now := time.Now().UTC().Format(time.RFC3339Nano)
	s.exec(`INSERT INTO payment (intent_id, tx_id, register_id, location_id, amount_cents, outcome, created_at, finished_at)
		VALUES (?, ?, ?, ?, ?, 'captured', ?, ?)`, pi.ID, tx.ID, tx.RegisterID, tx.LocationID, td.Amount.Cents(), now, now)
}

func (s *stack) do(req *http.Request, want int, out any) {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", req.Method, req.URL.Path, err, b)
		}
	}
}

func (s *stack) exec(q string, args ...any) {
	s.t.Helper()
	if _, err := s.journal.Exec(q, args...); err != nil {
		s.t.Fatal(err)
	}
}

// submit pays the card tenders of a sale or exchange, submits the transaction
// (offline ones in a batch, as a register's queue) and journals it as acknowledged.
func (s *stack) submit(tx contract.Transaction) contract.Transaction {
	s.t.Helper()
	for i, td := range tx.Tenders {
		if td.Type == contract.Card && td.Amount > 0 && tx.Type != contract.Return && td.PaymentIntentID == "" {
			s.pay(&tx, i)
		}
	}
	submitted := time.Now()
	var body []byte
	if tx.Offline {
		body, _ = json.Marshal(contract.Batch{Transactions: []contract.Transaction{tx}})
		req, _ := http.NewRequest("POST", s.connURL+contract.PathBatch, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		var res contract.BatchResult
		s.do(req, http.StatusOK, &res)
		if len(res.Results) != 1 || res.Results[0].Status != contract.ItemAccepted {
			s.t.Fatalf("batch of %s: %+v", tx.ID, res)
		}
	} else {
		body, _ = json.Marshal(tx)
		req, _ := http.NewRequest("POST", s.connURL+contract.PathTransactions, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		s.do(req, http.StatusAccepted, nil)
	}
	s.journalTx(tx, body, submitted, time.Now(), 202, "acknowledged")
	return tx
}

// journalTx writes a transaction as xk6-pos does (signs per the journal contract).
func (s *stack) journalTx(t contract.Transaction, body []byte, submitted, acked time.Time, status int, outcome string) {
	s.t.Helper()
	sign := int64(1)
	if t.Type == contract.Return {
		sign = -1
	}
	var sub, disc, tax, total int64
	for _, l := range t.Lines {
		sub += l.UnitPrice.Mul(l.Quantity).Cents()
		disc += l.Discount.Cents()
		tax += l.TaxAmount.Cents()
		total += contract.LineTotal(l).Cents()
	}
	identity, loyalty, email := "", any(nil), any(nil)
	if t.Customer != nil {
		if t.Customer.LoyaltyID != "" {
			identity, loyalty = "LOY-"+t.Customer.LoyaltyID, t.Customer.LoyaltyID
		}
		if t.Customer.Email != "" {
			email = t.Customer.Email
		}
	}
	var orig any
	if t.OriginalTransactionID != "" {
		orig = t.OriginalTransactionID
	}
	const layout = "2006-01-02T15:04:05.000000000Z07:00"
	s.exec(`INSERT INTO tx (id, type, scenario, flow, location_id, register_id, cashier_id, occurred_at, occurred_date,
		customer_identity, customer_email, customer_loyalty_id, original_tx_id, offline, subtotal_cents, discount_cents,
		tax_cents, total_cents, submitted_at, acked_at, ack_status, outcome, body)
		VALUES (?, ?, 'test', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, string(t.Type), string(t.Type), t.LocationID, t.RegisterID, t.CashierID, t.OccurredAt.UTC().Format(layout),
		t.OccurredAt.Format(time.DateOnly), identity, email, loyalty, orig, t.Offline, sign*sub, sign*disc, sign*tax,
		sign*total, submitted.UTC().Format(layout), acked.UTC().Format(layout), status, outcome, string(body))
	for i, l := range t.Lines {
		it, ok := s.world.ItemBySKU(l.SKU)
		if !ok {
			s.t.Fatalf("no item %s", l.SKU)
		}
		s.exec(`INSERT INTO line (tx_id, line_no, sku, item_id, quantity, unit_price_cents, discount_cents, tax_code, tax_rate,
			tax_cents, restock) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`, t.ID, i, l.SKU, it.ID, l.Quantity, l.UnitPrice.Cents(),
			l.Discount.Cents(), l.TaxCode, l.TaxAmount.Cents(), l.Restock)
	}
	for i, td := range t.Tenders {
		var pi any
		if td.PaymentIntentID != "" {
			pi = td.PaymentIntentID
		}
		s.exec(`INSERT INTO tender (tx_id, tender_no, type, amount_cents, payment_intent_id) VALUES (?, ?, ?, ?, ?)`,
			t.ID, i, string(td.Type), td.Amount.Cents(), pi)
	}
}

// drain waits until the connector has nothing pending and checks every transaction
// was posted (none dead-lettered).
func (s *stack) drain(ids ...string) {
	s.t.Helper()
	s.waitFor("the connector to drain", func() bool {
		st := s.conn.Status()
		return st.Pending == 0 && st.InFlight == 0
	})
	for _, id := range ids {
		req, _ := http.NewRequest("GET", s.connURL+"/pos/v1/transactions/"+url.PathEscape(id), nil)
		var st contract.TransactionStatus
		s.do(req, http.StatusOK, &st)
		if st.State != contract.StatePosted {
			s.t.Fatalf("transaction %s: %s %s", id, st.State, st.Error)
		}
	}
}

// probe asks the connector for an item's on hand, as the harness does after the
// drain, and journals it.
func (s *stack) probe(sku, loc string) {
	s.t.Helper()
	it, _ := s.world.ItemBySKU(sku)
	req, _ := http.NewRequest("GET", s.connURL+"/pos/v1/items/"+it.UPC+"?location="+loc, nil)
	var item contract.Item
	s.do(req, http.StatusOK, &item)
	s.exec(`INSERT INTO stock_probe (sku, location_id, connector_on_hand, probed_at) VALUES (?, ?, ?, ?)`,
		sku, loc, item.OnHand, time.Now().UTC().Format(time.RFC3339Nano))
}

// finish stops everything and exports the books into the run directory.
func (s *stack) finish() string {
	s.t.Helper()
	if err := os.MkdirAll(filepath.Join(s.dir, "books"), 0o755); err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.Get(s.nsSrv.URL + "/_sim/export")
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("netsuite export: %d %s", resp.StatusCode, b)
	}
	if err := os.WriteFile(filepath.Join(s.dir, netsuiteFile), b, 0o644); err != nil {
		s.t.Fatal(err)
	}
	if err := s.gw.Export(s.ctx, filepath.Join(s.dir, gatewayFile)); err != nil {
		s.t.Fatal(err)
	}
	s.stop()
	s.stop = nil
	if err := s.journal.Close(); err != nil {
		s.t.Fatal(err)
	}
	s.journal = nil
	return s.dir
}

// Transaction builders.

// sell builds a line of qty units of the world's item sku at store loc, tax per line as
// a register computes it.
func (s *stack) line(sku, loc string, qty float64, discountCents int64) contract.Line {
	s.t.Helper()
	it, ok := s.world.ItemBySKU(sku)
	if !ok {
		s.t.Fatalf("no item %s", sku)
	}
	l, _ := s.world.Location(loc)
	tc, ok := s.world.ItemTaxCode(it, l)
	if !ok {
		s.t.Fatalf("no tax code for %s at %s", sku, loc)
	}
	ln := contract.Line{SKU: sku, Quantity: qty, UnitPrice: it.Price, Discount: money.FromCents(discountCents), TaxCode: tc.Name}
	ln.TaxAmount = contract.LineNet(ln).Percent(tc.Rate)
	return ln
}

func lineTotal(lines []contract.Line) money.Amount {
	var t money.Amount
	for _, l := range lines {
		t += contract.LineTotal(l)
	}
	return t
}
