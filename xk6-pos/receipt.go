package pos

import (
	"fmt"
	"strings"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/money"
)

// receiptTotals are the totals printed at the foot of a receipt.
type receiptTotals struct {
	subtotal, discounts, tax, total, tendered money.Amount
}

// ok reports whether the receipt adds up: subtotal − discounts + tax = total = tenders.
func (t receiptTotals) ok() bool {
	return t.subtotal-t.discounts+t.tax == t.total && t.total == t.tendered
}

// renderReceipt prints tx as the receipt printer does and returns the text and the
// totals it printed, each summed from the printed lines:
//
//	Doorbuster #S001 (loc 11)            register S001-R01
//	S001-R01-lq3x9a-000017           2025-11-28 00:00:05Z
//	SALE
//	ELE-000042 Sleek Lamp        2 @ 19.99        39.98
//	    discount 15%                              -6.00
//	    tax CA-SF                                  2.93
//	SUBTOTAL                                      39.98
//	DISCOUNTS                                     -6.00
//	TAX                                            2.93
//	TOTAL                                         36.91
//	CARD pi_123                                   36.91
func renderReceipt(tx *contract.Transaction, storeName string) (string, receiptTotals) {
	var b strings.Builder
	var t receiptTotals
	row := func(left string, a money.Amount) {
		fmt.Fprintf(&b, "%-40s %10s\n", left, a.String())
	}
	fmt.Fprintf(&b, "%s (loc %s)    register %s\n", storeName, tx.LocationID, tx.RegisterID)
	fmt.Fprintf(&b, "%s    %s\n", tx.ID, tx.OccurredAt.UTC().Format("2006-01-02 15:04:05Z07:00"))
	title := strings.ToUpper(string(tx.Type))
	if tx.Offline {
		title += " (OFFLINE)"
	}
	if tx.OriginalTransactionID != "" {
		title += " of " + tx.OriginalTransactionID
	}
	b.WriteString(title + "\n")
	for _, l := range tx.Lines {
		gross := l.UnitPrice.Mul(l.Quantity)
		row(fmt.Sprintf("%s %g @ %s", l.SKU, l.Quantity, l.UnitPrice), gross)
		if l.Discount != 0 {
			row("    discount", -l.Discount)
		}
		if l.TaxAmount != 0 {
			row("    tax "+l.TaxCode, l.TaxAmount)
		}
		if l.Restock {
			b.WriteString("    (restocked)\n")
		}
		t.subtotal += gross
		t.discounts += l.Discount
		t.tax += l.TaxAmount
	}
	t.total = t.subtotal - t.discounts + t.tax
	row("SUBTOTAL", t.subtotal)
	row("DISCOUNTS", -t.discounts)
	row("TAX", t.tax)
	row("TOTAL", t.total)
	for _, td := range tx.Tenders {
		name := strings.ToUpper(string(td.Type))
		if td.PaymentIntentID != "" {
			name += " " + td.PaymentIntentID
		}
		row(name, td.Amount)
		t.tendered += td.Amount
	}
	return b.String(), t
}

// printReceipt prints tx's receipt and checks that it adds up and agrees with the
// contract's total.
func (s *session) printReceipt(tx *contract.Transaction) {
	_, t := renderReceipt(tx, s.reg.loc.Name)
	s.check(s.step("receipt", "receipt"), "receipt: subtotal − discounts + tax = total = tenders", t.ok() && t.total == tx.Total())
}
