package invariants

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
)

// rec is the SQL for the NetSuite internal id of tx's record of a type.
func rec(tx, recordType string) string { return fmt.Sprintf(recordOf, tx, recordType) }

// removeRecord deletes a record with its impact (as if it was never posted).
func removeRecord(id string) []string {
	return []string{
		`UPDATE ns.inventory SET onhand = onhand - (SELECT SUM(m.quantity) FROM ns.inventory_moves m
			WHERE m.transaction_id = ` + id + ` AND m.item = inventory.item AND m.location = inventory.location)
		WHERE EXISTS (SELECT 1 FROM ns.inventory_moves m WHERE m.transaction_id = ` + id + `
			AND m.item = inventory.item AND m.location = inventory.location)`,
		`DELETE FROM ns.inventory_moves WHERE transaction_id = ` + id,
		`DELETE FROM ns.gl_lines WHERE transaction_id = ` + id,
		`DELETE FROM ns.tenders WHERE transaction_id = ` + id,
		`DELETE FROM ns.transaction_lines WHERE transaction_id = ` + id,
		`DELETE FROM ns.transactions WHERE id = ` + id,
	}
}

// duplicateRecord posts a copy of a record under a new internal id, with its lines,
// GL, tenders and stock moves, and no external id (what a POST does).
func duplicateRecord(id, memo string) []string {
	return []string{
		`CREATE TEMP TABLE dup AS SELECT ` + id + ` AS old, (SELECT MAX(id) + 1 FROM ns.transactions) AS new`,
		`INSERT INTO ns.transactions SELECT dup.new, recordtype, type, tranid || '-2', NULL, trandate, subsidiary,
			location, entity, paymentmethod, createdfrom, total_cents, subtotal_cents, tax_cents, ` + memo + `, register, cashier,
			createddate, lastmodifieddate FROM ns.transactions, dup WHERE id = dup.old`,
		`INSERT INTO ns.transaction_lines SELECT dup.new, sublist, line, item, location, tolocation, quantity, rate, amount_cents,
			taxcode, tax_cents, restock, unitcost, cost_cents, account, debit_cents, credit_cents
			FROM ns.transaction_lines, dup WHERE transaction_id = dup.old`,
		`INSERT INTO ns.gl_lines SELECT dup.new, seq, line, account, debit_cents, credit_cents, role FROM ns.gl_lines, dup
			WHERE transaction_id = dup.old`,
		`INSERT INTO ns.tenders SELECT dup.new, seq, source, paymentmethod, kind, account, amount_cents, pnrefnum, authcode
			FROM ns.tenders, dup WHERE transaction_id = dup.old`,
		`INSERT INTO ns.inventory_moves SELECT dup.new, seq, line, item, location, quantity, unitcost, value_cents, reweighs, prevcost
			FROM ns.inventory_moves, dup WHERE transaction_id = dup.old`,
		`UPDATE ns.inventory SET onhand = onhand + (SELECT SUM(m.quantity) FROM ns.inventory_moves m, dup
			WHERE m.transaction_id = dup.new AND m.item = inventory.item AND m.location = inventory.location)
		WHERE EXISTS (SELECT 1 FROM ns.inventory_moves m, dup WHERE m.transaction_id = dup.new
			AND m.item = inventory.item AND m.location = inventory.location)`,
	}
}

// moveRecord moves a record, its lines and its stock moves to another location.
func moveRecord(id, loc string) []string {
	return []string{
		`UPDATE ns.inventory SET onhand = onhand - (SELECT SUM(m.quantity) FROM ns.inventory_moves m
			WHERE m.transaction_id = ` + id + ` AND m.item = inventory.item AND m.location = inventory.location)
		WHERE EXISTS (SELECT 1 FROM ns.inventory_moves m WHERE m.transaction_id = ` + id + `
			AND m.item = inventory.item AND m.location = inventory.location)`,
		`UPDATE ns.inventory_moves SET location = ` + loc + ` WHERE transaction_id = ` + id,
		`INSERT INTO ns.inventory (item, location, onhand, averagecost)
		SELECT item, location, SUM(quantity), 1 FROM ns.inventory_moves WHERE transaction_id = ` + id + ` GROUP BY item, location
		ON CONFLICT (item, location) DO UPDATE SET onhand = onhand + excluded.onhand`,
		`UPDATE ns.transaction_lines SET location = ` + loc + ` WHERE transaction_id = ` + id,
		`UPDATE ns.transactions SET location = ` + loc + ` WHERE id = ` + id,
	}
}

