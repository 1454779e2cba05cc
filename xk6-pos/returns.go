package pos

import (
	"math"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/money"
)

// Returns and exchanges are made against sales this run completed and the connector
// acknowledged, kept per store (returnPool). What is left of a sale is tracked line by
// line (quantity, discount, tax) and tender by tender, so that however many returns a
// sale sees, they never give back more than it sold: the last return of a line takes
// exactly what is left of it.

// returnLine takes q of line i of rec back and returns the contract line of a return
// (positive quantity and amounts). The discount and tax given back are the line's
// pro rata share (tax recomputed on what is returned, never more than is left); the
// last of a line takes exactly what is left.
func (rec *saleRecord) returnLine(i int, q float64, restock bool) contract.Line {
	sold := rec.tx.Lines[i]
	left := &rec.lines[i]
	var disc, tax money.Amount
	if q >= left.qty-1e-9 {
		q, disc, tax = left.qty, left.disc, left.tax
	} else {
		disc = min(left.disc, money.FromCents(int64(math.Round(float64(sold.Discount)*q/sold.Quantity))))
		tax = min(left.tax, max(0, (sold.UnitPrice.Mul(q)-disc).Percent(rec.meta[i].taxRate)))
	}
	left.qty -= q
	if left.qty < 1e-9 {
		left.qty = 0
	}
	left.disc -= disc
	left.tax -= tax
	return contract.Line{
		SKU: sold.SKU, Quantity: q, UnitPrice: sold.UnitPrice, Discount: disc,
		TaxCode: sold.TaxCode, TaxAmount: tax, Restock: restock,
	}
}

// snapshot and restore undo a return that the connector rejected.
func (rec *saleRecord) snapshot() ([]lineLeft, []money.Amount) {
	return append([]lineLeft(nil), rec.lines...), append([]money.Amount(nil), rec.tenders...)
}

func (rec *saleRecord) restore(lines []lineLeft, tenders []money.Amount) {
	rec.lines, rec.tenders = lines, tenders
}

// refundTo pays amount (> 0) back to the sale's tenders: cards first (to the original
// payment intent), then gift cards, then cash. Each tender takes at most what is left
// of it, so a card is never refunded more than was captured on it.
func (rec *saleRecord) refundTo(amount money.Amount) []contract.Tender {
	var out []contract.Tender
	for _, kind := range []contract.TenderType{contract.Card, contract.GiftCard, contract.Cash} {
		for i, t := range rec.tx.Tenders {
			if amount <= 0 {
				return out
			}
			if t.Type != kind || rec.tenders[i] <= 0 {
				continue
			}
			a := min(amount, rec.tenders[i])
			rec.tenders[i] -= a
			amount -= a
			out = append(out, contract.Tender{Type: t.Type, Amount: a, PaymentIntentID: t.PaymentIntentID})
		}
	}
	if amount > 0 {
		// Cannot happen: what is left of the tenders covers what is left of the lines.
		out = append(out, contract.Tender{Type: contract.Cash, Amount: amount})
	}
	return out
}

