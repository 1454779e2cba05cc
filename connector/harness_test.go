package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/money"
)

// harness runs a connector against the fakes on a loopback port.
type harness struct {
	t      *testing.T
	ns     *fakeNetSuite
	gw     *fakeGateway
	c      *Connector
	url    string
	cfg    Config
	cancel context.CancelFunc
	done   chan error
}

func testConfig(t *testing.T, ns *fakeNetSuite, gw *fakeGateway) Config {
	return Config{
		NetSuiteURL: ns.srv.URL, NetSuite: ns.creds(),
		GatewayURL: gw.srv.URL, GatewayKey: "sk_test_fake",
		DataDir: t.TempDir(), Concurrency: 2,
		RetryBase: time.Millisecond, RetryMax: 20 * time.Millisecond,
		RequestTimeout: 5 * time.Second, DependencyWait: 5 * time.Second, Seed: 1,
	}
}

func startHarness(t *testing.T, mods ...func(*Config)) *harness {
	t.Helper()
	ns, gw := newFakeNetSuite(t), newFakeGateway(t)
	cfg := testConfig(t, ns, gw)
	for _, m := range mods {
		m(&cfg)
	}
	h := &harness{t: t, ns: ns, gw: gw, cfg: cfg}
	h.start()
	return h
}

// start (re)starts the connector with h.cfg and waits for its item cache.
func (h *harness) start() {
	h.t.Helper()
	h.launch()
	h.waitFor("catalog loaded", func() bool { return h.c.catalog.loaded() })
}

// launch (re)starts the connector with h.cfg without waiting for anything.
func (h *harness) launch() {
	h.t.Helper()
	c, err := New(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.c, h.url, h.cancel, h.done = c, "http://"+ln.Addr().String(), cancel, make(chan error, 1)
	go func() { h.done <- c.Serve(ctx, ln) }()
	h.t.Cleanup(h.stop)
}

// metric scrapes /metrics and returns the value of the sample named exactly so, e.g.
// `connector_retries_total{cause="timeout"}` (-1 when absent).
func (h *harness) metric(sample string) float64 {
	h.t.Helper()
	code, b := h.do("GET", "/metrics", nil)
	if code != http.StatusOK {
		h.t.Fatalf("/metrics: %d %s", code, b)
	}
	for _, l := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(l, " ")
		if ok && name == sample {
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				h.t.Fatalf("/metrics: %q: %v", l, err)
			}
			return f
		}
	}
	return -1
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("serve: %v", err)
	}
	h.c.Close()
	h.cancel = nil
}

func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drained waits until nothing is pending or in flight.
func (h *harness) drained() contract.SyncStatus {
	h.t.Helper()
	var st contract.SyncStatus
	h.waitFor("the outbox to drain", func() bool {
		st = h.c.Status()
		return st.Pending == 0 && st.InFlight == 0
	})
	return st
}

func (h *harness) do(method, path string, body any) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		js, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, _ := http.NewRequest(method, h.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// submit posts one transaction and wants a 202.
func (h *harness) submit(tx contract.Transaction) {
	h.t.Helper()
	if code, b := h.do("POST", "/pos/v1/transactions", tx); code != http.StatusAccepted {
		h.t.Fatalf("submit %s: %d %s", tx.ID, code, b)
	}
}

func (h *harness) status(id string) contract.TransactionStatus {
	h.t.Helper()
	code, b := h.do("GET", "/pos/v1/transactions/"+id, nil)
	if code != http.StatusOK {
		h.t.Fatalf("status %s: %d %s", id, code, b)
	}
	var st contract.TransactionStatus
	if err := json.Unmarshal(b, &st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

var day = time.Date(2025, 11, 28, 9, 30, 0, 0, time.FixedZone("PST", -8*3600))

// line builds a line; tax in cents.
func line(sku string, qty float64, priceCents, taxCents int64, taxCode string) contract.Line {
	return contract.Line{SKU: sku, Quantity: qty, UnitPrice: money.FromCents(priceCents), TaxAmount: money.FromCents(taxCents), TaxCode: taxCode}
}

func total(lines []contract.Line) money.Amount {
	var t money.Amount
	for _, l := range lines {
		t += contract.LineTotal(l)
	}
	return t
}

// cardSale is a sale paid by one card.
func cardSale(id, register string, at time.Time, lines ...contract.Line) contract.Transaction {
	return contract.Transaction{ID: id, Type: contract.Sale, LocationID: "10", RegisterID: register, CashierID: "C1",
		OccurredAt: at, Lines: lines,
		Tenders: []contract.Tender{{Type: contract.Card, Amount: total(lines), PaymentIntentID: "pi_" + id}}}
}

// cardReturn returns lines of an earlier card sale, refunded to the card.
func cardReturn(id, register, original string, at time.Time, lines ...contract.Line) contract.Transaction {
	return contract.Transaction{ID: id, Type: contract.Return, LocationID: "10", RegisterID: register, CashierID: "C1",
		OccurredAt: at, Lines: lines, OriginalTransactionID: original,
		Tenders: []contract.Tender{{Type: contract.Card, Amount: total(lines), PaymentIntentID: "pi_" + original}}}
}

// path reads a nested field of a JSON body: path(b, "item", "items", 0, "quantity").
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}
