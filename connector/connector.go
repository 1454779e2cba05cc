// Package connector is Doorbuster's reference POS→NetSuite connector: the embedded
// default system under test, and an example of what a correct connector does.
//
//	registers ──POS contract──► HTTP (gin) ──► outbox (SQLite, fsync) ──► 202
//	                                              │
//	                     workers (≤ NetSuite concurrency budget, in occurredAt order per register)
//	                                              │
//	         gateway: POST /v1/refunds (Idempotency-Key)   NetSuite: PUT customer/cashSale/cashRefund eid:…
//
// A 202 means the transaction is on disk; a worker posts it exactly once in effect
// (upserts by external id, refunds keyed by the transaction id), retrying 429s, 5xx,
// timeouts and connection errors with exponential backoff and full jitter, and
// dead-lettering permanent errors with NetSuite's reply kept. An item and stock cache,
// read through SuiteQL, answers item lookups. Bug switches (see Bug) re-create classic
// integration failures so a harness can prove it catches them.
//
// The connector is a plain HTTP client of NetSuite and the gateway: it learns every id
// through SuiteQL, never from Doorbuster's fixtures.
package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/connector/outbox"
	"github.com/doorbuster/doorbuster/connector/payments"
	"github.com/doorbuster/doorbuster/contract"
)

// Connector is one reference connector instance.
type Connector struct {
	cfg     Config
	log     *slog.Logger
	bugs    bugSet
	store   outbox.Store
	ns      *netsuite.Client
	gw      *payments.Client
	catalog catalog
	sched   *scheduler
	backoff *backoff
	metrics *metrics
	handler http.Handler

	identities keyedMutex
	custMu     sync.Mutex
	customers  map[string]string // identity → NetSuite internal id

	statMu       sync.Mutex
	posted, dead int
	lastPostedAt time.Time

	workers atomic.Int32
	// postedSinceRefresh is set by each posting and cleared when a refresh starts.
	postedSinceRefresh atomic.Bool
	bg                 sync.WaitGroup
	reach              reachability
	probeMu            sync.Mutex // one /readyz probe of NetSuite at a time
	bootstrapMu        sync.Mutex
	started            bool
	closeOnce          sync.Once
}

// depPoll is how often a transaction whose original is unknown looks again.
const depPoll = time.Second

// New opens the outbox and prepares a connector; Run (or Serve) starts it.
func New(cfg Config) (*Connector, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("connector: %w", err)
	}
	bugs := bugSet{}
	for _, b := range cfg.Bugs {
		bugs[b] = true
	}
	c := &Connector{cfg: cfg, log: cfg.Logger, bugs: bugs, customers: map[string]string{}}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		hc = &http.Client{Timeout: cfg.RequestTimeout, Transport: tr}
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	nsHTTP := *hc
	nsHTTP.Transport = &reachTransport{base: base, r: &c.reach}
	ns, err := netsuite.New(cfg.NetSuiteURL, cfg.NetSuite, &nsHTTP)
	if err != nil {
		return nil, fmt.Errorf("connector: %w", err)
	}
	c.ns = ns
	if cfg.GatewayURL != "" {
		if c.gw, err = payments.New(cfg.GatewayURL, cfg.GatewayKey, hc); err != nil {
			return nil, fmt.Errorf("connector: %w", err)
		}
	}
	if bugs.on(BugMemoryOutbox) {
		c.store = outbox.NewMemory()
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("connector: data directory: %w", err)
		}
		if c.store, err = outbox.Open(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("connector: %w", err)
		}
	}
	c.sched = newScheduler(cfg.Clock)
	c.backoff = newBackoff(cfg.RetryBase, cfg.RetryMax, cfg.Seed)
	c.metrics = newMetrics(func() (float64, float64) {
		open, inFlight := c.sched.counts()
		return float64(open - inFlight), float64(inFlight)
	}, func() float64 {
		c.statMu.Lock()
		defer c.statMu.Unlock()
		return float64(c.dead)
	})
	ctx := context.Background()
	st, err := c.store.Stats(ctx)
	if err != nil {
		c.store.Close()
		return nil, fmt.Errorf("connector: %w", err)
	}
	c.posted, c.dead, c.lastPostedAt = st.Posted, st.DeadLettered, st.LastPostedAt
	open, err := c.store.Open(ctx)
	if err != nil {
		c.store.Close()
		return nil, fmt.Errorf("connector: %w", err)
	}
	for _, r := range open {
		c.sched.add(&job{id: r.ID, register: r.RegisterID, original: r.OriginalID, occurred: r.OccurredAt, seq: r.Seq, accepted: r.AcceptedAt})
	}
	if len(open) > 0 {
		c.log.Info("outbox recovered", "pending", len(open), "posted", st.Posted, "deadLettered", st.DeadLettered)
	}
	c.handler = c.routes()
	return c, nil
}

