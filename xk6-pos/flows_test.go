package pos

import (
	"bytes"
	"context"
	"database/sql"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/loadgen"
)

func (e *env) exec(flowName string, opts map[string]any) (loadgen.Exec, func(context.Context, *loadgen.VU) error) {
	e.t.Helper()
	o, err := ParseOptions(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	exec, initVU, err := e.mod.Exec(flowName, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return exec, initVU
}

// runExec runs exec through a real engine (shared iterations over vus VUs) and fails
// the test on an iteration error or a failed check other than those allowed.
func (e *env) runExec(name string, exec loadgen.Exec, initVU func(context.Context, *loadgen.VU) error, iterations int64, vus int, allowed ...string) *loadgen.Result {
	e.t.Helper()
	eng := loadgen.New(loadgen.WithRegistry(e.reg))
	res, err := eng.Run(context.Background(), loadgen.Plan{Seed: 42, Scenarios: []loadgen.Scenario{{
		Name: name, Executor: loadgen.SharedIterations, VUs: vus, Iterations: iterations,
		Exec: exec, InitVU: initVU, MaxDuration: time.Minute,
	}}})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, sc := range res.Scenarios {
		if sc.Errors > 0 {
			e.t.Fatalf("scenario %s: %d iterations failed, the first: %s", sc.Name, sc.Errors, sc.FirstError)
		}
	}
	var failed []string
	for _, f := range failedChecks(res) {
		ok := false
		for _, a := range allowed {
			ok = ok || strings.HasPrefix(f, a)
		}
		if !ok {
			failed = append(failed, f)
		}
	}
	if len(failed) > 0 {
		e.t.Errorf("failed checks: %s", strings.Join(failed, "; "))
	}
	return res
}

// checkJournal holds the journal against what the connector accepted: every
// acknowledged transaction was accepted with exactly the journaled body, and every
// accepted one is journaled acknowledged; lines, tenders and totals agree with the body.
func checkJournal(t *testing.T, db *sql.DB, accepted map[string][]byte) {
	t.Helper()
	rows, err := db.Query(`SELECT id, type, outcome, body, total_cents, tax_cents, offline, ack_status, submitted_at, acked_at, occurred_at, occurred_date FROM tx`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id, typ, outcome, body, occurred, date string
		var total, tax, offline int64
		var status sql.NullInt64
		var sub, acked sql.NullString
		if err := rows.Scan(&id, &typ, &outcome, &body, &total, &tax, &offline, &status, &sub, &acked, &occurred, &date); err != nil {
			t.Fatal(err)
		}
		seen[id] = true
		if outcome != OutcomeAcknowledged {
			continue
		}
		got, ok := accepted[id]
		if !ok {
			t.Errorf("journal: %s acknowledged but the connector never accepted it", id)
			continue
		}
		if !bytes.Equal(got, []byte(body)) {
			t.Errorf("journal: %s body differs from what was submitted", id)
		}
		if !status.Valid || (status.Int64 != 200 && status.Int64 != 202) || !sub.Valid || !acked.Valid || acked.String < sub.String {
			t.Errorf("journal: %s ack fields %v %v %v", id, status, sub, acked)
		}
		tx, e := contract.DecodeTransaction([]byte(body))
		if e != nil {
			t.Fatalf("journal: %s body invalid: %v", id, e)
		}
		want := tx.Total().Cents()
		if tx.Type == contract.Return {
			want = -want
		}
		if total != want || typ != string(tx.Type) || (offline == 1) != tx.Offline {
			t.Errorf("journal: %s total %d type %s offline %d, body says %d %s %v", id, total, typ, offline, want, tx.Type, tx.Offline)
		}
		if occurred != tx.OccurredAt.UTC().Format(timeFormat) || date != tx.OccurredAt.UTC().Format(time.DateOnly) {
			t.Errorf("journal: %s occurred %s %s, body %s", id, occurred, date, tx.OccurredAt)
		}
		if n := queryInt(t, db, `SELECT COUNT(*) FROM line WHERE tx_id = ?`, id); n != int64(len(tx.Lines)) {
			t.Errorf("journal: %s has %d lines, body %d", id, n, len(tx.Lines))
		}
		if s := queryInt(t, db, `SELECT COALESCE(SUM(signed_amount_cents), 0) FROM tender WHERE tx_id = ?`, id); s != total {
			t.Errorf("journal: %s tenders add up to %d, total %d", id, s, total)
		}
		if s := queryInt(t, db, `SELECT COALESCE(SUM(total_cents), 0) FROM line WHERE tx_id = ?`, id); s != total {
			t.Errorf("journal: %s lines add up to %d, total %d", id, s, total)
		}
	}
	for id := range accepted {
		if !seen[id] {
			t.Errorf("journal: %s accepted by the connector but not journaled", id)
		}
	}
}

func (f *fakeConnector) acceptedBodies() map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string][]byte, len(f.accepted))
	for k, v := range f.accepted {
		out[k] = v
	}
	return out
}

