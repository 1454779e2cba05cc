package connector

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/money"
)

// NetSuite record bodies the connector sends. Field names are NetSuite's REST names and
// the custom fields documented by the simulated account (custbody_pos_tenders,
// custbody_pos_register, custbody_pos_cashier, custcol_restock, custentity_loyalty_id).

type nsRef struct {
	ID         string `json:"id,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
}

type nsSublist[T any] struct {
	Items []T `json:"items"`
}

type nsLine struct {
	Item     nsRef        `json:"item"`
	Quantity float64      `json:"quantity"`
	Rate     money.Amount `json:"rate"`   // unit price
	Amount   money.Amount `json:"amount"` // quantity × rate − discount
	TaxCode  *nsRef       `json:"taxCode,omitempty"`
	Tax1Amt  money.Amount `json:"tax1Amt"`
	Restock  *bool        `json:"custcol_restock,omitempty"` // cash refunds only
}

type nsTender struct {
	PaymentMethod nsRef        `json:"paymentMethod"`
	Amount        money.Amount `json:"amount"`
	PnRefNum      string       `json:"pnRefNum,omitempty"`
}

type nsGiftCert struct {
	AuthCode        string       `json:"authCode"`
	AuthCodeApplied money.Amount `json:"authCodeApplied"`
}

type nsTransaction struct {
	ExternalID    string                 `json:"externalId,omitempty"`
	TranDate      string                 `json:"tranDate"`
	Memo          string                 `json:"memo"`
	Location      nsRef                  `json:"location"`
	Entity        *nsRef                 `json:"entity,omitempty"`
	PaymentMethod *nsRef                 `json:"paymentMethod,omitempty"`
	PnRefNum      string                 `json:"pnRefNum,omitempty"`
	Tenders       []nsTender             `json:"custbody_pos_tenders,omitempty"`
	CreatedFrom   *nsRef                 `json:"createdFrom,omitempty"`
	Register      string                 `json:"custbody_pos_register,omitempty"`
	Cashier       string                 `json:"custbody_pos_cashier,omitempty"`
	Item          nsSublist[nsLine]      `json:"item"`
	GiftCerts     *nsSublist[nsGiftCert] `json:"giftCertRedemption,omitempty"`
}

type nsCustomer struct {
	ExternalID string `json:"externalId,omitempty"`
	IsPerson   bool   `json:"isPerson"`
	FirstName  string `json:"firstName,omitempty"`
	LastName   string `json:"lastName,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	LoyaltyID  string `json:"custentity_loyalty_id,omitempty"`
	Subsidiary *nsRef `json:"subsidiary,omitempty"`
}

// tenderPart is one payment (or refund) of a record, in positive amounts.
type tenderPart struct {
	kind   contract.TenderType
	method string // payment method id
	amount money.Amount
	ref    string // card: the intent (sale) or refund id; gift card: its code
}

// mapper turns contract transactions into NetSuite bodies against one catalog snapshot.
type mapper struct {
	snap *snapshot
	bugs bugSet
	now  time.Time // the posting time (used only by the sync-date bug)
}

// mapError is a transaction NetSuite cannot be given (unknown SKU, tax code, …): a
// permanent error.
type mapError struct{ field, msg string }

func (e *mapError) Error() string { return e.field + ": " + e.msg }

// header fills the fields every record of tx shares.
func (m mapper) header(tx *contract.Transaction, eid string) *nsTransaction {
	date := tx.OccurredAt.Format(time.DateOnly) // the register's calendar day
	if m.bugs.on(BugSyncDate) {
		date = m.now.Format(time.DateOnly)
	}
	loc := tx.LocationID
	if m.bugs.on(BugDefaultLocation) && m.snap.warehouse != "" {
		loc = m.snap.warehouse
	}
	b := &nsTransaction{
		TranDate: date, Memo: "POS " + tx.ID, Location: nsRef{ID: loc},
		Register: tx.RegisterID, Cashier: tx.CashierID,
	}
	if !m.bugs.on(BugNoUpsert) {
		b.ExternalID = eid
	}
	return b
}

// lines maps the transaction lines with the given indexes (quantities made positive)
// and returns the record total (amounts plus tax).
func (m mapper) lines(tx *contract.Transaction, idx []int, refund bool) ([]nsLine, money.Amount, error) {
	out := make([]nsLine, 0, len(idx))
	for _, i := range idx {
		l := tx.Lines[i]
		it := m.snap.itemsBySKU[l.SKU]
		if it == nil {
			return nil, 0, &mapError{fmt.Sprintf("lines[%d].sku", i), fmt.Sprintf("no NetSuite item has SKU %q", l.SKU)}
		}
		// The line's amount is the contract's line total before tax (contract.LineNet:
		// quantity × unitPrice with the discount taken off its magnitude), made positive
		// for a returned line of an exchange, so that the records add up to what the
		// tenders carry.
		amt := contract.LineNet(l)
		if l.Quantity < 0 {
			amt = -amt
		}
		nl := nsLine{Item: nsRef{ID: it.ID}, Quantity: math.Abs(l.Quantity), Rate: l.UnitPrice,
			Amount: amt, Tax1Amt: absAmount(l.TaxAmount)}
		if l.TaxCode != "" {
			t := m.snap.taxByName[strings.ToUpper(l.TaxCode)]
			if t == nil {
				return nil, 0, &mapError{fmt.Sprintf("lines[%d].taxCode", i), fmt.Sprintf("no NetSuite sales tax code is named %q", l.TaxCode)}
			}
			nl.TaxCode = &nsRef{ID: t.ID}
		}
		if refund {
			r := l.Restock
			nl.Restock = &r
		}
		out = append(out, nl)
	}
	if m.bugs.on(BugTaxOnTotal) {
		m.taxOnTotal(out)
	}
	var total money.Amount
	for _, l := range out {
		total += l.Amount + l.Tax1Amt
	}
	return out, total, nil
}

