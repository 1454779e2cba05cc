package pos

import (
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/money"
)

// TestJournalSchemaContract keeps the columns of the run directory contract
// (INTERFACES.md, read by the invariant checker) in journal.db.
func TestJournalSchemaContract(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := openJournal(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string][]string{
		"meta": {"key", "value"},
		"tx": {"id", "type", "scenario", "flow", "location_id", "register_id", "cashier_id", "occurred_at", "occurred_date",
			"customer_identity", "customer_email", "customer_loyalty_id", "original_tx_id", "offline", "subtotal_cents",
			"discount_cents", "tax_cents", "total_cents", "submitted_at", "acked_at", "ack_status", "outcome", "body"},
		"line": {"tx_id", "line_no", "sku", "item_id", "quantity", "unit_price_cents", "discount_cents", "tax_code",
			"tax_rate", "tax_cents", "restock"},
		"tender":      {"tx_id", "tender_no", "type", "amount_cents", "payment_intent_id"},
		"payment":     {"intent_id", "tx_id", "register_id", "location_id", "amount_cents", "outcome", "created_at", "finished_at"},
		"stock_probe": {"sku", "location_id", "connector_on_hand", "probed_at"},
	}
	for table, cols := range want {
		rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			got = append(got, c)
		}
		rows.Close()
		for _, c := range cols {
			if !slices.Contains(got, c) {
				t.Errorf("journal table %s lacks column %s (has %v)", table, c, got)
			}
		}
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q %v, want wal", mode, err)
	}
}

// TestJournalWritesInBatches writes more entries than a batch and checks every row and
// the signed columns of a return.
func TestJournalWritesInBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := openJournal(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 11, 27, 23, 59, 59, 500, time.UTC)
	const n = 1500
	for i := range n {
		tx := &contract.Transaction{ID: fmt.Sprintf("T%05d", i), Type: contract.Return,
			LocationID: "1", RegisterID: "S001-R01", OccurredAt: at, OriginalTransactionID: "S1",
			Lines:   []contract.Line{{SKU: "A", Quantity: 2, UnitPrice: 500, Discount: 100, TaxCode: "X", TaxAmount: 72, Restock: true}},
			Tenders: []contract.Tender{{Type: contract.Card, Amount: money.Amount(972), PaymentIntentID: "pi_1"}}}
		j.add(&txEntry{tx: tx, body: []byte("{}"), outcome: OutcomeAcknowledged, ackStatus: 202, submittedAt: at, ackedAt: at,
			lines: []lineMeta{{itemID: "7", taxRate: 8, weighed: false}}})
	}
	j.add(&paymentEntry{intentID: "pi_1", txID: "S1", outcome: PayCaptured, amount: 972, created: at, finished: at})
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	if s := j.stats(); s.Transactions != n || s.Payments != 1 || s.Flushes < 3 || s.MaxBatch > journalBatch || s.Errors != 0 {
		t.Errorf("stats %+v", s)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE total_cents = -972 AND subtotal_cents = -1000 AND discount_cents = -100
  AND tax_cents = -72 AND occurred_date = '2025-11-27' AND occurred_at = '2025-11-27T23:59:59.000000500Z'`); c != n {
		t.Errorf("%d of %d return rows as expected", c, n)
	}
	if c := queryInt(t, db, `SELECT COUNT(*) FROM line WHERE signed_quantity = -2 AND quantity = 2 AND total_cents = -972 AND item_id = '7' AND tax_rate = 8 AND restock = 1`); c != n {
		t.Errorf("%d of %d line rows as expected", c, n)
	}
	if c := queryInt(t, db, `SELECT COUNT(*) FROM tender WHERE amount_cents = 972 AND signed_amount_cents = -972`); c != n {
		t.Errorf("%d of %d tender rows as expected", c, n)
	}
}