func TestSaleWithCardCapturesIntent(t *testing.T) {
	e := newEnv(t)
	exec, init := e.exec(FlowSale, map[string]any{"tenders": map[string]any{"card": 1}, "declineRate": 0, "insufficientFundsRate": 0})
	res := e.runExec("checkout", exec, init, 12, 3)
	txs := e.conn.transactions()
	if len(txs) != 12 {
		t.Fatalf("%d transactions accepted, want 12", len(txs))
	}
	for id, tx := range txs {
		if tx.Type != contract.Sale || len(tx.Tenders) == 0 {
			t.Fatalf("%s: %+v", id, tx)
		}
		for _, td := range tx.Tenders {
			if td.Type != contract.Card {
				if tx.Total() >= minCard {
					t.Errorf("%s: %s tender on a card-only sale of %v", id, td.Type, tx.Total())
				}
				continue
			}
			pi := e.intent(td.PaymentIntentID)
			if pi.Status != "succeeded" || pi.AmountReceived != td.Amount.Cents() {
				t.Errorf("%s: intent %s is %s with %d received, tender %v", id, pi.ID, pi.Status, pi.AmountReceived, td.Amount)
			}
		}
	}
	if n := counter(res, MetricTransactions, loadgen.Tag{Key: "outcome", Value: OutcomeAcknowledged}); n != 12 {
		t.Errorf("pos_transactions{outcome:acknowledged} = %g, want 12", n)
	}
	if m := res.Metric(MetricCheckoutDuration); m == nil || m.Count != 12 {
		t.Errorf("pos_checkout_duration samples: %+v", m)
	}
	db := e.closeJournal()
	checkJournal(t, db, e.conn.acceptedBodies())
	if n := queryInt(t, db, `SELECT COUNT(*) FROM payment WHERE outcome = 'captured' AND captured_cents = amount_cents`); n < 10 {
		t.Errorf("%d captured payments journaled", n)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tender t JOIN payment p ON p.intent_id = t.payment_intent_id
  WHERE t.type = 'card' AND (p.outcome != 'captured' OR p.amount_cents != t.amount_cents OR p.tx_id != t.tx_id)`); n != 0 {
		t.Errorf("%d card tenders disagree with their journaled payment", n)
	}
	if v := queryInt(t, db, `SELECT COUNT(*) FROM meta WHERE key IN ('seed', 'run_id', 'scenario', 'started_at', 'ended_at')`); v != 5 {
		t.Errorf("meta keys: %d of 5", v)
	}
	// Every HTTP request carried the flow, step and store tags.
	for _, s := range res.Series {
		if s.Metric == loadgen.MetricHTTPReqs && (s.Tags["flow"] != FlowSale || s.Tags["step"] == "" || s.Tags["store"] == "") {
			t.Errorf("http_reqs series without flow/step/store: %v", s.Tags)
		}
	}
}

func TestTenderMixAndCustomers(t *testing.T) {
	e := newEnv(t)
	exec, init := e.exec(FlowSale, map[string]any{
		"tenders":           map[string]any{"card": 0.25, "cash": 0.25, "gift_card": 0.25, "split": 0.25},
		"knownCustomerRate": 0.4, "newCustomerRate": 0.4, "declineRate": 0, "insufficientFundsRate": 0,
		"basketSize": map[string]any{"mean": 5}, "discountRate": 0.3,
	})
	e.runExec("mix", exec, init, 40, 4)
	types := map[contract.TenderType]int{}
	split := 0
	for _, tx := range e.conn.transactions() {
		for _, td := range tx.Tenders {
			types[td.Type]++
		}
		if len(tx.Tenders) == 2 {
			split++
		}
	}
	if types[contract.Card] == 0 || types[contract.Cash] == 0 || types[contract.GiftCard] == 0 || split == 0 {
		t.Errorf("tenders seen: %v, %d split", types, split)
	}
	db := e.closeJournal()
	checkJournal(t, db, e.conn.acceptedBodies())
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE customer_kind = 'known' AND customer_identity LIKE 'LOY-7%'`); n == 0 {
		t.Error("no known customer journaled with a LOY-7… identity")
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE customer_kind = 'new' AND customer_identity LIKE 'LOY-9%' AND customer_email != ''`); n == 0 {
		t.Error("no new customer journaled")
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM line WHERE discount_cents > 0`); n == 0 {
		t.Error("no discounted line")
	}
	cash := queryInt(t, db, `SELECT COALESCE(SUM(signed_amount_cents), 0) FROM tender WHERE type = 'cash'`)
	drawers := queryInt(t, db, `SELECT COALESCE(SUM(cash_in_cents - cash_out_cents), 0) FROM drawer`)
	if cash != drawers {
		t.Errorf("cash tenders %d, drawers counted %d", cash, drawers)
	}
}

