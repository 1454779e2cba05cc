package connector

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/connector/outbox"
	"github.com/doorbuster/doorbuster/connector/payments"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/money"
)

// original is what a return or an exchange knows of the sale it refers to.
type original struct {
	id      string
	tx      *contract.Transaction // nil when the connector never accepted it
	saleEID string                // external id of its cash sale, for createdFrom
}

// originalOf builds the link to an original the connector accepted (tx may be nil).
func originalOf(id string, tx *contract.Transaction) original {
	o := original{id: id, tx: tx, saleEID: transactionEID(id)}
	if tx != nil && tx.Type == contract.Exchange {
		o.saleEID += exchangeSaleSuffix
	}
	return o
}

// post sends one transaction to the gateway (card refunds) and NetSuite, and returns
// the internal id of its main NetSuite record. Every step is idempotent: records are
// upserted by external id and refunds carry the transaction id as Idempotency-Key,
// so a retry after a crash or a lost response changes nothing.
func (c *Connector) post(ctx context.Context, rec *outbox.Record, tx *contract.Transaction, orig original) (string, error) {
	snap := c.catalog.get()
	if snap == nil {
		return "", errors.New("catalog not loaded")
	}
	m := mapper{snap: snap, bugs: c.bugs, now: c.cfg.Clock()}
	entity, err := c.customer(ctx, tx, snap)
	if err != nil {
		return "", err
	}
	eid := transactionEID(tx.ID)
	switch tx.Type {
	case contract.Sale:
		return c.postSale(ctx, m, tx, eid, entity)
	case contract.Return:
		return c.postReturn(ctx, m, rec, tx, eid, entity, orig)
	case contract.Exchange:
		return c.postExchange(ctx, m, rec, tx, eid, entity, orig)
	}
	return "", &mapError{"type", fmt.Sprintf("unknown transaction type %q", tx.Type)}
}

func allLines(tx *contract.Transaction) []int {
	idx := make([]int, len(tx.Lines))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

func (c *Connector) postSale(ctx context.Context, m mapper, tx *contract.Transaction, eid string, entity *nsRef) (string, error) {
	lines, _, err := m.lines(tx, allLines(tx), false)
	if err != nil {
		return "", err
	}
	b := m.header(tx, eid)
	b.Entity = entity
	b.Item.Items = lines
	parts, err := m.saleParts(tx, func(i int) string { return giftCode(tx, i) })
	if err != nil {
		return "", err
	}
	setTenders(b, parts)
	return c.putRecord(ctx, "cashSale", eid, b)
}

func (c *Connector) postReturn(ctx context.Context, m mapper, rec *outbox.Record, tx *contract.Transaction, eid string, entity *nsRef, orig original) (string, error) {
	src := tx
	if c.bugs.on(BugFullRefund) && orig.tx != nil {
		src = fullRefundOf(tx, orig.tx)
	}
	lines, _, err := m.lines(src, allLines(src), true)
	if err != nil {
		return "", err
	}
	b := m.header(tx, eid)
	b.Entity = entity
	b.Item.Items = lines
	b.CreatedFrom = &nsRef{ExternalID: orig.saleEID}
	var parts []tenderPart
	for i, t := range src.Tenders {
		p, err := c.refundPart(ctx, m, rec, tx, src, i, t.Amount.Cents(), orig)
		if err != nil {
			return "", err
		}
		parts = append(parts, p)
	}
	setTenders(b, parts)
	return c.putRecord(ctx, "cashRefund", eid, b)
}

// fullRefundOf is the full-refund bug: the whole original sale (its sold lines, all
// restocked, and its tenders) instead of what the customer brought back.
func fullRefundOf(ret, sale *contract.Transaction) *contract.Transaction {
	cp := *ret
	cp.Lines = nil
	for _, l := range sale.Lines {
		if l.Quantity > 0 {
			l.Restock = true
			cp.Lines = append(cp.Lines, l)
		}
	}
	cp.Tenders = nil
	for _, t := range sale.Tenders {
		if t.Amount > 0 {
			cp.Tenders = append(cp.Tenders, t)
		}
	}
	return &cp
}

// refundPart pays back tender i of src (amount in cents, positive): a card tender is
// refunded through the gateway first.
func (c *Connector) refundPart(ctx context.Context, m mapper, rec *outbox.Record, tx, src *contract.Transaction, i int, cents int64, orig original) (tenderPart, error) {
	if cents < 0 {
		cents = -cents
	}
	t := src.Tenders[i]
	id, err := m.method(t.Type, fmt.Sprintf("tenders[%d].type", i))
	if err != nil {
		return tenderPart{}, err
	}
	p := tenderPart{kind: t.Type, method: id, amount: money.FromCents(cents)}
	switch t.Type {
	case contract.GiftCard:
		p.ref = giftCode(src, i)
	case contract.Card:
		intent := t.PaymentIntentID
		if intent == "" && orig.tx != nil {
			intent = cardIntent(orig.tx)
		}
		if intent == "" {
			return p, &mapError{fmt.Sprintf("tenders[%d].paymentIntentId", i), "a card refund needs the payment intent of the original sale"}
		}
		ref, err := c.refund(ctx, rec, tx, i, intent, cents)
		if err != nil {
			return p, err
		}
		p.ref = ref
	}
	return p, nil
}

func cardIntent(tx *contract.Transaction) string {
	for _, t := range tx.Tenders {
		if t.Type == contract.Card && t.PaymentIntentID != "" {
			return t.PaymentIntentID
		}
	}
	return ""
}

// refund makes (once) the gateway refund for card tender i of a transaction, keyed by
// the transaction id ("{id}" for the first tender, "{id}-{i}" for others), and keeps
// its id in the outbox so a retry does not ask again.
func (c *Connector) refund(ctx context.Context, rec *outbox.Record, tx *contract.Transaction, i int, intent string, cents int64) (string, error) {
	key := tx.ID
	if i > 0 {
		key += "-" + strconv.Itoa(i)
	}
	done := parseRefunds(rec.RefundID)
	if id := done[strconv.Itoa(i)]; id != "" {
		return id, nil
	}
	if c.gw == nil {
		return "", &mapError{fmt.Sprintf("tenders[%d]", i), "a card refund needs the gateway, and GATEWAY_BASE_URL is not set"}
	}
	p := payments.RefundParams{PaymentIntent: intent, Amount: cents, Reason: "requested_by_customer",
		Metadata: map[string]string{"pos_tx": tx.ID}, IdempotencyKey: key}
	if c.bugs.on(BugRefundNoIdempotency) {
		p.IdempotencyKey = ""
	}
	r, err := c.gw.CreateRefund(ctx, p)
	if err != nil {
		return "", err
	}
	done[strconv.Itoa(i)] = r.ID
	rec.RefundID = formatRefunds(done)
	if err := c.store.SetRefund(ctx, rec.ID, rec.RefundID); err != nil {
		// The refund is made; a retry with the same key replays it.
		c.log.Warn("refund made but not recorded", "tx", tx.ID, "refund", r.ID, "err", err)
	}
	return r.ID, nil
}

// Refund ids are kept as "tenderIndex:refundId" pairs joined by commas.
func parseRefunds(s string) map[string]string {
	out := map[string]string{}
	for _, p := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(p, ":"); ok {
			out[k] = v
		}
	}
	return out
}

