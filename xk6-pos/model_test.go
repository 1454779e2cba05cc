package pos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/money"
)

func smallWorld(t testing.TB) *fixtures.World {
	t.Helper()
	w, err := fixtures.Generate(7, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func resolved(t testing.TB, flow string, m map[string]any) Options {
	t.Helper()
	o, err := ParseOptions(m)
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.resolve(flow)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// basketSig is a basket as comparable values.
type basketSig struct {
	SKU  string
	Qty  float64
	Disc float64
}

func sign(ps []pick) []basketSig {
	out := make([]basketSig, len(ps))
	for i, p := range ps {
		out[i] = basketSig{p.item.SKU, p.qty, p.discountPc}
	}
	return out
}

func TestBasketsDeterministic(t *testing.T) {
	w := smallWorld(t)
	o := resolved(t, FlowSale, map[string]any{"hotItems": map[string]any{"count": 3, "share": 0.2}})
	draw := func(modelSeed int64, vuSeed uint64) [][]basketSig {
		m, err := newCatalogModel(w, modelSeed, o)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(vuSeed, 1))
		var out [][]basketSig
		for range 50 {
			out = append(out, sign(drawBasket(r, m, &o)))
		}
		return out
	}
	a, b := draw(42, 9), draw(42, 9)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seeds gave different baskets")
	}
	if reflect.DeepEqual(a, draw(42, 10)) {
		t.Error("another VU seed gave the same baskets")
	}
	if reflect.DeepEqual(a, draw(43, 9)) {
		t.Error("another module seed (item ranking) gave the same baskets")
	}
}

func TestHotItemShare(t *testing.T) {
	w := smallWorld(t)
	for _, tc := range []struct {
		name  string
		count int
		share float64
	}{
		{"doorbusters", 5, 0.3},
		{"one hot sku", 1, 0.6},
		{"no hot items", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := resolved(t, FlowSale, map[string]any{"hotItems": map[string]any{"count": tc.count, "share": tc.share}})
			m, err := newCatalogModel(w, 1, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.hot) != tc.count {
				t.Fatalf("%d hot items, want %d", len(m.hot), tc.count)
			}
			r := rand.New(rand.NewPCG(3, 4))
			const n = 40000
			hot := 0
			for range n {
				if m.isHot(m.pick(r)) {
					hot++
				}
			}
			got := float64(hot) / n
			// Binomial standard deviation at n=40000 is at most 0.0025: allow 4 sigma.
			if math.Abs(got-tc.share) > 0.01 {
				t.Errorf("hot share %.4f, want %.2f ± 0.01", got, tc.share)
			}
		})
	}
}

func TestZipfPopularity(t *testing.T) {
	w := smallWorld(t)
	o := resolved(t, FlowSale, map[string]any{"zipfExponent": 1.2})
	m, err := newCatalogModel(w, 1, o)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	counts := map[*fixtures.Item]int{}
	const n = 50000
	for range n {
		counts[m.pick(r)]++
	}
	// Rank 1 against rank 2 should be about 2^1.2 ≈ 2.3 times as popular; rank 1's share
	// is 1/H(200, 1.2).
	var h float64
	for k := 1; k <= len(m.rest); k++ {
		h += 1 / math.Pow(float64(k), 1.2)
	}
	share := float64(counts[m.rest[0]]) / n
	if want := 1 / h; math.Abs(share-want) > 0.015 {
		t.Errorf("top item share %.4f, want %.4f", share, want)
	}
	if ratio := float64(counts[m.rest[0]]) / float64(counts[m.rest[1]]); ratio < 1.9 || ratio > 2.7 {
		t.Errorf("rank 1 / rank 2 = %.2f, want about 2.3", ratio)
	}
}

func TestBasketSize(t *testing.T) {
	for _, tc := range []struct {
		dist string
		mean float64
		max  int
	}{
		{DistPoisson, 4, 40},
		{DistGeometric, 3, 100},
		{DistFixed, 5, 10},
		{DistPoisson, 60, 200}, // normal approximation
	} {
		t.Run(tc.dist, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			b := BasketSize{Mean: tc.mean, Max: tc.max, Distribution: tc.dist}
			const n = 20000
			sum := 0
			for range n {
				k := basketSize(r, b)
				if k < 1 || k > tc.max {
					t.Fatalf("size %d outside 1..%d", k, tc.max)
				}
				sum += k
			}
			if got := float64(sum) / n; math.Abs(got-tc.mean) > 0.05*tc.mean {
				t.Errorf("mean size %.3f, want %.1f", got, tc.mean)
			}
		})
	}
}

