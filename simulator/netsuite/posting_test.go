package netsuite

import (
	"fmt"
	"net/http"
	"testing"
)

// Accounts of tinyWorld.
const (
	acUndeposited = 101
	acCard        = 102
	acAsset       = 103
	acTax         = 104
	acGiftCert    = 105
	acIncome      = 106
	acCOGS        = 107
	acAdjust      = 108
)

func TestCashSalePosting(t *testing.T) {
	tests := []struct {
		name    string
		body    map[string]any
		wantGL  map[int64]int64    // account → debit − credit, cents
		wantOn  map[string]float64 // item@location → on hand after
		wantTot int64
		// wantTenders are the tenders rows in order: "source account amount pnrefnum authcode".
		wantTenders []string
		// wantTaxCodes are the tax codes the lines took, by line number (when given).
		wantTaxCodes map[int]int64
	}{
		{
			// A card sale of one TV at store 1: tax computed at the store's 8.625 %.
			name: "card, tax computed",
			body: map[string]any{"location": ref1("1"), "paymentMethod": ref1("2"), "pnRefNum": "pi_123",
				"item": items(saleLineBody("1001", 1, "rate", 499.99))},
			wantGL:      map[int64]int64{acCard: 54311, acIncome: -49999, acTax: -4312, acCOGS: 30000, acAsset: -30000},
			wantOn:      map[string]float64{"1001@1": 9},
			wantTot:     54311,
			wantTenders: []string{"paymentMethod 102 54311 pi_123 "},
		},
		{
			// No paymentMethod: undeposited funds. No rate: the base price. The POS's tax
			// amount is taken as given. Bananas are not taxable (rate 0 code).
			name: "undeposited, tax given, defaults",
			body: map[string]any{"location": ref1("2"),
				"item": items(saleLineBody("1003", 2, "tax1Amt", 1.77), saleLineBody("1002", 1.5))},
			// socks 2 × 9.99 = 19.98, tax 1.77; bananas 1.5 × 0.59 = 0.885 → 0.89, no tax
			wantGL:      map[int64]int64{acUndeposited: 2264, acIncome: -2087, acTax: -177, acCOGS: 830, acAsset: -830},
			wantOn:      map[string]float64{"1003@2": 8, "1002@2": 8.5},
			wantTot:     2264,
			wantTenders: []string{"paymentMethod 101 2264  "},
			// Taxable socks take store 2's code (NY-NYC), the bananas their own NON-TAXABLE.
			wantTaxCodes: map[int]int64{1: 2, 2: 3},
		},
		{
			// A gift certificate pays part, the card the rest.
			name: "gift certificate and card",
			body: map[string]any{"location": ref1("1"), "paymentMethod": ref1("2"),
				"item":               items(saleLineBody("1003", 1, "amount", 9.99, "tax1Amt", 0.86)),
				"giftCertRedemption": items(map[string]any{"authCode": "GC-0001", "authCodeApplied": 5})},
			wantGL:      map[int64]int64{acGiftCert: 500, acCard: 585, acIncome: -999, acTax: -86, acCOGS: 400, acAsset: -400},
			wantTot:     1085,
			wantTenders: []string{"giftCertRedemption 105 500  GC-0001", "paymentMethod 102 585  "},
		},
		{
			// A split between cash and card in custbody_pos_tenders, sent as a string.
			name: "split tenders",
			body: map[string]any{"location": ref1("1"),
				"item":                 items(saleLineBody("1003", 2, "rate", 9.99, "tax1Amt", 1.72)),
				"custbody_pos_tenders": `[{"paymentMethod":{"id":"1"},"amount":10},{"paymentMethod":{"id":"2"},"amount":11.70,"pnRefNum":"pi_9"}]`},
			wantGL:      map[int64]int64{acUndeposited: 1000, acCard: 1170, acIncome: -1998, acTax: -172, acCOGS: 800, acAsset: -800},
			wantTot:     2170,
			wantTenders: []string{"custbody_pos_tenders 101 1000  ", "custbody_pos_tenders 102 1170 pi_9 "},
		},
		{
			// The discount is in the amount; the line's own taxCode wins over the default.
			name: "explicit amount and tax code",
			body: map[string]any{"location": ref1("1"), "paymentMethod": ref1("1"),
				"item": items(saleLineBody("1001", 1, "rate", 499.99, "amount", 449.99, "taxCode", ref1("2")))},
			// 449.99 × 8.875 % = 39.936… → 39.94
			wantGL:       map[int64]int64{acUndeposited: 48993, acIncome: -44999, acTax: -3994, acCOGS: 30000, acAsset: -30000},
			wantTot:      48993,
			wantTenders:  []string{"paymentMethod 101 48993  "},
			wantTaxCodes: map[int]int64{1: 2},
		},
		{
			// No taxCode and no tax1Amt: a taxable item sold at store 2 takes the store's
			// jurisdiction (NY-NYC 8.875 %), though the item's own code is CA-SF:
			// 9.99 × 8.875 % = 0.8866 → 0.89. A cash payment method debits its account.
			name: "tax code from the store, computed",
			body: map[string]any{"location": ref1("2"), "paymentMethod": ref1("1"),
				"item": items(saleLineBody("1003", 1))},
			wantGL:       map[int64]int64{acUndeposited: 1088, acIncome: -999, acTax: -89, acCOGS: 400, acAsset: -400},
			wantOn:       map[string]float64{"1003@2": 9},
			wantTot:      1088,
			wantTenders:  []string{"paymentMethod 101 1088  "},
			wantTaxCodes: map[int]int64{1: 2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tinyWorld(), Config{})
			id := e.mustWrite(http.MethodPost, "/record/v1/cashSale", tc.body)
			got := e.glByAccount(id)
			if len(got) != len(tc.wantGL) {
				t.Errorf("GL %v, want %v", got, tc.wantGL)
			}
			for a, v := range tc.wantGL {
				if got[a] != v {
					t.Errorf("account %d: %d, want %d (GL %v)", a, got[a], v, got)
				}
			}
			if tot := e.queryInt("SELECT total_cents FROM transactions WHERE id = ?", id); tot != tc.wantTot {
				t.Errorf("total %d, want %d", tot, tc.wantTot)
			}
			for k, want := range tc.wantOn {
				var item, loc string
				for i := range k {
					if k[i] == '@' {
						item, loc = k[:i], k[i+1:]
					}
				}
				if got := e.onHand(item, loc); got != want {
					t.Errorf("on hand of %s: %v, want %v", k, got, want)
				}
			}
			if got := e.tenders(id); tc.wantTenders != nil && fmt.Sprint(got) != fmt.Sprint(tc.wantTenders) {
				t.Errorf("tenders %q, want %q", got, tc.wantTenders)
			}
			for line, want := range tc.wantTaxCodes {
				if got := e.queryInt("SELECT taxcode FROM transaction_lines WHERE transaction_id = ? AND sublist = 'item' AND line = ?", id, line); got != want {
					t.Errorf("line %d tax code %d, want %d", line, got, want)
				}
			}
			e.checkBalanced()
		})
	}
}