func TestDeclines(t *testing.T) {
	e := newEnv(t)
	exec, init := e.exec(FlowSale, map[string]any{"tenders": map[string]any{"card": 1}, "declineRate": 0.4,
		"insufficientFundsRate": 0.3, "abandonOnDeclineRate": 0.5, "basketSize": map[string]any{"mean": 3}})
	res := e.runExec("declines", exec, init, 30, 3)
	if counter(res, MetricDeclines) == 0 {
		t.Fatal("no decline counted")
	}
	db := e.closeJournal()
	checkJournal(t, db, e.conn.acceptedBodies())
	rows, err := db.Query(`SELECT intent_id, decline_code FROM payment WHERE outcome = 'declined'`)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int{}
	var declined []string
	for rows.Next() {
		var id, code string
		if err := rows.Scan(&id, &code); err != nil {
			t.Fatal(err)
		}
		codes[code]++
		declined = append(declined, id)
	}
	rows.Close()
	if codes["generic_decline"] == 0 || codes["insufficient_funds"] == 0 {
		t.Errorf("decline codes journaled: %v", codes)
	}
	for _, id := range declined {
		if pi := e.intent(id); pi.Status != "canceled" {
			t.Errorf("declined intent %s left %s", id, pi.Status)
		}
		if n := queryInt(t, db, `SELECT COUNT(*) FROM tender WHERE payment_intent_id = ?`, id); n != 0 {
			t.Errorf("declined intent %s is a tender", id)
		}
	}
	if n := counter(res, MetricTransactions, loadgen.Tag{Key: "outcome", Value: "abandoned"}); n == 0 {
		t.Log("no customer walked away this time")
	}
}

func TestVoidCancelsAuthorisation(t *testing.T) {
	e := newEnv(t)
	exec, init := e.exec(FlowVoid, map[string]any{"basketSize": map[string]any{"mean": 3}})
	res := e.runExec("voids", exec, init, 6, 2)
	if n := len(e.conn.transactions()); n != 0 {
		t.Errorf("%d transactions submitted by voids", n)
	}
	if n := counter(res, MetricTransactions, loadgen.Tag{Key: "outcome", Value: "voided"}); n == 0 {
		t.Fatal("nothing voided")
	}
	db := e.closeJournal()
	rows, err := db.Query(`SELECT intent_id, outcome FROM payment`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, outcome string
		if err := rows.Scan(&id, &outcome); err != nil {
			t.Fatal(err)
		}
		n++
		if pi := e.intent(id); outcome != PayVoided || pi.Status != "canceled" {
			t.Errorf("void payment %s journaled %s, gateway %s", id, outcome, pi.Status)
		}
	}
	if n == 0 {
		t.Error("no void payment journaled")
	}
	if c := queryInt(t, db, `SELECT COUNT(*) FROM tx`); c != 0 {
		t.Errorf("%d transactions journaled by voids", c)
	}
}

