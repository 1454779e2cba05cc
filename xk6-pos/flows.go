package pos

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/money"
)

// rung is a line rung up at the register: the pick, the item as the scanner found it,
// and the contract line.
type rung struct {
	pick pick
	item *contract.Item
	line contract.Line
	meta lineMeta
}

// localItem is the register's own item file entry for it: what an offline register
// prices with, and the fallback when the connector does not answer a lookup.
func (s *session) localItem(it *fixtures.Item) *contract.Item {
	w := s.mod.world
	out := &contract.Item{SKU: it.SKU, ItemID: it.ID, Barcode: it.UPC, Name: it.Name, Price: it.Price}
	if tc, ok := w.ItemTaxCode(it, s.reg.loc); ok {
		out.TaxCode, out.TaxRate = tc.Name, tc.Rate
	}
	out.OnHand = s.mod.shelf.onHand(it, s.reg.loc.ID)
	return out
}

// misread is what a scanner makes of a damaged barcode: one digit wrong, so the check
// digit fails and no item can have it.
func (s *session) misread(upc string) string {
	b := []byte(upc)
	if len(b) == 0 {
		return "0"
	}
	i := s.rand.IntN(len(b))
	d := byte('0' + (int(b[i]-'0')+1+s.rand.IntN(9))%10)
	b[i] = d
	return string(b)
}

// scan reads it with the scanner and looks it up at the connector. A misread barcode
// must be unknown to the connector (404, checked); the cashier then rescans. When the
// connector does not answer, the register prices from its own item file.
func (s *session) scan(it *fixtures.Item, online bool) *contract.Item {
	if !online {
		return s.localItem(it)
	}
	ctx := s.step("scan", contract.PathItem)
	if s.opts.MisreadRate > 0 && s.rand.Float64() < s.opts.MisreadRate {
		bad := s.misread(it.UPC)
		start := time.Now()
		got, status, err := s.lookup(bad, http.StatusNotFound)
		s.emitDuration(ctx, s.mod.m.scan, time.Since(start))
		if err == nil {
			s.check(ctx, "scan: a misread barcode is unknown (404)", status == 404 && got == nil)
		}
	}
	start := time.Now()
	got, status, err := s.lookup(it.UPC)
	s.emitDuration(ctx, s.mod.m.scan, time.Since(start))
	switch {
	case err != nil:
		s.check(ctx, "scan: the connector answers item lookups", false)
		s.mod.log.Debug("pos: lookup failed, pricing from the register's item file", "sku", it.SKU, "err", err)
		return s.localItem(it)
	case got == nil:
		s.check(ctx, "scan: a known barcode is found", false)
		s.mod.log.Warn("pos: the connector does not know an item of the world", "sku", it.SKU, "upc", it.UPC, "status", status)
		return s.localItem(it)
	}
	s.check(ctx, "scan: the lookup is the scanned item", got.SKU == it.SKU)
	if got.SKU != it.SKU {
		return s.localItem(it)
	}
	return got
}

// priceLine makes the contract line of a pick priced as item: line tax is
// round((price × quantity − discount) × rate / 100), half away from zero.
func priceLine(item *contract.Item, p pick) contract.Line {
	gross := item.Price.Mul(p.qty)
	var disc money.Amount
	if p.discountPc > 0 {
		disc = gross.Percent(p.discountPc)
	}
	return contract.Line{
		SKU: item.SKU, Quantity: p.qty, UnitPrice: item.Price, Discount: disc,
		TaxCode: item.TaxCode, TaxAmount: (gross - disc).Percent(item.TaxRate),
	}
}

// ring scans the picks and takes them off the shelf; a pick the shelf no longer holds
// is dropped (pos_sold_out).
func (s *session) ring(picks []pick, online bool) []rung {
	var out []rung
	for i, p := range picks {
		if i > 0 {
			s.think()
		}
		if !s.mod.shelf.take(p.item, s.reg.loc.ID, p.qty) {
			s.emit(s.ctx, s.mod.m.soldOut, 1)
			continue
		}
		item := s.scan(p.item, online)
		out = append(out, rung{pick: p, item: item, line: priceLine(item, p),
			meta: lineMeta{itemID: item.ItemID, taxRate: item.TaxRate, weighed: p.item.Weighed}})
	}
	return out
}

// unring puts rung lines back on the shelf (an abandoned sale).
func (s *session) unring(rs []rung) {
	for _, r := range rs {
		s.mod.shelf.put(r.pick.item, s.reg.loc.ID, r.pick.qty)
	}
}

// newTx starts a transaction of the register.
func (s *session) newTx(typ contract.TxType, cust *contract.Customer) *contract.Transaction {
	return &contract.Transaction{
		ID: s.reg.nextID(s.mod.runID), Type: typ, LocationID: s.reg.loc.ID, RegisterID: s.reg.id(),
		CashierID: s.reg.cashier, OccurredAt: s.f.clock.now(), Customer: cust,
	}
}