// tenders returns the tenders rows of transaction id in order, as
// "source account amount pnrefnum authcode".
func (e *env) tenders(id string) []string {
	e.t.Helper()
	rows, err := e.db().Query(`SELECT source, account, amount_cents, COALESCE(pnrefnum, ''), COALESCE(authcode, '')
		FROM tenders WHERE transaction_id = ? ORDER BY seq`, id)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var src, pn, auth string
		var acct, amt int64
		if err := rows.Scan(&src, &acct, &amt, &pn, &auth); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d %d %s %s", src, acct, amt, pn, auth))
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// A cash refund mirrors its sale's tenders: each split tender and the gift certificate
// are credited back to their own accounts, and every account nets to zero.
func TestCashRefundTendersMirrorTheSale(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	body := func() map[string]any {
		return map[string]any{"location": ref1("1"),
			"item":                 items(saleLineBody("1003", 2, "rate", 9.99, "tax1Amt", 1.72)),
			"giftCertRedemption":   items(map[string]any{"authCode": "GC-0002", "authCodeApplied": 5}),
			"custbody_pos_tenders": []any{map[string]any{"paymentMethod": ref1("1"), "amount": 6}, map[string]any{"paymentMethod": ref1("2"), "amount": 10.70, "pnRefNum": "pi_7"}}}
	}
	sale := e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:SPLIT-1", body())
	rb := body()
	rb["createdFrom"] = map[string]any{"externalId": "SPLIT-1"}
	refund := e.mustWrite(http.MethodPut, "/record/v1/cashRefund/eid:RET-SPLIT-1", rb)
	sg, rg := e.glByAccount(sale), e.glByAccount(refund)
	if sg[acUndeposited] != 600 || sg[acCard] != 1070 || sg[acGiftCert] != 500 {
		t.Errorf("sale GL %v", sg)
	}
	if len(rg) != len(sg) {
		t.Errorf("refund GL %v, sale GL %v", rg, sg)
	}
	for a, v := range sg {
		if rg[a] != -v {
			t.Errorf("account %d: sale %d, refund %d", a, v, rg[a])
		}
	}
	want := []string{"giftCertRedemption 105 500  GC-0002", "custbody_pos_tenders 101 600  ", "custbody_pos_tenders 102 1070 pi_7 "}
	if got := e.tenders(refund); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("refund tenders %q, want %q", got, want)
	}
	if e.onHand("1003", "1") != 10 {
		t.Errorf("socks on hand %v after the refund, want 10", e.onHand("1003", "1"))
	}
	e.checkBalanced()
}