func formatRefunds(m map[string]string) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		n, err := strconv.Atoi(k)
		if err == nil {
			keys = append(keys, n)
		}
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.Itoa(k) + ":" + m[strconv.Itoa(k)]
	}
	return strings.Join(parts, ",")
}

// postExchange posts an exchange as a cash refund of the returned lines ({eid}-R,
// linked to the original sale) and a cash sale of the new ones ({eid}-S). The value
// the customer brought back pays for the new goods: both records carry that exchange
// credit, min(returned, sold), on one payment method (the first non-gift tender's, else
// cash), so it nets out in the GL; the net difference is what the tenders carry, paid
// on the sale or refunded on the refund (a card refund going through the gateway).
func (c *Connector) postExchange(ctx context.Context, m mapper, rec *outbox.Record, tx *contract.Transaction, eid string, entity *nsRef, orig original) (string, error) {
	var retIdx, saleIdx []int
	for i, l := range tx.Lines {
		if l.Quantity < 0 {
			retIdx = append(retIdx, i)
		} else {
			saleIdx = append(saleIdx, i)
		}
	}
	retLines, returned, err := m.lines(tx, retIdx, true)
	if err != nil {
		return "", err
	}
	saleLines, sold, err := m.lines(tx, saleIdx, false)
	if err != nil {
		return "", err
	}
	offsetKind := contract.Cash
	for _, t := range tx.Tenders {
		if t.Type != contract.GiftCard {
			offsetKind = t.Type
			break
		}
	}
	offset, err := m.method(offsetKind, "tenders")
	if err != nil {
		return "", err
	}
	credit := min(returned, sold)
	refundParts := []tenderPart{{kind: offsetKind, method: offset, amount: credit}}
	saleParts := []tenderPart{{kind: offsetKind, method: offset, amount: credit}}
	for i, t := range tx.Tenders {
		switch {
		case t.Amount > 0:
			id, err := m.method(t.Type, fmt.Sprintf("tenders[%d].type", i))
			if err != nil {
				return "", err
			}
			p := tenderPart{kind: t.Type, method: id, amount: t.Amount}
			switch t.Type {
			case contract.Card:
				p.ref = t.PaymentIntentID
			case contract.GiftCard:
				p.ref = giftCode(tx, i)
			}
			saleParts = append(saleParts, p)
		case t.Amount < 0:
			p, err := c.refundPart(ctx, m, rec, tx, tx, i, t.Amount.Cents(), orig)
			if err != nil {
				return "", err
			}
			refundParts = append(refundParts, p)
		}
	}
	var id string
	if len(retLines) > 0 {
		b := m.header(tx, eid+exchangeRefundSuffix)
		b.Entity, b.Item.Items = entity, retLines
		b.CreatedFrom = &nsRef{ExternalID: orig.saleEID}
		setTenders(b, refundParts)
		if id, err = c.putRecord(ctx, "cashRefund", eid+exchangeRefundSuffix, b); err != nil {
			return "", err
		}
	}
	if len(saleLines) > 0 {
		b := m.header(tx, eid+exchangeSaleSuffix)
		b.Entity, b.Item.Items = entity, saleLines
		setTenders(b, saleParts)
		if id, err = c.putRecord(ctx, "cashSale", eid+exchangeSaleSuffix, b); err != nil {
			return "", err
		}
	}
	return id, nil
}

