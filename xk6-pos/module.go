// Package pos is Doorbuster's point-of-sale traffic module: virtual registers with their
// peripherals, driving a connector through the POS contract and a Stripe-shaped gateway
// through its card terminals, and writing what they did to the journal.
//
//	loadgen VU ──Exec──▶ flow (sale, return, exchange, void, offline-resync, peripheral-storm)
//	                       │ checks out a register of a store (one transaction at a time)
//	                       ▼
//	     scanner ──GET /pos/v1/items/{barcode}──▶ connector      scale (weights)
//	     card terminal ──/v1/payment_intents, /v1/terminal/readers/…──▶ gateway
//	     receipt printer (totals checked)   cash drawer   offline queue   clock
//	                       │ POST /pos/v1/transactions (or :batch after an outage)
//	                       ▼
//	                   journal.db (one writer goroutine, batched): the registers' truth
//
// A harness makes one Module per run, asks it for each scenario's Exec, runs the plan,
// then calls Flush (upload what registers still hold), ProbeStock (after the drain) and
// Close:
//
//	mod, err := pos.New(world, pos.Config{ConnectorURL: c, GatewayURL: g, JournalPath: "run/journal.db",
//		Seed: 42, Registry: eng.Metrics()})
//	opts, err := pos.ParseOptions(scenario.Options)           // map[string]any from the file
//	exec, initVU, err := mod.Exec("sale", opts)
//	plan.Scenarios = append(plan.Scenarios, loadgen.Scenario{Name: "checkout", Exec: exec, InitVU: initVU, …})
//	res, err := eng.Run(ctx, plan)
//	mod.Flush(ctx)                                             // offline queues, unanswered submissions
//	… drain the connector …
//	mod.ProbeStock(ctx, 50)
//	mod.Close()
//
// Baskets come from a seeded model drawn with the VU's Rand only: the same plan seed
// gives the same baskets. Money is money.Amount throughout; line tax is
// round(amount × rate / 100) per line, half away from zero, with the item lookup's rate.
package pos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/loadgen"
)

// The flows a scenario can exec.
const (
	FlowSale            = "sale"
	FlowReturn          = "return"
	FlowExchange        = "exchange"
	FlowVoid            = "void"
	FlowOfflineResync   = "offline-resync"
	FlowPeripheralStorm = "peripheral-storm"
	FlowBOPISPickup     = "bopis-pickup"
	FlowTransfer        = "transfer"
	FlowShiftClose      = "shift-close"
)

// Flows lists the flows Exec implements.
func Flows() []string {
	return []string{FlowSale, FlowReturn, FlowExchange, FlowVoid, FlowOfflineResync, FlowPeripheralStorm}
}

var errNoRegister = errors.New("pos: no register is left for this flow (all are reserved by offline-resync flows)")

// Config configures a Module.
type Config struct {
	ConnectorURL string // base URL of the connector under test (required)
	GatewayURL   string // base URL of the gateway (required for card payments)
	GatewayKey   string // the gateway's secret key; empty: the world's
	JournalPath  string // journal.db to create (an existing file is replaced); required
	Seed         int64  // item popularity, register choice for offline flows, shared identities
	// RunID makes transaction ids unique across runs against the same connector;
	// empty: derived from the clock at New.
	RunID    string
	Registry *loadgen.Registry // where the pos_* metrics are registered; nil: a private one
	Logger   *slog.Logger      // nil: discard
	Clock    func() time.Time  // the real clock; nil: time.Now
	// HTTPClient serves the requests made outside VU iterations (Flush, ProbeStock);
	// nil: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Meta is written to the journal's meta table (scenario name, world size, …).
	Meta map[string]string
	// ReturnPoolSize bounds the returnable sales kept per store [2000].
	ReturnPoolSize int
}

// Module is the POS module of one run.
type Module struct {
	world   *fixtures.World
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	runID   string
	gwKey   string
	client  *http.Client
	m       *metrics
	j       *journal
	regs    []*register
	byLoc   map[string][]*register
	shelf   *shelf
	returns *returnPool

	queued atomic.Int64 // transactions in offline queues

	mu       sync.Mutex
	outcomes map[string]int64 // transaction outcomes (and "voided", "abandoned", "sold-out")
	payments map[string]int64
	closed   bool
}

