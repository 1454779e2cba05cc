package pos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/loadgen"
)

// maxSubmitAttempts bounds the submissions of one transaction in one go, whatever
// SubmitRetryFor says.
const maxSubmitAttempts = 200

// maxReply bounds what the module reads of a reply.
const maxReply = 8 << 20

// do sends one request with the session's per-request timeout and returns the status and
// body; a transport error or an unreadable body is the error.
func (s *session) do(ctx context.Context, method, u string, body []byte, header http.Header) (int, []byte, error) {
	st, _, b, err := s.doH(ctx, method, u, body, header)
	return st, b, err
}

// doH is do, also returning the reply's header.
func (s *session) doH(ctx context.Context, method, u string, body []byte, header http.Header) (int, http.Header, []byte, error) {
	timeout := 10 * time.Second
	if s.opts != nil {
		timeout = s.opts.RequestTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return resp.StatusCode, resp.Header, nil, fmt.Errorf("reading the reply: %w", err)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// backoff sleeps before retry n (0-based): 50 ms doubling, at most max; false if ctx
// ended first.
func backoff(ctx context.Context, n int, maxWait time.Duration) bool {
	d := 50 * time.Millisecond << min(n, 10)
	if d > maxWait {
		d = maxWait
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retryable reports whether a reply is worth sending again: connection failures, 5xx,
// 408 and 429.
func retryable(status int, err error) bool {
	return err != nil || status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// lookup asks the connector for the item with barcode at the register's store. It
// returns the item (nil for a 404), the final status (0 when unreachable) and an error
// when no usable answer came after a few tries.
// lookup asks the connector for barcode at the register's store. expected lists
// statuses that are the right answer beside 200 (a misread's 404), so that they do not
// count in http_req_failed.
func (s *session) lookup(barcode string, expected ...int) (*contract.Item, int, error) {
	ctx := s.step("scan", contract.PathItem)
	if len(expected) > 0 {
		ctx = loadgen.WithExpectedStatuses(ctx, append(expected, http.StatusOK)...)
	}
	u := s.mod.cfg.ConnectorURL + strings.Replace(contract.PathItem, "{barcode}", url.PathEscape(barcode), 1) +
		"?location=" + url.QueryEscape(s.reg.loc.ID)
	var lastErr error
	status := 0
	for attempt := range 3 {
		if attempt > 0 && !backoff(s.ctx, attempt, time.Second) {
			break
		}
		var body []byte
		var err error
		status, body, err = s.do(ctx, http.MethodGet, u, nil, http.Header{"Accept": {"application/json"}})
		switch {
		case err == nil && status == http.StatusOK:
			var it contract.Item
			if err := json.Unmarshal(body, &it); err != nil {
				return nil, status, fmt.Errorf("item %s: undecodable reply: %w", barcode, err)
			}
			return &it, status, nil
		case err == nil && status == http.StatusNotFound:
			return nil, status, nil
		case !retryable(status, err):
			return nil, status, fmt.Errorf("item %s: %s", barcode, replyError(status, body, err))
		}
		lastErr = errors.New(replyError(status, body, err))
	}
	return nil, status, fmt.Errorf("item %s: %v", barcode, lastErr)
}

// replyError describes a failed reply: the transport error, or the status with the
// contract error's message.
func replyError(status int, body []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	var er contract.ErrorReply
	if json.Unmarshal(body, &er) == nil && er.Error.Code != "" {
		msg := fmt.Sprintf("%d %s: %s", status, er.Error.Code, er.Error.Message)
		if er.Error.Field != "" {
			msg += " (" + er.Error.Field + ")"
		}
		return msg
	}
	b := string(body)
	if len(b) > 200 {
		b = b[:200] + "…"
	}
	return fmt.Sprintf("%d %s", status, strings.TrimSpace(b))
}

var jsonHeader = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}

// submit sends one finished transaction, resubmitting the very same body on connection
// errors, 5xx, 408 and 429 for up to SubmitRetryFor. It fills e's outcome: acknowledged
// (202, or 200 for a resubmission), rejected (another 4xx), or unacknowledged (no
// answer in time, or the context ended); the caller queues an unacknowledged one.
func (s *session) submit(e *txEntry) {
	ctx := s.step("submit", contract.PathTransactions)
	u := s.mod.cfg.ConnectorURL + contract.PathTransactions
	// Pacing uses the real clock (the module's clock may be a test's or a business one).
	deadline := time.Now().Add(s.opts.SubmitRetryFor)
	for attempt := 0; ; attempt++ {
		if e.submittedAt.IsZero() {
			e.submittedAt = s.mod.now()
		}
		e.attempts++
		status, body, err := s.do(ctx, http.MethodPost, u, e.body, jsonHeader)
		switch {
		case err == nil && (status == http.StatusAccepted || status == http.StatusOK):
			var acc contract.Acceptance
			ok := json.Unmarshal(body, &acc) == nil && acc.ID == e.tx.ID
			s.check(ctx, "submit: acceptance names the transaction", ok)
			e.outcome, e.ackedAt, e.ackStatus, e.err = OutcomeAcknowledged, s.mod.now(), status, ""
			return
		case !retryable(status, err):
			e.outcome, e.err = OutcomeRejected, replyError(status, body, err)
			return
		}
		e.err = replyError(status, body, err)
		if s.ctx.Err() != nil || !time.Now().Before(deadline) || attempt >= maxSubmitAttempts ||
			!backoff(s.ctx, attempt, 2*time.Second) {
			e.outcome = OutcomeUnacknowledged
			return
		}
	}
}

// sendBatch uploads one chunk of queued transactions and returns the per-item results
// (nil with an error when the batch got no usable answer after a few tries).
func (s *session) sendBatch(chunk []*queuedTx) ([]contract.ItemResult, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"transactions":[`)
	for i, q := range chunk {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(q.entry.body)
	}
	buf.WriteString(`]}`)
	ctx := s.step("upload", contract.PathBatch)
	u := s.mod.cfg.ConnectorURL + contract.PathBatch
	var lastErr string
	for attempt := range 4 {
		if attempt > 0 && !backoff(s.ctx, attempt, time.Second) {
			break
		}
		now := s.mod.now()
		for _, q := range chunk {
			if q.entry.submittedAt.IsZero() {
				q.entry.submittedAt = now
			}
			q.entry.attempts++
		}
		status, body, err := s.do(ctx, http.MethodPost, u, buf.Bytes(), jsonHeader)
		if err == nil && status == http.StatusOK {
			var res contract.BatchResult
			if err := json.Unmarshal(body, &res); err != nil {
				return nil, fmt.Errorf("batch reply undecodable: %w", err)
			}
			s.check(ctx, "upload: one result per transaction", len(res.Results) == len(chunk))
			return res.Results, nil
		}
		lastErr = replyError(status, body, err)
		if !retryable(status, err) {
			return nil, fmt.Errorf("batch refused: %s", lastErr)
		}
	}
	return nil, fmt.Errorf("batch not answered: %s", lastErr)
}

// txTags are the tags of a transaction's pos_transactions sample.
func txTags(e *txEntry) []loadgen.Tag {
	return []loadgen.Tag{{Key: "type", Value: string(e.tx.Type)}, {Key: "outcome", Value: e.outcome}}
}