// taxOnTotal is the tax-on-total bug: per tax code, the tax is recomputed once on the
// sum of the lines' amounts and booked on the first line of that code, the others
// getting none. The record's tax then drifts by cents from the receipt's per-line tax.
func (m mapper) taxOnTotal(lines []nsLine) {
	type group struct {
		first int
		net   money.Amount
		rate  float64
	}
	groups := map[string]*group{}
	var order []string
	for i, l := range lines {
		code := ""
		rate := 0.0
		if l.TaxCode != nil {
			code = l.TaxCode.ID
			if t := m.snap.taxByID[code]; t != nil {
				rate = t.Rate
			}
		} else if it := m.snap.itemsByID[l.Item.ID]; it != nil {
			if t := m.snap.taxByID[it.TaxCodeID]; t != nil {
				code, rate = t.ID, t.Rate
			}
		}
		g := groups[code]
		if g == nil {
			g = &group{first: i, rate: rate}
			groups[code] = g
			order = append(order, code)
		}
		g.net += l.Amount
	}
	for i := range lines {
		lines[i].Tax1Amt = 0
	}
	for _, code := range order {
		g := groups[code]
		lines[g.first].Tax1Amt = g.net.Percent(g.rate)
	}
}

func absAmount(a money.Amount) money.Amount {
	if a < 0 {
		return -a
	}
	return a
}

// setTenders puts the payment parts on a record: gift cards in giftCertRedemption, a
// single other payment method in paymentMethod (+ pnRefNum), several in
// custbody_pos_tenders. Parts of the same method and reference are merged.
func setTenders(b *nsTransaction, parts []tenderPart) {
	var others []tenderPart
	for _, p := range parts {
		if p.amount == 0 {
			continue
		}
		if p.kind == contract.GiftCard {
			if b.GiftCerts == nil {
				b.GiftCerts = &nsSublist[nsGiftCert]{}
			}
			b.GiftCerts.Items = append(b.GiftCerts.Items, nsGiftCert{AuthCode: p.ref, AuthCodeApplied: p.amount})
			continue
		}
		merged := false
		for i := range others {
			o := &others[i]
			if o.method == p.method && (o.ref == p.ref || o.ref == "" || p.ref == "") {
				o.amount += p.amount
				if o.ref == "" {
					o.ref = p.ref
				}
				merged = true
				break
			}
		}
		if !merged {
			others = append(others, p)
		}
	}
	switch len(others) {
	case 0:
	case 1:
		b.PaymentMethod = &nsRef{ID: others[0].method}
		b.PnRefNum = others[0].ref
	default:
		for _, o := range others {
			b.Tenders = append(b.Tenders, nsTender{PaymentMethod: nsRef{ID: o.method}, Amount: o.amount, PnRefNum: o.ref})
		}
	}
}

// method returns the payment method id for a tender type.
func (m mapper) method(t contract.TenderType, field string) (string, error) {
	id := m.snap.payByKind[t]
	if id == "" {
		return "", &mapError{field, fmt.Sprintf("NetSuite has no payment method for tender type %q", t)}
	}
	return id, nil
}

// saleParts maps a sale's tenders (what the customer paid).
func (m mapper) saleParts(tx *contract.Transaction, giftRef func(i int) string) ([]tenderPart, error) {
	var out []tenderPart
	for i, t := range tx.Tenders {
		f := fmt.Sprintf("tenders[%d].type", i)
		id, err := m.method(t.Type, f)
		if err != nil {
			return nil, err
		}
		p := tenderPart{kind: t.Type, method: id, amount: absAmount(t.Amount)}
		switch t.Type {
		case contract.Card:
			p.ref = t.PaymentIntentID
		case contract.GiftCard:
			p.ref = giftRef(i)
		}
		out = append(out, p)
	}
	return out, nil
}

// giftCode is the gift certificate code of tender i: the id the register sent in
// paymentIntentId, else one derived from the transaction.
func giftCode(tx *contract.Transaction, i int) string {
	if c := tx.Tenders[i].PaymentIntentID; c != "" {
		return c
	}
	return fmt.Sprintf("GC-%s-%d", transactionEID(tx.ID), i)
}