func TestCashRefundRestocksAtOriginalCost(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	sale := e.mustWrite(http.MethodPost, "/record/v1/cashSale", map[string]any{
		"externalId": "S1", "location": ref1("1"), "paymentMethod": ref1("2"),
		"item": items(saleLineBody("1001", 2, "rate", 499.99, "tax1Amt", 86.25), saleLineBody("1003", 1, "tax1Amt", 0.86)),
	})
	// A receipt at $360 moves the TV's average at store 1 from 300 to (8×300 + 2×360)/10 = 312.
	e.mustWrite(http.MethodPost, "/record/v1/inventoryAdjustment", map[string]any{
		"account": ref1("108"), "adjLocation": ref1("1"),
		"inventory": items(map[string]any{"item": ref1("1001"), "adjustQtyBy": 2, "unitCost": 360}),
	})
	if got := e.avgCost("1001", "1"); got != 312 {
		t.Fatalf("average after receipt %v, want 312", got)
	}
	// Refund one TV (restocked, at the sale's $300) and the socks (written off).
	refund := e.mustWrite(http.MethodPost, "/record/v1/cashRefund", map[string]any{
		"createdFrom": map[string]any{"externalId": "S1"}, "location": ref1("1"), "paymentMethod": ref1("2"),
		"item": items(saleLineBody("1001", 1, "rate", 499.99, "tax1Amt", 43.12),
			saleLineBody("1003", 1, "tax1Amt", 0.86, fieldRestock, false)),
	})
	want := map[int64]int64{acCard: -(49999 + 4312 + 999 + 86), acIncome: 49999 + 999, acTax: 4312 + 86,
		acAsset: 30000, acCOGS: -30000}
	got := e.glByAccount(refund)
	for a, v := range want {
		if got[a] != v {
			t.Errorf("refund account %d: %d, want %d (GL %v)", a, got[a], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("refund GL %v, want %v", got, want)
	}
	// TV: 10 − 2 sold + 2 received + 1 back = 11; socks: 10 − 1 = 9 (not restocked).
	if on := e.onHand("1001", "1"); on != 11 {
		t.Errorf("TV on hand %v, want 11", on)
	}
	if on := e.onHand("1003", "1"); on != 9 {
		t.Errorf("socks on hand %v, want 9", on)
	}
	// The restock is a receipt at 300: (10×312 + 1×300)/11.
	if got, want := e.avgCost("1001", "1"), (10*312.0+300)/11; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("average after restock %v, want %v", got, want)
	}
	if cf := e.queryInt("SELECT createdfrom FROM transactions WHERE id = ?", refund); idString(cf) != sale {
		t.Errorf("createdfrom %d, want %s", cf, sale)
	}
	e.checkBalanced()
}

func TestSalesDoNotChangeAverageCost(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	for i := 0; i < 3; i++ {
		e.mustWrite(http.MethodPost, "/record/v1/cashSale", map[string]any{"location": ref1("2"),
			"item": items(saleLineBody("1001", 5))})
	}
	if got := e.avgCost("1001", "2"); got != 300 {
		t.Errorf("average %v after sales, want 300", got)
	}
	if got := e.onHand("1001", "2"); got != -5 {
		t.Errorf("on hand %v, want -5 (selling below zero is allowed)", got)
	}
	// A receipt while below zero takes the receipt's cost.
	e.mustWrite(http.MethodPost, "/record/v1/inventoryAdjustment", map[string]any{"account": ref1("108"),
		"inventory": items(map[string]any{"item": ref1("1001"), "location": ref1("2"), "adjustQtyBy": 20, "unitCost": 280})})
	if got := e.avgCost("1001", "2"); got != 280 {
		t.Errorf("average %v after receipt below zero, want 280", got)
	}
	e.checkBalanced()
}

func TestUpsertIdenticalBodyChangesNothing(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	body := map[string]any{"location": ref1("1"), "paymentMethod": ref1("2"), "tranDate": "2024-11-29",
		"item": items(saleLineBody("1001", 1, "rate", 499.99, "tax1Amt", 43.12), saleLineBody("1003", 2))}
	id := e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:POS-1", body)
	first := e.do(http.MethodGet, "/record/v1/cashSale/"+id, nil).json(t)
	gl := e.glByAccount(id)
	for i := 0; i < 3; i++ {
		if again := e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:POS-1", body); again != id {
			t.Fatalf("upsert %d gave id %s, want %s", i, again, id)
		}
	}
	again := e.do(http.MethodGet, "/record/v1/cashSale/"+id, nil).json(t)
	if first["lastModifiedDate"] != again["lastModifiedDate"] {
		t.Errorf("lastModifiedDate moved: %v → %v", first["lastModifiedDate"], again["lastModifiedDate"])
	}
	if n := e.queryInt("SELECT COUNT(*) FROM transactions WHERE externalid = 'POS-1'"); n != 1 {
		t.Errorf("%d transactions with the external id", n)
	}
	if got := e.onHand("1001", "1"); got != 9 {
		t.Errorf("TV on hand %v, want 9 (one sale, once)", got)
	}
	if got := e.onHand("1003", "1"); got != 8 {
		t.Errorf("socks on hand %v, want 8", got)
	}
	if after := e.glByAccount(id); len(after) != len(gl) || after[acCard] != gl[acCard] {
		t.Errorf("GL changed: %v → %v", gl, after)
	}
	if n := e.queryInt("SELECT COUNT(*) FROM gl_lines WHERE transaction_id = ?", id); n != 9 {
		t.Errorf("%d GL lines, want 9 (4 per line and the payment, once)", n)
	}
}

