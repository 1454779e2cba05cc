package connector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/doorbuster/doorbuster/connector/outbox"
	"github.com/doorbuster/doorbuster/contract"
)

// Body size limits.
const (
	maxTransactionBody = 1 << 20
	maxBatchBody       = 64 << 20
	// batchTruncateKeep is how many transactions of a batch the batch-truncate bug keeps.
	batchTruncateKeep = 100
)

func (c *Connector) routes() http.Handler {
	r := gin.New()
	r.Use(gin.CustomRecoveryWithWriter(io.Discard, func(g *gin.Context, rec any) {
		c.log.Error("panic serving request", "path", g.Request.URL.Path, "panic", fmt.Sprint(rec))
		replyError(g, http.StatusInternalServerError, contract.Error{Code: "internal", Message: "internal error"})
	}))
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(g *gin.Context) {
		replyError(g, http.StatusNotFound, contract.Error{Code: contract.CodeNotFound, Message: "no such endpoint: " + g.Request.Method + " " + g.Request.URL.Path})
	})
	r.NoMethod(func(g *gin.Context) {
		replyError(g, http.StatusMethodNotAllowed, contract.Error{Code: "method_not_allowed", Message: g.Request.Method + " is not allowed on " + g.Request.URL.Path})
	})
	r.GET("/pos/v1/items/:barcode", c.lookupItem)
	r.POST(contract.PathTransactions, c.submit)
	r.POST(strings.ReplaceAll(contract.PathBatch, ":", `\:`), c.submitBatch)
	r.GET("/pos/v1/transactions/:id", c.transactionStatus)
	r.GET(contract.PathSyncStatus, c.syncStatus)
	r.GET(contract.PathOpenAPI, func(g *gin.Context) { g.Data(http.StatusOK, "application/yaml", contract.OpenAPI()) })
	r.GET(contract.PathHealth, func(g *gin.Context) { g.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET(contract.PathReady, c.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(c.metrics.reg, promhttp.HandlerOpts{})))
	return r
}

func replyError(g *gin.Context, status int, e contract.Error) {
	g.AbortWithStatusJSON(status, contract.ErrorReply{Error: e})
}

// statusFor is the HTTP status of a contract error code.
func statusFor(code string) int {
	switch code {
	case contract.CodeMalformedJSON:
		return http.StatusBadRequest
	case contract.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case contract.CodeNotFound:
		return http.StatusNotFound
	}
	return http.StatusUnprocessableEntity
}

// readBody reads at most limit bytes of the request body.
func readBody(g *gin.Context, limit int64) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(g.Writer, g.Request.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		replyError(g, http.StatusRequestEntityTooLarge, contract.Error{Code: contract.CodeTooLarge, Message: fmt.Sprintf("the body is over %d bytes", limit)})
		return nil, false
	case err != nil:
		replyError(g, http.StatusBadRequest, contract.Error{Code: contract.CodeMalformedJSON, Message: "reading the body: " + err.Error()})
		return nil, false
	}
	return b, true
}

func (c *Connector) lookupItem(g *gin.Context) {
	loc := g.Query("location")
	if loc == "" {
		replyError(g, http.StatusBadRequest, contract.Error{Code: contract.CodeMissingField, Field: "location", Message: "the location query parameter is required"})
		return
	}
	snap := c.catalog.get()
	if snap == nil {
		g.Header("Retry-After", "1")
		replyError(g, http.StatusServiceUnavailable, contract.Error{Code: "not_ready", Message: "the item cache is not loaded yet"})
		return
	}
	if snap.locations[loc] == nil {
		replyError(g, http.StatusBadRequest, contract.Error{Code: contract.CodeInvalidField, Field: "location", Message: fmt.Sprintf("no NetSuite location has id %q", loc)})
		return
	}
	it, ok := c.catalog.lookup(g.Param("barcode"), loc)
	if !ok {
		replyError(g, http.StatusNotFound, contract.Error{Code: contract.CodeNotFound, Field: "barcode", Message: fmt.Sprintf("no item has barcode %q", g.Param("barcode"))})
		return
	}
	g.JSON(http.StatusOK, it)
}

// prepared is a decoded, valid transaction ready for the outbox.
type prepared struct {
	tx  *contract.Transaction
	rec outbox.Record
}

