package netsuite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/simulator/faults"
	"github.com/doorbuster/doorbuster/simulator/tba"
)

// Defaults of Config.
const (
	DefaultConcurrencyLimit = 15       // NetSuite's tier-1 account limit
	DefaultMaxBodyBytes     = 16 << 20 // NetSuite allows 104 MB; POS bodies are a few KB
)

// Config configures a Server.
type Config struct {
	// BooksPath is the SQLite file the books live in; "" is a temporary file removed
	// by Close. An existing file is replaced: the books always start from the world.
	BooksPath string
	// ConcurrencyLimit is the account-wide governance pool (default 15).
	ConcurrencyLimit int
	// Faults, when not nil, injects faults into the REST API and serves /_sim/faults.
	Faults *faults.Engine
	// Logger receives request errors and lifecycle messages (default: discarded).
	Logger *slog.Logger
	// Clock is the server's time: record times, default tran dates, TBA timestamp
	// checks (default time.Now).
	Clock func() time.Time
	// MaxBodyBytes bounds a request body; larger bodies get 413 (default 16 MiB).
	MaxBodyBytes int64
}

// Server is a NetSuite simulator for one account.
type Server struct {
	cfg      Config
	world    *fixtures.World
	log      *slog.Logger
	clock    func() time.Time
	st       *store
	verifier *tba.Verifier
	gov      *governor
	jobs     *jobQueue
	reg      *prometheus.Registry
	metrics  *metrics
	handler  http.Handler
	apiBase  string // "/services/rest"
	// recordHandler serves the record API; the benchmark swaps it for a bare 204 to
	// measure what the books cost on top of HTTP, TBA and governance.
	recordHandler http.HandlerFunc

	closeOnce sync.Once
	closeErr  error
}

// New builds a simulator serving world: it creates the books, loads the world into
// them and prepares the HTTP handler. Close releases the books.
func New(world *fixtures.World, cfg Config) (*Server, error) {
	if world == nil {
		return nil, errors.New("netsuite: no world")
	}
	if err := world.Validate(); err != nil {
		return nil, fmt.Errorf("netsuite: %w", err)
	}
	if cfg.ConcurrencyLimit <= 0 {
		cfg.ConcurrencyLimit = DefaultConcurrencyLimit
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	s := &Server{cfg: cfg, world: world, log: cfg.Logger, clock: cfg.Clock, apiBase: "/services/rest"}
	ctx := context.Background()
	b, err := openBooks(ctx, cfg.BooksPath)
	if err != nil {
		return nil, err
	}
	s.st = &store{b: b, schemas: newSchemas(), clock: cfg.Clock, accounts: accountsOf(world)}
	if err := s.loadWorld(ctx); err != nil {
		_ = b.close()
		return nil, err
	}
	c := world.Credentials
	s.verifier = tba.NewVerifier([]tba.Credential{{AccountID: c.AccountID, ConsumerKey: c.ConsumerKey,
		ConsumerSecret: c.ConsumerSecret, TokenID: c.TokenID, TokenSecret: c.TokenSecret}}, tba.WithClock(cfg.Clock))
	s.reg = prometheus.NewRegistry()
	s.metrics = newMetrics(s.reg)
	s.gov = newGovernor(cfg.ConcurrencyLimit, s.metrics)
	if cfg.Faults != nil {
		cfg.Faults.MustRegisterMetrics(s.reg)
	}
	s.jobs = newJobQueue(s, asyncWorkers)
	s.recordHandler = s.serveRecord
	s.handler = s.routes()
	return s, nil
}

func accountsOf(w *fixtures.World) roleAccounts {
	id := func(s string) int64 { n, _ := parseID(s); return n }
	a := roleAccounts{
		undeposited: id(w.Accounts.UndepositedFunds), income: id(w.Accounts.Income),
		salesTax: id(w.Accounts.SalesTaxPayable), cogs: id(w.Accounts.COGS), asset: id(w.Accounts.InventoryAsset),
		giftCert: id(w.Accounts.GiftCertLiability), adjusting: id(w.Accounts.InventoryAdjusting),
	}
	if len(w.Subsidiaries) > 0 {
		a.defaultSubsidiary = id(w.Subsidiaries[0].ID)
	}
	return a
}

// loadWorld empties the books and loads the world, in one transaction.
func (s *Server) loadWorld(ctx context.Context) error {
	start := time.Now()
	err := s.st.b.write(ctx, func(tx *wtx) error {
		if err := emptyState(ctx, tx); err != nil {
			return err
		}
		return s.st.loadWorld(ctx, tx, s.world, formatTime(s.clock()))
	})
	if err != nil {
		return fmt.Errorf("netsuite: loading the world: %w", err)
	}
	s.log.Info("netsuite: world loaded", "items", len(s.world.Items), "customers", len(s.world.Customers),
		"locations", len(s.world.Locations), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Handler returns the simulator's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Registry returns the Prometheus registry /metrics serves.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// BooksPath returns the SQLite file holding the books.
func (s *Server) BooksPath() string { return s.st.b.path }

// AccountID returns the simulated account id (the OAuth realm).
func (s *Server) AccountID() string { return s.world.Credentials.AccountID }

// Close stops async jobs and closes the books (removing a temporary books file).
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.jobs.close()
		s.closeErr = s.st.b.close()
	})
	return s.closeErr
}

