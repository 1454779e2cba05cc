package contract

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/money"
)

// validSale is a cash sale of two lines: 2 × 10.00 with 0.83 tax, and 1.5 lb at
// 3.99 (5.99 after rounding) with no tax.
func validSale() Transaction {
	return Transaction{
		ID: "S001-R01-000001", Type: Sale, LocationID: "1", RegisterID: "S001-R01", CashierID: "c1",
		OccurredAt: time.Date(2025, 11, 28, 6, 0, 0, 0, time.UTC),
		Lines: []Line{
			{SKU: "ELE-000001", Quantity: 2, UnitPrice: 1000, TaxCode: "TX-HOU", TaxAmount: 165},
			{SKU: "PRD-000002", Quantity: 1.5, UnitPrice: 399, TaxCode: "NON-TAXABLE"},
		},
		Tenders: []Tender{
			{Type: Card, Amount: 2000, PaymentIntentID: "pi_1"},
			{Type: Cash, Amount: 764},
		},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(t *Transaction)
		field  string // "" = valid
		code   string
		inMesg string
	}{
		{"valid sale", func(t *Transaction) {}, "", "", ""},
		{"missing id", func(t *Transaction) { t.ID = "" }, "id", CodeMissingField, ""},
		{"id with a slash", func(t *Transaction) { t.ID = "a/b" }, "id", CodeInvalidField, ""},
		{"id too long", func(t *Transaction) { t.ID = strings.Repeat("a", 129) }, "id", CodeInvalidField, ""},
		{"missing type", func(t *Transaction) { t.Type = "" }, "type", CodeMissingField, ""},
		{"unknown type", func(t *Transaction) { t.Type = "refund" }, "type", CodeInvalidField, `"refund"`},
		{"missing location", func(t *Transaction) { t.LocationID = "" }, "locationId", CodeMissingField, ""},
		{"missing register", func(t *Transaction) { t.RegisterID = "" }, "registerId", CodeMissingField, ""},
		{"missing occurredAt", func(t *Transaction) { t.OccurredAt = time.Time{} }, "occurredAt", CodeMissingField, ""},
		{"no lines", func(t *Transaction) { t.Lines = nil }, "lines", CodeMissingField, ""},
		{"empty sku", func(t *Transaction) { t.Lines[1].SKU = "" }, "lines[1].sku", CodeMissingField, ""},
		{"zero quantity", func(t *Transaction) { t.Lines[1].Quantity = 0 }, "lines[1].quantity", CodeInvalidField, "zero"},
		{"negative quantity in a sale", func(t *Transaction) { t.Lines[0].Quantity = -2 }, "lines[0].quantity", CodeInvalidField, "positive"},
		{"negative price", func(t *Transaction) { t.Lines[0].UnitPrice = -1 }, "lines[0].unitPrice", CodeInvalidField, ""},
		{"negative discount", func(t *Transaction) { t.Lines[0].Discount = -1 }, "lines[0].discount", CodeInvalidField, ""},
		{"discount over the line", func(t *Transaction) { t.Lines[0].Discount = 2001 }, "lines[0].discount", CodeInvalidField, ""},
		{"negative tax in a sale", func(t *Transaction) { t.Lines[0].TaxAmount = -165 }, "lines[0].taxAmount", CodeInvalidField, "sign"},
		{"tender without type", func(t *Transaction) { t.Tenders[1].Type = "" }, "tenders[1].type", CodeMissingField, ""},
		{"unknown tender type", func(t *Transaction) { t.Tenders[1].Type = "check" }, "tenders[1].type", CodeInvalidField, ""},
		{"zero tender", func(t *Transaction) { t.Tenders[1].Amount = 0 }, "tenders[1].amount", CodeInvalidField, ""},
		{"negative tender in a sale", func(t *Transaction) { t.Tenders[1].Amount = -764 }, "tenders[1].amount", CodeInvalidField, ""},
		{"card without intent", func(t *Transaction) { t.Tenders[0].PaymentIntentID = "" }, "tenders[0].paymentIntentId", CodeMissingField, ""},
		{"tenders a cent short", func(t *Transaction) { t.Tenders[1].Amount = 763 }, "tenders", CodeInvalidField, "27.63"},
		{"tenders a cent over", func(t *Transaction) { t.Tenders[1].Amount = 765 }, "tenders", CodeInvalidField, "27.64"},
		{"no tenders", func(t *Transaction) { t.Tenders = nil }, "tenders", CodeInvalidField, ""},
		{"return without original", func(t *Transaction) { t.Type = Return }, "originalTransactionId", CodeMissingField, ""},
		{"valid return", func(t *Transaction) { t.Type = Return; t.OriginalTransactionID = "S001-R01-000000" }, "", "", ""},
		{"discounted line", func(t *Transaction) { t.Lines[0].Discount = 200; t.Tenders[1].Amount = 564 }, "", "", ""},
		{"exchange without original", func(t *Transaction) { t.Type = Exchange }, "originalTransactionId", CodeMissingField, ""},
		{"even exchange", func(t *Transaction) {
			// Return 2 × 10.00 (+1.65 tax), buy 1 × 21.65 with no tax: nothing to pay.
			t.Type, t.OriginalTransactionID = Exchange, "S001-R01-000000"
			t.Lines = []Line{
				{SKU: "A", Quantity: -2, UnitPrice: 1000, TaxAmount: -165},
				{SKU: "B", Quantity: 1, UnitPrice: 2165},
			}
			t.Tenders = nil
		}, "", "", ""},
		{"exchange with a refund", func(t *Transaction) {
			t.Type, t.OriginalTransactionID = Exchange, "S001-R01-000000"
			t.Lines = []Line{
				{SKU: "A", Quantity: -2, UnitPrice: 1000, TaxAmount: -165},
				{SKU: "B", Quantity: 1, UnitPrice: 500, TaxAmount: 41},
			}
			t.Tenders = []Tender{{Type: Cash, Amount: -1624}}
		}, "", "", ""},
		{"exchange of a discounted item", func(t *Transaction) {
			// Bought for 10.00 − 2.00 + 0.66 tax; it comes back for 8.66, not 12.66, and a
			// 9.00 item (+0.74) is taken: the customer pays 1.08.
			t.Type, t.OriginalTransactionID = Exchange, "S001-R01-000000"
			t.Lines = []Line{
				{SKU: "A", Quantity: -1, UnitPrice: 1000, Discount: 200, TaxAmount: -66},
				{SKU: "B", Quantity: 1, UnitPrice: 900, TaxAmount: 74},
			}
			t.Tenders = []Tender{{Type: Cash, Amount: 108}}
		}, "", "", ""},
		{"exchange refunding the discount as well", func(t *Transaction) {
			// The old rule (quantity × price − discount) would refund 12.66 here.
			t.Type, t.OriginalTransactionID = Exchange, "S001-R01-000000"
			t.Lines = []Line{
				{SKU: "A", Quantity: -1, UnitPrice: 1000, Discount: 200, TaxAmount: -66},
				{SKU: "B", Quantity: 1, UnitPrice: 900, TaxAmount: 74},
			}
			t.Tenders = []Tender{{Type: Cash, Amount: -292}}
		}, "tenders", CodeInvalidField, "1.08"},
		{"discount over a returned line", func(t *Transaction) {
			t.Type, t.OriginalTransactionID = Exchange, "S001-R01-000000"
			t.Lines = []Line{{SKU: "A", Quantity: -1, UnitPrice: 1000, Discount: 1001}}
			t.Tenders = []Tender{{Type: Cash, Amount: 1}}
		}, "lines[0].discount", CodeInvalidField, "more than"},
		{"exchange tax against the quantity", func(t *Transaction) {
			t.Type, t.OriginalTransactionID = Exchange, "S001-R01-000000"
			t.Lines = []Line{{SKU: "A", Quantity: -1, UnitPrice: 1000, TaxAmount: 83}}
			t.Tenders = []Tender{{Type: Cash, Amount: -917}}
		}, "lines[0].taxAmount", CodeInvalidField, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := validSale()
			tt.edit(&tx)
			err := tx.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("valid transaction refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error on %s", tt.field)
			}
			if err.Field != tt.field || err.Code != tt.code || !strings.Contains(err.Message, tt.inMesg) {
				t.Fatalf("got %v, want field %s code %s message with %q", err, tt.field, tt.code, tt.inMesg)
			}
		})
	}
}

