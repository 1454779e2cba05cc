package pos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/money"
)

// catalogModel is item popularity: a few hot doorbuster items taking a fixed share of
// the lines, and Zipf popularity over the rest. The ranking is a permutation of the
// world's items drawn from the module's seed, so popularity does not follow item ids.
type catalogModel struct {
	hot      []*fixtures.Item
	hotShare float64
	rest     []*fixtures.Item // by popularity rank
	cum      []float64        // cumulative Zipf weights of rest, normalised to 1
	single   *fixtures.Item   // singleItemSKU
}

func newCatalogModel(w *fixtures.World, seed int64, o Options) (*catalogModel, error) {
	if o.SingleItemSKU != "" {
		it, ok := w.ItemBySKU(o.SingleItemSKU)
		if !ok {
			return nil, &OptionError{Path: "options.singleItemSKU", Msg: fmt.Sprintf("no item of the world has SKU %q", o.SingleItemSKU)}
		}
		return &catalogModel{single: it}, nil
	}
	if len(w.Items) == 0 {
		return nil, fmt.Errorf("pos: the world has no items")
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed17e5))
	order := r.Perm(len(w.Items))
	if o.HotItems.Count > len(order) {
		return nil, &OptionError{Path: "options.hotItems.count", Msg: fmt.Sprintf("the world has only %d items, fewer than %d", len(order), o.HotItems.Count)}
	}
	m := &catalogModel{hotShare: o.HotItems.Share}
	for i, idx := range order {
		it := &w.Items[idx]
		if i < o.HotItems.Count {
			m.hot = append(m.hot, it)
		} else {
			m.rest = append(m.rest, it)
		}
	}
	if len(m.rest) == 0 { // every item is hot
		m.rest, m.hotShare = m.hot, 1
	}
	m.cum = make([]float64, len(m.rest))
	var sum float64
	for k := range m.rest {
		sum += 1 / math.Pow(float64(k+1), o.ZipfExponent)
		m.cum[k] = sum
	}
	for k := range m.cum {
		m.cum[k] /= sum
	}
	return m, nil
}

// pick draws one item.
func (m *catalogModel) pick(r *rand.Rand) *fixtures.Item {
	if m.single != nil {
		return m.single
	}
	if len(m.hot) > 0 && r.Float64() < m.hotShare {
		return m.hot[r.IntN(len(m.hot))]
	}
	u := r.Float64()
	k := sort.SearchFloat64s(m.cum, u)
	if k >= len(m.rest) {
		k = len(m.rest) - 1
	}
	return m.rest[k]
}

// isHot reports whether it is one of the doorbuster items.
func (m *catalogModel) isHot(it *fixtures.Item) bool {
	for _, h := range m.hot {
		if h == it {
			return true
		}
	}
	return m.single == it
}

// pick is one line the customer brings to the register.
type pick struct {
	item       *fixtures.Item
	qty        float64 // units, or pounds (two decimals) for a weighed item
	discountPc float64 // percent off the line, 0 for none
}

// drawBasket draws a basket: its size, then each line's item, quantity and discount.
func drawBasket(r *rand.Rand, m *catalogModel, o *Options) []pick {
	n := 1
	if m.single == nil {
		n = basketSize(r, o.BasketSize)
	}
	out := make([]pick, 0, n)
	for range n {
		it := m.pick(r)
		p := pick{item: it, qty: 1}
		switch {
		case m.single != nil:
		case it.Weighed:
			p.qty = scaleWeight(r)
		default:
			switch u := r.Float64(); {
			case u < 0.06:
				p.qty = 3
			case u < 0.20:
				p.qty = 2
			}
		}
		if r.Float64() < o.DiscountRate {
			p.discountPc = float64(10 + 5*r.IntN(5)) // 10, 15, 20, 25 or 30 % off
		}
		out = append(out, p)
	}
	return out
}

// scaleWeight is what the scale reads for a weighed item: 0.25 to 3.00 lb, to the
// hundredth.
func scaleWeight(r *rand.Rand) float64 {
	return float64(25+r.IntN(276)) / 100
}

// basketSize draws a number of lines from 1 to b.Max.
func basketSize(r *rand.Rand, b BasketSize) int {
	var n int
	switch b.Distribution {
	case DistFixed:
		n = int(math.Round(b.Mean))
	case DistGeometric:
		if b.Mean <= 1 {
			n = 1
		} else {
			p := 1 / b.Mean
			n = 1 + int(math.Floor(math.Log(1-r.Float64())/math.Log(1-p)))
		}
	default:
		n = 1 + poisson(r, b.Mean-1)
	}
	return max(1, min(n, b.Max))
}