type evidenceWant struct {
	tx, what, expected, actual, detail string // substrings; "" matches anything
}

func (w evidenceWant) matches(e Evidence) bool {
	return (w.tx == "" || e.TxID == w.tx) && strings.Contains(e.What, w.what) &&
		strings.Contains(e.Expected, w.expected) && strings.Contains(e.Actual, w.actual) && strings.Contains(e.Detail, w.detail)
}

func TestCheckScriptedRun(t *testing.T) {
	sc := runScript(t)
	itemOf := func(sku string) string { return `(SELECT id FROM ns.items WHERE itemid = '` + sku + `')` }
	cases := []struct {
		name    string
		corrupt []string
		opts    Options
		fail    []string // exactly the invariants that must fail
		primary string   // the one whose evidence is checked
		want    evidenceWant
	}{
		{name: "clean"},
		{name: "clean, negative stock allowed", opts: Options{AllowNegativeStock: true}},
		{
			name:    "missing posting",
			corrupt: removeRecord(rec(sc.newCust1, "cashSale")),
			fail:    []string{ExactlyOnce, InventoryConserved, RevenueByStoreDay},
			primary: ExactlyOnce,
			want:    evidenceWant{tx: sc.newCust1, what: "acknowledged but not posted", expected: "1 cash sale", actual: "none"},
		},
		{
			name:    "duplicate posting (POST without external id)",
			corrupt: duplicateRecord(rec(sc.cashSale, "cashSale"), "memo"),
			fail:    []string{ExactlyOnce, InventoryConserved, RevenueByStoreDay},
			primary: ExactlyOnce,
			want:    evidenceWant{tx: sc.cashSale, what: "posted 2 times as a cash sale", expected: "1 record", actual: "2 records"},
		},
		{
			name:    "record with no POS origin",
			corrupt: duplicateRecord(rec(sc.cashSale, "cashSale"), "'POS ghost-1'"),
			fail:    []string{ExactlyOnce, InventoryConserved, RevenueByStoreDay},
			primary: ExactlyOnce,
			want:    evidenceWant{what: "has no POS origin", actual: `names "ghost-1", not in the journal`},
		},
		{
			name:    "posted although rejected",
			corrupt: []string{`UPDATE main.tx SET outcome = 'rejected', ack_status = 422, acked_at = NULL WHERE id = '` + sc.newCust1 + `'`},
			fail:    []string{ExactlyOnce},
			primary: ExactlyOnce,
			want:    evidenceWant{tx: sc.newCust1, what: "rejected", expected: "not posted", detail: "HTTP 422"},
		},
		{
			name: "tax off by a cent",
			corrupt: []string{
				`UPDATE ns.transaction_lines SET tax_cents = tax_cents + 1 WHERE transaction_id = ` + rec(sc.sale, "cashSale") + ` AND line = 1`,
				`UPDATE ns.transactions SET tax_cents = tax_cents + 1, total_cents = total_cents + 1 WHERE id = ` + rec(sc.sale, "cashSale"),
				`UPDATE ns.gl_lines SET credit_cents = credit_cents + 1 WHERE transaction_id = ` + rec(sc.sale, "cashSale") + ` AND role = 'tax' AND line = 1`,
				`UPDATE ns.gl_lines SET debit_cents = debit_cents + 1 WHERE transaction_id = ` + rec(sc.sale, "cashSale") + ` AND role = 'payment'`,
				`UPDATE ns.tenders SET amount_cents = amount_cents + 1 WHERE transaction_id = ` + rec(sc.sale, "cashSale"),
			},
			fail:    []string{Amounts},
			primary: Amounts,
			want:    evidenceWant{tx: sc.sale, what: "lines differ", detail: "tax"},
		},
		{
			name:    "GL out of balance",
			corrupt: []string{`UPDATE ns.gl_lines SET debit_cents = debit_cents + 1 WHERE transaction_id = ` + rec(sc.cashSale, "cashSale") + ` AND role = 'payment'`},
			fail:    []string{GLBalanced},
			primary: GLBalanced,
			want:    evidenceWant{tx: sc.cashSale, what: "does not balance", expected: "debits = credits"},
		},
		{
			name:    "wrong location",
			corrupt: moveRecord(rec(sc.gift, "cashSale"), "4"),
			fail:    []string{InventoryConserved, RevenueByStoreDay, SaleLocation},
			primary: SaleLocation,
			want:    evidenceWant{tx: sc.gift, what: "is not at the store", expected: "location 3", actual: "location 4"},
		},
		{
			name:    "wrong tranDate for an offline transaction",
			corrupt: []string{`UPDATE ns.transactions SET trandate = date(trandate, '+1 day') WHERE id = ` + rec(sc.offline, "cashSale")},
			fail:    []string{OfflineTranDate, RevenueByStoreDay},
			primary: OfflineTranDate,
			want:    evidenceWant{tx: sc.offline, what: "wrong tranDate"},
		},
		{
			name: "a second customer for one identity",
			corrupt: []string{
				`INSERT INTO ns.customers (id, entityid, firstname, lastname, loyaltyid) VALUES (999999, 'CUS999999', 'Nova', 'Newman', '990000000001')`,
				`UPDATE ns.transactions SET entity = 999999 WHERE id = ` + rec(sc.newCust2, "cashSale"),
			},
			fail:    []string{OneCustomerPerIdentity},
			primary: OneCustomerPerIdentity,
			want:    evidenceWant{what: "LOY-990000000001", expected: "1 NetSuite customer", actual: "2 customers"},
		},
		{
			name:    "negative stock",
			corrupt: []string{`UPDATE ns.inventory SET onhand = -2 WHERE location = 1 AND item = ` + itemOf(sc.soldSKU)},
			fail:    []string{NoNegativeStock},
			primary: NoNegativeStock,
			want:    evidenceWant{what: "at location 1 is below zero", actual: "-2"},
		},
		{
			name:    "negative stock allowed",
			corrupt: []string{`UPDATE ns.inventory SET onhand = -2 WHERE location = 1 AND item = ` + itemOf(sc.soldSKU)},
			opts:    Options{AllowNegativeStock: true},
		},
		{
			name: "uncaptured authorisation",
			corrupt: []string{`INSERT INTO gw.payment_intents (id, amount, currency, status, capture_method, payment_method_types,
				amount_capturable, client_secret, created, created_at, updated_at)
				VALUES ('pi_open', 1234, 'usd', 'requires_capture', 'manual', '["card_present"]', 1234, 'pi_open_secret', 0,
					'2025-11-28T09:00:00.000Z', '2025-11-28T09:00:00.000Z')`},
			fail:    []string{PaymentsReconcile},
			primary: PaymentsReconcile,
			want:    evidenceWant{what: "authorisation pi_open left open", actual: "requires_capture, 12.34 capturable"},
		},
		{
			name:    "capture short at the gateway",
			corrupt: []string{`UPDATE gw.payment_intents SET amount_received = amount_received - 100 WHERE pos_tx = '` + sc.sale + `'`},
			fail:    []string{PaymentsReconcile},
			primary: PaymentsReconcile,
			want:    evidenceWant{what: "card money at location 1", detail: "gateway captured"},
		},
		{
			name: "double refund",
			corrupt: []string{
				`INSERT INTO gw.refunds (id, payment_intent, charge, amount, currency, reason, status, metadata, pos_tx, created, created_at)
				SELECT 're_again', payment_intent, charge, amount, currency, reason, status, metadata, pos_tx, created, created_at
				FROM gw.refunds WHERE pos_tx = '` + sc.ret + `'`,
				`UPDATE gw.payment_intents SET amount_refunded = amount_refunded * 2 WHERE id IN (SELECT payment_intent FROM gw.refunds WHERE id = 're_again')`,
			},
			fail:    []string{PaymentsReconcile},
			primary: PaymentsReconcile,
			want:    evidenceWant{tx: sc.ret, what: "refunded more times than the POS refunded it", expected: "in 1 refund", actual: "in 2 refunds"},
		},
		{
			name:    "stock probe mismatch",
			corrupt: []string{`UPDATE main.stock_probe SET connector_on_hand = connector_on_hand + 1 WHERE sku = '` + sc.probeSKU + `'`},
			fail:    []string{StockViewConverges},
			primary: StockViewConverges,
			want:    evidenceWant{what: "SKU " + sc.probeSKU + " at location 2"},
		},
	}
	// Every case runs on the books and journal as the simulator and xk6-pos keep them
	// (transaction_sums and tx_sums maintained by triggers), on ones without those sums
	// (the checker sums the lines itself), and with one sale's lines naming no item id
	// (that sale summed from its lines): all must reach the same verdicts.
	noSums := []string{`DROP TABLE ns.transaction_sums`, `DELETE FROM main.meta WHERE key = 'tx_sums'`}
	for _, tr := range []string{"transaction_lines_sums_insert", "transaction_lines_sums_delete", "transaction_lines_sums_update_old",
		"transaction_lines_sums_update_new", "inventory_moves_sums_insert", "inventory_moves_sums_delete", "inventory_moves_sums_update",
		"tenders_sums_insert", "tenders_sums_delete", "tenders_sums_update", "gl_lines_sums_insert", "gl_lines_sums_delete", "gl_lines_sums_update"} {
		noSums = append(noSums, "DROP TRIGGER ns."+tr)
	}
	for _, books := range []struct {
		name  string
		setup []string
	}{{"sums", nil}, {"no sums", noSums}, {"a line without item id", []string{
		`UPDATE main.line SET item_id = NULL WHERE tx_id = (SELECT MIN(id) FROM main.tx WHERE type = 'sale')`}}} {
		for _, c := range cases {
			t.Run(books.name+"/"+c.name, func(t *testing.T) {
				checkCase(t, sc.dir, append(slices.Clone(books.setup), c.corrupt...), c.opts, c.fail, c.primary, c.want)
			})
		}
	}
}

