package pos

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/connector"
	nsclient "github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/simulator/gateway"
	"github.com/doorbuster/doorbuster/simulator/netsuite"
)

// TestAgainstReferenceConnector drives every flow through the reference connector, the
// NetSuite simulator and the gateway, in process, and checks that the connector posted
// exactly what the journal says was acknowledged.
func TestAgainstReferenceConnector(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: skipped with -short")
	}
	w := smallWorld(t)
	dir := t.TempDir()
	ns, err := netsuite.New(w, netsuite.Config{BooksPath: filepath.Join(dir, "netsuite.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	nsSrv := httptest.NewServer(ns.Handler())
	t.Cleanup(nsSrv.Close)
	gw, err := gateway.New(w, gateway.Config{BooksPath: filepath.Join(dir, "gateway.db"), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	gwSrv := httptest.NewServer(gw.Handler())
	t.Cleanup(gwSrv.Close)

	cr := w.Credentials
	c, err := connector.New(connector.Config{
		NetSuiteURL: nsSrv.URL, GatewayURL: gwSrv.URL, GatewayKey: w.Gateway.SecretKey, DataDir: filepath.Join(dir, "connector"),
		NetSuite: nsclient.Credentials{AccountID: cr.AccountID, ConsumerKey: cr.ConsumerKey, ConsumerSecret: cr.ConsumerSecret,
			TokenID: cr.TokenID, TokenSecret: cr.TokenSecret},
		RetryBase: 5 * time.Millisecond, RetryMax: 100 * time.Millisecond, DependencyWait: 10 * time.Second, Seed: 1,
	})
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
	t.Cleanup(func() {
		cancel()
		<-done
		c.Close()
	})
	base := "http://" + ln.Addr().String()
	waitFor(t, 30*time.Second, "connector ready", func() bool {
		resp, err := http.Get(base + contract.PathReady)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	reg := loadgen.NewRegistry()
	journal := filepath.Join(dir, "journal.db")
	mod, err := New(w, Config{ConnectorURL: base, GatewayURL: gwSrv.URL, JournalPath: journal, Seed: 42, Registry: reg, RunID: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, w: w, mod: mod, reg: reg, journal: journal, gwKey: w.Gateway.SecretKey}
	common := map[string]any{"stores": 2, "declineRate": 0.1, "knownCustomerRate": 0.3, "newCustomerRate": 0.2, "sharedNewCustomers": 2,
		"tenders": map[string]any{"card": 0.5, "cash": 0.3, "gift_card": 0.1, "split": 0.1}}
	exec, init := e.exec(FlowSale, common)
	e.runExec("sales", exec, init, 30, 3)
	exec, init = e.exec(FlowReturn, common)
	e.runExec("returns", exec, init, 8, 2)
	exec, init = e.exec(FlowExchange, common)
	e.runExec("exchanges", exec, init, 6, 2)
	exec, init = e.exec(FlowVoid, common)
	e.runExec("voids", exec, init, 3, 1)
	exec, init = e.exec(FlowOfflineResync, map[string]any{"stores": 1, "offlineRegisters": 0.5, "offlineDuration": "1h"})
	e.runExec("offline", exec, init, 10, 2)
	if err := mod.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	var st contract.SyncStatus
	waitFor(t, 60*time.Second, "connector drained", func() bool {
		resp, err := http.Get(base + contract.PathSyncStatus)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&st) != nil {
			return false
		}
		return st.Pending == 0 && st.InFlight == 0
	})
	if err := mod.ProbeStock(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	stats := mod.Stats()
	db := e.closeJournal()
	acked := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE outcome = 'acknowledged'`)
	if acked == 0 || int64(st.Posted+st.DeadLettered) != acked {
		t.Errorf("journal: %d acknowledged; connector: %+v; module: %+v", acked, st, stats.Transactions)
	}
	if st.DeadLettered != 0 {
		t.Errorf("%d transactions dead-lettered by the reference connector", st.DeadLettered)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE outcome != 'acknowledged'`); n != 0 {
		t.Errorf("%d transactions not acknowledged", n)
	}
	for _, typ := range []string{"sale", "return", "exchange"} {
		if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE type = ?`, typ); n == 0 {
			t.Errorf("no %s journaled", typ)
		}
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE offline = 1`); n != 10 {
		t.Errorf("%d offline transactions, want 10", n)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM stock_probe WHERE status = 200 AND connector_on_hand IS NOT NULL`); n != 10 {
		t.Errorf("%d good stock probes of 10", n)
	}
	// The connector's stock view agrees with the registers' shelves: sold, and restocked.
	rows, err := db.Query(`SELECT sku, location_id, connector_on_hand, expected_on_hand FROM stock_probe WHERE abs(connector_on_hand - expected_on_hand) > 1e-6`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var sku, loc string
		var got, want float64
		if err := rows.Scan(&sku, &loc, &got, &want); err != nil {
			t.Fatal(err)
		}
		t.Errorf("stock of %s at %s: connector %g, shelves %g", sku, loc, got, want)
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
