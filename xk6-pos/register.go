package pos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/money"
)

// register is a POS lane: its store, its card reader, its cash drawer, its offline
// queue. It serves one transaction at a time: a flow checks it out (sem) for an
// iteration, however many VUs there are.
type register struct {
	fx      fixtures.Register
	loc     *fixtures.Location
	cashier string
	sem     chan struct{}
	seq     atomic.Int64 // transaction sequence, for ids

	// offline, when set, reserves the register for an offline-resync flow.
	offline atomic.Pointer[offlinePlan]

	mu      sync.Mutex // guards what follows; Close and Stats read it from outside an iteration
	queue   []*queuedTx
	cashIn  money.Amount
	cashOut money.Amount
	txCount int64
	// reconnected is set once an offline register's window has passed and its queue
	// was uploaded.
	reconnected bool
}

// queuedTx is a transaction waiting in a register's offline queue: sold while offline
// (its card payments still to forward), or submitted online without an answer.
type queuedTx struct {
	entry *txEntry
	// forward lists the card tenders taken offline whose payments are still to be made
	// on the gateway (store-and-forward); the transaction's body is built once they are.
	forward []forwardPayment
	tries   int // forwarding rounds, for fresh idempotency keys after a failed one
}

type forwardPayment struct {
	tender int
	card   testCard
	amount money.Amount
}

func (r *register) id() string { return r.fx.ID }

// acquire checks the register out, waiting until it is free or ctx is done.
func (r *register) acquire(ctx context.Context) error {
	select {
	case r.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *register) tryAcquire() bool {
	select {
	case r.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

func (r *register) release() { <-r.sem }

// nextID is a new transaction id: register, run and sequence ("S003-R02-lq3x9a-000017").
func (r *register) nextID(runID string) string {
	return fmt.Sprintf("%s-%s-%06d", r.fx.ID, runID, r.seq.Add(1))
}

// checkout picks a free register among cands (from a random start), or waits for one.
// Registers reserved by an offline-resync flow are skipped unless plan is theirs.
func checkout(ctx context.Context, r *rand.Rand, cands []*register, plan *offlinePlan) (*register, error) {
	n := len(cands)
	start := r.IntN(n)
	var first *register
	for i := range n {
		c := cands[(start+i)%n]
		if c.offline.Load() != plan {
			continue
		}
		if first == nil {
			first = c
		}
		if c.tryAcquire() {
			return c, nil
		}
	}
	if first == nil {
		return nil, errNoRegister
	}
	if err := first.acquire(ctx); err != nil {
		return nil, err
	}
	return first, nil
}

// drawerAdd records cash in (positive) or out (negative) of the drawer.
func (r *register) drawerAdd(a money.Amount) {
	r.mu.Lock()
	if a >= 0 {
		r.cashIn += a
	} else {
		r.cashOut -= a
	}
	r.mu.Unlock()
}

// shelf is the stores' physical stock as the registers see it: the world's starting
// on-hand, minus what was sold, plus what came back restocked. A customer cannot take
// more than the shelf holds, so a correct connector never drives NetSuite below zero
// (unless the world allows negative stock).
type shelf struct {
	world *fixtures.World
	mu    sync.Mutex
	level map[shelfKey]float64 // pairs touched so far: their current quantity
}

type shelfKey struct{ loc, item string }

func newShelf(w *fixtures.World) *shelf {
	return &shelf{world: w, level: map[shelfKey]float64{}}
}

// at returns the pair's current level, reading the world's start on first touch. Call
// under mu.
func (s *shelf) at(it *fixtures.Item, loc string) (shelfKey, float64) {
	k := shelfKey{loc, it.ID}
	q, ok := s.level[k]
	if !ok {
		q, _ = it.OnHandAt(loc)
		s.level[k] = q
	}
	return k, q
}

// take removes q of it from the shelf at loc; false if there is not that much.
func (s *shelf) take(it *fixtures.Item, loc string, q float64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, have := s.at(it, loc)
	if have-q < -1e-9 && !s.world.AllowNegativeStock {
		return false
	}
	s.level[k] = have - q
	return true
}

// put puts q of it back on the shelf at loc.
func (s *shelf) put(it *fixtures.Item, loc string, q float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, have := s.at(it, loc)
	s.level[k] = have + q
}

// onHand is the shelf's quantity of it at loc.
func (s *shelf) onHand(it *fixtures.Item, loc string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, q := s.at(it, loc)
	return q
}

// touched returns the (location, item id) pairs the registers handled, in no order.
func (s *shelf) touched() []shelfKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]shelfKey, 0, len(s.level))
	for k := range s.level {
		out = append(out, k)
	}
	return out
}

// bizClock is a flow's business clock: the real clock, or ClockStart plus the real time
// elapsed since the flow's first iteration (its anchor).
type bizClock struct {
	start  time.Time
	real   func() time.Time
	once   sync.Once
	anchor time.Time
}

func (c *bizClock) anchorAt() time.Time {
	c.once.Do(func() { c.anchor = c.real() })
	return c.anchor
}

func (c *bizClock) now() time.Time {
	n := c.real()
	if c.start.IsZero() {
		return n.UTC()
	}
	return c.start.Add(n.Sub(c.anchorAt())).UTC()
}

// saleRecord is a sale this run completed and the connector acknowledged: what is
// left to return of it.
type saleRecord struct {
	tx       *contract.Transaction
	meta     []lineMeta
	lines    []lineLeft
	tenders  []money.Amount // per tender of the sale: what can still be paid back to it
	custKind string
}

type lineLeft struct {
	qty  float64      // quantity not yet returned
	disc money.Amount // discount not yet given back
	tax  money.Amount // tax not yet given back
}

func newSaleRecord(tx *contract.Transaction, meta []lineMeta) *saleRecord {
	rec := &saleRecord{tx: tx, meta: meta}
	for _, l := range tx.Lines {
		rec.lines = append(rec.lines, lineLeft{qty: l.Quantity, disc: l.Discount, tax: l.TaxAmount})
	}
	for _, t := range tx.Tenders {
		rec.tenders = append(rec.tenders, t.Amount)
	}
	return rec
}

// left reports whether anything of the sale can still be returned.
func (rec *saleRecord) left() bool {
	for _, l := range rec.lines {
		if l.qty > 1e-9 {
			return true
		}
	}
	return false
}

// returnPool holds, per store, the sales that can still be returned. A return takes a
// sale out while it works on it, so two returns never race on one sale.
type returnPool struct {
	mu      sync.Mutex
	byStore map[string][]*saleRecord
	limit   int // per store: the oldest is forgotten beyond it
}

func newReturnPool(limit int) *returnPool {
	return &returnPool{byStore: map[string][]*saleRecord{}, limit: limit}
}

func (p *returnPool) put(store string, rec *saleRecord) {
	if !rec.left() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.byStore[store]
	if len(list) >= p.limit {
		copy(list, list[1:])
		list = list[:len(list)-1]
	}
	p.byStore[store] = append(list, rec)
}

// take removes and returns a random sale of store that satisfies ok (nil: any).
func (p *returnPool) take(store string, r *rand.Rand, ok func(*saleRecord) bool) *saleRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.byStore[store]
	if len(list) == 0 {
		return nil
	}
	start := r.IntN(len(list))
	for i := range list {
		k := (start + i) % len(list)
		rec := list[k]
		if ok != nil && !ok(rec) {
			continue
		}
		p.byStore[store] = append(list[:k], list[k+1:]...)
		return rec
	}
	return nil
}

func (p *returnPool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.byStore {
		n += len(l)
	}
	return n
}