func (c *Connector) prepare(tx *contract.Transaction, now time.Time) (prepared, error) {
	body, err := json.Marshal(tx)
	if err != nil {
		return prepared{}, fmt.Errorf("encode transaction: %w", err)
	}
	// The digest tells a resubmission from a reuse of the id. The offline flag is left
	// out: a register whose online submission got no answer may queue the very same
	// sale and send it again in an offline batch.
	same := *tx
	same.Offline = false
	canon, err := json.Marshal(&same)
	if err != nil {
		return prepared{}, fmt.Errorf("encode transaction: %w", err)
	}
	sum := sha256.Sum256(canon)
	reply, err := json.Marshal(contract.Acceptance{ID: tx.ID, AcceptedAt: now})
	if err != nil {
		return prepared{}, fmt.Errorf("encode reply: %w", err)
	}
	return prepared{tx: tx, rec: outbox.Record{
		ID: tx.ID, Type: string(tx.Type), RegisterID: tx.RegisterID, OccurredAt: tx.OccurredAt,
		OriginalID: tx.OriginalTransactionID, Digest: hex.EncodeToString(sum[:]), Body: body, Reply: reply, AcceptedAt: now,
	}}, nil
}

// accept stores prepared transactions in one outbox transaction and queues the new ones.
func (c *Connector) accept(g *gin.Context, ps []prepared) ([]outbox.Result, bool) {
	recs := make([]outbox.Record, len(ps))
	for i, p := range ps {
		recs[i] = p.rec
	}
	res, err := c.store.Accept(g.Request.Context(), recs)
	if err != nil {
		c.log.Error("outbox write failed", "err", err)
		replyError(g, http.StatusServiceUnavailable, contract.Error{Code: "unavailable", Message: "the transaction could not be stored; send it again"})
		return nil, false
	}
	snap := c.catalog.get()
	for i, r := range res {
		switch r.Outcome {
		case outbox.Accepted:
			j := &job{id: ps[i].rec.ID, register: ps[i].rec.RegisterID, original: ps[i].rec.OriginalID,
				occurred: ps[i].rec.OccurredAt, accepted: ps[i].rec.AcceptedAt}
			if snap != nil {
				j.stock = snap.stockDeltas(ps[i].tx)
				c.catalog.apply(j.stock)
			}
			c.sched.add(j)
			c.metrics.accepted.Inc()
		case outbox.Duplicate:
			c.metrics.duplicates.Inc()
		}
	}
	return res, true
}

func conflictError(id string) contract.Error {
	return contract.Error{Code: "id_conflict", Field: "id",
		Message: fmt.Sprintf("transaction %s was already accepted with different content; a transaction id may not be reused", id)}
}

func (c *Connector) submit(g *gin.Context) {
	body, ok := readBody(g, maxTransactionBody)
	if !ok {
		return
	}
	tx, e := contract.DecodeTransaction(body)
	if e != nil {
		c.metrics.rejected.Inc()
		replyError(g, statusFor(e.Code), *e)
		return
	}
	p, err := c.prepare(tx, c.cfg.Clock().UTC())
	if err != nil {
		replyError(g, http.StatusBadRequest, contract.Error{Code: contract.CodeMalformedJSON, Message: err.Error()})
		return
	}
	res, ok := c.accept(g, []prepared{p})
	if !ok {
		return
	}
	switch res[0].Outcome {
	case outbox.Accepted:
		g.Data(http.StatusAccepted, "application/json", p.rec.Reply)
	case outbox.Duplicate:
		g.Data(http.StatusOK, "application/json", res[0].Existing.Reply)
	default:
		replyError(g, http.StatusConflict, conflictError(tx.ID))
	}
}