// Context keys set on a gin request.
const ctxRoute = "netsuite.route"

func (s *Server) routes() http.Handler {
	g := gin.New()
	g.HandleMethodNotAllowed = false
	g.Use(s.observe, s.recover)
	g.GET("/healthz", s.healthz)
	g.GET("/metrics", gin.WrapH(promHandler(s.reg)))
	g.GET("/_sim/export", s.export)
	g.POST("/_sim/reset", s.reset)
	if s.cfg.Faults != nil {
		s.cfg.Faults.RegisterAdmin(g)
	}
	// The REST API: governance first, so that a fault's latency holds a governance
	// slot as a slow NetSuite request would; then faults (whatever the credentials);
	// then token-based authentication.
	api := g.Group(s.apiBase, s.governance)
	if s.cfg.Faults != nil {
		api.Use(s.cfg.Faults.Middleware())
	}
	api.Use(s.authenticate)
	api.Any("/record/v1/*path", s.api(routeRecord, s.recordHandler))
	api.POST("/query/v1/suiteql", s.api(routeSuiteQL, s.serveSuiteQL))
	api.GET("/async/v1/job/*path", s.api(routeJob, s.serveJob))
	api.GET("/system/v1/governanceLimits", s.api(routeGovernance, s.serveGovernanceLimits))
	g.NoRoute(func(c *gin.Context) {
		c.Set(ctxRoute, "unknown")
		writeError(c.Writer, &apiError{Status: http.StatusNotFound, Code: codeNotFound,
			Detail: fmt.Sprintf("No resource at %s %s.", c.Request.Method, c.Request.URL.Path)})
	})
	return g
}

// Route labels of the metrics.
const (
	routeRecord     = "record"
	routeSuiteQL    = "suiteql"
	routeJob        = "async_job"
	routeGovernance = "governance_limits"
)

// api adapts a net/http handler of the REST API to gin. Async requests
// (Prefer: respond-async) on record and SuiteQL routes become jobs.
func (s *Server) api(route string, h http.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, set := c.Get(ctxRoute); !set {
			label := route
			if route == routeRecord {
				// record/{type} for the known types: a bounded set of labels.
				typ, _, _ := strings.Cut(strings.TrimPrefix(c.Param("path"), "/"), "/")
				if sch, ok := s.st.schemaFor(typ); ok {
					label += "/" + sch.name
				}
			}
			c.Set(ctxRoute, label)
		}
		r := c.Request
		if (route == routeRecord || route == routeSuiteQL) && preferAsync(r) && r.Method != http.MethodGet {
			s.submitAsync(c.Writer, r, h)
			return
		}
		h(c.Writer, r)
	}
}

func preferAsync(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "respond-async") {
				return true
			}
		}
	}
	return false
}

// recover turns a panic in a handler into a NetSuite-shaped 500 and a log line.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // a deliberate abort (faults reset the connection this way)
			}
			s.log.Error("netsuite: handler panic", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", v)
			if !c.Writer.Written() {
				writeError(c.Writer, fmt.Errorf("internal error: %v", v))
			}
			c.Abort()
		}
	}()
	c.Next()
}

// baseURL is the absolute URL of the REST API as the client addressed it.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + s.apiBase
}