// New builds the module: its registers from the world, its metrics, and the journal.
func New(world *fixtures.World, cfg Config) (*Module, error) {
	switch {
	case world == nil:
		return nil, errors.New("pos: no fixture world")
	case cfg.ConnectorURL == "":
		return nil, errors.New("pos: Config.ConnectorURL is required")
	case cfg.JournalPath == "":
		return nil, errors.New("pos: Config.JournalPath is required")
	case len(world.Stores()) == 0:
		return nil, errors.New("pos: the world has no stores")
	}
	m := &Module{
		world: world, cfg: cfg, log: cfg.Logger, now: cfg.Clock, runID: cfg.RunID, gwKey: cfg.GatewayKey,
		client: cfg.HTTPClient, byLoc: map[string][]*register{}, shelf: newShelf(world),
		outcomes: map[string]int64{}, payments: map[string]int64{},
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.runID == "" {
		m.runID = strconv.FormatInt(m.now().UnixMilli()%(36*36*36*36*36*36*36), 36)
	}
	if !validRunID(m.runID) {
		return nil, fmt.Errorf("pos: RunID %q: want 1 to 16 letters, digits or '_'", m.runID)
	}
	if m.gwKey == "" {
		m.gwKey = world.Gateway.SecretKey
	}
	if m.client == nil {
		m.client = &http.Client{Timeout: 30 * time.Second}
	}
	cfg.ConnectorURL = strings.TrimRight(cfg.ConnectorURL, "/")
	cfg.GatewayURL = strings.TrimRight(cfg.GatewayURL, "/")
	m.cfg = cfg
	limit := cfg.ReturnPoolSize
	if limit <= 0 {
		limit = 2000
	}
	m.returns = newReturnPool(limit)
	reg := cfg.Registry
	if reg == nil {
		reg = loadgen.NewRegistry()
	}
	var err error
	if m.m, err = newMetrics(reg); err != nil {
		return nil, err
	}
	for i := range world.Registers {
		fx := world.Registers[i]
		loc, ok := world.Location(fx.LocationID)
		if !ok {
			return nil, fmt.Errorf("pos: register %s: no location %s in the world", fx.ID, fx.LocationID)
		}
		if loc.Kind != fixtures.Store {
			continue
		}
		r := &register{fx: fx, loc: loc, cashier: "CSH-" + fx.ID, sem: make(chan struct{}, 1)}
		m.regs = append(m.regs, r)
		m.byLoc[loc.ID] = append(m.byLoc[loc.ID], r)
	}
	if len(m.regs) == 0 {
		return nil, errors.New("pos: the world's stores have no registers")
	}
	if m.j, err = openJournal(cfg.JournalPath, m.log); err != nil {
		return nil, err
	}
	meta := map[string]string{
		"seed": strconv.FormatInt(cfg.Seed, 10), "run_id": m.runID, "world_size": string(world.Size),
		"world_seed": strconv.FormatInt(world.Seed, 10), "started_at": m.now().UTC().Format(timeFormat),
		"connector_url": cfg.ConnectorURL, "gateway_url": cfg.GatewayURL, "journal_schema": "1",
	}
	for k, v := range cfg.Meta {
		meta[k] = v
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		m.j.add(metaEntry{k, meta[k]})
	}
	return m, nil
}

func validRunID(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// RunID is the run's part of every transaction id.
func (m *Module) RunID() string { return m.runID }

// SetMeta writes one key of the journal's meta table.
func (m *Module) SetMeta(key, value string) { m.j.add(metaEntry{key, value}) }

// flow is one scenario's flow: its options, item model, registers and clock.
type flow struct {
	mod    *Module
	name   string
	opts   Options
	model  *catalogModel
	regs   []*register
	clock  *bizClock
	plan   *offlinePlan // offline-resync only
	seed   int64
	stores int
}

// offlinePlan is an offline-resync flow's outage: its registers lose the connector for
// window from the flow's first iteration.
type offlinePlan struct {
	flow   *flow
	window time.Duration
}

// offlineNow reports whether the plan's registers are still cut off at real time t.
func (p *offlinePlan) offlineAt(t time.Time) bool {
	return t.Before(p.flow.clock.anchorAt().Add(p.window))
}

// Exec returns the iteration function of flow with opts, and the VU initialiser to put
// in the scenario's InitVU. bopis-pickup, transfer and shift-close are not implemented
// yet and give an error saying so.
func (m *Module) Exec(flowName string, opts Options) (loadgen.Exec, func(context.Context, *loadgen.VU) error, error) {
	switch flowName {
	case FlowSale, FlowReturn, FlowExchange, FlowVoid, FlowOfflineResync, FlowPeripheralStorm:
	case FlowBOPISPickup, FlowTransfer, FlowShiftClose:
		return nil, nil, fmt.Errorf("pos: flow %q is not implemented yet (it waits for a later issue)", flowName)
	default:
		return nil, nil, fmt.Errorf("pos: unknown flow %q (want one of %s)", flowName, strings.Join(Flows(), ", "))
	}
	o, err := opts.resolve(flowName)
	if err != nil {
		return nil, nil, err
	}
	f := &flow{mod: m, name: flowName, opts: o, seed: m.cfg.Seed}
	if f.model, err = newCatalogModel(m.world, m.cfg.Seed, o); err != nil {
		return nil, nil, err
	}
	stores, err := m.selectStores(o)
	if err != nil {
		return nil, nil, err
	}
	f.stores = len(stores)
	for _, s := range stores {
		f.regs = append(f.regs, m.byLoc[s.ID]...)
	}
	if len(f.regs) == 0 {
		return nil, nil, fmt.Errorf("pos: flow %s: the selected stores have no registers", flowName)
	}
	if (flowName != FlowPeripheralStorm || o.CompletionRate > 0) && m.cfg.GatewayURL == "" && o.Tenders.Card+o.Tenders.Split > 0 {
		return nil, nil, errors.New("pos: Config.GatewayURL is required for card payments (or set tenders without card and split)")
	}
	if flowName == FlowVoid && m.cfg.GatewayURL == "" {
		return nil, nil, errors.New("pos: the void flow needs Config.GatewayURL")
	}
	start := o.ClockStart
	if flowName == FlowOfflineResync && start.IsZero() && !o.IsSet("clockStart") {
		midnight := m.now().UTC().Truncate(24 * time.Hour)
		start = midnight.Add(-o.OfflineDuration / 2)
	}
	f.clock = &bizClock{start: start, real: m.now}
	if flowName == FlowOfflineResync {
		if err := f.reserveOffline(); err != nil {
			return nil, nil, err
		}
	}
	initVU := func(_ context.Context, vu *loadgen.VU) error {
		vu.State = &vuState{}
		return nil
	}
	return f.iterate, initVU, nil
}

// selectStores applies the stores options.
func (m *Module) selectStores(o Options) ([]fixtures.Location, error) {
	all := m.world.Stores()
	switch {
	case len(o.Stores) > 0:
		var out []fixtures.Location
		for i, want := range o.Stores {
			k := slices.IndexFunc(all, func(l fixtures.Location) bool { return l.ID == want || strings.EqualFold(l.Name, want) })
			if k < 0 {
				return nil, &OptionError{Path: fmt.Sprintf("options.stores[%d]", i), Msg: fmt.Sprintf("no store of the world has id or name %q", want)}
			}
			out = append(out, all[k])
		}
		return out, nil
	case o.StoreCount > 0:
		if o.StoreCount > len(all) {
			return nil, &OptionError{Path: "options.stores", Msg: fmt.Sprintf("the world has only %d stores, fewer than %d", len(all), o.StoreCount)}
		}
		return all[:o.StoreCount], nil
	}
	return all, nil
}

// reserveOffline picks the flow's offline registers: OfflineRegisters of its stores'
// registers (at least one), drawn from the seed among those no other offline flow took.
func (f *flow) reserveOffline() error {
	f.plan = &offlinePlan{flow: f, window: f.opts.OfflineDuration}
	var free []*register
	for _, r := range f.regs {
		if r.offline.Load() == nil {
			free = append(free, r)
		}
	}
	if len(free) == 0 {
		return errors.New("pos: offline-resync: every register of the selected stores is already reserved by another offline-resync flow")
	}
	n := max(1, int(math.Ceil(f.opts.OfflineRegisters*float64(len(free))-1e-9)))
	r := rand.New(rand.NewPCG(uint64(f.seed), 0x0ff11e))
	r.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	f.regs = free[:n]
	for _, reg := range f.regs {
		reg.offline.Store(f.plan)
	}
	return nil
}

// vuState is a VU's own state.
type vuState struct {
	newCustomers int64
}

func stateOf(vu *loadgen.VU) *vuState {
	if st, ok := vu.State.(*vuState); ok {
		return st
	}
	st := &vuState{}
	vu.State = st
	return st
}

// iterate runs one iteration of the flow: one customer at one register.
func (f *flow) iterate(ctx context.Context, vu *loadgen.VU) error {
	f.clock.anchorAt()
	reg, err := checkout(ctx, vu.Rand, f.regs, f.plan)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil
		}
		return err
	}
	defer reg.release()
	s := f.session(ctx, vu, reg)
	if f.plan == nil || !f.plan.offlineAt(f.mod.now()) {
		// An online register first sends what its queue holds.
		s.uploadQueue()
	}
	switch f.name {
	case FlowSale:
		return s.sale(nil)
	case FlowReturn:
		return s.returnFlow()
	case FlowExchange:
		return s.exchange()
	case FlowVoid:
		return s.void()
	case FlowOfflineResync:
		return s.offlineSale()
	case FlowPeripheralStorm:
		return s.peripheralStorm()
	}
	return fmt.Errorf("pos: flow %q has no iteration", f.name)
}

