package invariants

import (
	"context"
	"database/sql"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/contract"
)

// scripted is what a scripted run did, for tests to corrupt.
type scripted struct {
	dir                    string
	sale, cashSale, split  string // t1 (card, known customer), t2 (cash), t3 (card + cash)
	ret, exchange, offline string // t4 (return of t1), t5 (exchange of t2), t6 (offline)
	newCust1, newCust2     string // t7, t8: one new customer at two stores
	gift                   string // t9: gift card + cash
	soldSKU                string // an item sold in t1 at store 1
	probeSKU               string // an item probed after the drain
}

// runScript plays a fixed set of POS transactions through the real simulators and
// reference connector (with bugs switched on, if any) and returns the run directory.
func runScript(t *testing.T, bugs ...connector.Bug) scripted {
	t.Helper()
	s := newStack(t, 7, bugs...)
	w := s.world
	sku := func(i int) string { return w.Items[i].SKU }
	now := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Minute)
	known := w.Customers[0]
	newCust := &contract.Customer{LoyaltyID: "990000000001", FirstName: "Nova", LastName: "Newman", Email: "nova@example.com"}
	sc := scripted{sale: "S001-R01-000001", cashSale: "S001-R02-000001", split: "S002-R01-000001",
		ret: "S001-R01-000002", exchange: "S001-R02-000002", offline: "S002-R02-000001",
		newCust1: "S001-R03-000001", newCust2: "S003-R01-000001", gift: "S003-R02-000001",
		soldSKU: sku(0), probeSKU: sku(6)}

	// t1: card sale, known customer.
	l1 := []contract.Line{s.line(sku(0), "1", 2, 0), s.line(sku(1), "1", 1, 150)}
	t1 := s.submit(contract.Transaction{ID: sc.sale, Type: contract.Sale, LocationID: "1", RegisterID: "S001-R01",
		CashierID: "C1", OccurredAt: now, Customer: &contract.Customer{LoyaltyID: known.LoyaltyID, FirstName: known.FirstName,
			LastName: known.LastName}, Lines: l1, Tenders: []contract.Tender{{Type: contract.Card, Amount: lineTotal(l1)}}})
	// t2: cash sale.
	l2 := []contract.Line{s.line(sku(2), "1", 1, 120)}
	s.submit(contract.Transaction{ID: sc.cashSale, Type: contract.Sale, LocationID: "1", RegisterID: "S001-R02",
		CashierID: "C2", OccurredAt: now.Add(time.Second), Lines: l2,
		Tenders: []contract.Tender{{Type: contract.Cash, Amount: lineTotal(l2)}}})
	// t3: split card + cash at store 2.
	l3 := []contract.Line{s.line(sku(3), "2", 1, 0), s.line(sku(4), "2", 3, 75), s.line(sku(6), "2", 2, 0)}
	tot3 := lineTotal(l3)
	s.submit(contract.Transaction{ID: sc.split, Type: contract.Sale, LocationID: "2", RegisterID: "S002-R01",
		CashierID: "C3", OccurredAt: now.Add(2 * time.Second), Lines: l3,
		Tenders: []contract.Tender{{Type: contract.Card, Amount: tot3 - tot3/2}, {Type: contract.Cash, Amount: tot3 / 2}}})
	// t4: partial return of t1, restocked, refunded to the card.
	l4 := []contract.Line{s.line(sku(0), "1", 1, 0)}
	l4[0].Restock = true
	s.submit(contract.Transaction{ID: sc.ret, Type: contract.Return, LocationID: "1", RegisterID: "S001-R01",
		CashierID: "C1", OccurredAt: now.Add(3 * time.Second), OriginalTransactionID: sc.sale, Lines: l4,
		Tenders: []contract.Tender{{Type: contract.Card, Amount: lineTotal(l4), PaymentIntentID: t1.Tenders[0].PaymentIntentID}}})
	// t5: exchange of t2's item for another, the difference in cash; the returned line
	// carries t2's discount, so it comes back at what was paid (contract.LineNet).
	l5 := []contract.Line{s.line(sku(2), "1", -1, 120), s.line(sku(5), "1", 2, 0)}
	l5[0].Restock = true
	s.submit(contract.Transaction{ID: sc.exchange, Type: contract.Exchange, LocationID: "1", RegisterID: "S001-R02",
		CashierID: "C2", OccurredAt: now.Add(4 * time.Second), OriginalTransactionID: sc.cashSale, Lines: l5,
		Tenders: []contract.Tender{{Type: contract.Cash, Amount: lineTotal(l5)}}})
	// t6: an offline sale from yesterday, uploaded in a batch.
	l6 := []contract.Line{s.line(sku(7), "2", 1, 0)}
	s.submit(contract.Transaction{ID: sc.offline, Type: contract.Sale, LocationID: "2", RegisterID: "S002-R02",
		CashierID: "C4", OccurredAt: now.Add(-26 * time.Hour), Offline: true, Lines: l6,
		Tenders: []contract.Tender{{Type: contract.Cash, Amount: lineTotal(l6)}}})
	// t7, t8: a new customer at two stores.
	l7 := []contract.Line{s.line(sku(8), "1", 1, 0)}
	s.submit(contract.Transaction{ID: sc.newCust1, Type: contract.Sale, LocationID: "1", RegisterID: "S001-R03",
		CashierID: "C5", OccurredAt: now.Add(5 * time.Second), Customer: newCust, Lines: l7,
		Tenders: []contract.Tender{{Type: contract.Cash, Amount: lineTotal(l7)}}})
	l8 := []contract.Line{s.line(sku(9), "3", 1, 0)}
	s.submit(contract.Transaction{ID: sc.newCust2, Type: contract.Sale, LocationID: "3", RegisterID: "S003-R01",
		CashierID: "C6", OccurredAt: now.Add(6 * time.Second), Customer: newCust, Lines: l8,
		Tenders: []contract.Tender{{Type: contract.Card, Amount: lineTotal(l8)}}})
	// t9: gift card and cash.
	l9 := []contract.Line{s.line(sku(10), "3", 1, 0)}
	tot9 := lineTotal(l9)
	s.submit(contract.Transaction{ID: sc.gift, Type: contract.Sale, LocationID: "3", RegisterID: "S003-R02",
		CashierID: "C7", OccurredAt: now.Add(7 * time.Second), Lines: l9,
		Tenders: []contract.Tender{{Type: contract.GiftCard, Amount: tot9 / 2, PaymentIntentID: "GC-0001"},
			{Type: contract.Cash, Amount: tot9 - tot9/2}}})

	if len(bugs) == 0 { // with bugs on, some may be dead-lettered
		s.drain(sc.sale, sc.cashSale, sc.split, sc.ret, sc.exchange, sc.offline, sc.newCust1, sc.newCust2, sc.gift)
	} else {
		s.drain()
	}
	s.probe(sc.probeSKU, "2")
	s.probe(sku(11), "1")
	sc.dir = s.finish()
	return sc
}