func TestReturnsAndExchanges(t *testing.T) {
	e := newEnv(t)
	one := map[string]any{"stores": 1, "declineRate": 0, "insufficientFundsRate": 0,
		"tenders": map[string]any{"card": 0.6, "cash": 0.2, "split": 0.2}, "basketSize": map[string]any{"mean": 4}}
	exec, init := e.exec(FlowSale, one)
	e.runExec("sales", exec, init, 20, 2)
	exec, init = e.exec(FlowReturn, map[string]any{"stores": 1, "returnPartialRate": 0.7})
	e.runExec("returns", exec, init, 15, 2)
	exec, init = e.exec(FlowExchange, one)
	e.runExec("exchanges", exec, init, 10, 2)

	txs := e.conn.transactions()
	sold := map[string]map[string]float64{}
	var returns, exchanges int
	for id, tx := range txs {
		if tx.Type == contract.Sale {
			sold[id] = map[string]float64{}
			for _, l := range tx.Lines {
				sold[id][l.SKU] += l.Quantity
			}
		}
	}
	back := map[string]map[string]float64{}
	for id, tx := range txs {
		if tx.Type == contract.Sale {
			continue
		}
		orig, ok := txs[tx.OriginalTransactionID]
		if !ok || orig.Type != contract.Sale {
			t.Fatalf("%s: original %q is not an accepted sale", id, tx.OriginalTransactionID)
		}
		if tx.Type == contract.Return {
			returns++
		} else {
			exchanges++
		}
		if back[orig.ID] == nil {
			back[orig.ID] = map[string]float64{}
		}
		for _, l := range tx.Lines {
			if tx.Type == contract.Return || l.Quantity < 0 {
				back[orig.ID][l.SKU] += abs(l.Quantity)
			}
		}
		origCard := ""
		for _, td := range orig.Tenders {
			if td.Type == contract.Card {
				origCard = td.PaymentIntentID
			}
		}
		for _, td := range tx.Tenders {
			refund := tx.Type == contract.Return || td.Amount < 0
			if td.Type == contract.Card && refund && td.PaymentIntentID != origCard {
				t.Errorf("%s: card refund to %s, the sale was paid with %s", id, td.PaymentIntentID, origCard)
			}
		}
	}
	if returns == 0 || exchanges == 0 {
		t.Fatalf("%d returns, %d exchanges", returns, exchanges)
	}
	for id, skus := range back {
		for sku, q := range skus {
			if q > sold[id][sku]+1e-9 {
				t.Errorf("sale %s: %g of %s came back, %g sold", id, q, sku, sold[id][sku])
			}
		}
	}
	db := e.closeJournal()
	checkJournal(t, db, e.conn.acceptedBodies())
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE type = 'return' AND (total_cents > 0 OR original_tx_id IS NULL)`); n != 0 {
		t.Errorf("%d returns journaled with a positive total or no original", n)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM line l JOIN tx ON tx.id = l.tx_id WHERE tx.type = 'return' AND l.signed_quantity >= 0`); n != 0 {
		t.Errorf("%d return lines with a non-negative signed quantity", n)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestOfflineResync(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 11, 28, 15, 0, 0, 0, time.UTC)}
	e := newEnv(t, func(c *Config) { c.Clock = clock.now })
	exec, init := e.exec(FlowOfflineResync, map[string]any{"stores": 1, "offlineRegisters": 0.5, "offlineDuration": "60s", "batchSize": 4,
		"tenders": map[string]any{"card": 0.5, "cash": 0.3, "split": 0.2}})
	// A sale flow at the same store may not use the offline registers.
	saleExec, saleInit := e.exec(FlowSale, map[string]any{"stores": 1, "tenders": map[string]any{"cash": 1}})

	// In the window: every sale goes to the queue, none to the connector.
	e.runExec("offline", exec, init, 12, 2)
	if n := len(e.conn.transactions()); n != 0 {
		t.Fatalf("%d transactions reached the connector while offline", n)
	}
	if q := e.mod.Stats().Queued; q != 12 {
		t.Fatalf("%d queued, want 12", q)
	}
	e.runExec("online", saleExec, saleInit, 4, 2)
	offlineRegs := map[string]bool{}
	for _, r := range e.mod.byLoc["1"] {
		if r.offline.Load() != nil {
			offlineRegs[r.id()] = true
		}
	}
	if len(offlineRegs) != 2 {
		t.Fatalf("%d offline registers, want 2 of 4", len(offlineRegs))
	}
	for id, tx := range e.conn.transactions() {
		if offlineRegs[tx.RegisterID] {
			t.Errorf("online sale %s rung on offline register %s", id, tx.RegisterID)
		}
	}

	// The window ends: the next iteration of a register uploads its queue first.
	clock.add(61 * time.Second)
	e.runExec("reconnect", exec, init, 4, 1)
	if err := e.mod.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q := e.mod.Stats().Queued; q != 0 {
		t.Fatalf("%d still queued after Flush", q)
	}
	e.conn.mu.Lock()
	batches := append([]int(nil), e.conn.batches...)
	e.conn.mu.Unlock()
	sum := 0
	for _, n := range batches {
		sum += n
		if n > 4 {
			t.Errorf("a batch of %d, more than batchSize 4", n)
		}
	}
	if sum != 12 {
		t.Errorf("batches %v carry %d transactions, want 12", batches, sum)
	}
	midnight := time.Date(2025, 11, 28, 0, 0, 0, 0, time.UTC)
	var offline, before, cards int
	for id, tx := range e.conn.transactions() {
		if !tx.Offline {
			continue
		}
		offline++
		if !offlineRegs[tx.RegisterID] {
			t.Errorf("%s offline from online register %s", id, tx.RegisterID)
		}
		// Business clock: clockStart = midnight − 30 s, advancing with the (fake) real clock.
		if tx.OccurredAt.Before(midnight.Add(-30*time.Second)) || tx.OccurredAt.After(midnight.Add(31*time.Second)) {
			t.Errorf("%s occurredAt %s outside the offline window around %s", id, tx.OccurredAt, midnight)
		}
		if tx.OccurredAt.Before(midnight) {
			before++
		}
		for _, td := range tx.Tenders {
			if td.Type == contract.Card {
				cards++
				if pi := e.intent(td.PaymentIntentID); pi.Status != "succeeded" || pi.AmountReceived != td.Amount.Cents() {
					t.Errorf("%s: forwarded card payment %s is %s", id, td.PaymentIntentID, pi.Status)
				}
			}
		}
	}
	if offline != 12 || before != 12 {
		t.Errorf("%d offline transactions (%d dated before midnight), want 12 and 12", offline, before)
	}
	if cards == 0 {
		t.Error("no store-and-forward card payment")
	}
	db := e.closeJournal()
	checkJournal(t, db, e.conn.acceptedBodies())
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE offline = 1 AND outcome = 'acknowledged' AND batch_status = 'accepted' AND occurred_date = '2025-11-27'`); n != 12 {
		t.Errorf("%d offline transactions journaled acknowledged from a batch dated 2025-11-27, want 12", n)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM payment WHERE offline = 1 AND outcome = 'captured'`); n != int64(cards) {
		t.Errorf("%d offline payments journaled captured, %d card tenders", n, cards)
	}
}