// prevalidate checks a transaction before any money moves, with a stand-in tender for
// its total: a failure is a bug of this module.
func (s *session) prevalidate(tx *contract.Transaction) error {
	cp := *tx
	if t := cp.Total(); t != 0 {
		cp.Tenders = []contract.Tender{{Type: contract.Cash, Amount: t}}
	} else {
		cp.Tenders = nil
	}
	if e := cp.Validate(); e != nil {
		s.check(s.ctx, "transaction: valid per the contract", false)
		return fmt.Errorf("pos: %s %s is invalid (a bug of the POS module): %s: %s", tx.Type, tx.ID, e.Field, e.Message)
	}
	return nil
}

// sale rings up a basket (preset, or drawn from the model), takes payment and submits
// the sale.
func (s *session) sale(preset []pick) error {
	picks := preset
	if picks == nil {
		picks = drawBasket(s.rand, s.f.model, s.opts)
	}
	cust := drawCustomer(s.rand, s.mod.world, s.opts, s.f.seed, s.vuID(), s.newCustomers())
	plan := drawTenderPlan(s.rand, s.opts.Tenders)
	rs := s.ring(picks, true)
	if len(rs) == 0 {
		s.countNotSold("sold-out")
		return nil
	}
	tx := s.newTx(contract.Sale, cust.customer)
	for _, r := range rs {
		tx.Lines = append(tx.Lines, r.line)
	}
	if err := s.prevalidate(tx); err != nil {
		s.unring(rs)
		return err
	}
	s.think()
	tenders, ok := s.pay(tx.ID, tx.Total(), plan)
	if !ok {
		s.unring(rs)
		s.countNotSold("abandoned")
		s.emit(s.ctx, s.mod.m.transactions, 1, loadgen.Tag{Key: "type", Value: string(contract.Sale)}, loadgen.Tag{Key: "outcome", Value: "abandoned"})
		return nil
	}
	tx.Tenders = tenders
	return s.complete(tx, metasOf(rs), cust.kind, nil)
}

func metasOf(rs []rung) []lineMeta {
	out := make([]lineMeta, len(rs))
	for i, r := range rs {
		out[i] = r.meta
	}
	return out
}

func (s *session) vuID() int {
	if s.vu == nil {
		return 0
	}
	return s.vu.ID
}

func (s *session) newCustomers() *int64 {
	if s.st == nil {
		s.st = &vuState{}
	}
	return &s.st.newCustomers
}

func (s *session) countNotSold(what string) { s.mod.countOutcome(what) }

// pay takes total from the customer by plan. ok is false when the customer walks away
// (declines).
func (s *session) pay(txID string, total money.Amount, plan string) ([]contract.Tender, bool) {
	if total == 0 {
		return nil, true
	}
	cash := func(a money.Amount) []contract.Tender {
		return []contract.Tender{{Type: contract.Cash, Amount: a}}
	}
	switch plan {
	case planCash:
		return cash(total), true
	case planGift:
		return []contract.Tender{{Type: contract.GiftCard, Amount: total}}, true
	case planSplit:
		if total < 2*minCard {
			break // too small to split: all on the card
		}
		// Cash covers 20 to 60 % of it, in whole dollars where it can.
		part := total.Mul(0.2 + 0.4*s.rand.Float64())
		if part >= 100 {
			part = part / 100 * 100
		}
		part = max(1, min(part, total-minCard))
		tenders, ok := s.payCard(txID, total-part)
		if !ok {
			return nil, false
		}
		if tenders[0].Type == contract.Cash { // the card failed: all cash
			return cash(total), true
		}
		return append(tenders, contract.Tender{Type: contract.Cash, Amount: part}), true
	}
	return s.payCard(txID, total)
}

// payCard takes amount on the card terminal. A declined customer tries another card
// (up to three) or walks away (AbandonOnDeclineRate); a reader timeout retries; when
// the gateway cannot take the payment the customer pays cash instead.
func (s *session) payCard(txID string, amount money.Amount) ([]contract.Tender, bool) {
	if amount < minCard {
		return []contract.Tender{{Type: contract.Cash, Amount: amount}}, true
	}
	declined := false
	for attempt := 1; attempt <= 3; attempt++ {
		card := drawCard(s.rand, s.opts)
		p := s.cardPayment(txID, attempt, amount, card, false, false)
		switch {
		case p.outcome == PayCaptured:
			return []contract.Tender{{Type: contract.Card, Amount: amount, PaymentIntentID: p.intentID}}, true
		case p.outcome == PayDeclined:
			declined = true
			if s.rand.Float64() < s.opts.AbandonOnDeclineRate {
				return nil, false
			}
		case p.timedOut:
		default:
			s.mod.log.Debug("pos: card payment failed, paying cash", "tx", txID, "err", p.err)
			return []contract.Tender{{Type: contract.Cash, Amount: amount}}, true
		}
		if s.ctx.Err() != nil {
			return nil, false
		}
	}
	if declined {
		return nil, false
	}
	return []contract.Tender{{Type: contract.Cash, Amount: amount}}, true
}

