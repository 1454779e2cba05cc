package pos

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/money"
)

// Offline operation. An offline-resync flow's registers lose the connector for
// OfflineDuration from the flow's first iteration. Meanwhile they keep selling: items
// priced from the register's own item file, occurredAt from the register's (business)
// clock, offline=true, and card payments in store-and-forward — the reader accepts the
// card offline and the payment is made on the gateway (create, process, present,
// capture) when the register reconnects, before the queue is uploaded. Then the queue
// goes up through POST /pos/v1/transactions:batch in chunks of at most BatchSize, and
// each transaction is journaled with its batch result.
//
// Any register also queues a transaction it submitted online without getting an answer
// in SubmitRetryFor; it sends the same body again, in a batch, at its next iteration,
// or when the harness calls Flush.

// offlineSale is one iteration of offline-resync: an offline sale into the queue while
// the window lasts, an ordinary sale after it (the queue having been uploaded first).
func (s *session) offlineSale() error {
	if !s.f.plan.offlineAt(s.mod.now()) {
		return s.sale(nil)
	}
	picks := drawBasket(s.rand, s.f.model, s.opts)
	cust := drawCustomer(s.rand, s.mod.world, s.opts, s.f.seed, s.vuID(), s.newCustomers())
	plan := drawTenderPlan(s.rand, s.opts.Tenders)
	rs := s.ring(picks, false)
	if len(rs) == 0 {
		s.countNotSold("sold-out")
		return nil
	}
	tx := s.newTx(contract.Sale, cust.customer)
	tx.Offline = true
	for _, r := range rs {
		tx.Lines = append(tx.Lines, r.line)
	}
	if err := s.prevalidate(tx); err != nil {
		s.unring(rs)
		return err
	}
	s.think()
	q := &queuedTx{entry: &txEntry{tx: tx, scenario: s.scenario(), flow: s.flowName(), customerKind: cust.kind, lines: metasOf(rs)}}
	tx.Tenders = s.payOffline(q, tx.Total(), plan)
	// Check the finished transaction as it will be sent, with the intents to come.
	cp := *tx
	cp.Tenders = append([]contract.Tender(nil), tx.Tenders...)
	for i := range cp.Tenders {
		if cp.Tenders[i].Type == contract.Card && cp.Tenders[i].PaymentIntentID == "" {
			cp.Tenders[i].PaymentIntentID = "pi_pending"
		}
	}
	if e := cp.Validate(); e != nil {
		s.check(s.ctx, "transaction: valid per the contract", false)
		return fmt.Errorf("pos: offline sale %s is invalid (a bug of the POS module): %s: %s", tx.ID, e.Field, e.Message)
	}
	s.printReceipt(&cp)
	s.countDrawer(tx)
	if len(q.forward) == 0 {
		body, err := json.Marshal(tx)
		if err != nil {
			return fmt.Errorf("pos: encode %s: %w", tx.ID, err)
		}
		q.entry.body = body
	}
	s.enqueue(q)
	return nil
}

// payOffline takes payment without the gateway: cash and gift cards as usual, cards
// read now and kept for forwarding (an offline reader approves within its floor limit,
// so the card is one that the gateway will approve).
func (s *session) payOffline(q *queuedTx, total money.Amount, plan string) []contract.Tender {
	if total == 0 {
		return nil
	}
	card := func(a money.Amount) contract.Tender {
		q.forward = append(q.forward, forwardPayment{
			tender: -1, amount: a,
			card: testCard{number: approvingCards[s.rand.IntN(len(approvingCards))]},
		})
		return contract.Tender{Type: contract.Card, Amount: a}
	}
	var out []contract.Tender
	switch {
	case plan == planCash || total < minCard:
		out = []contract.Tender{{Type: contract.Cash, Amount: total}}
	case plan == planGift:
		out = []contract.Tender{{Type: contract.GiftCard, Amount: total}}
	case plan == planSplit && total >= 2*minCard:
		part := total.Mul(0.2 + 0.4*s.rand.Float64())
		if part >= 100 {
			part = part / 100 * 100
		}
		part = max(1, min(part, total-minCard))
		out = []contract.Tender{card(total - part), {Type: contract.Cash, Amount: part}}
	default:
		out = []contract.Tender{card(total)}
	}
	for i := range q.forward {
		q.forward[i].tender = i // card tenders come first
	}
	return out
}

// countDrawer records a finished transaction's cash in the drawer.
func (s *session) countDrawer(tx *contract.Transaction) {
	for _, t := range tx.Tenders {
		if t.Type == contract.Cash {
			amt := t.Amount
			if tx.Type == contract.Return {
				amt = -amt
			}
			s.reg.drawerAdd(amt)
		}
	}
	s.reg.mu.Lock()
	s.reg.txCount++
	s.reg.mu.Unlock()
}