func TestSubmitRetriesAndQueue(t *testing.T) {
	e := newEnv(t)
	cash := map[string]any{"tenders": map[string]any{"cash": 1}, "stores": 1, "submitRetryFor": "300ms",
		"basketSize": map[string]any{"mean": 1, "distribution": "fixed"}}
	exec, init := e.exec(FlowSale, cash)

	// Two 503s, then accepted: the same body three times.
	e.conn.mu.Lock()
	e.conn.failNext = 2
	e.conn.mu.Unlock()
	e.runExec("retry", exec, init, 1, 1)

	// Stored but the answer lost: the resubmission gets 200.
	e.conn.mu.Lock()
	e.conn.loseNext = 1
	e.conn.mu.Unlock()
	e.runExec("lost", exec, init, 1, 1)

	// Down longer than submitRetryFor: queued; once up, the next iteration at the
	// register sends it again (a batch) before its own sale.
	e.conn.mu.Lock()
	e.conn.down = true
	e.conn.mu.Unlock()
	e.runExec("down", exec, init, 1, 1, "scan: the connector answers item lookups")
	if q := e.mod.Stats().Queued; q != 1 {
		t.Fatalf("%d queued, want 1", q)
	}
	e.conn.mu.Lock()
	e.conn.down = false
	e.conn.mu.Unlock()
	if err := e.mod.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	db := e.closeJournal()
	checkJournal(t, db, e.conn.acceptedBodies())
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE outcome = 'acknowledged' AND attempts = 3 AND ack_status = 202`); n != 1 {
		t.Errorf("%d acknowledged after 3 attempts with 202, want 1", n)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE outcome = 'acknowledged' AND attempts = 2 AND ack_status = 200`); n != 1 {
		t.Errorf("%d acknowledged on a resubmission with 200, want 1", n)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE outcome = 'acknowledged' AND batch_status = 'accepted' AND offline = 0`); n != 1 {
		t.Errorf("%d online transactions acknowledged through a batch after an outage, want 1", n)
	}
}

func TestUnacknowledgedAtClose(t *testing.T) {
	e := newEnv(t)
	exec, init := e.exec(FlowSale, map[string]any{"tenders": map[string]any{"cash": 1}, "submitRetryFor": "100ms",
		"basketSize": map[string]any{"mean": 1, "distribution": "fixed"}})
	e.conn.mu.Lock()
	e.conn.down = true
	e.conn.mu.Unlock()
	e.runExec("down", exec, init, 3, 1, "scan: the connector answers item lookups")
	if err := e.mod.Flush(context.Background()); err == nil {
		t.Error("Flush said nothing of what it could not send")
	}
	db := e.closeJournal()
	if n := queryInt(t, db, `SELECT COUNT(*) FROM tx WHERE outcome = 'unacknowledged' AND ack_status IS NULL AND submitted_at IS NOT NULL`); n != 3 {
		t.Errorf("%d unacknowledged journaled, want 3", n)
	}
}

func TestPeripheralStorm(t *testing.T) {
	e := newEnv(t)
	exec, init := e.exec(FlowPeripheralStorm, map[string]any{"scansPerIteration": 8, "misreadRate": 0.3, "completionRate": 0.5,
		"tenders": map[string]any{"cash": 1}})
	res := e.runExec("storm", exec, init, 10, 2)
	e.conn.mu.Lock()
	lookups := e.conn.lookups
	e.conn.mu.Unlock()
	if lookups < 80 {
		t.Errorf("%d lookups, want at least 80", lookups)
	}
	m := res.Metric(loadgen.MetricChecks, loadgen.Tag{Key: "check", Value: "scan: a misread barcode is unknown (404)"})
	if m == nil || m.Count == 0 || m.NonZero != m.Count {
		t.Errorf("misread checks: %+v", m)
	}
	if n := len(e.conn.transactions()); n == 0 || n == 10 {
		t.Errorf("%d sales from 10 storm iterations at completionRate 0.5", n)
	}
	if s := res.Metric(MetricScanDuration); s == nil || s.Count < 80 {
		t.Errorf("pos_scan_duration: %+v", s)
	}
}

func TestSingleItemSoldOut(t *testing.T) {
	e := newEnv(t)
	it := &e.w.Items[5]
	for i := range it.OnHand {
		if it.OnHand[i].LocationID == "1" {
			it.OnHand[i].Quantity = 3
		}
	}
	exec, init := e.exec(FlowSale, map[string]any{"singleItemSKU": it.SKU, "stores": 1, "tenders": map[string]any{"cash": 1}})
	res := e.runExec("hot", exec, init, 5, 2)
	if n := len(e.conn.transactions()); n != 3 {
		t.Errorf("%d sales of an item with 3 on hand, want 3", n)
	}
	if n := counter(res, MetricSoldOut); n != 2 {
		t.Errorf("pos_sold_out = %g, want 2", n)
	}
	if err := e.mod.ProbeStock(context.Background(), 4); err != nil {
		t.Fatal(err)
	}
	db := e.closeJournal()
	if n := queryInt(t, db, `SELECT COUNT(*) FROM stock_probe`); n != 4 {
		t.Errorf("%d probes, want 4", n)
	}
	// The moved pair comes first; the fake connector answers the world's start.
	if n := queryInt(t, db, `SELECT COUNT(*) FROM stock_probe WHERE sku = ? AND location_id = '1' AND connector_on_hand = 3 AND expected_on_hand = 0 AND status = 200`, it.SKU); n != 1 {
		t.Errorf("probe of the sold-out item: %d rows", n)
	}
}

func TestExecErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		flow string
		opts map[string]any
		err  string
	}{
		{FlowShiftClose, nil, `flow "shift-close" is not implemented yet`},
		{FlowBOPISPickup, nil, `flow "bopis-pickup" is not implemented yet`},
		{FlowTransfer, nil, `flow "transfer" is not implemented yet`},
		{"refund", nil, `unknown flow "refund"`},
		{FlowSale, map[string]any{"stores": []any{"Atlantis"}}, `options.stores[0]: no store of the world has id or name "Atlantis"`},
		{FlowSale, map[string]any{"stores": 9}, `options.stores: the world has only 3 stores`},
		{FlowSale, map[string]any{"singleItemSKU": "NOPE"}, `options.singleItemSKU: no item of the world has SKU "NOPE"`},
		{FlowSale, map[string]any{"hotItems": map[string]any{"count": 5000}}, `options.hotItems.count: the world has only 200 items`},
	} {
		o, err := ParseOptions(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = e.mod.Exec(tc.flow, o)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s %v: error %v, want %q", tc.flow, tc.opts, err, tc.err)
		}
	}
}

// TestRegistersServeOneAtATime runs more VUs than registers: a register never has two
// transactions in flight.
func TestRegistersServeOneAtATime(t *testing.T) {
	e := newEnv(t)
	e.conn.hold = time.Millisecond
	exec, init := e.exec(FlowSale, map[string]any{"stores": 1, "tenders": map[string]any{"cash": 1}, "basketSize": map[string]any{"mean": 1, "distribution": "fixed"}})
	e.runExec("crowd", exec, init, 60, 12)
	e.conn.mu.Lock()
	overlaps, singles := e.conn.overlaps, e.conn.singles
	e.conn.mu.Unlock()
	if singles != 60 || overlaps != 0 {
		t.Errorf("%d submissions, %d overlapping at a register", singles, overlaps)
	}
	regs := map[string]bool{}
	for _, tx := range e.conn.transactions() {
		regs[tx.RegisterID] = true
	}
	if len(regs) != 4 {
		t.Errorf("%d registers used, want the store's 4", len(regs))
	}
}

// TestEngineRunsDeterministic runs the same plan twice: the same seed gives the same
// baskets, customers and tenders, in the same order.
func TestEngineRunsDeterministic(t *testing.T) {
	type sig struct {
		Register string
		Lines    []contract.Line
		Customer *contract.Customer
		Tenders  []contract.Tender
	}
	run := func() []sig {
		e := newEnv(t)
		exec, init := e.exec(FlowSale, map[string]any{"tenders": map[string]any{"cash": 0.5, "gift_card": 0.5},
			"knownCustomerRate": 0.3, "newCustomerRate": 0.3, "discountRate": 0.3, "hotItems": map[string]any{"count": 2}})
		e.runExec("det", exec, init, 15, 1)
		e.conn.mu.Lock()
		order := append([]string(nil), e.conn.order...)
		e.conn.mu.Unlock()
		txs := e.conn.transactions()
		var out []sig
		for _, id := range order {
			tx := txs[id]
			out = append(out, sig{tx.RegisterID, tx.Lines, tx.Customer, tx.Tenders})
		}
		return out
	}
	a, b := run(), run()
	if len(a) != 15 || !reflect.DeepEqual(a, b) {
		t.Errorf("two runs of one seed differ:\n%+v\n%+v", a, b)
	}
}

// TestReaderTimeouts: a reader that times out before a card is presented has its action
// and intent cancelled, and is free for the next payment.
func TestReaderTimeouts(t *testing.T) {
	e := newEnv(t)
	base := map[string]any{"stores": 1, "tenders": map[string]any{"card": 1}, "declineRate": 0, "insufficientFundsRate": 0,
		"basketSize": map[string]any{"mean": 2}}
	timeouts := map[string]any{"terminalTimeoutRate": 1}
	for k, v := range base {
		timeouts[k] = v
	}
	exec, init := e.exec(FlowSale, timeouts)
	e.runExec("timeouts", exec, init, 4, 2)
	for id, tx := range e.conn.transactions() {
		for _, td := range tx.Tenders {
			if td.Type != contract.Cash {
				t.Errorf("%s: %s tender though every reader timed out", id, td.Type)
			}
		}
	}
	exec, init = e.exec(FlowSale, base)
	e.runExec("after", exec, init, 4, 2)
	db := e.closeJournal()
	checkJournal(t, db, e.conn.acceptedBodies())
	if n := queryInt(t, db, `SELECT COUNT(*) FROM payment WHERE outcome = 'canceled'`); n < 3 {
		t.Errorf("%d canceled payments, want 3 per card sale", n)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM payment WHERE outcome = 'captured'`); n == 0 {
		t.Error("no capture on the readers after their timeouts")
	}
	rows, err := db.Query(`SELECT intent_id FROM payment WHERE outcome = 'canceled'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if pi := e.intent(id); pi.Status != "canceled" {
			t.Errorf("timed-out intent %s is %s", id, pi.Status)
		}
	}
}
