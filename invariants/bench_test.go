package invariants

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// genRun writes a consistent run directory of n journal transactions straight with SQL
// (each with a 640-byte body, about what a register submits):
// the journal, and the NetSuite and gateway books a correct connector would leave (50
// stores and a warehouse, 5,000 items, 1,000 loyalty customers). Transactions: 85 %
// sales of 1–5 lines (60 % card, 40 % cash; 30 % with a loyalty customer; 2 % offline),
// 10 % one-unit returns of the sale three before (refunded like it was paid, half
// restocked), 5 % exchanges of one unit for another settled in cash.
func genRun(ctx context.Context, dir string, n int) error {
	if err := CreateEmptyRun(ctx, dir); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, journalFile)+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-524288)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	c, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, a := range []string{"ATTACH DATABASE '" + filepath.Join(dir, netsuiteFile) + "' AS ns",
		"ATTACH DATABASE '" + filepath.Join(dir, gatewayFile) + "' AS gw",
		"PRAGMA ns.journal_mode = OFF", "PRAGMA ns.synchronous = OFF", "PRAGMA gw.journal_mode = OFF",
		"PRAGMA gw.synchronous = OFF", "PRAGMA ns.cache_size = -524288", "BEGIN"} {
		if _, err := c.ExecContext(ctx, a); err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
	}
	for _, q := range append(genStmts(n), "COMMIT") {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w\n%s", err, q)
		}
	}
	return nil
}