func TestUpsertChangedBodyReposts(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	body := map[string]any{"location": ref1("1"), "paymentMethod": ref1("2"),
		"item": items(saleLineBody("1001", 2, "rate", 499.99, "tax1Amt", 86.25))}
	id := e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:POS-2", body)
	created := e.do(http.MethodGet, "/record/v1/cashSale/"+id, nil).json(t)["createdDate"]
	// The sale is corrected: one TV, at store 2, paid cash.
	body2 := map[string]any{"location": ref1("2"), "paymentMethod": ref1("1"),
		"item": items(saleLineBody("1001", 1, "rate", 499.99, "tax1Amt", 44.37))}
	if again := e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:POS-2", body2); again != id {
		t.Fatalf("re-post gave id %s, want %s", again, id)
	}
	if got := e.onHand("1001", "1"); got != 10 {
		t.Errorf("store 1 on hand %v, want 10 (old impact reversed)", got)
	}
	if got := e.onHand("1001", "2"); got != 9 {
		t.Errorf("store 2 on hand %v, want 9", got)
	}
	want := map[int64]int64{acUndeposited: 54436, acIncome: -49999, acTax: -4437, acCOGS: 30000, acAsset: -30000}
	got := e.glByAccount(id)
	if len(got) != len(want) {
		t.Errorf("GL %v, want %v", got, want)
	}
	for a, v := range want {
		if got[a] != v {
			t.Errorf("account %d: %d, want %d", a, got[a], v)
		}
	}
	rec := e.do(http.MethodGet, "/record/v1/cashSale/"+id, nil).json(t)
	if rec["createdDate"] != created {
		t.Errorf("createdDate changed on update: %v → %v", created, rec["createdDate"])
	}
	// An upsert's sublist replaces the old one (it is not merged line by line as PATCH's is).
	e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:POS-2", map[string]any{"location": ref1("2"),
		"item": items(saleLineBody("1003", 1), saleLineBody("1002", 2))})
	e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:POS-2", map[string]any{"location": ref1("2"),
		"item": items(saleLineBody("1002", 1))})
	if n := e.queryInt("SELECT COUNT(*) FROM transaction_lines WHERE transaction_id = ?", id); n != 1 {
		t.Errorf("%d lines after upserting one, want 1", n)
	}
	if e.onHand("1001", "2") != 10 || e.onHand("1003", "2") != 10 || e.onHand("1002", "2") != 9 {
		t.Errorf("on hand after replacing the lines: TV %v socks %v bananas %v, want 10 10 9",
			e.onHand("1001", "2"), e.onHand("1003", "2"), e.onHand("1002", "2"))
	}
	e.checkBalanced()
}

