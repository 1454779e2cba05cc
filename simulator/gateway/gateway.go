// Package gateway is Doorbuster's payment-gateway simulator: a stateful, Stripe-shaped
// REST API, close enough to Stripe's that the real stripe-go SDK works against it by
// changing the base URL, and unlike stripe-mock, it remembers: every PaymentIntent,
// authorisation, capture, cancel and refund is kept in SQLite books that the invariant
// checker reconciles with what the registers believe.
//
//	connector ──(form-encoded, Bearer sk_test_…)──▶ /v1/payment_intents, /v1/refunds, /v1/charges
//	card-terminal peripheral ──▶ /v1/terminal/readers/{id}/…, /v1/test_helpers/terminal/readers/{id}/present_payment_method
//	harness ──▶ /_sim/export (books), /_sim/reset, /_sim/faults, /healthz, /metrics
//
// What it does, in Stripe's words (see ../../../shared/REFERENCE.md "Stripe-shaped gateway"):
//   - PaymentIntents: create (optionally confirm=true), retrieve, update, confirm, capture
//     (full or partial amount_to_capture), cancel, list; Stripe's status machine, illegal
//     transitions refused with payment_intent_unexpected_state.
//   - Test payment methods (pm_card_visa, pm_card_chargeDeclined…) and test card numbers
//     (payment_method_data[card][number]); declines answer 402 card_error and put the intent
//     back to requires_payment_method with last_payment_error.
//   - Refunds of captured money, never more than captured minus already refunded.
//   - Terminal readers, one per register of the fixture world (id = the register's ReaderID,
//     label = the register id): process_payment_intent, the present_payment_method test
//     helper that authorises (or declines) the intent, cancel_action; a reader with an
//     action in progress refuses another with 409 terminal_reader_busy.
//   - Idempotency-Key on every POST, with Stripe's replay, mismatch and in-flight rules.
//
// A reader can be made offline or busy with a fault rule (package faults) matched on its
// path, for example:
//
//   - name: lane-2-offline
//     target: gateway
//     match: {method: POST, path: /v1/terminal/readers/tmr_S003R02/**}
//     effect: {error: {status: 400, type: invalid_request_error, code: terminal_reader_offline,
//     message: "Reader tmr_S003R02 is offline."}}
//
// (status 409 with code terminal_reader_busy makes it look busy instead; a window makes it
// temporary.) The fault answers before the gateway sees the request, so the books and the
// reader's own state are untouched, as when a real reader is unreachable.
package gateway

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/simulator/faults"
)

// Config configures a gateway Server.
type Config struct {
	// BooksPath is the SQLite file of the books. An existing file (and its -wal and -shm
	// companions) is replaced. Empty means a temporary file, removed by Close.
	BooksPath string
	// APIKey is the secret key clients must send. Empty means world.Gateway.SecretKey.
	APIKey string
	// Faults, when non-nil, is installed first on every request (its middleware) and its
	// admin API (/_sim/faults, /_sim/events, /_sim/clock/start) is served.
	Faults *faults.Engine
	// Logger receives request and error logs; nil discards them.
	Logger *slog.Logger
	// Clock is the simulator's time (timestamps in the books, idempotency-key expiry);
	// nil means time.Now.
	Clock func() time.Time
	// Seed seeds the ids the gateway makes (pi_…, ch_…, re_…, pm_…): the same seed and the
	// same request order give the same ids.
	Seed int64
}

// maxBodyBytes bounds a request body.
const maxBodyBytes = 1 << 20

// Server is a running gateway simulator. Serve its Handler on a loopback listener.
type Server struct {
	world  *fixtures.World
	cfg    Config
	apiKey string
	log    *slog.Logger
	now    func() time.Time
	books  *books
	idem   *idempotency
	m      *metrics
	engine *gin.Engine

	// mu serialises every change to the books and to the readers.
	mu         sync.Mutex
	rnd        *rand.Rand         // ids; under mu
	readers    map[string]*reader // by reader id; under mu
	readerIDs  []string           // world order
	processing map[string]string  // intent id → reader with an action in progress on it; under mu

	reqSeq atomic.Uint64

	// hooks are for tests of failure paths.
	hooks struct {
		// beforeCommit, when set, runs before a change commits; an error aborts the change.
		beforeCommit func(op string) error
	}
}

