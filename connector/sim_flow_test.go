package connector_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/contract"
)

// Sales, a return, an exchange and an offline batch post correctly to the simulated
// NetSuite and gateway; submitting everything again changes nothing.
func TestPostsToSimulators(t *testing.T) {
	t.Parallel() // against its own simulators; mostly waiting
	e := newWorld(t, 5)
	r := startConnector(t, e.config(t.TempDir()))
	now := time.Now().In(time.FixedZone("EST", -5*3600)).Truncate(time.Second)
	reg := e.register(t, r.url, 0, 0)
	other := e.register(t, r.url, 1, 1)

	// A known customer's card sale of three items.
	cust := e.w.Customers[3]
	sale := reg.sale(now, reg.line(0, 2), reg.line(1, 1), reg.line(2, 3))
	sale.Customer = &contract.Customer{LoyaltyID: cust.LoyaltyID, FirstName: cust.FirstName, LastName: cust.LastName}
	// A new customer, known by e-mail, at two stores at once.
	s2 := reg.sale(now.Add(time.Second), reg.line(3, 1))
	s2.Customer = &contract.Customer{Email: "walk.in@example.com", FirstName: "Walk"}
	s3 := other.sale(now.Add(time.Second), other.line(4, 1))
	s3.Customer = &contract.Customer{Email: "Walk.In@example.com"}
	// A cash sale of a discounted item (20 % off, taxed on what is paid).
	dl := reg.line(5, 1)
	dl.Discount = dl.UnitPrice.Percent(20)
	dl.TaxAmount = (dl.UnitPrice - dl.Discount).Percent(taxRate(t, reg, dl.SKU))
	cash := reg.cashSale(now.Add(2*time.Second), dl)
	// Part of the first sale comes back at the other store, refunded to the card.
	ret := contract.Transaction{ID: other.nextID(), Type: contract.Return, LocationID: other.loc, RegisterID: other.id,
		OccurredAt: now.Add(time.Hour), OriginalTransactionID: sale.ID, Lines: []contract.Line{sale.Lines[0]}}
	ret.Lines[0].Quantity = 1
	ret.Lines[0].TaxAmount = ret.Lines[0].UnitPrice.Percent(taxRate(t, reg, ret.Lines[0].SKU))
	ret.Lines[0].Restock = true
	ret.Tenders = []contract.Tender{{Type: contract.Card, Amount: ret.Total(), PaymentIntentID: sale.Tenders[0].PaymentIntentID}}
	// An exchange of the cash sale's discounted item for a dearer one: it comes back at
	// what was paid for it, and the customer pays the difference by card.
	back := cash.Lines[0]
	back.Quantity, back.TaxAmount, back.Restock = -1, -back.TaxAmount, true
	ex := contract.Transaction{ID: reg.nextID(), Type: contract.Exchange, LocationID: reg.loc, RegisterID: reg.id,
		OccurredAt: now.Add(2 * time.Hour), OriginalTransactionID: cash.ID, Lines: []contract.Line{back, reg.line(6, 2)}}
	if ex.Total() <= 0 || back.Discount == 0 || contract.LineTotal(back) != -contract.LineTotal(dl) {
		t.Fatalf("test data: exchange total %v, returned line %+v", ex.Total(), back)
	}
	ex.Tenders = []contract.Tender{{Type: contract.Card, Amount: ex.Total(), PaymentIntentID: reg.pay(ex.Total(), ex.ID)}}

	online := []contract.Transaction{sale, s2, s3, cash, ret, ex}
	for _, tx := range online {
		if code := reg.submit(tx); code != http.StatusAccepted {
			t.Fatalf("%s: %d", tx.ID, code)
		}
	}
	// An offline register comes back with yesterday's queue.
	off := e.register(t, r.url, 2, 0)
	var batch contract.Batch
	yesterday := now.Add(-24 * time.Hour)
	for i := range 25 {
		tx := off.cashSale(yesterday.Add(time.Duration(i)*time.Minute), off.line(10+i, 1))
		tx.Offline = true
		batch.Transactions = append(batch.Transactions, tx)
	}
	code, b := call(t, http.MethodPost, r.url+contract.PathBatch, batch)
	var res contract.BatchResult
	if code != http.StatusOK || json.Unmarshal(b, &res) != nil || len(res.Results) != 25 {
		t.Fatalf("batch: %d %s", code, b)
	}
	st := drain(t, r.url, 30*time.Second)
	if st.Posted != len(online)+25 || st.DeadLettered != 0 {
		deadLetters(t, r.url, append(online, batch.Transactions...))
		t.Fatalf("sync status %+v", st)
	}

	books := e.booked(t)
	one := func(id string) booked {
		t.Helper()
		if len(books[id]) != 1 {
			t.Fatalf("%s: %d records in the books, want 1: %+v", id, len(books[id]), books[id])
		}
		return books[id][0]
	}
	// Sales: one cash sale each, at its store, on its register day, for the receipt's total.
	for _, tx := range append([]contract.Transaction{sale, s2, s3, cash}, batch.Transactions...) {
		b := one(tx.ID)
		if b.recordType != "cashSale" || b.eid != tx.ID || b.date != tx.OccurredAt.Format(time.DateOnly) ||
			fmt.Sprint(b.location.Int64) != tx.LocationID || b.total != tx.Total().Cents() {
			t.Errorf("%s booked as %+v (want total %d, date %s)", tx.ID, b, tx.Total().Cents(), tx.OccurredAt.Format(time.DateOnly))
		}
	}
	if got := e.tenders(t, one(sale.ID).id); len(got) != 1 || got[0] != fmt.Sprintf("card:%d:%s", sale.Total().Cents(), sale.Tenders[0].PaymentIntentID) {
		t.Errorf("sale tenders %v", got)
	}
	// Customers: the loyalty customer is the world's record; the e-mail customer is one record.
	var n int
	var entity int64
	e.books.QueryRow(`SELECT COUNT(*), MIN(id) FROM customers WHERE externalid = ?`, cust.ExternalID).Scan(&n, &entity)
	if n != 1 || one(sale.ID).entity.Int64 != entity {
		t.Errorf("loyalty customer: %d records, sale entity %d, want %d", n, one(sale.ID).entity.Int64, entity)
	}
	if one(s2.ID).entity.Int64 == 0 || one(s2.ID).entity != one(s3.ID).entity {
		t.Errorf("e-mail customer: entities %v and %v", one(s2.ID).entity, one(s3.ID).entity)
	}
	// The return: a cash refund linked to the sale, after a gateway refund keyed by its id.
	rb := one(ret.ID)
	if rb.recordType != "cashRefund" || rb.createdFrom.Int64 != one(sale.ID).id || rb.total != ret.Total().Cents() {
		t.Errorf("return booked as %+v", rb)
	}
	var refunded int64
	var refundID string
	if err := e.gwBooks.QueryRow(`SELECT amount, id FROM refunds WHERE pos_tx = ?`, ret.ID).Scan(&refunded, &refundID); err != nil || refunded != ret.Total().Cents() {
		t.Errorf("gateway refund for %s: %d (%v)", ret.ID, refunded, err)
	}
	if got := e.tenders(t, rb.id); len(got) != 1 || got[0] != fmt.Sprintf("card:%d:%s", ret.Total().Cents(), refundID) {
		t.Errorf("return tenders %v", got)
	}
	// The exchange: a refund of what came back and a sale of what left, netting to what was paid.
	var exR, exS booked
	for _, b := range books[ex.ID] {
		switch b.eid {
		case ex.ID + "-R":
			exR = b
		case ex.ID + "-S":
			exS = b
		}
	}
	if len(books[ex.ID]) != 2 || exR.recordType != "cashRefund" || exS.recordType != "cashSale" ||
		exR.createdFrom.Int64 != one(cash.ID).id || exS.total-exR.total != ex.Total().Cents() {
		t.Errorf("exchange booked as %+v", books[ex.ID])
	}

	// The connector's stock view is NetSuite's once drained.
	for _, tx := range append(online, batch.Transactions...) {
		for _, l := range tx.Lines {
			var want float64
			e.books.QueryRow(`SELECT COALESCE((SELECT v.onhand FROM inventory v JOIN items i ON i.id = v.item
				WHERE i.itemid = ? AND v.location = ?), 0)`, l.SKU, tx.LocationID).Scan(&want)
			it, _ := e.w.ItemBySKU(l.SKU)
			var got contract.Item
			waitFor(t, 5*time.Second, "the stock view of "+l.SKU+" at "+tx.LocationID, func() bool {
				_, b := call(t, http.MethodGet, r.url+"/pos/v1/items/"+it.UPC+"?location="+tx.LocationID, nil)
				return json.Unmarshal(b, &got) == nil && got.OnHand == want
			})
		}
	}

	// Everything again: 200s and duplicates, nothing new in the books.
	before := len(books)
	for _, tx := range online {
		if code := reg.submit(tx); code != http.StatusOK {
			t.Errorf("resubmit %s: %d", tx.ID, code)
		}
	}
	code, b = call(t, http.MethodPost, r.url+contract.PathBatch, batch)
	if code != http.StatusOK || json.Unmarshal(b, &res) != nil || res.Results[0].Status != contract.ItemDuplicate {
		t.Errorf("batch again: %d %s", code, b)
	}
	drain(t, r.url, 10*time.Second)
	after := e.booked(t)
	if len(after) != before {
		t.Errorf("resubmission changed the books: %d → %d transactions", before, len(after))
	}
	for id, bs := range after {
		if id != ex.ID && len(bs) != 1 {
			t.Errorf("%s has %d records", id, len(bs))
		}
	}
}