// checkCase corrupts a copy of a run and asserts that exactly fail fail, with
// evidence of primary that matches want.
func checkCase(t *testing.T, src string, stmts []string, opts Options, fail []string, primary string, want evidenceWant) {
	t.Helper()
	c := struct {
		opts    Options
		fail    []string
		primary string
		want    evidenceWant
	}{opts, fail, primary, want}
	{
		{
			dir := copyRun(t, src)
			if len(stmts) > 0 {
				corrupt(t, dir, stmts...)
			}
			r := check(t, dir, c.opts)
			got := failing(r)
			want := slices.Clone(c.fail)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				dumpReport(t, r)
				t.Fatalf("failing invariants %v, want %v", got, want)
			}
			if (r.Verdict == Pass) != (len(want) == 0) {
				t.Errorf("verdict %s with failing %v", r.Verdict, got)
			}
			if len(want) == 0 {
				for _, x := range r.Invariants {
					if x.Verdict == NotApplicable && !(x.ID == NoNegativeStock && c.opts.AllowNegativeStock) {
						t.Errorf("%s not applicable (%s) in the scripted run", x.ID, x.Reason)
					}
				}
				return
			}
			res, _ := r.Result(c.primary)
			if res.Violations == 0 || len(res.Evidence) == 0 {
				t.Fatalf("%s: %d violations, %d evidence", c.primary, res.Violations, len(res.Evidence))
			}
			if !slices.ContainsFunc(res.Evidence, c.want.matches) {
				dumpReport(t, r)
				t.Errorf("%s: no evidence matches %+v", c.primary, c.want)
			}
		}
	}
}