// New builds a gateway for world: it creates the books, the readers (one per register)
// and the routes.
func New(world *fixtures.World, cfg Config) (*Server, error) {
	if world == nil {
		return nil, errors.New("gateway: no fixture world")
	}
	s := &Server{
		world:      world,
		cfg:        cfg,
		apiKey:     cfg.APIKey,
		log:        cfg.Logger,
		now:        cfg.Clock,
		rnd:        rand.New(rand.NewSource(cfg.Seed)),
		readers:    map[string]*reader{},
		processing: map[string]string{},
	}
	if s.apiKey == "" {
		s.apiKey = world.Gateway.SecretKey
	}
	if s.apiKey == "" {
		return nil, errors.New("gateway: no API key: neither Config.APIKey nor the world's gateway.secretKey is set")
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.loadReaders(); err != nil {
		return nil, err
	}
	ctx := context.Background()
	b, err := openBooks(ctx, cfg.BooksPath, world, s.now())
	if err != nil {
		return nil, err
	}
	s.books = b
	idem, err := openIdempotency(ctx)
	if err != nil {
		_ = b.close()
		return nil, err
	}
	s.idem = idem
	s.m = newMetrics()
	if cfg.Faults != nil {
		cfg.Faults.MustRegisterMetrics(s.m.reg)
	}
	s.engine = s.routes()
	return s, nil
}

// Handler returns the HTTP handler of the gateway's API and admin routes.
func (s *Server) Handler() http.Handler { return s.engine }

// Close closes the books and removes temporary files.
func (s *Server) Close() error {
	return errors.Join(s.idem.close(), s.books.close())
}

// BooksPath is the SQLite file of the books (a temporary file when Config.BooksPath was
// empty). Read it with a read-only connection, or take an Export.
func (s *Server) BooksPath() string { return s.books.path }

// Export writes a consistent snapshot of the books (a SQLite file) to path, which must
// not exist yet.
func (s *Server) Export(ctx context.Context, path string) error {
	return s.books.export(ctx, path)
}

// Reset empties the books and the idempotency store, frees every reader and restarts the
// id sequence from the seed.
func (s *Server) Reset(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.books.reset(ctx); err != nil {
		return err
	}
	if err := s.idem.reset(ctx); err != nil {
		return err
	}
	for _, r := range s.readers {
		r.action = nil
	}
	clear(s.processing)
	s.rnd = rand.New(rand.NewSource(s.cfg.Seed))
	s.m.resetIntents()
	return nil
}

func (s *Server) routes() *gin.Engine {
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	if s.cfg.Faults != nil {
		e.Use(s.cfg.Faults.Middleware())
	}
	e.Use(s.recoverPanics)

	v1 := e.Group("/v1", s.observe, s.authenticate, s.parseForm, s.idempotent)
	v1.POST("/payment_intents", s.handle(s.createIntent))
	v1.GET("/payment_intents", s.handle(s.listIntents))
	v1.GET("/payment_intents/:id", s.handle(s.getIntent))
	v1.POST("/payment_intents/:id", s.handle(s.updateIntent))
	v1.POST("/payment_intents/:id/confirm", s.handle(s.confirmIntent))
	v1.POST("/payment_intents/:id/capture", s.handle(s.captureIntent))
	v1.POST("/payment_intents/:id/cancel", s.handle(s.cancelIntent))
	v1.GET("/charges/:id", s.handle(s.getCharge))
	v1.POST("/refunds", s.handle(s.createRefund))
	v1.GET("/refunds", s.handle(s.listRefunds))
	v1.GET("/refunds/:id", s.handle(s.getRefund))
	v1.GET("/terminal/readers", s.handle(s.listReaders))
	v1.GET("/terminal/readers/:id", s.handle(s.getReader))
	v1.POST("/terminal/readers/:id/process_payment_intent", s.handle(s.processPaymentIntent))
	v1.POST("/terminal/readers/:id/cancel_action", s.handle(s.cancelAction))
	v1.POST("/test_helpers/terminal/readers/:id/present_payment_method", s.handle(s.presentPaymentMethod))

	e.GET("/healthz", s.healthz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{Registry: s.m.reg})))
	e.GET("/_sim/export", s.export)
	e.POST("/_sim/reset", s.reset)
	if s.cfg.Faults != nil {
		s.cfg.Faults.RegisterAdmin(e)
	}
	e.NoRoute(s.observe, s.notFound)
	return e
}