// poisson draws from a Poisson distribution of mean lambda (Knuth's method for small
// means, the normal approximation above 30).
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for k < 1000 {
		p *= r.Float64()
		if p <= l {
			break
		}
		k++
	}
	return k
}

// Customer kinds.
const (
	custAnonymous = "anonymous"
	custKnown     = "known"
	custNew       = "new"
)

// customerDraw is who is buying.
type customerDraw struct {
	kind     string
	customer *contract.Customer // nil when anonymous
}

// identity is the connector's identity of the customer: "LOY-" + loyalty id, or "".
func (c customerDraw) identity() string {
	if c.customer == nil || c.customer.LoyaltyID == "" {
		return ""
	}
	return "LOY-" + c.customer.LoyaltyID
}

var firstNames = []string{"Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jamal", "Kim", "Luis", "Maya", "Noor", "Omar", "Priya"}
var lastNames = []string{"Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Khan", "Lopez", "Moreau", "Nguyen", "Okafor", "Patel"}

// newIdentity is a customer new to NetSuite, deterministic in (seed, vu, n): loyalty
// ids starting with 9 (the world's start with 7), unique per VU and sequence number;
// the shared pool's start with 8.
func newIdentity(r *rand.Rand, loyalty string) *contract.Customer {
	return &contract.Customer{
		LoyaltyID: loyalty,
		Email:     "c" + loyalty + "@new.doorbuster.test",
		FirstName: firstNames[r.IntN(len(firstNames))],
		LastName:  lastNames[r.IntN(len(lastNames))],
	}
}

func freshLoyalty(vuID int, n int64) string {
	return fmt.Sprintf("9%05d%06d", vuID%100000, n%1000000)
}

func sharedLoyalty(seed int64, i int) string {
	return fmt.Sprintf("8%05d%06d", uint64(seed)%100000, i%1000000)
}

// drawCustomer draws the customer of a transaction; n is the VU's count of new
// customers so far (advanced when a fresh one is drawn).
func drawCustomer(r *rand.Rand, w *fixtures.World, o *Options, seed int64, vuID int, n *int64) customerDraw {
	u := r.Float64()
	switch {
	case u < o.KnownCustomerRate && len(w.Customers) > 0:
		c := &w.Customers[r.IntN(len(w.Customers))]
		return customerDraw{kind: custKnown, customer: &contract.Customer{
			LoyaltyID: c.LoyaltyID, Email: c.Email, Phone: c.Phone, FirstName: c.FirstName, LastName: c.LastName,
		}}
	case u < o.KnownCustomerRate+o.NewCustomerRate:
		if o.SharedNewCustomers > 0 {
			i := r.IntN(o.SharedNewCustomers)
			// The pool's identities always carry the same name, wherever they shop.
			nr := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
			return customerDraw{kind: custNew, customer: newIdentity(nr, sharedLoyalty(seed, i))}
		}
		*n++
		return customerDraw{kind: custNew, customer: newIdentity(r, freshLoyalty(vuID, *n))}
	}
	return customerDraw{kind: custAnonymous}
}

// Tender plans.
const (
	planCard  = "card"
	planCash  = "cash"
	planGift  = "gift_card"
	planSplit = "split"
)

// drawTenderPlan draws how the customer pays.
func drawTenderPlan(r *rand.Rand, t Tenders) string {
	u := r.Float64()
	switch {
	case u < t.Card:
		return planCard
	case u < t.Card+t.Cash:
		return planCash
	case u < t.Card+t.Cash+t.GiftCard:
		return planGift
	case u < t.Card+t.Cash+t.GiftCard+t.Split:
		return planSplit
	}
	return planCash
}

// testCard is a card the customer presents.
type testCard struct {
	number      string
	declineCode string // expected decline: "" for an approval
}

var approvingCards = []string{"4242424242424242", "5555555555554444", "4000056655665556", "378282246310005"}

// drawCard draws the card of one payment attempt from the decline model.
func drawCard(r *rand.Rand, o *Options) testCard {
	u := r.Float64()
	switch {
	case u < o.DeclineRate:
		return testCard{number: "4000000000000002", declineCode: "generic_decline"}
	case u < o.DeclineRate+o.InsufficientFundsRate:
		return testCard{number: "4000000000009995", declineCode: "insufficient_funds"}
	}
	return testCard{number: approvingCards[r.IntN(len(approvingCards))]}
}

// minCard is the smallest card payment the gateway takes (Stripe's USD minimum).
const minCard = money.Amount(50)