// complete validates a finished transaction, prints its receipt, counts the drawer,
// and submits it; without an answer it stays in the register's queue. onDone, when
// set, learns the outcome (returns and exchanges settle their original sale with it).
func (s *session) complete(tx *contract.Transaction, meta []lineMeta, custKind string, onDone func(outcome string)) error {
	if e := tx.Validate(); e != nil {
		s.check(s.ctx, "transaction: valid per the contract", false)
		if onDone != nil {
			onDone(OutcomeRejected)
		}
		return fmt.Errorf("pos: %s %s is invalid (a bug of the POS module): %s: %s", tx.Type, tx.ID, e.Field, e.Message)
	}
	s.printReceipt(tx)
	s.countDrawer(tx)
	body, err := json.Marshal(tx)
	if err != nil {
		return fmt.Errorf("pos: encode %s: %w", tx.ID, err)
	}
	e := &txEntry{tx: tx, body: body, scenario: s.scenario(), flow: s.flowName(), customerKind: custKind, lines: meta}
	s.submit(e)
	if e.outcome == OutcomeUnacknowledged {
		// No answer: the register keeps it and sends the same body again later.
		s.enqueue(&queuedTx{entry: e})
		if onDone != nil {
			onDone(OutcomeUnacknowledged)
		}
		return nil
	}
	if e.outcome == OutcomeAcknowledged && s.vu != nil && !s.vu.IntendedStart.IsZero() {
		s.emitDuration(s.ctx, s.mod.m.checkout, time.Since(s.vu.IntendedStart), loadgen.Tag{Key: "type", Value: string(tx.Type)})
	}
	s.settle(e)
	if onDone != nil {
		onDone(e.outcome)
	}
	return nil
}

// settle journals a transaction's final outcome and makes an acknowledged sale
// returnable.
func (s *session) settle(e *txEntry) {
	s.emit(s.ctx, s.mod.m.transactions, 1, txTags(e)...)
	s.mod.countOutcome(e.outcome)
	s.mod.j.add(e)
	if e.outcome == OutcomeAcknowledged && e.tx.Type == contract.Sale {
		rec := newSaleRecord(e.tx, e.lines)
		rec.custKind = e.customerKind
		s.mod.returns.put(e.tx.LocationID, rec)
	}
	if e.outcome == OutcomeRejected {
		s.mod.log.Warn("pos: the connector rejected a transaction", "tx", e.tx.ID, "err", e.err)
	}
}

// enqueue puts a transaction in the register's offline queue.
func (s *session) enqueue(q *queuedTx) {
	s.reg.mu.Lock()
	s.reg.queue = append(s.reg.queue, q)
	s.reg.mu.Unlock()
	n := s.mod.queued.Add(1)
	s.emit(s.ctx, s.mod.m.offlineQueue, float64(n))
}

// void rings up a basket, has the card authorised, then the customer changes their
// mind: the authorisation is cancelled and nothing is submitted.
func (s *session) void() error {
	picks := drawBasket(s.rand, s.f.model, s.opts)
	rs := s.ring(picks, true)
	defer s.unring(rs)
	var total money.Amount
	for _, r := range rs {
		total += contract.LineTotal(r.line)
	}
	if total < minCard {
		s.countNotSold("sold-out")
		return nil
	}
	s.think()
	txID := s.reg.nextID(s.mod.runID)
	card := testCard{number: approvingCards[s.rand.IntN(len(approvingCards))]}
	p := s.cardPayment(txID, 1, total, card, true, false)
	s.check(s.ctx, "void: the authorisation is cancelled", p.outcome == PayVoided)
	s.countNotSold("voided")
	s.emit(s.ctx, s.mod.m.transactions, 1, loadgen.Tag{Key: "type", Value: string(contract.Sale)}, loadgen.Tag{Key: "outcome", Value: "voided"})
	return nil
}

// peripheralStorm is a customer price-checking: many scans (lookups, misreads, the
// scale for weighed items) and now and then a small sale.
func (s *session) peripheralStorm() error {
	var seen []pick
	for i := range s.opts.ScansPerIteration {
		if i > 0 {
			s.think()
		}
		if s.ctx.Err() != nil {
			return nil
		}
		it := s.f.model.pick(s.rand)
		p := pick{item: it, qty: 1}
		if it.Weighed {
			p.qty = scaleWeight(s.rand)
		}
		s.scan(it, true)
		seen = append(seen, p)
	}
	if s.rand.Float64() >= s.opts.CompletionRate {
		return nil
	}
	n := 1 + s.rand.IntN(min(2, len(seen)))
	basket := make([]pick, 0, n)
	for range n {
		basket = append(basket, seen[s.rand.IntN(len(seen))])
	}
	return s.sale(basket)
}