func taxRate(t *testing.T, r *register, sku string) float64 {
	for _, it := range r.lookups {
		if it.SKU == sku {
			return it.TaxRate
		}
	}
	t.Fatalf("no lookup of %s", sku)
	return 0
}

// A 429 storm, lost responses and a NetSuite outage end with every transaction
// posted exactly once.
func TestSurvivesThrottlingLostResponsesAndOutage(t *testing.T) {
	t.Parallel() // against its own simulators; mostly waiting
	runFaultStorm(t, 3*time.Second)
}

// The 60 s NetSuite outage; skipped with -short.
func TestLongOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("60 s outage: skipped with -short")
	}
	// A minute of mostly waiting: run beside the other simulator tests, not after them.
	t.Parallel()
	runFaultStorm(t, 60*time.Second)
}

func runFaultStorm(t *testing.T, outage time.Duration) {
	e := newWorld(t, 4)
	cfg := e.config(t.TempDir())
	cfg.RetryMax = 2 * time.Second
	r := startConnector(t, cfg)
	const storm = `
- name: storm
  target: netsuite
  match: {path: /services/rest/record/v1/**}
  effect: {throttle: {}}
  probability: 0.4
- name: lost-sales
  target: netsuite
  match: {method: PUT, recordType: cashSale}
  effect: {lostResponse: {}}
  probability: 0.2
`
	rules(t, e.nsFaults, storm)
	rules(t, e.gwFaults, `
- name: lost-refunds
  target: gateway
  match: {method: POST, path: /v1/refunds}
  effect: {lostResponse: {}}
  probability: 0.3
`)
	now := time.Now().UTC().Truncate(time.Second)
	const registers, each = 4, 8
	var mu sync.Mutex
	var all []contract.Transaction
	var wg sync.WaitGroup
	for ri := range registers {
		reg := e.register(t, r.url, ri, ri)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sales []contract.Transaction
			for i := range each {
				var tx contract.Transaction
				if i%3 == 2 && len(sales) > 0 {
					s := sales[len(sales)-1]
					tx = contract.Transaction{ID: reg.nextID(), Type: contract.Return, LocationID: reg.loc, RegisterID: reg.id,
						OccurredAt: now.Add(time.Duration(i) * time.Minute), OriginalTransactionID: s.ID, Lines: s.Lines[:1]}
					tx.Tenders = []contract.Tender{{Type: contract.Card, Amount: tx.Total(), PaymentIntentID: s.Tenders[0].PaymentIntentID}}
				} else {
					tx = reg.sale(now.Add(time.Duration(i)*time.Minute), reg.line(ri*each+i, 1), reg.line(ri*each+i+50, 2))
					sales = append(sales, tx)
				}
				reg.submit(tx)
				mu.Lock()
				all = append(all, tx)
				mu.Unlock()
				if i == each/2 && ri == 0 {
					// Half way: NetSuite goes down. Registers keep selling; the outbox holds it.
					rules(t, e.nsFaults, `
- name: down
  target: netsuite
  effect: {outage: {}}
`+storm)
					time.AfterFunc(outage, func() { rules(t, e.nsFaults, storm) })
				}
			}
		}()
	}
	wg.Wait()
	st := drain(t, r.url, outage+90*time.Second)
	if st.Posted != len(all) || st.DeadLettered != 0 {
		t.Fatalf("sync status %+v, want %d posted", st, len(all))
	}
	books := e.booked(t)
	for _, tx := range all {
		if n := len(books[tx.ID]); n != 1 {
			t.Errorf("%s: %d records in the books, want 1", tx.ID, n)
		}
	}
	// Each return refunded exactly once on the gateway.
	for _, tx := range all {
		if tx.Type != contract.Return {
			continue
		}
		var n int
		var sum int64
		e.gwBooks.QueryRow(`SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM refunds WHERE pos_tx = ?`, tx.ID).Scan(&n, &sum)
		if n != 1 || sum != tx.Total().Cents() {
			t.Errorf("%s: %d gateway refunds for %d cents, want 1 for %d", tx.ID, n, sum, tx.Total().Cents())
		}
	}
	hit := map[string]int{}
	for _, ev := range e.nsFaults.Events(0) {
		hit[ev.Rule]++
	}
	for _, ev := range e.gwFaults.Events(0) {
		hit[ev.Rule]++
	}
	for _, rule := range []string{"storm", "lost-sales", "down", "lost-refunds"} {
		if hit[rule] == 0 {
			t.Errorf("fault %s never hit (hits %v)", rule, hit)
		}
	}
	t.Logf("faults injected: %v", hit)
}