// forwardPayments makes the card payments a queued transaction took offline, in order,
// and builds its body once they are all captured. false: one could not be made now
// (the queue stops there and tries again later, with new idempotency keys).
func (s *session) forwardPayments(q *queuedTx) bool {
	tx := q.entry.tx
	for len(q.forward) > 0 {
		fp := q.forward[0]
		q.tries++
		p := s.cardPayment(tx.ID, 100*q.tries+fp.tender, fp.amount, fp.card, false, true)
		if p.outcome != PayCaptured {
			s.mod.log.Warn("pos: a store-and-forward payment could not be made", "tx", tx.ID, "outcome", p.outcome, "err", p.err)
			return false
		}
		tx.Tenders[fp.tender].PaymentIntentID = p.intentID
		q.forward = q.forward[1:]
	}
	if e := tx.Validate(); e != nil {
		s.check(s.ctx, "transaction: valid per the contract", false)
		s.mod.log.Error("pos: an offline transaction is invalid (a bug of the POS module)", "tx", tx.ID, "field", e.Field, "err", e.Message)
		return false
	}
	body, err := json.Marshal(tx)
	if err != nil {
		return false
	}
	q.entry.body = body
	return true
}

// uploadQueue forwards the queue's card payments and uploads the queue in batches,
// journaling each transaction with its result. What could not be sent stays queued.
func (s *session) uploadQueue() {
	s.reg.mu.Lock()
	q := append([]*queuedTx(nil), s.reg.queue...)
	s.reg.mu.Unlock()
	if len(q) == 0 {
		return
	}
	ready := make([]*queuedTx, 0, len(q))
	for _, qt := range q {
		if len(qt.forward) > 0 && !s.forwardPayments(qt) {
			break
		}
		if qt.entry.body == nil {
			break
		}
		ready = append(ready, qt)
	}
	size := s.opts.BatchSize
	if size <= 0 || size > contract.MaxBatch {
		size = contract.MaxBatch
	}
	for start := 0; start < len(ready); start += size {
		chunk := ready[start:min(start+size, len(ready))]
		res, err := s.sendBatch(chunk)
		ctx := s.step("upload", contract.PathBatch)
		if !s.check(ctx, "upload: the batch is answered", err == nil) {
			s.mod.log.Warn("pos: offline upload failed; the queue is kept", "register", s.reg.id(), "transactions", len(chunk), "err", err)
			return
		}
		byID := make(map[string]*contract.ItemResult, len(res))
		for i := range res {
			byID[res[i].ID] = &res[i]
		}
		done := map[*queuedTx]bool{}
		now := s.mod.now()
		for i, qt := range chunk {
			e := qt.entry
			r := byID[e.tx.ID]
			if i < len(res) && res[i].ID == e.tx.ID {
				r = &res[i]
			}
			if r == nil {
				s.check(ctx, "upload: every transaction has a result", false)
				continue
			}
			switch r.Status {
			case contract.ItemAccepted, contract.ItemDuplicate:
				e.outcome, e.ackedAt, e.ackStatus, e.batchStatus, e.err = OutcomeAcknowledged, now, 200, r.Status, ""
			case contract.ItemRejected:
				e.outcome, e.batchStatus = OutcomeRejected, r.Status
				if r.Error != nil {
					e.err = fmt.Sprintf("%s: %s (%s)", r.Error.Code, r.Error.Message, r.Error.Field)
				}
			default:
				s.check(ctx, "upload: a known batch status", false)
				continue
			}
			done[qt] = true
			s.settle(e)
		}
		s.dequeue(done)
	}
}

// dequeue removes settled transactions from the register's queue.
func (s *session) dequeue(done map[*queuedTx]bool) {
	if len(done) == 0 {
		return
	}
	s.reg.mu.Lock()
	kept := s.reg.queue[:0]
	for _, qt := range s.reg.queue {
		if !done[qt] {
			kept = append(kept, qt)
		}
	}
	clear(s.reg.queue[len(kept):])
	s.reg.queue = kept
	s.reg.mu.Unlock()
	n := s.mod.queued.Add(-int64(len(done)))
	s.emit(s.ctx, s.mod.m.offlineQueue, float64(n))
}

// Flush makes every register send what it still holds: offline registers reconnect
// (ending their outage early), forward their card payments and upload their queues;
// online registers resend the transactions left unanswered. Call it after the traffic
// and before draining the connector. It returns an error when transactions remain
// queued (the connector would not take them); Close journals those as unacknowledged.
func (m *Module) Flush(ctx context.Context) error {
	for _, r := range m.regs {
		r.mu.Lock()
		n := len(r.queue)
		r.mu.Unlock()
		if n == 0 {
			continue
		}
		if err := r.acquire(ctx); err != nil {
			return fmt.Errorf("pos: flush: register %s is busy: %w", r.id(), err)
		}
		s := m.flushSession(ctx, r)
		s.uploadQueue()
		r.release()
	}
	if n := m.queued.Load(); n > 0 {
		return fmt.Errorf("pos: flush: %d transactions are still queued (the connector did not take them)", n)
	}
	return nil
}

// flushSession is a session outside any iteration: no VU, the module's own client.
func (m *Module) flushSession(ctx context.Context, r *register) *session {
	o, _ := DefaultOptions("").resolve("")
	if p := r.offline.Load(); p != nil {
		o = p.flow.opts
	}
	o.TerminalTimeoutRate = 0
	h := fnv.New64a()
	h.Write([]byte(r.id()))
	return &session{
		mod: m, flow: "flush", st: &vuState{}, client: m.client, reg: r, opts: &o,
		rand: rand.New(rand.NewPCG(uint64(m.cfg.Seed), h.Sum64())),
		ctx:  loadgen.WithTags(ctx, loadgen.Tag{Key: "flow", Value: "flush"}, loadgen.Tag{Key: "store", Value: r.loc.ID}),
	}
}