// Handler is the connector's HTTP API (the POS contract, health, metrics).
func (c *Connector) Handler() http.Handler { return c.handler }

// Run listens on Config.Listen and serves until ctx ends.
func (c *Connector) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", c.cfg.Listen)
	if err != nil {
		return fmt.Errorf("connector: listen: %w", err)
	}
	return c.Serve(ctx, ln)
}

// Serve serves the API on ln and posts the outbox until ctx ends; then it stops
// accepting, lets in-flight requests finish (a few seconds at most) and returns.
// Transactions being posted when ctx ends stay pending and are posted on next start.
func (c *Connector) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: c.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		IdleTimeout: 2 * time.Minute}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.background(ctx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	c.log.Info("connector listening", "addr", ln.Addr().String(), "bugs", c.cfg.Bugs)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("connector: serve: %w", err)
	}
	shutCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if e := srv.Shutdown(shutCtx); e != nil && err == nil && !errors.Is(e, context.DeadlineExceeded) {
		err = fmt.Errorf("connector: shutdown: %w", e)
	}
	cancel()
	wg.Wait()
	return err
}

// Start runs the connector's background work (bootstrap, workers, cache refresh)
// without an HTTP listener, for callers that serve Handler themselves. It returns at
// once; the work stops when ctx ends, and Wait waits for it.
func (c *Connector) Start(ctx context.Context) {
	c.bootstrapMu.Lock()
	defer c.bootstrapMu.Unlock()
	if c.started {
		return
	}
	c.started = true
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		c.runBackground(ctx)
	}()
}

// Workers returns the number of posting workers (0 until the concurrency budget is known).
func (c *Connector) Workers() int { return int(c.workers.Load()) }

// Close releases the outbox. Call it after Serve (or the work Start began) has ended.
func (c *Connector) Close() error {
	var err error
	c.closeOnce.Do(func() { err = c.store.Close() })
	return err
}

// background is Start's work, run inline.
func (c *Connector) background(ctx context.Context) {
	c.Start(ctx)
	c.bg.Wait()
}

// runBackground reads the concurrency budget and the catalog (retrying until NetSuite
// answers), then runs the posting workers and the cache refresher.
func (c *Connector) runBackground(ctx context.Context) {
	n := c.cfg.Concurrency
	if n == 0 {
		var limits netsuite.Limits
		if err := c.retrying(ctx, "read governance limits", func() (err error) {
			limits, err = c.ns.GovernanceLimits(ctx)
			return err
		}); err != nil {
			return
		}
		n = max(1, limits.AccountConcurrencyLimit-1)
		c.log.Info("concurrency budget", "accountConcurrencyLimit", limits.AccountConcurrencyLimit, "workers", n)
	}
	if err := c.retrying(ctx, "load the item cache", func() error { return c.refresh(ctx) }); err != nil {
		return
	}
	c.workers.Store(int32(n))
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.work(ctx)
		}()
	}
	// The cache is refreshed on the interval, and also soon after the outbox drains,
	// so that once everything is posted the stock view is NetSuite's again (local
	// deltas are an estimate between refreshes).
	t := time.NewTicker(c.cfg.RefreshInterval)
	defer t.Stop()
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-c.sched.idle:
			settle = time.After(idleRefreshDelay)
			continue
		case <-settle:
			settle = nil
			if open, _ := c.sched.counts(); open > 0 || !c.postedSinceRefresh.Load() {
				continue
			}
		case <-t.C:
		}
		if err := c.refresh(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("item cache refresh failed; keeping the old one", "err", err)
		}
	}
}