// TestRandomBasketsValidate prices many random baskets with random tax rates and
// tenders and checks that every one passes the contract's validation and adds up on
// the receipt.
func TestRandomBasketsValidate(t *testing.T) {
	w := smallWorld(t)
	o := resolved(t, FlowSale, map[string]any{"discountRate": 0.5, "basketSize": map[string]any{"mean": 6}})
	m, err := newCatalogModel(w, 11, o)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(12, 13))
	rates := []float64{0, 4, 6.25, 7.5, 8.625, 9.5, 10.25}
	for i := range 3000 {
		tx := &contract.Transaction{ID: fmt.Sprintf("T-%d", i), Type: contract.Sale, LocationID: "1", RegisterID: "S001-R01",
			OccurredAt: time.Date(2025, 11, 28, 0, 0, 0, 0, time.UTC)}
		for _, p := range drawBasket(r, m, &o) {
			item := &contract.Item{SKU: p.item.SKU, Price: p.item.Price, TaxCode: "X", TaxRate: rates[r.IntN(len(rates))]}
			l := priceLine(item, p)
			// The rule, computed independently: tax on the discounted line amount.
			want := money.FromCents(int64(math.Round(float64(l.UnitPrice.Mul(l.Quantity)-l.Discount) * item.TaxRate / 100)))
			if l.TaxAmount != want {
				t.Fatalf("line %+v: tax %v, want %v", l, l.TaxAmount, want)
			}
			tx.Lines = append(tx.Lines, l)
		}
		total := tx.Total()
		switch r.IntN(3) {
		case 0:
			tx.Tenders = []contract.Tender{{Type: contract.Cash, Amount: total}}
		case 1:
			tx.Tenders = []contract.Tender{{Type: contract.Card, Amount: total, PaymentIntentID: "pi_x"}}
		default:
			if total > 2 {
				part := money.Amount(1 + r.Int64N(int64(total)-1))
				tx.Tenders = []contract.Tender{{Type: contract.Card, Amount: total - part, PaymentIntentID: "pi_x"}, {Type: contract.GiftCard, Amount: part}}
			} else {
				tx.Tenders = []contract.Tender{{Type: contract.Cash, Amount: total}}
			}
		}
		if e := tx.Validate(); e != nil {
			t.Fatalf("basket %d invalid: %s: %s\n%+v", i, e.Field, e.Message, tx)
		}
		if _, tot := renderReceipt(tx, "Store"); !tot.ok() || tot.total != total {
			t.Fatalf("basket %d: receipt does not add up: %+v", i, tot)
		}
	}
}

// TestReturnsNeverExceedSale returns random parts of random sales until nothing is
// left, and checks that quantities, discounts, tax and refunds never exceed the sale,
// and that returning everything gives back exactly the sale.
func TestReturnsNeverExceedSale(t *testing.T) {
	w := smallWorld(t)
	o := resolved(t, FlowReturn, map[string]any{"discountRate": 0.5, "returnPartialRate": 0.8})
	m, err := newCatalogModel(w, 21, o)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(22, 23))
	s := &session{rand: r, opts: &o}
	for i := range 500 {
		sale := &contract.Transaction{ID: fmt.Sprintf("S-%d", i), Type: contract.Sale, LocationID: "1", RegisterID: "R", OccurredAt: time.Now()}
		var meta []lineMeta
		for _, p := range drawBasket(r, m, &o) {
			rate := []float64{0, 7.25, 8.875}[r.IntN(3)]
			sale.Lines = append(sale.Lines, priceLine(&contract.Item{SKU: p.item.SKU, Price: p.item.Price, TaxRate: rate}, p))
			meta = append(meta, lineMeta{taxRate: rate, weighed: p.item.Weighed})
		}
		total := sale.Total()
		card := total / 3
		if card < 1 {
			card = total
		}
		sale.Tenders = []contract.Tender{{Type: contract.Card, Amount: card, PaymentIntentID: "pi_1"}}
		if rest := total - card; rest > 0 {
			sale.Tenders = append(sale.Tenders, contract.Tender{Type: contract.Cash, Amount: rest})
		}
		rec := newSaleRecord(sale, meta)
		qty := make([]float64, len(sale.Lines))
		var disc, tax, refunded, toCard money.Amount
		for round := 0; rec.left(); round++ {
			if round > 50 {
				t.Fatalf("sale %d: still something to return after 50 returns", i)
			}
			ret := &contract.Transaction{ID: "R", Type: contract.Return, LocationID: "1", RegisterID: "R", OccurredAt: time.Now(), OriginalTransactionID: sale.ID}
			parts := s.chooseReturn(rec, nil)
			if len(parts) == 0 {
				t.Fatalf("sale %d: something left but nothing chosen", i)
			}
			for _, p := range parts {
				l := rec.returnLine(p.i, p.q, true)
				ret.Lines = append(ret.Lines, l)
				qty[p.i] += l.Quantity
				disc += l.Discount
				tax += l.TaxAmount
			}
			amount := ret.Total()
			ret.Tenders = rec.refundTo(amount)
			if amount == 0 {
				ret.Tenders = nil
			}
			for _, td := range ret.Tenders {
				refunded += td.Amount
				if td.Type == contract.Card {
					toCard += td.Amount
					if td.PaymentIntentID != "pi_1" {
						t.Fatalf("card refund to %q, not the original intent", td.PaymentIntentID)
					}
				}
			}
			if e := ret.Validate(); e != nil {
				t.Fatalf("sale %d return %d invalid: %s: %s", i, round, e.Field, e.Message)
			}
			for k, l := range sale.Lines {
				if qty[k] > l.Quantity+1e-9 {
					t.Fatalf("sale %d line %d: returned %g of %g", i, k, qty[k], l.Quantity)
				}
			}
			if refunded > total || toCard > card {
				t.Fatalf("sale %d: refunded %v (card %v) of %v (card %v)", i, refunded, toCard, total, card)
			}
		}
		var sd, st money.Amount
		for k, l := range sale.Lines {
			sd += l.Discount
			st += l.TaxAmount
			if math.Abs(qty[k]-l.Quantity) > 1e-9 {
				t.Fatalf("sale %d line %d: returned %g of %g in all", i, k, qty[k], l.Quantity)
			}
		}
		if disc != sd || tax != st || refunded != total {
			t.Fatalf("sale %d: returned discount %v tax %v refund %v, sold %v %v %v", i, disc, tax, refunded, sd, st, total)
		}
	}
}