// chooseReturn picks what comes back of rec: everything left, or (ReturnPartialRate)
// some lines and, of unit lines, some units. eligible filters the lines (nil: all).
// Weighed lines always come back whole.
func (s *session) chooseReturn(rec *saleRecord, eligible func(i int) bool) []struct {
	i int
	q float64
} {
	type part = struct {
		i int
		q float64
	}
	var cands []int
	for i, l := range rec.lines {
		if l.qty > 1e-9 && (eligible == nil || eligible(i)) {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	partial := s.rand.Float64() < s.opts.ReturnPartialRate
	var out []part
	if !partial {
		for _, i := range cands {
			out = append(out, part{i, rec.lines[i].qty})
		}
		return out
	}
	k := 1 + s.rand.IntN(len(cands))
	s.rand.Shuffle(len(cands), func(a, b int) { cands[a], cands[b] = cands[b], cands[a] })
	for _, i := range cands[:k] {
		q := rec.lines[i].qty
		if !rec.meta[i].weighed && q > 1 {
			q = float64(1 + s.rand.IntN(int(q)))
		}
		out = append(out, part{i, q})
	}
	return out
}

// returnFlow returns part or all of an acknowledged sale of the store, refunding to
// the original tenders. When the store has nothing to return yet, the customer buys
// instead (a sale), so that returns have something to work on.
func (s *session) returnFlow() error {
	rec := s.mod.returns.take(s.reg.loc.ID, s.rand, nil)
	if rec == nil {
		return s.sale(nil)
	}
	tx := s.newTx(contract.Return, rec.tx.Customer)
	tx.OriginalTransactionID = rec.tx.ID
	lines, tenders := rec.snapshot()
	var meta []lineMeta
	for _, p := range s.chooseReturn(rec, nil) {
		restock := s.rand.Float64() < s.opts.RestockRate
		tx.Lines = append(tx.Lines, rec.returnLine(p.i, p.q, restock))
		meta = append(meta, rec.meta[p.i])
	}
	if len(tx.Lines) == 0 {
		s.mod.returns.put(rec.tx.LocationID, rec)
		return nil
	}
	tx.Tenders = rec.refundTo(tx.Total())
	s.think()
	return s.complete(tx, meta, rec.custKind, func(outcome string) {
		if outcome == OutcomeRejected {
			rec.restore(lines, tenders)
		} else {
			s.restock(tx)
		}
		s.mod.returns.put(rec.tx.LocationID, rec)
	})
}

// restock puts the restocked lines of a return or exchange back on the shelf.
func (s *session) restock(tx *contract.Transaction) {
	for _, l := range tx.Lines {
		if !l.Restock {
			continue
		}
		if tx.Type == contract.Exchange && l.Quantity > 0 {
			continue
		}
		if it, ok := s.mod.world.ItemBySKU(l.SKU); ok {
			s.mod.shelf.put(it, s.reg.loc.ID, math.Abs(l.Quantity))
		}
	}
}

// exchange takes back some lines of an acknowledged sale of the store and sells new
// items in the same transaction; the tenders carry the difference: paid by the
// customer, or refunded to the original tenders. Only undiscounted lines are taken
// back: the contract's line total (quantity × price − discount + tax) cannot express a
// discount given back on a negative line.
func (s *session) exchange() error {
	undiscounted := func(rec *saleRecord) func(int) bool {
		return func(i int) bool { return rec.tx.Lines[i].Discount == 0 }
	}
	rec := s.mod.returns.take(s.reg.loc.ID, s.rand, func(rec *saleRecord) bool {
		f := undiscounted(rec)
		for i, l := range rec.lines {
			if l.qty > 1e-9 && f(i) {
				return true
			}
		}
		return false
	})
	if rec == nil {
		return s.sale(nil)
	}
	lines, tenders := rec.snapshot()
	tx := s.newTx(contract.Exchange, rec.tx.Customer)
	tx.OriginalTransactionID = rec.tx.ID
	var meta []lineMeta
	for _, p := range s.chooseReturn(rec, undiscounted(rec)) {
		restock := s.rand.Float64() < s.opts.RestockRate
		l := rec.returnLine(p.i, p.q, restock)
		l.Quantity, l.TaxAmount = -l.Quantity, -l.TaxAmount
		tx.Lines = append(tx.Lines, l)
		meta = append(meta, rec.meta[p.i])
	}
	// The new goods: one or two items, without a discount.
	o := *s.opts
	o.BasketSize = BasketSize{Mean: 1.5, Max: 2, Distribution: DistPoisson}
	o.DiscountRate = 0
	picks := drawBasket(s.rand, s.f.model, &o)
	plan := drawTenderPlan(s.rand, s.opts.Tenders)
	rs := s.ring(picks, true)
	for _, r := range rs {
		tx.Lines = append(tx.Lines, r.line)
		meta = append(meta, r.meta)
	}
	undo := func() {
		rec.restore(lines, tenders)
		s.unring(rs)
		s.mod.returns.put(rec.tx.LocationID, rec)
	}
	if err := s.prevalidate(tx); err != nil {
		undo()
		return err
	}
	s.think()
	switch net := tx.Total(); {
	case net > 0:
		if plan == planSplit {
			plan = planCard
		}
		paid, ok := s.pay(tx.ID, net, plan)
		if !ok {
			undo()
			s.countNotSold("abandoned")
			s.emit(s.ctx, s.mod.m.transactions, 1, loadgen.Tag{Key: "type", Value: string(contract.Exchange)}, loadgen.Tag{Key: "outcome", Value: "abandoned"})
			return nil
		}
		tx.Tenders = paid
	case net < 0:
		for _, t := range rec.refundTo(-net) {
			t.Amount = -t.Amount
			tx.Tenders = append(tx.Tenders, t)
		}
	}
	return s.complete(tx, meta, rec.custKind, func(outcome string) {
		if outcome == OutcomeRejected {
			rec.restore(lines, tenders)
		} else {
			s.restock(tx)
		}
		s.mod.returns.put(rec.tx.LocationID, rec)
	})
}