// TestOverReturn: a register returns more than the sale sold, and the connector posts
// it as given: only returns-bounded fails.
func TestOverReturn(t *testing.T) {
	s := newStack(t, 11)
	sku := s.world.Items[0].SKU
	now := time.Now().UTC().Add(-time.Minute)
	l1 := []contract.Line{s.line(sku, "1", 1, 0)}
	s.submit(contract.Transaction{ID: "S001-R01-000001", Type: contract.Sale, LocationID: "1", RegisterID: "S001-R01",
		CashierID: "C1", OccurredAt: now, Lines: l1, Tenders: []contract.Tender{{Type: contract.Cash, Amount: lineTotal(l1)}}})
	l2 := []contract.Line{s.line(sku, "1", 2, 0)}
	l2[0].Restock = true
	s.submit(contract.Transaction{ID: "S001-R01-000002", Type: contract.Return, LocationID: "1", RegisterID: "S001-R01",
		CashierID: "C1", OccurredAt: now.Add(time.Second), OriginalTransactionID: "S001-R01-000001", Lines: l2,
		Tenders: []contract.Tender{{Type: contract.Cash, Amount: lineTotal(l2)}}})
	s.drain("S001-R01-000001", "S001-R01-000002")
	r := check(t, s.finish(), Options{})
	if got := failing(r); !slices.Equal(got, []string{ReturnsBounded}) {
		dumpReport(t, r)
		t.Fatalf("failing %v, want [%s]", got, ReturnsBounded)
	}
	res, _ := r.Result(ReturnsBounded)
	want := []evidenceWant{
		{tx: "S001-R01-000001", what: "returned more of item " + s.world.Items[0].ID, expected: "≤ 1", actual: "2", detail: "S001-R01-000002"},
		{tx: "S001-R01-000001", what: "refunded more than the original sale's total"},
	}
	for _, w := range want {
		if !slices.ContainsFunc(res.Evidence, w.matches) {
			dumpReport(t, r)
			t.Errorf("no evidence matches %+v", w)
		}
	}
}

