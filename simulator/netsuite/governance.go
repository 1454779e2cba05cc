package netsuite

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
)

// governor is the account-wide concurrency pool: every REST request (record, SuiteQL,
// async submission, job status) holds a slot while it runs, and so does every async
// job while it executes. A request that finds no free slot is refused at once with
// 429 CONCURRENCY_LIMIT_EXCEEDED, as NetSuite does; it is never queued.
type governor struct {
	limit int
	slots chan struct{}
	m     *metrics
}

func newGovernor(limit int, m *metrics) *governor {
	return &governor{limit: limit, slots: make(chan struct{}, limit), m: m}
}

func (g *governor) tryAcquire() bool {
	select {
	case g.slots <- struct{}{}:
		g.m.slotsInUse.Inc()
		return true
	default:
		return false
	}
}

// acquire waits for a slot (async jobs wait; requests do not).
func (g *governor) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		g.m.slotsInUse.Inc()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *governor) release() {
	<-g.slots
	g.m.slotsInUse.Dec()
}

// governance is the gin middleware that holds a slot for the rest of the chain.
func (s *Server) governance(c *gin.Context) {
	if !s.gov.tryAcquire() {
		s.metrics.governanceRejections.Inc()
		c.Set(ctxRoute, "governance")
		writeError(c.Writer, &apiError{Status: http.StatusTooManyRequests, Code: codeConcurrency,
			Detail: "Concurrent request limit exceeded. Request blocked."})
		c.Abort()
		return
	}
	defer s.gov.release()
	c.Next()
}

// governanceLimits is the body of GET /services/rest/system/v1/governanceLimits. The
// simulated integration has no limit of its own: it shares the account's pool.
type governanceLimits struct {
	AccountConcurrencyLimit            int    `json:"accountConcurrencyLimit"`
	AccountUnallocatedConcurrencyLimit int    `json:"accountUnallocatedConcurrencyLimit"`
	IntegrationConcurrencyLimit        int    `json:"integrationConcurrencyLimit"`
	IntegrationLimitType               string `json:"integrationLimitType"`
}

func (s *Server) serveGovernanceLimits(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, governanceLimits{
		AccountConcurrencyLimit:            s.gov.limit,
		AccountUnallocatedConcurrencyLimit: s.gov.limit,
		IntegrationConcurrencyLimit:        s.gov.limit,
		IntegrationLimitType:               "accountLimit",
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) { writeJSONType(w, status, v, "singular") }

// writeJSONType answers v as JSON with NetSuite's content type of the given kind
// ("singular" or "collection").
func writeJSONType(w http.ResponseWriter, status int, v any, typ string) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.oracle.resource+json; type="+typ+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
