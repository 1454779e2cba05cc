package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/doorbuster/doorbuster/money"
)

// MaxIDLength is the longest transaction id a connector must accept.
const MaxIDLength = 128

// Validate checks t against the contract and returns the first problem as a
// field-level *Error (nil when t is valid). Field is the JSON path of the offending
// field, e.g. "lines[2].quantity". The checks, in order: id, type, locationId,
// registerId and occurredAt are present; the type is known; there is at least one
// line; each line has a sku, a non-zero quantity (positive in sales and returns),
// a unit price ≥ 0, a discount ≥ 0 and at most the line's amount |quantity × unitPrice|,
// and a tax amount with the quantity's sign; each
// tender has a known type and a non-zero amount (positive in sales and returns), and
// card tenders a paymentIntentId; returns and exchanges name their original
// transaction; and the tenders add up to the line totals to the cent.
func (t *Transaction) Validate() *Error {
	switch {
	case t.ID == "":
		return missing("id")
	case !validID(t.ID):
		return invalid("id", "must be 1 to %d characters of A-Z a-z 0-9 . _ : -", MaxIDLength)
	case t.Type == "":
		return missing("type")
	case t.Type != Sale && t.Type != Return && t.Type != Exchange:
		return invalid("type", "%q is not sale, return or exchange", t.Type)
	case t.LocationID == "":
		return missing("locationId")
	case t.RegisterID == "":
		return missing("registerId")
	case t.OccurredAt.IsZero():
		return missing("occurredAt")
	case len(t.Lines) == 0:
		return missing("lines")
	}
	signed := t.Type == Exchange // quantities and tenders may be negative
	var total money.Amount
	for i, l := range t.Lines {
		p := fmt.Sprintf("lines[%d].", i)
		switch {
		case l.SKU == "":
			return missing(p + "sku")
		case l.Quantity == 0:
			return invalid(p+"quantity", "must not be zero")
		case math.IsNaN(l.Quantity) || math.IsInf(l.Quantity, 0) || math.Abs(l.Quantity) > 1e6:
			return invalid(p+"quantity", "%v is out of range", l.Quantity)
		case l.Quantity < 0 && !signed:
			return invalid(p+"quantity", "must be positive in a %s (%v)", t.Type, l.Quantity)
		case l.UnitPrice < 0:
			return invalid(p+"unitPrice", "must not be negative (%v)", l.UnitPrice)
		case l.Discount < 0:
			return invalid(p+"discount", "must not be negative (%v)", l.Discount)
		case l.Discount > l.UnitPrice.Mul(math.Abs(l.Quantity)):
			return invalid(p+"discount", "%v is more than the line's %v", l.Discount, l.UnitPrice.Mul(math.Abs(l.Quantity)))
		case l.TaxAmount != 0 && (l.TaxAmount < 0) != (l.Quantity < 0):
			return invalid(p+"taxAmount", "%v must have the sign of the quantity (%v)", l.TaxAmount, l.Quantity)
		}
		total += LineTotal(l)
	}
	var paid money.Amount
	for i, td := range t.Tenders {
		p := fmt.Sprintf("tenders[%d].", i)
		switch {
		case td.Type == "":
			return missing(p + "type")
		case td.Type != Card && td.Type != Cash && td.Type != GiftCard:
			return invalid(p+"type", "%q is not card, cash or gift_card", td.Type)
		case td.Amount == 0:
			return invalid(p+"amount", "must not be zero")
		case td.Amount < 0 && !signed:
			return invalid(p+"amount", "must be positive in a %s (%v)", t.Type, td.Amount)
		case td.Type == Card && td.PaymentIntentID == "":
			return missing(p + "paymentIntentId")
		}
		paid += td.Amount
	}
	if (t.Type == Return || t.Type == Exchange) && t.OriginalTransactionID == "" {
		return missing("originalTransactionId")
	}
	if paid != total {
		return invalid("tenders", "add up to %v, but the lines total %v", paid, total)
	}
	return nil
}

// LineTotal is the line's signed total: quantity × unitPrice (rounded half away from
// zero to the cent), less the discount, plus taxAmount. The discount is a magnitude
// (≥ 0) that always shrinks the line: it is subtracted on a line with a positive
// quantity and added on a returned line of an exchange (negative quantity), so that
// an item bought for 10.00 − 2.00 comes back as −10.00 + 2.00 = −8.00, never −12.00.
func LineTotal(l Line) money.Amount {
	return LineNet(l) + l.TaxAmount
}