// copyRun copies a run directory for a test to corrupt.
func copyRun(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// corrupt runs SQL against a run directory's journal with the books attached
// (read-write) as ns and gw.
func corrupt(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: filepath.Join(dir, journalFile)}).String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	for _, a := range []string{"ATTACH DATABASE '" + filepath.Join(dir, netsuiteFile) + "' AS ns",
		"ATTACH DATABASE '" + filepath.Join(dir, gatewayFile) + "' AS gw"} {
		if _, err := db.ExecContext(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range stmts {
		res, err := db.ExecContext(ctx, q)
		if err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		if n, _ := res.RowsAffected(); n == 0 && !strings.HasPrefix(strings.TrimSpace(q), "CREATE") && !strings.HasPrefix(q, "DROP") {
			t.Fatalf("corruption changed nothing:\n%s", q)
		}
	}
}

// failing lists the ids of the invariants that failed.
func failing(r *Report) []string {
	var out []string
	for _, x := range r.Invariants {
		if x.Verdict == Fail || x.Verdict == Error {
			out = append(out, x.ID)
		}
	}
	slices.Sort(out)
	return out
}

func check(t *testing.T, dir string, opts Options) *Report {
	t.Helper()
	r, err := Check(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dumpReport(t *testing.T, r *Report) {
	t.Helper()
	for _, x := range r.Invariants {
		t.Logf("%-26s %-15s %d %s", x.ID, x.Verdict, x.Violations, x.Reason)
		for _, e := range x.Evidence {
			t.Logf("    tx=%s | %s | expected %s | actual %s | %s", e.TxID, e.What, e.Expected, e.Actual, e.Detail)
		}
	}
}

// recordOf returns the NetSuite internal id of a transaction's record of a type.
const recordOf = `(SELECT id FROM ns.transactions WHERE memo = 'POS %s' AND recordtype = '%s')`