// genStmts are genRun's statements for n transactions, the last one stamping the
// journal's meta with genStamp.
func genStmts(n int) []string {
	const (
		typ   = `CASE WHEN i > 3 AND i % 20 IN (0, 1) THEN 'return' WHEN i > 3 AND i % 20 = 2 THEN 'exchange' ELSE 'sale' END`
		epoch = `1764316800` // 2025-11-28T08:00:00Z; 20 transactions a second
		price = `(100 + (item * 37) % 10000)`
	)
	card := func(i string) string { return "(" + i + ") % 5 < 3" }
	stmts := []string{
		`CREATE TEMP TABLE n (i INTEGER PRIMARY KEY)`,
		`INSERT INTO n WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ` + strconv.Itoa(n) + `) SELECT i FROM c`,
		`CREATE TEMP TABLE k (k INTEGER PRIMARY KEY)`,
		`INSERT INTO k VALUES (0), (1), (2), (3), (4)`,
		// The journal.
		`INSERT INTO main.tx (id, type, scenario, flow, location_id, register_id, cashier_id, occurred_at, occurred_date,
			customer_identity, customer_loyalty_id, original_tx_id, offline, submitted_at, acked_at, ack_status, outcome, body)
		SELECT printf('T%08d', i), ` + typ + `, 'bench', 'sale', CAST(i % 50 + 1 AS TEXT), 'S' || (i % 50 + 1) || '-R1', 'C1',
			strftime('%Y-%m-%dT%H:%M:%fZ', ` + epoch + ` + i / 20.0, 'unixepoch'), date(` + epoch + ` + i / 20.0, 'unixepoch'),
			CASE WHEN i % 10 < 3 THEN 'LOY-' || (i % 1000) ELSE '' END, CASE WHEN i % 10 < 3 THEN CAST(i % 1000 AS TEXT) END,
			CASE WHEN ` + typ + ` <> 'sale' THEN printf('T%08d', i - 3) END, i % 50 = 7,
			strftime('%Y-%m-%dT%H:%M:%fZ', ` + epoch + ` + i / 20.0 + 0.01, 'unixepoch'),
			strftime('%Y-%m-%dT%H:%M:%fZ', ` + epoch + ` + i / 20.0 + 0.05, 'unixepoch'), 202, 'acknowledged',
			printf('{"id":"T%08d","type":"%s","note":"%s"}', i, ` + typ + `, hex(zeroblob(300)))
		FROM n`,
		`CREATE TEMP TABLE gl0 (i INTEGER, k INTEGER, item INTEGER, q INTEGER, restock INTEGER)`,
		`INSERT INTO gl0
		SELECT i, k, 1001 + ((i * 31 + k * 977) % 5000), 1 + ((i + k) % 3), 0 FROM n, k
			WHERE ` + typ + ` = 'sale' AND k < 1 + (i * 7919 % 5)
		UNION ALL
		SELECT i, 0, 1001 + (((i - 3) * 31) % 5000), 1, i % 20 = 0 FROM n WHERE ` + typ + ` = 'return'
		UNION ALL
		SELECT i, 0, 1001 + (((i - 3) * 31) % 5000), -1, 1 FROM n WHERE ` + typ + ` = 'exchange'
		UNION ALL
		SELECT i, 1, 1001 + ((i * 31 + 5) % 5000), 1, 0 FROM n WHERE ` + typ + ` = 'exchange'`,
		`INSERT INTO main.line (tx_id, line_no, sku, item_id, quantity, unit_price_cents, discount_cents, tax_code, tax_rate, tax_cents, restock)
		SELECT printf('T%08d', i), k, 'SKU-' || item, CAST(item AS TEXT), q, ` + price + `, 0, 'T7', 7,
			CAST(round(q * ` + price + ` * 7 / 100.0) AS INTEGER), restock FROM gl0 ORDER BY i, k`,
		`INSERT INTO main.tender (tx_id, tender_no, type, amount_cents, payment_intent_id)
		SELECT printf('T%08d', i), 0,
			CASE WHEN ` + typ + ` = 'sale' AND ` + card("i") + ` OR ` + typ + ` = 'return' AND ` + card("i - 3") + ` THEN 'card' ELSE 'cash' END,
			SUM(q * ` + price + ` + CAST(round(q * ` + price + ` * 7 / 100.0) AS INTEGER)),
			CASE WHEN ` + typ + ` = 'sale' AND ` + card("i") + ` THEN 'pi_' || i WHEN ` + typ + ` = 'return' AND ` + card("i - 3") + ` THEN 'pi_' || (i - 3) END
		FROM gl0 GROUP BY i`,
		`INSERT INTO main.payment (intent_id, tx_id, register_id, location_id, amount_cents, outcome, created_at, finished_at)
		SELECT t.payment_intent_id, t.tx_id, j.register_id, j.location_id, t.amount_cents, 'captured', j.occurred_at, j.occurred_at
		FROM main.tender t JOIN main.tx j ON j.id = t.tx_id WHERE j.type = 'sale' AND t.type = 'card'`,
		// NetSuite's reference data.
		`INSERT INTO ns.subsidiaries (id, name) VALUES (1, 'Parent')`,
		`INSERT INTO ns.tax_codes (id, name, rate) VALUES (1, 'T7', 7)`,
		`INSERT INTO ns.accounts (id, name, type, role) VALUES (101, 'Cash', 'Bank', 'cash'), (102, 'Card clearing', 'Bank', 'cardClearing'),
			(400, 'Sales', 'Income', 'income'), (220, 'Sales tax', 'OthCurrLiab', 'salesTaxPayable'), (500, 'COGS', 'COGS', 'cogs'),
			(130, 'Inventory', 'OthCurrAsset', 'inventoryAsset')`,
		`INSERT INTO ns.payment_methods (id, name, kind, account) VALUES (1, 'Cash', 'cash', 101), (2, 'Card', 'card', 102)`,
		`INSERT INTO ns.locations (id, name, subsidiary, kind, taxcode) SELECT i, 'L' || i, 1, CASE WHEN i = 51 THEN 'warehouse' ELSE 'store' END, 1
			FROM n WHERE i <= 51`,
		`INSERT INTO ns.items (id, itemid, baseprice_cents, averagecost, taxable, taxcode, incomeaccount, cogsaccount, assetaccount)
		SELECT 1000 + i, 'SKU-' || (1000 + i), 100 + ((1000 + i) * 37) % 10000, 5, 1, 1, 400, 500, 130 FROM n WHERE i <= 5000`,
		`INSERT INTO ns.customers (id, entityid, externalid, firstname, lastname, loyaltyid, subsidiary)
		SELECT i, 'CUS' || i, 'LOY-' || (i - 1), 'F', 'L' || i, CAST(i - 1 AS TEXT), 1 FROM n WHERE i <= 1000`,
		// The records: a sale's or return's at 2i, an exchange's sale at 2i + 1.
		`CREATE TEMP TABLE gl1 AS
		SELECT i, k, item, abs(q) AS q, restock, q * ` + price + ` AS amt0, ` + price + ` AS price,
			CASE WHEN ` + typ + ` = 'return' OR q < 0 THEN 'R' ELSE 'S' END AS part,
			2 * i + (` + typ + ` = 'exchange' AND q > 0) AS ns, i % 50 + 1 AS loc
		FROM gl0`,
		`CREATE TEMP TABLE rec AS
		SELECT ns, i, part, loc, SUM(abs(amt0)) AS sub, SUM(abs(CAST(round(amt0 * 7 / 100.0) AS INTEGER))) AS tax,
			CASE WHEN ` + typ + ` = 'sale' AND ` + card("i") + ` OR ` + typ + ` = 'return' AND ` + card("i - 3") + `
				THEN 'card' ELSE 'cash' END AS kind
		FROM gl1 GROUP BY ns`,
		`INSERT INTO ns.transactions (id, recordtype, type, tranid, externalid, trandate, subsidiary, location, entity, paymentmethod,
			createdfrom, total_cents, subtotal_cents, tax_cents, memo, register, cashier, createddate, lastmodifieddate)
		SELECT r.ns, CASE r.part WHEN 'S' THEN 'cashSale' ELSE 'cashRefund' END, CASE r.part WHEN 'S' THEN 'CashSale' ELSE 'CashRfnd' END,
			'T' || r.ns, j.id || CASE WHEN j.type = 'exchange' THEN '-' || r.part ELSE '' END, j.occurred_date, 1, r.loc,
			CASE WHEN j.customer_identity <> '' THEN r.i % 1000 + 1 END, NULL,
			CASE WHEN r.part = 'R' THEN 2 * (r.i - 3) END, r.sub + r.tax, r.sub, r.tax, 'POS ' || j.id, j.register_id, 'C1',
			strftime('%Y-%m-%dT%H:%M:%fZ', ` + epoch + ` + r.i / 20.0 + 0.25, 'unixepoch'),
			strftime('%Y-%m-%dT%H:%M:%fZ', ` + epoch + ` + r.i / 20.0 + 0.25, 'unixepoch')
		FROM rec r JOIN main.tx j ON j.id = printf('T%08d', r.i) ORDER BY r.ns`,
		`INSERT INTO ns.transaction_lines (transaction_id, sublist, line, item, location, quantity, rate, amount_cents, taxcode,
			tax_cents, restock, unitcost, cost_cents)
		SELECT ns, 'item', k + 1, item, loc, q, price / 100.0, abs(amt0), 1, abs(CAST(round(amt0 * 7 / 100.0) AS INTEGER)),
			CASE WHEN part = 'R' THEN restock END, 5, CASE WHEN part = 'S' OR restock THEN q * 500 ELSE 0 END
		FROM gl1 ORDER BY ns, k`,
		`INSERT INTO ns.gl_lines (transaction_id, seq, line, account, debit_cents, credit_cents, role)
		SELECT ns, 0, NULL, CASE WHEN kind = 'card' THEN 102 ELSE 101 END,
			CASE WHEN part = 'S' THEN sub + tax ELSE 0 END, CASE WHEN part = 'R' THEN sub + tax ELSE 0 END, 'payment'
		FROM rec
		UNION ALL
		SELECT ns, 4 * k + 1, k + 1, 400, CASE WHEN part = 'R' THEN abs(amt0) ELSE 0 END, CASE WHEN part = 'S' THEN abs(amt0) ELSE 0 END, 'income' FROM gl1
		UNION ALL
		SELECT ns, 4 * k + 2, k + 1, 220, CASE WHEN part = 'R' THEN abs(CAST(round(amt0 * 7 / 100.0) AS INTEGER)) ELSE 0 END,
			CASE WHEN part = 'S' THEN abs(CAST(round(amt0 * 7 / 100.0) AS INTEGER)) ELSE 0 END, 'tax' FROM gl1
		UNION ALL
		SELECT ns, 4 * k + 3, k + 1, 500, CASE WHEN part = 'S' THEN q * 500 ELSE 0 END, CASE WHEN part = 'R' THEN q * 500 ELSE 0 END, 'cogs'
		FROM gl1 WHERE part = 'S' OR restock
		UNION ALL
		SELECT ns, 4 * k + 4, k + 1, 130, CASE WHEN part = 'R' THEN q * 500 ELSE 0 END, CASE WHEN part = 'S' THEN q * 500 ELSE 0 END, 'asset'
		FROM gl1 WHERE part = 'S' OR restock
		ORDER BY 1, 2`,
		`INSERT INTO ns.tenders (transaction_id, seq, source, paymentmethod, kind, account, amount_cents, pnrefnum)
		SELECT ns, 1, 'paymentMethod', CASE WHEN kind = 'card' THEN 2 ELSE 1 END, kind, CASE WHEN kind = 'card' THEN 102 ELSE 101 END,
			sub + tax, CASE WHEN kind = 'card' THEN CASE part WHEN 'S' THEN 'pi_' || i ELSE 're_' || i END END
		FROM rec`,
		`INSERT INTO ns.inventory_moves (transaction_id, seq, line, item, location, quantity, unitcost, value_cents, reweighs, prevcost)
		SELECT ns, k + 1, k + 1, item, loc, CASE WHEN part = 'S' THEN -q ELSE q END, 5, q * 500, part = 'R', 5
		FROM gl1 WHERE part = 'S' OR restock ORDER BY ns, k`,
		`INSERT INTO ns.inventory (item, location, onhand, averagecost)
		SELECT it.id, l.id, 1000 + COALESCE(m.q, 0), 5
		FROM ns.items it CROSS JOIN ns.locations l
		LEFT JOIN (SELECT item, location, SUM(quantity) AS q FROM ns.inventory_moves GROUP BY item, location) m
			ON m.item = it.id AND m.location = l.id`,
		// The gateway: every card sale captured, card returns refunded.
		`INSERT INTO gw.payment_intents (id, amount, currency, status, capture_method, payment_method_types, amount_received,
			amount_refunded, latest_charge, metadata, pos_tx, store, register, client_secret, created, created_at, captured_at, updated_at)
		SELECT t.payment_intent_id, t.amount_cents, 'usd', 'succeeded', 'automatic', '["card"]', t.amount_cents,
			COALESCE((SELECT r.amount_cents FROM main.tender r JOIN main.tx rj ON rj.id = r.tx_id
				WHERE rj.id = printf('T%08d', CAST(substr(t.tx_id, 2) AS INTEGER) + 3) AND rj.type = 'return' AND r.type = 'card'), 0),
			'ch_' || substr(t.payment_intent_id, 4), '{}', t.tx_id, j.location_id, j.register_id, t.payment_intent_id || '_secret', 0,
			j.occurred_at, j.occurred_at, j.occurred_at
		FROM main.tender t JOIN main.tx j ON j.id = t.tx_id WHERE j.type = 'sale' AND t.type = 'card'`,
		`INSERT INTO gw.refunds (id, payment_intent, charge, amount, currency, reason, status, pos_tx, created, created_at)
		SELECT 're_' || substr(j.id, 2), t.payment_intent_id, 'ch_' || substr(t.payment_intent_id, 4), t.amount_cents, 'usd',
			'requested_by_customer', 'succeeded', j.id, 0, j.acked_at
		FROM main.tender t JOIN main.tx j ON j.id = t.tx_id WHERE j.type = 'return' AND t.type = 'card'`,
		// Probes of the connector's stock view after the drain.
		`INSERT INTO main.stock_probe (sku, location_id, connector_on_hand, probed_at)
		SELECT 'SKU-' || item, CAST(location AS TEXT), onhand, '2025-11-29T00:00:00Z' FROM ns.inventory WHERE (item * 7 + location) % 250 = 0`,
	}
	return append(stmts, `INSERT OR REPLACE INTO main.meta (key, value) VALUES ('bench', '`+genStamp(n, stmts)+`')`)
}

