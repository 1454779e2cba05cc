package connector_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/money"
	"github.com/doorbuster/doorbuster/simulator/faults"
	"github.com/doorbuster/doorbuster/simulator/gateway"
	nssim "github.com/doorbuster/doorbuster/simulator/netsuite"
)

// world is the simulators a connector posts to, on loopback, as in a real run.
type world struct {
	t        *testing.T
	w        *fixtures.World
	ns       *nssim.Server
	nsURL    string
	nsFaults *faults.Engine
	gw       *gateway.Server
	gwURL    string
	gwFaults *faults.Engine
	books    *sql.DB // the NetSuite books, read-only
	gwBooks  *sql.DB
}

func newWorld(t *testing.T, concurrencyLimit int) *world {
	t.Helper()
	w, err := fixtures.Generate(7, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	quiet := faults.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	e := &world{t: t, w: w, nsFaults: faults.New(faults.NetSuite, 11, quiet), gwFaults: faults.New(faults.Gateway, 12, quiet)}
	e.ns, err = nssim.New(w, nssim.Config{BooksPath: filepath.Join(dir, "netsuite.db"), ConcurrencyLimit: concurrencyLimit, Faults: e.nsFaults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.ns.Close() })
	e.gw, err = gateway.New(w, gateway.Config{BooksPath: filepath.Join(dir, "gateway.db"), Faults: e.gwFaults, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.gw.Close() })
	nsSrv := httptest.NewServer(e.ns.Handler())
	t.Cleanup(nsSrv.Close)
	gwSrv := httptest.NewServer(e.gw.Handler())
	t.Cleanup(gwSrv.Close)
	e.nsURL, e.gwURL = nsSrv.URL, gwSrv.URL
	e.books = openRO(t, e.ns.BooksPath())
	e.gwBooks = openRO(t, e.gw.BooksPath())
	return e
}

func openRO(t *testing.T, path string) *sql.DB {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// env is the connector environment contract for this world.
func (e *world) env(dataDir, listen string) map[string]string {
	c := e.w.Credentials
	return map[string]string{
		contract.EnvNetSuiteBaseURL: e.nsURL, contract.EnvNetSuiteAccountID: c.AccountID,
		contract.EnvNetSuiteConsumerKey: c.ConsumerKey, contract.EnvNetSuiteConsumerSecret: c.ConsumerSecret,
		contract.EnvNetSuiteTokenID: c.TokenID, contract.EnvNetSuiteTokenSecret: c.TokenSecret,
		contract.EnvGatewayBaseURL: e.gwURL, contract.EnvGatewayAPIKey: e.w.Gateway.SecretKey,
		contract.EnvConnectorListen: listen, contract.EnvConnectorDataDir: dataDir,
	}
}

func (e *world) config(dataDir string, bugs ...connector.Bug) connector.Config {
	env := e.env(dataDir, "127.0.0.1:0")
	cfg, err := connector.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		e.t.Fatal(err)
	}
	cfg.Bugs = bugs
	cfg.RetryBase, cfg.RetryMax = 5*time.Millisecond, 500*time.Millisecond
	cfg.RequestTimeout = 5 * time.Second
	cfg.Seed = 5
	return cfg
}

// rules replaces the fault rules of a simulator with YAML ones.
func rules(t *testing.T, eng *faults.Engine, yaml string) {
	t.Helper()
	rs, err := faults.ParseRules([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Replace(rs); err != nil {
		t.Fatal(err)
	}
}

// running is a connector serving on loopback.
type running struct {
	c    *connector.Connector
	url  string
	stop func()
}

func startConnector(t *testing.T, cfg connector.Config) *running {
	t.Helper()
	c, err := connector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, ln) }()
	var once sync.Once
	r := &running{c: c, url: "http://" + ln.Addr().String()}
	r.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			c.Close()
		})
	}
	t.Cleanup(r.stop)
	waitFor(t, 20*time.Second, "the connector to be ready", func() bool {
		code, _ := call(t, http.MethodGet, r.url+"/readyz", nil)
		return code == http.StatusOK
	})
	return r
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var client = &http.Client{Timeout: 30 * time.Second}