// session is one iteration's working set: the flow, the VU (nil outside iterations),
// the register, and a context tagged with the flow and store.
type session struct {
	mod    *Module
	f      *flow // nil outside iterations
	flow   string
	vu     *loadgen.VU
	st     *vuState
	client *http.Client
	ctx    context.Context
	reg    *register
	rand   *rand.Rand
	opts   *Options
}

func (f *flow) session(ctx context.Context, vu *loadgen.VU, reg *register) *session {
	return &session{
		mod: f.mod, f: f, flow: f.name, vu: vu, st: stateOf(vu), client: vu.HTTP(), reg: reg, rand: vu.Rand, opts: &f.opts,
		ctx: loadgen.WithTags(ctx, loadgen.Tag{Key: "flow", Value: f.name}, loadgen.Tag{Key: "store", Value: reg.loc.ID}),
	}
}

// flowName is the session's flow.
func (s *session) flowName() string { return s.flow }

func (s *session) scenario() string {
	if s.vu == nil {
		return ""
	}
	return s.vu.Scenario
}

// step returns the context of one step's requests: tagged step, and name (the request
// name, so that ids in paths do not make a series each).
func (s *session) step(step, name string) context.Context {
	return loadgen.WithTags(s.ctx, loadgen.Tag{Key: "step", Value: step}, loadgen.Tag{Key: "name", Value: name})
}