// putRecord upserts a record by external id (or, with the no-upsert bug, creates it).
func (c *Connector) putRecord(ctx context.Context, recordType, eid string, body any) (string, error) {
	if c.bugs.on(BugNoUpsert) {
		return c.ns.Create(ctx, recordType, body)
	}
	return c.ns.Upsert(ctx, recordType, eid, body)
}

// customer upserts the transaction's customer by identity and returns the reference
// to put in entity (nil for an anonymous sale). Upserts of one identity are serialised
// in the process, and an identity upserted once is remembered.
func (c *Connector) customer(ctx context.Context, tx *contract.Transaction, snap *snapshot) (*nsRef, error) {
	ident := customerIdentity(tx.Customer)
	if ident == "" {
		return nil, nil
	}
	cu := tx.Customer
	body := nsCustomer{IsPerson: true, FirstName: cu.FirstName, LastName: cu.LastName, Email: cu.Email,
		Phone: cu.Phone, LoyaltyID: cu.LoyaltyID}
	if l := snap.locations[tx.LocationID]; l != nil && l.Subsidiary != "" {
		body.Subsidiary = &nsRef{ID: l.Subsidiary}
	}
	if c.bugs.on(BugNewCustomerEachTime) {
		id, err := c.ns.Create(ctx, "customer", body)
		if err != nil {
			return nil, err
		}
		return &nsRef{ID: id}, nil
	}
	unlock := c.identities.lock(ident)
	defer unlock()
	c.custMu.Lock()
	id, ok := c.customers[ident]
	c.custMu.Unlock()
	if ok {
		return refFor(id, ident), nil
	}
	body.ExternalID = ident
	id, err := c.ns.Upsert(ctx, "customer", ident, body)
	if needsName(err) && body.FirstName == "" && body.LastName == "" {
		// A new person needs a name and the register knew none: name them after what
		// identifies them. (Only a create can fail so: an update keeps the stored name.)
		body.LastName = placeholderName(cu, ident)
		id, err = c.ns.Upsert(ctx, "customer", ident, body)
	}
	if err != nil {
		return nil, err
	}
	c.custMu.Lock()
	c.customers[ident] = id
	c.custMu.Unlock()
	return refFor(id, ident), nil
}

// needsName reports NetSuite's refusal of a customer without a name.
func needsName(err error) bool {
	var e *netsuite.Error
	return errors.As(err, &e) && e.Status == 400 &&
		(e.ErrorPath == "companyName" || e.ErrorPath == "lastName" || e.ErrorPath == "firstName" || strings.Contains(e.Detail, "First Name"))
}

// placeholderName names a customer the register knew only by e-mail, phone or loyalty id.
func placeholderName(c *contract.Customer, ident string) string {
	switch {
	case c.Email != "":
		local, _, _ := strings.Cut(strings.TrimSpace(c.Email), "@")
		if local != "" {
			return local
		}
	case c.Phone != "":
		return strings.TrimSpace(c.Phone)
	case c.LoyaltyID != "":
		return "Loyalty " + c.LoyaltyID
	}
	return ident
}

func refFor(id, eid string) *nsRef {
	if _, err := strconv.ParseInt(id, 10, 64); err == nil {
		return &nsRef{ID: id}
	}
	return &nsRef{ExternalID: eid}
}

// deadLetterReason is the error kept with a dead letter: the message and, for a
// NetSuite or gateway reply, its body as received.
func deadLetterReason(err error) string {
	var nse *netsuite.Error
	var pe *payments.Error
	switch {
	case errors.As(err, &nse) && len(nse.Body) > 0:
		return err.Error() + "\n" + string(nse.Body)
	case errors.As(err, &pe) && len(pe.Body) > 0:
		return err.Error() + "\n" + string(pe.Body)
	}
	return err.Error()
}