// reqState is what the middleware learns about a request.
type reqState struct {
	id      string
	form    *formValue
	p       *params
	idemKey string
	// unsaved: the answer must not be kept under the Idempotency-Key (the endpoint never
	// began: malformed, missing or unknown parameters).
	unsaved bool
}

const reqStateKey = "gateway.req"

func state(c *gin.Context) *reqState {
	if v, ok := c.Get(reqStateKey); ok {
		return v.(*reqState)
	}
	rs := &reqState{id: "req_unknown"}
	c.Set(reqStateKey, rs)
	return rs
}

// recoverPanics turns a handler panic into a 500 api_error instead of a dropped connection.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("gateway: panic", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", fmt.Sprint(v))
			if !c.Writer.Written() {
				s.writeError(c, fmt.Errorf("panic: %v", v))
			}
			c.Abort()
		}
	}()
	c.Next()
}

// observe gives the request its Request-Id and counts and logs it when it is done.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	rs := &reqState{id: fmt.Sprintf("req_%014d", s.reqSeq.Add(1))}
	c.Set(reqStateKey, rs)
	h := c.Writer.Header()
	h.Set("Request-Id", rs.id)
	if v := c.GetHeader("Stripe-Version"); v != "" {
		h.Set("Stripe-Version", v)
	}
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	s.m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	s.m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	s.log.Log(c.Request.Context(), level, "gateway request", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", status, "request_id", rs.id, "idempotency_key", rs.idemKey, "duration", time.Since(start))
}

// authenticate checks the secret key: Authorization: Bearer <key>, or HTTP basic with the
// key as the user name, as Stripe accepts.
func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	var key string
	switch scheme, rest, _ := strings.Cut(h, " "); strings.ToLower(scheme) {
	case "":
		s.deny(c, "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
		return
	case "bearer":
		key = strings.TrimSpace(rest)
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			s.deny(c, "Invalid Authorization header: basic credentials are not valid base64. Send your API key as the user name, or use Bearer auth.")
			return
		}
		key, _, _ = strings.Cut(string(raw), ":")
	default:
		s.deny(c, "Invalid Authorization header: use Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
		return
	}
	if key == "" {
		s.deny(c, "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
		return
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.apiKey)) != 1 {
		s.deny(c, "Invalid API Key provided: "+maskKey(key))
		return
	}
	c.Next()
}

func (s *Server) deny(c *gin.Context, msg string) {
	c.Header("WWW-Authenticate", `Bearer realm="Stripe"`)
	s.writeError(c, &apiError{status: http.StatusUnauthorized, Type: errInvalidRequest, Message: msg, validation: true})
	c.Abort()
}

// maskKey shows a key as Stripe does in errors: its prefix, stars, its last four.
func maskKey(k string) string {
	if len(k) <= 12 {
		return strings.Repeat("*", len(k))
	}
	prefix := k[:8]
	return prefix + strings.Repeat("*", len(k)-12) + k[len(k)-4:]
}

// parseForm decodes the body of a POST (form-encoded) or the query of a GET.
func (s *Server) parseForm(c *gin.Context) {
	rs := state(c)
	raw := c.Request.URL.RawQuery
	if c.Request.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes))
		if err != nil {
			s.writeError(c, invalidParam("", fmt.Sprintf("Could not read the request body: %v (bodies are limited to %d bytes).", err, maxBodyBytes)))
			c.Abort()
			return
		}
		if len(body) > 0 {
			ct := c.GetHeader("Content-Type")
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || mt != "application/x-www-form-urlencoded" {
				s.writeError(c, invalidParam("", fmt.Sprintf("Invalid request: unsupported Content-Type %q. Send parameters form-encoded (application/x-www-form-urlencoded).", ct)))
				c.Abort()
				return
			}
		}
		switch {
		case raw == "":
			raw = string(body)
		case len(body) > 0:
			raw = string(body) + "&" + raw
		}
	}
	form, err := decodeForm(raw)
	if err != nil {
		var fe *formError
		if errors.As(err, &fe) {
			s.writeError(c, invalidParam(fe.param, "Invalid request: "+fe.Error()))
		} else {
			s.writeError(c, invalidParam("", "Invalid request: "+err.Error()))
		}
		c.Abort()
		return
	}
	rs.form, rs.p = form, newParams(form)
	c.Next()
}