// deadLetters logs the kept error of every dead-lettered transaction.
func deadLetters(t *testing.T, url string, txs []contract.Transaction) {
	t.Helper()
	for _, tx := range txs {
		_, b := call(t, http.MethodGet, url+"/pos/v1/transactions/"+tx.ID, nil)
		var st contract.TransactionStatus
		if json.Unmarshal(b, &st) == nil && st.State == contract.StateDeadLettered {
			t.Logf("dead letter %s (%s): %s", tx.ID, tx.Type, st.Error)
		}
	}
}

// Several stores sell to the same new customer at the same moment: NetSuite ends up
// with one customer per identity and every sale is booked to it. With the
// new-customer-each-time bug the same run makes one customer per sale, so the test can
// tell.
func TestOneCustomerPerIdentityAtTheSameMoment(t *testing.T) {
	t.Parallel() // against its own simulators; mostly waiting
	for _, c := range []struct {
		name string
		bugs []connector.Bug
		want int // customers per identity
	}{
		{"correct", nil, 1},
		{"new-customer-each-time", []connector.Bug{connector.BugNewCustomerEachTime}, 3}, // one per sale
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newWorld(t, 8)
			r := startConnector(t, e.config(t.TempDir(), c.bugs...))
			// Customer writes are slow, so that concurrent ones overlap.
			rules(t, e.nsFaults, `
- name: slow-customers
  target: netsuite
  match: {recordType: customer}
  effect: {latency: {delay: 50ms}}
`)
			now := time.Now().UTC().Truncate(time.Second)
			identities := []*contract.Customer{
				{Email: "Same.Moment@Example.com", FirstName: "Sam"},
				{LoyaltyID: "990000000001", FirstName: "Lola", LastName: "New"},
			}
			var sales []contract.Transaction
			for i := range 6 {
				reg := e.register(t, r.url, i, i/3) // three stores, two registers each
				tx := reg.cashSale(now, reg.line(i, 1))
				cu := *identities[0]
				if i%2 == 1 {
					cu.Email = strings.ToLower(cu.Email) // the same person, typed differently
				}
				if i >= 3 {
					cu = *identities[1]
				}
				tx.Customer = &cu
				sales = append(sales, tx)
			}
			// Every register sends at once; the heads of six registers post in parallel.
			startLine := make(chan struct{})
			var wg sync.WaitGroup
			for _, tx := range sales {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-startLine
					call(t, http.MethodPost, r.url+contract.PathTransactions, tx)
				}()
			}
			close(startLine)
			wg.Wait()
			if st := drain(t, r.url, 30*time.Second); st.Posted != len(sales) || st.DeadLettered != 0 {
				deadLetters(t, r.url, sales)
				t.Fatalf("sync status %+v", st)
			}
			books := e.booked(t)
			for k, where := range map[string]string{
				"e-mail":  `lower(email) = 'same.moment@example.com'`,
				"loyalty": `loyaltyid = '990000000001'`,
			} {
				var n int
				if err := e.books.QueryRow(`SELECT COUNT(*) FROM customers WHERE ` + where).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != c.want {
					t.Errorf("%s identity: %d customers in NetSuite, want %d", k, n, c.want)
				}
			}
			if c.want == 1 {
				for _, group := range [][]contract.Transaction{sales[:3], sales[3:]} {
					first := books[group[0].ID][0].entity
					for _, tx := range group {
						if got := books[tx.ID][0].entity; !got.Valid || got != first {
							t.Errorf("%s booked to customer %v, %s to %v", tx.ID, got, group[0].ID, first)
						}
					}
				}
			}
		})
	}
}