// idleRefreshDelay is how long the outbox must stay empty before the cache is
// refreshed for having drained.
const idleRefreshDelay = 500 * time.Millisecond

// retrying calls fn until it succeeds or ctx ends, backing off between attempts.
func (c *Connector) retrying(ctx context.Context, what string, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		v := classify(err)
		d := c.backoff.delay(attempt, v.retryAfter)
		c.log.Warn("retrying", "what", what, "attempt", attempt, "in", d, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

// refresh reloads the catalog through SuiteQL, retrying single pages on transient errors.
func (c *Connector) refresh(ctx context.Context) error {
	page := func(ctx context.Context, q string, limit, offset int) (*netsuite.Page, error) {
		for attempt := 1; ; attempt++ {
			p, err := c.ns.SuiteQL(ctx, q, limit, offset)
			if err == nil || ctx.Err() != nil {
				return p, err
			}
			v := classify(err)
			if !v.retry || attempt >= 10 {
				return nil, err
			}
			c.metrics.retries.WithLabelValues(v.cause).Inc()
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(c.backoff.delay(attempt, v.retryAfter)):
			}
		}
	}
	c.postedSinceRefresh.Store(false)
	snap, err := loadSnapshot(ctx, c.ns, page)
	if err != nil {
		c.postedSinceRefresh.Store(true)
		return err
	}
	c.catalog.install(snap, c.sched.openStock(), c.cfg.Clock())
	c.log.Info("item cache loaded", "items", len(snap.itemsBySKU), "locations", len(snap.locations), "stockRows", len(snap.stock))
	return nil
}

// work is one posting worker.
func (c *Connector) work(ctx context.Context) {
	for {
		j, err := c.sched.next(ctx)
		if err != nil {
			return
		}
		c.process(ctx, j)
	}
}

// process makes one attempt at posting a handed-out transaction.
func (c *Connector) process(ctx context.Context, j *job) {
	now := c.cfg.Clock()
	rec, err := c.store.Get(ctx, j.id)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("outbox read failed", "tx", j.id, "err", err)
		}
		c.sched.retry(j, now.Add(c.backoff.delay(j.attempts+1, 0)))
		return
	}
	if rec.State != outbox.Pending {
		c.sched.finish(j)
		return
	}
	var tx contract.Transaction
	if err := json.Unmarshal(rec.Body, &tx); err != nil {
		c.deadLetter(ctx, j, fmt.Sprintf("stored transaction is unreadable: %v", err))
		return
	}
	orig, wait, reason := c.dependency(ctx, j, &tx, now)
	switch {
	case reason != "":
		c.deadLetter(ctx, j, reason)
		return
	case wait:
		c.sched.retry(j, now.Add(depPoll))
		return
	}
	start := time.Now()
	nsID, err := c.post(ctx, &rec, &tx, orig)
	if err == nil {
		c.metrics.postLatency.Observe(time.Since(start).Seconds())
		c.markPosted(ctx, j, nsID, rec.AcceptedAt)
		return
	}
	if ctx.Err() != nil {
		c.sched.retry(j, now) // shutting down: left pending for the next start
		return
	}
	v := classify(err)
	if v.cause == causeAuth {
		j.authErrors++
		if j.authErrors > maxAuthRetries {
			v.retry = false
		}
	}
	if v.cause == causeThrottled && c.bugs.on(BugDropOn429) {
		c.log.Warn("dropping throttled transaction (bug drop-on-429)", "tx", j.id)
		c.markPosted(ctx, j, "", rec.AcceptedAt)
		return
	}
	if v.retry {
		j.attempts++
		d := c.backoff.delay(j.attempts, v.retryAfter)
		c.metrics.retries.WithLabelValues(v.cause).Inc()
		c.log.Debug("post failed, retrying", "tx", j.id, "attempt", j.attempts, "cause", v.cause, "in", d, "err", err)
		c.sched.retry(j, c.cfg.Clock().Add(d)) // from the failure, so a Retry-After counts from the reply
		return
	}
	c.deadLetter(ctx, j, deadLetterReason(err))
}