// teeWriter keeps a copy of what the handler writes, to save it under an Idempotency-Key.
type teeWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *teeWriter) WriteString(p string) (int, error) {
	w.body.WriteString(p)
	return w.ResponseWriter.WriteString(p)
}

// idempotent applies Stripe's Idempotency-Key semantics to POSTs (see idempotency.go).
func (s *Server) idempotent(c *gin.Context) {
	key := strings.TrimSpace(c.GetHeader("Idempotency-Key"))
	if c.Request.Method != http.MethodPost || key == "" {
		c.Next()
		return
	}
	rs := state(c)
	if len(key) > maxIdempotencyKeyLen {
		s.writeError(c, invalidParam("", fmt.Sprintf("Invalid Idempotency-Key: it is %d characters long; keys may be at most %d.", len(key), maxIdempotencyKeyLen)))
		c.Abort()
		return
	}
	rs.idemKey = key
	c.Header("Idempotency-Key", key)
	if !s.idem.acquire(key) {
		s.m.idemConflict.WithLabelValues("in_flight").Inc()
		s.writeError(c, &apiError{
			status: http.StatusConflict, Type: errIdempotency, Code: "idempotency_key_in_use", validation: true, shouldRetry: "true",
			Message: fmt.Sprintf("There is currently another in-progress request using this Idempotency-Key ('%s'). Please try again later.", key),
			DocURL:  docURL("idempotency_key_in_use"),
		})
		c.Abort()
		return
	}
	defer s.idem.release(key)
	ctx := context.WithoutCancel(c.Request.Context())
	fingerprint := rs.form.encode()
	path := c.Request.URL.Path
	saved, ok, err := s.idem.lookup(ctx, key, s.now())
	if err != nil {
		s.log.Error("gateway: idempotency lookup", "key", key, "err", err)
		rs.unsaved = true
		s.writeError(c, err)
		c.Abort()
		return
	}
	if ok {
		if saved.Method != c.Request.Method || saved.Path != path {
			s.m.idemConflict.WithLabelValues("mismatch").Inc()
			s.writeError(c, &apiError{status: http.StatusBadRequest, Type: errIdempotency, validation: true, Message: fmt.Sprintf(
				"Keys for idempotent requests can only be used for the same endpoint they were first used for ('%s %s' vs '%s %s'). Try using a key other than '%s' if you meant to execute a different request.",
				saved.Method, saved.Path, c.Request.Method, path, key)})
			c.Abort()
			return
		}
		if saved.Fingerprint != fingerprint {
			s.m.idemConflict.WithLabelValues("mismatch").Inc()
			s.writeError(c, &apiError{status: http.StatusBadRequest, Type: errIdempotency, validation: true, Message: fmt.Sprintf(
				"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", key)})
			c.Abort()
			return
		}
		s.m.replays.Inc()
		c.Header("Idempotent-Replayed", "true")
		c.Header("Original-Request", saved.RequestID)
		c.Data(saved.Status, saved.ContentType, saved.Body)
		c.Abort()
		return
	}
	tee := &teeWriter{ResponseWriter: c.Writer}
	c.Writer = tee
	c.Next()
	c.Writer = tee.ResponseWriter
	if rs.unsaved || !tee.Written() {
		return
	}
	ct := tee.Header().Get("Content-Type")
	if err := s.idem.save(ctx, key, &savedResponse{
		Method: c.Request.Method, Path: path, Fingerprint: fingerprint, Status: tee.Status(), ContentType: ct,
		Body: tee.body.Bytes(), RequestID: rs.id, Created: s.now(),
	}); err != nil {
		s.log.Error("gateway: idempotency save", "key", key, "err", err)
	}
}

// handlerFunc is an endpoint: it returns the status and the object to answer with, or an error.
type handlerFunc func(c *gin.Context, rs *reqState) (int, any, error)

func (s *Server) handle(h handlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		rs := state(c)
		status, body, err := h(c, rs)
		if err != nil {
			s.writeError(c, err)
			return
		}
		s.writeJSON(c, status, body)
	}
}