func call(t *testing.T, method, u string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// drain waits until the connector's backlog is empty and returns its status.
func drain(t *testing.T, url string, limit time.Duration) contract.SyncStatus {
	t.Helper()
	var st contract.SyncStatus
	waitFor(t, limit, "the connector to drain", func() bool {
		code, b := call(t, http.MethodGet, url+"/pos/v1/sync/status", nil)
		if code != http.StatusOK || json.Unmarshal(b, &st) != nil {
			return false
		}
		return st.Pending == 0 && st.InFlight == 0
	})
	return st
}

// register builds transactions the way a register does: it looks items up through the
// connector and pays by card through the gateway.
type register struct {
	t        *testing.T
	e        *world
	url      string // connector
	id, loc  string
	n        int
	items    []fixtures.Item
	lookups  map[string]contract.Item
	mu       sync.Mutex
	intentMu sync.Mutex
}

func (e *world) register(t *testing.T, url string, store, reg int) *register {
	stores := e.w.Stores()
	loc := stores[store%len(stores)]
	regs := e.w.RegistersAt(loc.ID)
	return &register{t: t, e: e, url: url, id: regs[reg%len(regs)].ID, loc: loc.ID, items: e.w.Items, lookups: map[string]contract.Item{}}
}

// lookup asks the connector for an item by barcode at the register's store.
func (r *register) lookup(it fixtures.Item) contract.Item {
	r.mu.Lock()
	defer r.mu.Unlock()
	if got, ok := r.lookups[it.UPC]; ok {
		return got
	}
	code, b := call(r.t, http.MethodGet, r.url+"/pos/v1/items/"+it.UPC+"?location="+r.loc, nil)
	var got contract.Item
	if code != http.StatusOK || json.Unmarshal(b, &got) != nil {
		r.t.Fatalf("lookup %s: %d %s", it.UPC, code, b)
	}
	r.lookups[it.UPC] = got
	return got
}

// line sells (or returns) q of item i, taxed as the lookup says.
func (r *register) line(i int, q float64) contract.Line {
	it := r.lookup(r.items[i%len(r.items)])
	amount := it.Price.Mul(q)
	return contract.Line{SKU: it.SKU, Quantity: q, UnitPrice: it.Price, TaxCode: it.TaxCode, TaxAmount: amount.Percent(it.TaxRate)}
}

// pay authorises and captures amount on the gateway and returns the intent id.
func (r *register) pay(amount money.Amount, txID string) string {
	form := url.Values{"amount": {fmt.Sprint(amount.Cents())}, "currency": {"usd"}, "payment_method": {"pm_card_visa"},
		"confirm": {"true"}, "metadata[pos_tx]": {txID}}
	req, _ := http.NewRequest(http.MethodPost, r.e.gwURL+"/v1/payment_intents", strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer "+r.e.w.Gateway.SecretKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", txID+"-pay")
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var pi struct{ ID, Status string }
	b, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(b, &pi) != nil || pi.Status != "succeeded" {
		r.t.Fatalf("payment for %s: %d %s", txID, resp.StatusCode, b)
	}
	return pi.ID
}

func (r *register) nextID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return fmt.Sprintf("%s-%06d", r.id, r.n)
}

// sale builds a card sale of the given (item index, quantity) pairs.
func (r *register) sale(at time.Time, lines ...contract.Line) contract.Transaction {
	tx := contract.Transaction{ID: r.nextID(), Type: contract.Sale, LocationID: r.loc, RegisterID: r.id, CashierID: "CASHIER-1",
		OccurredAt: at, Lines: lines}
	tx.Tenders = []contract.Tender{{Type: contract.Card, Amount: tx.Total(), PaymentIntentID: r.pay(tx.Total(), tx.ID)}}
	return tx
}

// cashSale is paid in cash (no gateway).
func (r *register) cashSale(at time.Time, lines ...contract.Line) contract.Transaction {
	tx := contract.Transaction{ID: r.nextID(), Type: contract.Sale, LocationID: r.loc, RegisterID: r.id, CashierID: "CASHIER-1",
		OccurredAt: at, Lines: lines}
	tx.Tenders = []contract.Tender{{Type: contract.Cash, Amount: tx.Total()}}
	return tx
}

func (r *register) submit(tx contract.Transaction) int {
	code, b := call(r.t, http.MethodPost, r.url+contract.PathTransactions, tx)
	if code != http.StatusAccepted && code != http.StatusOK {
		r.t.Fatalf("submit %s: %d %s", tx.ID, code, b)
	}
	return code
}

// booked is one NetSuite transaction record as the books hold it.
type booked struct {
	id                    int64
	recordType, eid, date string
	location, createdFrom sql.NullInt64
	entity                sql.NullInt64
	total                 int64
}

func (e *world) booked(t *testing.T) map[string][]booked {
	rows, err := e.books.Query(`SELECT id, recordtype, COALESCE(externalid, ''), trandate, location, createdfrom, entity, total_cents, COALESCE(memo, '')
		FROM transactions WHERE recordtype IN ('cashSale', 'cashRefund')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]booked{}
	for rows.Next() {
		var b booked
		var memo string
		if err := rows.Scan(&b.id, &b.recordType, &b.eid, &b.date, &b.location, &b.createdFrom, &b.entity, &b.total, &memo); err != nil {
			t.Fatal(err)
		}
		// Key by the POS transaction id the memo carries (as the invariant checker can),
		// so records created without an external id are found too.
		key := strings.TrimPrefix(memo, "POS ")
		out[key] = append(out[key], b)
	}
	return out
}

// pnRefNums returns the pnrefnum of every tender of a NetSuite transaction.
func (e *world) tenders(t *testing.T, id int64) []string {
	rows, err := e.books.Query(`SELECT COALESCE(kind, ''), amount_cents, COALESCE(pnrefnum, '') FROM tenders WHERE transaction_id = ? ORDER BY seq`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, ref string
		var amount int64
		rows.Scan(&kind, &amount, &ref)
		out = append(out, fmt.Sprintf("%s:%d:%s", kind, amount, ref))
	}
	return out
}

var _ = netsuite.ValidExternalID