// dependency resolves a return's or exchange's original sale. wait means "look again
// shortly"; a non-empty reason dead-letters the transaction. An original this connector
// never saw is waited for at most DependencyWait after acceptance (it may be in an
// offline register's queue, or have been sold before the connector); one pending here
// is waited for until it is posted (the scheduler parks the register meanwhile), unless
// the scheduler forced the transaction out to break a wait cycle.
func (c *Connector) dependency(ctx context.Context, j *job, tx *contract.Transaction, now time.Time) (o original, wait bool, reason string) {
	id := tx.OriginalTransactionID
	if id == "" || tx.Type == contract.Sale {
		return original{}, false, ""
	}
	patient := now.Before(j.accepted.Add(c.cfg.DependencyWait))
	rec, err := c.store.Get(ctx, id)
	switch {
	case errors.Is(err, outbox.ErrNotFound):
		// Never seen here (sold before the connector, or still in an offline queue).
		return originalOf(id, nil), patient, ""
	case err != nil:
		return o, true, ""
	case rec.State == outbox.DeadLettered:
		return o, false, fmt.Sprintf("original transaction %s was dead-lettered, so this %s cannot be linked to it: %s", id, tx.Type, rec.Error)
	case rec.State == outbox.Pending && !j.forced:
		return o, true, ""
	}
	var otx contract.Transaction
	if err := json.Unmarshal(rec.Body, &otx); err != nil {
		return originalOf(id, nil), false, ""
	}
	return originalOf(id, &otx), false, ""
}

func (c *Connector) markPosted(ctx context.Context, j *job, nsID string, accepted time.Time) {
	now := c.cfg.Clock()
	if err := c.store.MarkPosted(context.WithoutCancel(ctx), j.id, nsID, now); err != nil {
		c.log.Error("posted but not recorded; will post again (harmless: upsert)", "tx", j.id, "err", err)
		c.sched.retry(j, now.Add(c.backoff.delay(j.attempts+1, 0)))
		return
	}
	c.postedSinceRefresh.Store(true)
	c.statMu.Lock()
	c.posted++
	if now.After(c.lastPostedAt) {
		c.lastPostedAt = now
	}
	c.statMu.Unlock()
	c.metrics.posted.Inc()
	if !accepted.IsZero() {
		c.metrics.syncLatency.Observe(now.Sub(accepted).Seconds())
	}
	c.sched.finish(j)
}

func (c *Connector) deadLetter(ctx context.Context, j *job, reason string) {
	now := c.cfg.Clock()
	if err := c.store.MarkDead(context.WithoutCancel(ctx), j.id, reason); err != nil {
		c.log.Error("dead letter not recorded; will try again", "tx", j.id, "err", err)
		c.sched.retry(j, now.Add(c.backoff.delay(j.attempts+1, 0)))
		return
	}
	c.log.Warn("transaction dead-lettered", "tx", j.id, "reason", reason)
	c.statMu.Lock()
	c.dead++
	c.statMu.Unlock()
	c.metrics.deadLetters.Inc()
	c.sched.finish(j)
}

// reachability is what the connector last learned about NetSuite's reachability.
type reachability struct {
	ok   atomic.Bool
	seen atomic.Int64 // unix nanos of the last answer or failure
	last atomic.Value // string: the last failure
}

// reachTransport records whether NetSuite answered (any HTTP reply but 502/503/504).
type reachTransport struct {
	base http.RoundTripper
	r    *reachability
}

func (t *reachTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	t.r.seen.Store(time.Now().UnixNano())
	switch {
	case err != nil:
		if req.Context().Err() == nil {
			t.r.ok.Store(false)
			t.r.last.Store(err.Error())
		}
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
		t.r.ok.Store(false)
		t.r.last.Store(resp.Status)
	default:
		t.r.ok.Store(true)
	}
	return resp, err
}