// LineNet is the line's signed amount before tax: quantity × unitPrice with the
// discount taken off its magnitude (see LineTotal).
func LineNet(l Line) money.Amount {
	gross := l.UnitPrice.Mul(l.Quantity)
	if l.Quantity < 0 {
		return gross + l.Discount
	}
	return gross - l.Discount
}

// Total is the sum of the transaction's line totals: what its tenders must add up to.
func (t *Transaction) Total() money.Amount {
	var total money.Amount
	for _, l := range t.Lines {
		total += LineTotal(l)
	}
	return total
}

func validID(id string) bool {
	if len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

func missing(field string) *Error {
	return &Error{Code: CodeMissingField, Message: "is required", Field: field}
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidField, Message: fmt.Sprintf(format, args...), Field: field}
}

// DecodeTransaction decodes one transaction from JSON and validates it. A body that
// is not JSON, or has a field of the wrong type, gives CodeMalformedJSON (with the
// field when it can be told); an invalid transaction gives Validate's error. Unknown
// fields are ignored: the contract may grow.
func DecodeTransaction(data []byte) (*Transaction, *Error) {
	var t Transaction
	if err := decodeStrict(data, &t); err != nil {
		return nil, decodeError(data, err, locateTransaction)
	}
	if e := t.Validate(); e != nil {
		return nil, e
	}
	return &t, nil
}

// DecodeBatch decodes an offline batch. It checks the envelope only — that it is a
// JSON object with a transactions list of 1 to MaxBatch entries, each a JSON object —
// and leaves each transaction to be decoded and validated on its own (with
// DecodeTransaction), since a batch answers per transaction.
func DecodeBatch(data []byte) ([]json.RawMessage, *Error) {
	var env struct {
		Transactions []json.RawMessage `json:"transactions"`
	}
	if err := decodeStrict(data, &env); err != nil {
		return nil, decodeError(data, err, func([]byte) string { return "transactions" })
	}
	switch n := len(env.Transactions); {
	case n == 0:
		return nil, missing("transactions")
	case n > MaxBatch:
		return nil, &Error{Code: CodeTooLarge, Field: "transactions",
			Message: fmt.Sprintf("%d transactions, at most %d per batch", n, MaxBatch)}
	}
	for i, raw := range env.Transactions {
		if b := bytes.TrimSpace(raw); len(b) == 0 || b[0] != '{' {
			return nil, &Error{Code: CodeMalformedJSON, Field: fmt.Sprintf("transactions[%d]", i),
				Message: "is not a JSON object"}
		}
	}
	return env.Transactions, nil
}

// decodeStrict decodes exactly one JSON value into v.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// decodeError turns a decoding failure into a contract error, naming the field when
// the body is JSON but a field is not of the right type.
func decodeError(data []byte, err error, locate func([]byte) string) *Error {
	e := &Error{Code: CodeMalformedJSON, Message: err.Error()}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		e.Message = fmt.Sprintf("not valid JSON at byte %d: %v", syn.Offset, syn)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		e.Message = "the body is empty or cut short"
	case errors.As(err, &typ):
		e.Message = fmt.Sprintf("want a JSON %s, got %s", typ.Type, typ.Value)
		e.Field = locate(data)
	default:
		e.Field = locate(data)
	}
	return e
}

// locateTransaction finds the first field of a transaction body that does not decode
// into its Go type, as a JSON path. It runs only on the error path.
func locateTransaction(data []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return ""
	}
	for _, key := range sortedKeys(top) {
		raw := top[key]
		switch key {
		case "lines":
			if p := locateList[Line](key, raw); p != "" {
				return p
			}
		case "tenders":
			if p := locateList[Tender](key, raw); p != "" {
				return p
			}
		case "customer":
			if p := locateObject[Customer](key, raw); p != "" {
				return p
			}
		default:
			var one Transaction
			if json.Unmarshal(wrap(key, raw), &one) != nil {
				return key
			}
		}
	}
	return ""
}

func locateList[T any](path string, raw json.RawMessage) string {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return path
	}
	for i, el := range list {
		if p := locateObject[T](fmt.Sprintf("%s[%d]", path, i), el); p != "" {
			return p
		}
	}
	return ""
}

// locateObject returns path (or path.key for the first bad key) if raw does not
// decode into a T, and "" if it does.
func locateObject[T any](path string, raw json.RawMessage) string {
	var v T
	if json.Unmarshal(raw, &v) == nil {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return path
	}
	for _, key := range sortedKeys(obj) {
		var one T
		if json.Unmarshal(wrap(key, obj[key]), &one) != nil {
			return strings.TrimPrefix(path+"."+key, ".")
		}
	}
	return path
}

func wrap(key string, raw json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]json.RawMessage{key: raw})
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