func TestLineTotalRounds(t *testing.T) {
	// 1.5 lb × 3.99 = 5.985 → 5.99, half away from zero.
	if got := LineTotal(Line{Quantity: 1.5, UnitPrice: 399}); got != money.FromCents(599) {
		t.Errorf("LineTotal = %v", got)
	}
	tx := validSale()
	if got := tx.Total(); got != 2764 {
		t.Errorf("Total = %v", got)
	}
}

// The discount is a magnitude that shrinks a line whichever its sign, so a returned
// line is exactly the negation of the same line sold.
func TestLineTotalDiscountSign(t *testing.T) {
	tests := []struct {
		name string
		l    Line
		net  money.Amount
	}{
		{"sold", Line{Quantity: 2, UnitPrice: 1000, Discount: 300, TaxAmount: 140}, 1700},
		{"returned in an exchange", Line{Quantity: -2, UnitPrice: 1000, Discount: 300, TaxAmount: -140}, -1700},
		{"weighed, returned", Line{Quantity: -1.5, UnitPrice: 399, Discount: 99}, -500},
		{"no discount", Line{Quantity: -1, UnitPrice: 250}, -250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LineNet(tt.l); got != tt.net {
				t.Errorf("LineNet = %v, want %v", got, tt.net)
			}
			if got := LineTotal(tt.l); got != tt.net+tt.l.TaxAmount {
				t.Errorf("LineTotal = %v, want %v", got, tt.net+tt.l.TaxAmount)
			}
			neg := tt.l
			neg.Quantity, neg.TaxAmount = -neg.Quantity, -neg.TaxAmount
			if LineTotal(neg) != -LineTotal(tt.l) {
				t.Errorf("the line and its negation total %v and %v", LineTotal(tt.l), LineTotal(neg))
			}
		})
	}
}