func (s *session) emit(ctx context.Context, m *loadgen.Metric, v float64, tags ...loadgen.Tag) {
	if s.vu == nil {
		return
	}
	if len(tags) > 0 {
		ctx = loadgen.WithTags(ctx, tags...)
	}
	s.vu.Emit(ctx, m, v)
}

func (s *session) emitDuration(ctx context.Context, m *loadgen.Metric, d time.Duration, tags ...loadgen.Tag) {
	if s.vu == nil {
		return
	}
	if len(tags) > 0 {
		ctx = loadgen.WithTags(ctx, tags...)
	}
	s.vu.EmitDuration(ctx, m, d)
}

func (s *session) check(ctx context.Context, name string, ok bool) bool {
	if s.vu != nil {
		return s.vu.Check(ctx, name, ok)
	}
	if !ok {
		s.mod.log.Warn("pos: check failed", "check", name, "register", s.reg.id())
	}
	return ok
}

// think pauses between a cashier's steps.
func (s *session) think() {
	if s.opts == nil || s.opts.ThinkTime <= 0 {
		return
	}
	t := time.NewTimer(s.opts.ThinkTime)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
}

func (m *Module) countOutcome(k string) {
	m.mu.Lock()
	m.outcomes[k]++
	m.mu.Unlock()
}

func (m *Module) countPayment(k string) {
	m.mu.Lock()
	m.payments[k]++
	m.mu.Unlock()
}

// Stats is what the module did so far.
type Stats struct {
	Transactions map[string]int64 // by outcome: acknowledged, rejected, unacknowledged; and voided, abandoned, sold-out
	Payments     map[string]int64 // by payment outcome
	Queued       int64            // transactions still in registers' offline queues
	Returnable   int              // sales in the return pools
	Journal      JournalStats
}

// Stats returns the module's counters and the journal's.
func (m *Module) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Stats{Transactions: map[string]int64{}, Payments: map[string]int64{}, Queued: m.queued.Load(),
		Returnable: m.returns.size(), Journal: m.j.stats()}
	for k, v := range m.outcomes {
		s.Transactions[k] = v
	}
	for k, v := range m.payments {
		s.Payments[k] = v
	}
	return s
}

// Close journals what registers still hold (queued transactions as unacknowledged),
// the cash drawers and the final counts, then flushes and closes the journal. Call it
// after the run (and Flush); it does not wait for iterations still running.
func (m *Module) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	for _, r := range m.regs {
		r.mu.Lock()
		q := r.queue
		r.queue = nil
		in, out, n := r.cashIn, r.cashOut, r.txCount
		r.mu.Unlock()
		for _, qt := range q {
			e := qt.entry
			if len(qt.forward) > 0 {
				// Card payments never forwarded: the body carries no intent for them.
				e.err = joinErr(e.err, "card payments taken offline were never forwarded to the gateway")
			}
			if e.body == nil {
				e.body, _ = json.Marshal(e.tx) // as it stands, without the intents to come
			}
			e.outcome = OutcomeUnacknowledged
			m.queued.Add(-1)
			m.countOutcome(OutcomeUnacknowledged)
			m.j.add(e)
		}
		if in != 0 || out != 0 || n != 0 {
			m.j.add(&drawerEntry{registerID: r.id(), locationID: r.loc.ID, in: in.Cents(), out: out.Cents(), count: n})
		}
	}
	st := m.Stats()
	for k, v := range st.Transactions {
		m.j.add(metaEntry{"count_" + k, strconv.FormatInt(v, 10)})
	}
	m.j.add(metaEntry{"ended_at", m.now().UTC().Format(timeFormat)})
	return m.j.close()
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
