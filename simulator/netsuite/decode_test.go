package netsuite

import (
	"reflect"
	"testing"
)

func TestDecodeRoundTrip(t *testing.T) {
	schemas := newSchemas()
	tests := []struct {
		typ  string
		body string
	}{
		{typeCashSale, `{"externalId":"POS-1","tranDate":"2024-11-29T10:00:00Z","location":{"id":"1","refName":"x","links":[]},
			"entity":{"externalId":"LOY-1"},"item":{"items":[{"item":{"id":7},"quantity":2,"rate":9.99,"amount":19.98,"tax1Amt":1.7}],"links":[]},
			"custbody_pos_tenders":"[{\"paymentMethod\":{\"id\":\"2\"},\"amount\":21.68,\"pnRefNum\":\"pi_1\"}]",
			"giftCertRedemption":{"items":[{"authCode":{"id":"GC1"},"authCodeApplied":1}]}}`},
		{typeCashRefund, `{"item":{"items":[{"item":{"id":"7"},"custcol_restock":false}]},"custbody_pos_tenders":[{"paymentMethod":{"id":"1"},"amount":5}]}`},
		{typeCustomer, `{"firstName":"A","email":null,"isPerson":true}`},
		{typeJournalEntry, `{"line":{"items":[{"account":{"id":"1"},"debit":1.005},{"account":{"id":"2"},"credit":1}]}}`},
	}
	for _, tc := range tests {
		b, err := decodeBody(schemas[tc.typ], []byte(tc.body), decodeOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		again, err := decodeBody(schemas[tc.typ], encodeBody(b), decodeOptions{})
		if err != nil {
			t.Fatalf("%s: re-decoding %s: %v", tc.typ, encodeBody(b), err)
		}
		if !reflect.DeepEqual(b, again) {
			t.Errorf("%s: round trip\n%#v\n%#v", tc.typ, b, again)
		}
	}
}

// FuzzDecodeBody feeds arbitrary bytes to the record body decoder of every record
// type: it must never panic, and what it accepts must survive encode → decode.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `null`, `{"item":{"items":[{"item":{"id":"1"},"quantity":1e308}]}}`,
		`{"location":{"externalId":"a-b_c"},"tranDate":"2024-02-30"}`,
		`{"custbody_pos_tenders":"[{\"paymentMethod\":{\"id\":1},\"amount\":\"x\"}]"}`,
		`{"item":{"items":[{"line":1.5}]}}`, `{"memo":"\ud800"}`, "{\"memo\":\"\xff\"}",
		`{"externalId":"ä"}`, `{"giftCertRedemption":{"items":[{"authCode":"","authCodeApplied":-1}]}}`,
		`{"line":{"items":[{"account":{"id":"1"},"debit":0.001}]}}`, `{"a":1}{"b":2}`,
	} {
		f.Add([]byte(s))
	}
	schemas := newSchemas()
	names := sortedKeys(schemas)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, n := range names {
			s := schemas[n]
			b, err := decodeBody(s, data, decodeOptions{})
			if err != nil {
				if _, ok := err.(*apiError); !ok {
					t.Fatalf("%s: error %T is not an API error: %v", n, err, err)
				}
				continue
			}
			enc := encodeBody(b)
			again, err := decodeBody(s, enc, decodeOptions{})
			if err != nil {
				t.Fatalf("%s: accepted %q but not its encoding %s: %v", n, data, enc, err)
			}
			if !reflect.DeepEqual(b, again) {
				t.Fatalf("%s: round trip changed the body:\n%#v\n%#v", n, b, again)
			}
			_, _ = decodeBody(s, data, decodeOptions{ignoreUnknown: true})
		}
	})
}

// FuzzCompileQuery feeds arbitrary q parameters to the collection filter compiler.
func FuzzCompileQuery(f *testing.F) {
	for _, s := range []string{
		`externalId IS "POS-1"`, `tranDate BETWEEN ["1/1/2024", "2024-12-31"] AND location ANY_OF [1, 2]`,
		`(entity EMPTY OR entity ANY_OF_NOT [3]) AND id GREATER 5`, `memo CONTAIN "50%_\"x"`, `((((`, `"`,
		`lastModifiedDate ON_OR_AFTER 2024-11-29T10:00:00Z`, `isInactive IS true`,
	} {
		f.Add(s)
	}
	s := newSchemas()[typeCashSale]
	f.Fuzz(func(t *testing.T, q string) {
		cond, args, err := compileQuery(s, q)
		if err != nil {
			if _, ok := err.(*apiError); !ok {
				t.Fatalf("error %T is not an API error: %v", err, err)
			}
			return
		}
		if n := countPlaceholders(cond); n != len(args) {
			t.Fatalf("%q: %d placeholders, %d args: %s", q, n, len(args), cond)
		}
	})
}

func countPlaceholders(s string) int {
	n := 0
	for _, r := range s {
		if r == '?' {
			n++
		}
	}
	return n
}