func TestDecodeTransaction(t *testing.T) {
	good, _ := json.Marshal(validSale())
	tests := []struct {
		name, body, field, code string
	}{
		{"valid", string(good), "", ""},
		{"empty", "", "", CodeMalformedJSON},
		{"cut short", string(good[:40]), "", CodeMalformedJSON},
		{"not an object", `[1,2]`, "", CodeMalformedJSON},
		{"trailing data", string(good) + `{}`, "", CodeMalformedJSON},
		{"quantity is a string", strings.Replace(string(good), `"quantity":1.5`, `"quantity":"1.5"`, 1), "lines[1].quantity", CodeMalformedJSON},
		{"price with three decimals", strings.Replace(string(good), `"unitPrice":3.99`, `"unitPrice":3.999`, 1), "lines[1].unitPrice", CodeMalformedJSON},
		{"amount is text", strings.Replace(string(good), `"amount":20.00`, `"amount":"lots"`, 1), "tenders[0].amount", CodeMalformedJSON},
		{"bad time", strings.Replace(string(good), `"2025-11-28T06:00:00Z"`, `"yesterday"`, 1), "occurredAt", CodeMalformedJSON},
		{"offline is a string", strings.Replace(string(good), `"offline":false`, `"offline":"no"`, 1), "offline", CodeMalformedJSON},
		{"customer is a list", strings.Replace(string(good), `"lines":`, `"customer":[],"lines":`, 1), "customer", CodeMalformedJSON},
		{"invalid after decode", strings.Replace(string(good), `"type":"sale"`, `"type":"gift"`, 1), "type", CodeInvalidField},
		{"unknown fields are ignored", strings.Replace(string(good), `"type":"sale"`, `"type":"sale","loyaltyTier":"gold"`, 1), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := DecodeTransaction([]byte(tt.body))
			if tt.code == "" {
				if err != nil || tx == nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %s on %q", tt.code, tt.field)
			}
			if err.Code != tt.code || err.Field != tt.field || err.Message == "" {
				t.Fatalf("got %+v, want code %s field %q", err, tt.code, tt.field)
			}
		})
	}
}

func TestDecodeBatch(t *testing.T) {
	one, _ := json.Marshal(validSale())
	tests := []struct {
		name, body, code string
		n                int
	}{
		{"two", `{"transactions":[` + string(one) + `,` + string(one) + `]}`, "", 2},
		{"empty", `{"transactions":[]}`, CodeMissingField, 0},
		{"not json", `{"transactions":`, CodeMalformedJSON, 0},
		{"list of numbers", `{"transactions":[1]}`, CodeMalformedJSON, 0},
		{"too many", `{"transactions":[` + strings.Repeat(`{},`, MaxBatch) + `{}]}`, CodeTooLarge, 0},
		{"exactly the most", `{"transactions":[` + strings.Repeat(`{},`, MaxBatch-1) + `{}]}`, "", MaxBatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raws, err := DecodeBatch([]byte(tt.body))
			if tt.code == "" {
				if err != nil || len(raws) != tt.n {
					t.Fatalf("got %d, %v; want %d", len(raws), err, tt.n)
				}
				return
			}
			if err == nil || err.Code != tt.code {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
		})
	}
}

// Whatever the input, decoding never panics, and whatever it accepts is valid and
// matches the OpenAPI schema.
func FuzzDecodeTransaction(f *testing.F) {
	good, _ := json.Marshal(validSale())
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"x","type":"exchange","lines":[{"sku":"a","quantity":-1}]}`))
	f.Add([]byte(`{"lines":[{"quantity":"x"}]}`))
	schemas, err := NewSchemas()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, e := DecodeTransaction(b)
		if e != nil {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("error without code or message: %+v", e)
			}
			return
		}
		if v := tx.Validate(); v != nil {
			t.Fatalf("accepted an invalid transaction: %v", v)
		}
		again, _ := json.Marshal(tx)
		if err := schemas.Validate("Transaction", again); err != nil {
			t.Fatalf("Validate and the OpenAPI schema disagree on %s: %v", again, err)
		}
	})
}