func TestDrawCardRates(t *testing.T) {
	o := resolved(t, FlowSale, map[string]any{"declineRate": 0.1, "insufficientFundsRate": 0.05})
	r := rand.New(rand.NewPCG(1, 1))
	counts := map[string]int{}
	const n = 40000
	for range n {
		counts[drawCard(r, &o).declineCode]++
	}
	for code, want := range map[string]float64{"generic_decline": 0.1, "insufficient_funds": 0.05, "": 0.85} {
		if got := float64(counts[code]) / n; math.Abs(got-want) > 0.01 {
			t.Errorf("%q: %.3f, want %.2f", code, got, want)
		}
	}
}

func TestCustomers(t *testing.T) {
	w := smallWorld(t)
	o := resolved(t, FlowSale, map[string]any{"knownCustomerRate": 0.5, "newCustomerRate": 0.3})
	r := rand.New(rand.NewPCG(1, 2))
	var n int64
	kinds := map[string]int{}
	loyalty := map[string]bool{}
	for range 10000 {
		c := drawCustomer(r, w, &o, 42, 3, &n)
		kinds[c.kind]++
		if c.kind == custNew {
			if loyalty[c.customer.LoyaltyID] {
				t.Fatalf("fresh loyalty id %s drawn twice", c.customer.LoyaltyID)
			}
			loyalty[c.customer.LoyaltyID] = true
			if _, ok := w.CustomerByLoyaltyID(c.customer.LoyaltyID); ok {
				t.Fatalf("new customer %s is in the world", c.customer.LoyaltyID)
			}
		}
		if c.kind == custKnown {
			if _, ok := w.CustomerByLoyaltyID(c.customer.LoyaltyID); !ok || c.identity() != "LOY-"+c.customer.LoyaltyID {
				t.Fatalf("known customer %+v not from the world", c.customer)
			}
		}
	}
	if f := float64(kinds[custNew]) / 10000; math.Abs(f-0.3) > 0.02 {
		t.Errorf("new customers %.3f, want 0.3", f)
	}
	// A shared pool gives the same few identities, with the same names, to everyone.
	o.SharedNewCustomers = 3
	ids := map[string]string{}
	for vu := range 20 {
		r := rand.New(rand.NewPCG(uint64(vu), 9))
		for range 50 {
			c := drawCustomer(r, w, &o, 42, vu, &n)
			if c.kind != custNew {
				continue
			}
			name := c.customer.FirstName + " " + c.customer.LastName
			if prev, ok := ids[c.customer.LoyaltyID]; ok && prev != name {
				t.Fatalf("shared identity %s named %q and %q", c.customer.LoyaltyID, prev, name)
			}
			ids[c.customer.LoyaltyID] = name
		}
	}
	if len(ids) != 3 {
		t.Errorf("%d shared identities, want 3", len(ids))
	}
}