// TestBugSwitches runs the scripted transactions through the reference connector with
// a bug switch on and checks the invariant that names the bug fails (other invariants
// may fail too: a bug has consequences). Switches that need faults or a crash to show
// (drop-on-429, refund-no-idempotency, memory-outbox, batch-truncate, and no-upsert's
// duplicates after lost responses) are the certification matrix's. Without faults,
// no-upsert still shows: returns name their sale by an external id it never set, so
// NetSuite refuses them.
func TestBugSwitches(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the connector once per switch")
	}
	for _, c := range []struct {
		bug    connector.Bug
		caught []string // each must fail
	}{
		{connector.BugTaxOnTotal, []string{Amounts}},
		{connector.BugDefaultLocation, []string{SaleLocation, InventoryConserved}},
		{connector.BugSyncDate, []string{OfflineTranDate}},
		{connector.BugNewCustomerEachTime, []string{OneCustomerPerIdentity}},
		{connector.BugFullRefund, []string{ReturnsBounded, PaymentsReconcile, Amounts}},
		{connector.BugNoUpsert, []string{ExactlyOnce}},
	} {
		t.Run(string(c.bug), func(t *testing.T) {
			sc := runScript(t, c.bug)
			r := check(t, sc.dir, Options{})
			got := failing(r)
			for _, id := range c.caught {
				if !slices.Contains(got, id) {
					dumpReport(t, r)
					t.Errorf("%s not caught by %s (failing: %v)", c.bug, id, got)
				}
			}
			t.Logf("%s → failing %v", c.bug, got)
		})
	}
}

// TestInventoryLedger holds the books' stock ledger against a known start: the
// world's stock, given as Options.StartStock or kept in the books (inventory_start).
func TestInventoryLedger(t *testing.T) {
	sc := runScript(t)
	w, err := fixtures.Generate(7, fixtures.Small) // runScript's world
	if err != nil {
		t.Fatal(err)
	}
	var start []StockLevel
	var values []string
	for _, it := range w.Items {
		for _, st := range it.OnHand {
			start = append(start, StockLevel{ItemID: it.ID, LocationID: st.LocationID, Quantity: st.Quantity})
			values = append(values, fmt.Sprintf("(%s, %s, %g)", it.ID, st.LocationID, st.Quantity))
		}
	}
	snapshot := []string{
		`CREATE TABLE ns.inventory_start (item INTEGER NOT NULL, location INTEGER NOT NULL, onhand REAL NOT NULL, PRIMARY KEY (item, location))`,
		`INSERT INTO ns.inventory_start VALUES ` + strings.Join(values, ", "),
	}
	drift := `UPDATE ns.inventory SET onhand = onhand + 5 WHERE location = 1 AND item = (SELECT id FROM ns.items WHERE itemid = '` + sc.soldSKU + `')`
	soldID, _ := w.ItemBySKU(sc.soldSKU)
	for _, c := range []struct {
		name    string
		corrupt []string
		opts    Options
		fail    bool
		note    string
	}{
		{name: "options, clean", opts: Options{StartStock: start}, note: "Options.StartStock"},
		{name: "options, on hand drifted", corrupt: []string{drift}, opts: Options{StartStock: start}, fail: true, note: "Options.StartStock"},
		{name: "books snapshot, clean", corrupt: snapshot, note: "inventory_start"},
		{name: "books snapshot, on hand drifted", corrupt: append(snapshot, drift), fail: true, note: "inventory_start"},
		{name: "no start, on hand drifted", corrupt: []string{drift}, note: "opening balance is not checked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyRun(t, sc.dir)
			if len(c.corrupt) > 0 {
				corrupt(t, dir, c.corrupt...)
			}
			r := check(t, dir, c.opts)
			res, _ := r.Result(InventoryConserved)
			if !strings.Contains(res.Note, c.note) {
				t.Errorf("note %q, want it to mention %q", res.Note, c.note)
			}
			if got := failing(r); c.fail != (len(got) > 0) || c.fail && !slices.Equal(got, []string{InventoryConserved}) {
				dumpReport(t, r)
				t.Fatalf("failing %v", got)
			}
			if c.fail {
				want := evidenceWant{what: "item " + soldID.ID + " at location 1: start + stock moves ≠ end on hand"}
				if !slices.ContainsFunc(res.Evidence, want.matches) {
					dumpReport(t, r)
					t.Errorf("no evidence matches %+v", want)
				}
			}
		})
	}
}