// genStamp names what genRun generated: the count, the generator's statements and the
// schemas, so that a cached run directory made by another version is not reused.
func genStamp(n int, stmts []string) string {
	h := sha256.New()
	for _, q := range append([]string{JournalSchema, netsuiteSchema, gatewaySchema}, stmts...) {
		h.Write([]byte(q))
	}
	return fmt.Sprintf("%d-%x", n, h.Sum(nil)[:8])
}

// benchRun returns a run directory of n generated transactions. With
// DOORBUSTER_BENCH_DIR set, the run is kept there and reused by later runs as long as
// the generator and the schemas are unchanged (the stamp in the journal's meta).
func benchRun(ctx context.Context, b *testing.B, n int) string {
	dir := os.Getenv("DOORBUSTER_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else {
		dir = filepath.Join(dir, strconv.Itoa(n))
		if stamp, err := readStamp(ctx, dir); err == nil {
			if stmts := genStmts(n); stamp == genStamp(n, stmts[:len(stmts)-1]) {
				b.Logf("reusing the generated run in %s", dir)
				return dir
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	began := time.Now()
	if err := genRun(ctx, dir, n); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d transactions in %s", n, time.Since(began).Round(time.Second))
	return dir
}

// readStamp reads the generator's stamp from a run directory's journal.
func readStamp(ctx context.Context, dir string) (string, error) {
	p := filepath.Join(dir, journalFile)
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	db, err := sql.Open("sqlite", "file:"+p+"?mode=ro")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var stamp string
	err = db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'bench'").Scan(&stamp)
	return stamp, err
}

// TestGeneratedRunIsConsistent keeps the benchmark's generator honest: its small
// runs pass every invariant, and a corrupted one fails.
func TestGeneratedRunIsConsistent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := genRun(ctx, dir, 3000); err != nil {
		t.Fatal(err)
	}
	r := check(t, dir, Options{})
	for _, x := range r.Invariants {
		if x.Verdict != Pass {
			dumpReport(t, r)
			t.Fatalf("%s: %s (%s)", x.ID, x.Verdict, x.Reason)
		}
	}
	if r.Counts.JournalTransactions != 3000 || r.KPIs.SyncLatency == nil || r.KPIs.SyncLatency.P50Ms != 200 {
		t.Errorf("counts %+v, latency %+v", r.Counts, r.KPIs.SyncLatency)
	}
	corrupt(t, dir, `UPDATE ns.transaction_lines SET amount_cents = amount_cents + 1 WHERE transaction_id = 2 AND line = 1`)
	r = check(t, dir, Options{})
	if got := failing(r); !strings.Contains(strings.Join(got, " "), Amounts) {
		t.Errorf("failing %v, want amounts among them", got)
	}
}

// BenchmarkCheck1M checks a generated run of 1,000,000 journal transactions
// (DOORBUSTER_BENCH_TX overrides the count). Generating takes a few minutes and is not
// timed; DOORBUSTER_BENCH_DIR keeps the generated run there for the next run. The check's
// worker runs in a process of its own, as doorbuster runs it (DOORBUSTER_BENCH_WORKER=
// connection: on a second connection instead); DOORBUSTER_BENCH_TRACE=1 logs every
// statement's time. Run once:
//
//	go test ./invariants/ -run '^$' -bench BenchmarkCheck1M -benchtime 1x -timeout 30m
func BenchmarkCheck1M(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("DOORBUSTER_BENCH_TX"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 10 {
			b.Fatalf("DOORBUSTER_BENCH_TX=%q: want a count ≥ 10", v)
		}
	}
	ctx := context.Background()
	dir := benchRun(ctx, b, n)
	b.ResetTimer()
	cpu0 := processCPU()
	for range b.N {
		opts := Options{Worker: testWorker}
		if os.Getenv("DOORBUSTER_BENCH_WORKER") == "connection" {
			opts.Worker = nil
		}
		if os.Getenv("DOORBUSTER_BENCH_TRACE") != "" {
			opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		r, err := Check(ctx, dir, opts)
		if err != nil {
			b.Fatal(err)
		}
		if r.Verdict != Pass {
			for _, x := range r.Invariants {
				b.Logf("%s %s %d", x.ID, x.Verdict, x.Violations)
			}
			b.Fatal("the generated run does not pass")
		}
		for _, x := range r.Invariants {
			b.Logf("%-26s %8.0f ms", x.ID, x.TookMs)
		}
		b.Logf("check took %.1f s (%d journal transactions, %d NetSuite records)", r.TookMs/1000,
			r.Counts.JournalTransactions, r.Counts.NetSuitePOSRecords)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
	b.ReportMetric((processCPU()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}