func TestRepostedAdjustmentRestoresAverage(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	adj := func(qty, cost float64) map[string]any {
		return map[string]any{"account": ref1("108"), "adjLocation": ref1("3"),
			"inventory": items(map[string]any{"item": ref1("1003"), "adjustQtyBy": qty, "unitCost": cost})}
	}
	e.mustWrite(http.MethodPut, "/record/v1/inventoryAdjustment/eid:ADJ-1", adj(10, 6))
	if got := e.avgCost("1003", "3"); got != 5 {
		t.Fatalf("average %v, want 5", got)
	}
	e.mustWrite(http.MethodPut, "/record/v1/inventoryAdjustment/eid:ADJ-1", adj(30, 4))
	if got := e.avgCost("1003", "3"); got != 4 || e.onHand("1003", "3") != 40 {
		t.Errorf("after re-post: average %v on hand %v, want 4 and 40", got, e.onHand("1003", "3"))
	}
	r := e.do(http.MethodDelete, "/record/v1/inventoryAdjustment/eid:ADJ-1", nil)
	if r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if got := e.avgCost("1003", "3"); got != 4 || e.onHand("1003", "3") != 10 {
		t.Errorf("after delete: average %v on hand %v, want 4 and 10", got, e.onHand("1003", "3"))
	}
	if n := e.queryInt("SELECT COUNT(*) FROM gl_lines"); n != 0 {
		t.Errorf("%d GL lines left after delete", n)
	}
}

func TestOtherTransactionsBalance(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	so := e.mustWrite(http.MethodPost, "/record/v1/salesOrder", map[string]any{"entity": ref1("100001"),
		"location": ref1("1"), "item": items(saleLineBody("1003", 3))})
	if n := e.queryInt("SELECT COUNT(*) FROM gl_lines WHERE transaction_id = ?", so); n != 0 {
		t.Errorf("a sales order posted %d GL lines", n)
	}
	// Fulfil the order by transform: the lines are copied.
	r := e.do(http.MethodPost, "/record/v1/salesOrder/"+so+"/!transform/itemFulfillment", map[string]any{})
	if r.status != http.StatusNoContent {
		t.Fatalf("transform: %d %s", r.status, r.body)
	}
	if got := e.onHand("1003", "1"); got != 7 {
		t.Errorf("on hand after fulfilment %v, want 7", got)
	}
	e.mustWrite(http.MethodPost, "/record/v1/inventoryTransfer", map[string]any{"location": ref1("3"),
		"transferLocation": ref1("1"), "inventory": items(map[string]any{"item": ref1("1001"), "adjustQtyBy": 4})})
	if e.onHand("1001", "3") != 6 || e.onHand("1001", "1") != 14 {
		t.Errorf("transfer: on hand %v at 3, %v at 1", e.onHand("1001", "3"), e.onHand("1001", "1"))
	}
	e.mustWrite(http.MethodPost, "/record/v1/journalEntry", map[string]any{"line": items(
		map[string]any{"account": ref1("100"), "debit": 100},
		map[string]any{"account": ref1("101"), "credit": 100})})
	r = e.do(http.MethodPost, "/record/v1/journalEntry", map[string]any{"line": items(
		map[string]any{"account": ref1("100"), "debit": 100},
		map[string]any{"account": ref1("101"), "credit": 99.99})})
	if r.status != http.StatusBadRequest || r.errorDetail(t)["o:errorCode"] != codeUserError {
		t.Errorf("unbalanced journal: %d %s", r.status, r.body)
	}
	e.mustWrite(http.MethodPost, "/record/v1/inventoryAdjustment", map[string]any{"account": ref1("108"),
		"inventory": items(map[string]any{"item": ref1("1002"), "location": ref1("2"), "adjustQtyBy": -2.5})})
	if got := e.glByAccount(e.queryIntStr("SELECT MAX(id) FROM transactions")); got[acAdjust] != 50 || got[acAsset] != -50 {
		t.Errorf("shrink GL %v, want adjustment +50, asset −50", got)
	}
	e.checkBalanced()
}

func (e *env) queryIntStr(q string, args ...any) string { return idString(e.queryInt(q, args...)) }