func (s *Server) writeJSON(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(c, fmt.Errorf("encode response: %w", err))
		return
	}
	c.Data(status, "application/json", b)
}

// writeError answers with err in Stripe's shape; anything but an *apiError is a 500.
func (s *Server) writeError(c *gin.Context, err error) {
	rs := state(c)
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.Error("gateway: internal error", "method", c.Request.Method, "path", c.Request.URL.Path, "request_id", rs.id, "err", err)
		ae = internalError(rs.id)
	}
	if ae.validation {
		rs.unsaved = true
	}
	if ae.shouldRetry != "" {
		c.Header("Stripe-Should-Retry", ae.shouldRetry)
	}
	b, merr := json.Marshal(errorBody{Error: ae})
	if merr != nil {
		b = []byte(`{"error":{"type":"api_error","message":"could not encode the error"}}`)
	}
	c.Data(ae.status, "application/json", b)
}

func (s *Server) notFound(c *gin.Context) {
	s.writeError(c, &apiError{status: http.StatusNotFound, Type: errInvalidRequest, validation: true, Message: fmt.Sprintf(
		"Unrecognized request URL (%s: %s). The gateway simulator serves /v1/payment_intents, /v1/refunds, /v1/charges/{id}, /v1/terminal/readers and /v1/test_helpers/terminal/readers/{id}/present_payment_method.",
		c.Request.Method, c.Request.URL.Path)})
}

func (s *Server) healthz(c *gin.Context) {
	if err := s.books.r.PingContext(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// export serves a consistent snapshot of the books as a SQLite file.
func (s *Server) export(c *gin.Context) {
	dir, err := os.MkdirTemp("", "doorbuster-gateway-export-")
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gateway.db")
	if err := s.Export(c.Request.Context(), path); err != nil {
		s.log.Error("gateway: export", "err", err)
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	c.Header("Content-Disposition", `attachment; filename="gateway.db"`)
	c.Header("Content-Type", "application/vnd.sqlite3")
	c.File(path)
}

func (s *Server) reset(c *gin.Context) {
	if err := s.Reset(c.Request.Context()); err != nil {
		s.log.Error("gateway: reset", "err", err)
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "reset"})
}

// newID makes a Stripe-style id: prefix, underscore, 24 letters and digits. Call under mu.
func (s *Server) newID(prefix string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 0, len(prefix)+25)
	b = append(b, prefix...)
	b = append(b, '_')
	for range 24 {
		b = append(b, alphabet[s.rnd.Intn(len(alphabet))])
	}
	return string(b)
}

// txn is one change to the books: a SQLite transaction under the server's lock, plus
// what to do once it commits (metrics, in-memory reader state).
type txn struct {
	*sql.Tx
	ctx   context.Context
	s     *Server
	rs    *reqState
	now   time.Time
	after []func()
}

// mutate runs fn as one change. fn's error rolls the change back, unless it is an
// *apiError marked commit (a recorded decline): then the change commits and the error is
// returned. The change completes even if the client goes away.
func (s *Server) mutate(ctx context.Context, rs *reqState, op string, fn func(t *txn) error) error {
	ctx = context.WithoutCancel(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.books.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	t := &txn{Tx: tx, ctx: ctx, s: s, rs: rs, now: s.now()}
	ferr := fn(t)
	var ae *apiError
	if ferr != nil && (!errors.As(ferr, &ae) || !ae.commit) {
		_ = tx.Rollback()
		return ferr
	}
	if hook := s.hooks.beforeCommit; hook != nil {
		if err := hook(op); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", op, err)
	}
	for _, f := range t.after {
		f()
	}
	return ferr
}

// event records one row of payment_events.
func (t *txn) event(ev event) error {
	return insertEvent(t.ctx, t.Tx, t.now, ev, t.rs.idemKey, t.rs.id)
}

// setStatus moves an intent to a new status, refusing what Stripe's machine does not allow.
func (t *txn) setStatus(pi *intent, to string) error {
	from := pi.Status
	if from == to {
		return nil
	}
	if !legal(from, to) {
		return fmt.Errorf("intent %s: illegal transition %s → %s", pi.ID, from, to)
	}
	pi.Status = to
	t.after = append(t.after, func() { t.s.m.transition(from, to) })
	return nil
}