func (c *Connector) submitBatch(g *gin.Context) {
	body, ok := readBody(g, maxBatchBody)
	if !ok {
		return
	}
	raws, e := contract.DecodeBatch(body)
	if e != nil {
		replyError(g, statusFor(e.Code), *e)
		return
	}
	now := c.cfg.Clock().UTC()
	results := make([]contract.ItemResult, len(raws))
	var ps []prepared
	var at []int // index in results of each prepared transaction
	for i, raw := range raws {
		tx, e := contract.DecodeTransaction(raw)
		if e != nil {
			c.metrics.rejected.Inc()
			if e.Field != "" {
				e.Field = fmt.Sprintf("transactions[%d].%s", i, e.Field)
			} else {
				e.Field = fmt.Sprintf("transactions[%d]", i)
			}
			results[i] = contract.ItemResult{ID: idOf(raw), Status: contract.ItemRejected, Error: e}
			continue
		}
		p, err := c.prepare(tx, now)
		if err != nil {
			results[i] = contract.ItemResult{ID: tx.ID, Status: contract.ItemRejected,
				Error: &contract.Error{Code: contract.CodeMalformedJSON, Message: err.Error(), Field: fmt.Sprintf("transactions[%d]", i)}}
			continue
		}
		results[i] = contract.ItemResult{ID: tx.ID}
		ps = append(ps, p)
		at = append(at, i)
	}
	stored := ps
	if c.bugs.on(BugBatchTruncate) && len(stored) > batchTruncateKeep {
		stored = stored[:batchTruncateKeep]
	}
	res, ok := c.accept(g, stored)
	if !ok {
		return
	}
	for k := range ps {
		i := at[k]
		if k >= len(res) { // dropped by batch-truncate, answered as if stored
			results[i].Status = contract.ItemAccepted
			continue
		}
		switch res[k].Outcome {
		case outbox.Accepted:
			results[i].Status = contract.ItemAccepted
		case outbox.Duplicate:
			results[i].Status = contract.ItemDuplicate
		default:
			ce := conflictError(results[i].ID)
			ce.Field = fmt.Sprintf("transactions[%d].id", i)
			results[i].Status, results[i].Error = contract.ItemRejected, &ce
		}
	}
	g.JSON(http.StatusOK, contract.BatchResult{Results: results})
}

// idOf digs the id out of a transaction that did not decode, for its batch result.
func idOf(raw []byte) string {
	var v struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	if s, ok := v.ID.(string); ok {
		return s
	}
	return ""
}

func (c *Connector) transactionStatus(g *gin.Context) {
	id := g.Param("id")
	rec, err := c.store.Get(g.Request.Context(), id)
	if errors.Is(err, outbox.ErrNotFound) {
		replyError(g, http.StatusNotFound, contract.Error{Code: contract.CodeNotFound, Field: "id", Message: fmt.Sprintf("no transaction %q was accepted", id)})
		return
	}
	if err != nil {
		replyError(g, http.StatusServiceUnavailable, contract.Error{Code: "unavailable", Message: err.Error()})
		return
	}
	st := contract.TransactionStatus{ID: rec.ID, AcceptedAt: rec.AcceptedAt, NetSuiteID: rec.NetSuiteID, Error: rec.Error}
	switch rec.State {
	case outbox.Posted:
		st.State = contract.StatePosted
		t := rec.PostedAt
		st.PostedAt = &t
	case outbox.DeadLettered:
		st.State = contract.StateDeadLettered
	default:
		st.State = contract.StatePending
		if c.sched.inFlightNow(id) {
			st.State = contract.StateInFlight
		}
	}
	g.JSON(http.StatusOK, st)
}

// Status returns the connector's backlog as the sync status endpoint reports it.
func (c *Connector) Status() contract.SyncStatus {
	open, inFlight := c.sched.counts()
	c.statMu.Lock()
	defer c.statMu.Unlock()
	st := contract.SyncStatus{Pending: open - inFlight, InFlight: inFlight, Posted: c.posted, DeadLettered: c.dead}
	if !c.lastPostedAt.IsZero() {
		t := c.lastPostedAt.UTC()
		st.LastPostedAt = &t
	}
	return st
}

func (c *Connector) syncStatus(g *gin.Context) { g.JSON(http.StatusOK, c.Status()) }

func (c *Connector) readyz(g *gin.Context) {
	if !c.catalog.loaded() {
		replyError(g, http.StatusServiceUnavailable, contract.Error{Code: "not_ready", Message: "the item cache has not been loaded from NetSuite yet"})
		return
	}
	seen := time.Unix(0, c.reach.seen.Load())
	if time.Since(seen) > readyProbeAge && c.probeMu.TryLock() {
		ctx, cancel := context.WithTimeout(g.Request.Context(), 3*time.Second)
		_, err := c.ns.GovernanceLimits(ctx)
		cancel()
		c.probeMu.Unlock()
		if err != nil && classify(err).retry {
			c.reach.ok.Store(false)
		}
	}
	if !c.reach.ok.Load() {
		last, _ := c.reach.last.Load().(string)
		replyError(g, http.StatusServiceUnavailable, contract.Error{Code: "netsuite_unreachable", Message: "NetSuite is not reachable: " + last})
		return
	}
	g.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// readyProbeAge is how old the last NetSuite contact may be before /readyz probes.
const readyProbeAge = 15 * time.Second
