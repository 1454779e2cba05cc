package gateway

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Card-present payments, Stripe Terminal's server-driven flow:
//
//	POST /v1/terminal/readers/{id}/process_payment_intent   action in_progress, intent unchanged
//	POST /v1/test_helpers/terminal/readers/{id}/present_payment_method
//	     → the intent is authorised (requires_capture, or succeeded with automatic capture)
//	       and the action succeeded; or declined (requires_payment_method) and the action failed
//	POST /v1/terminal/readers/{id}/cancel_action             action failed, intent unchanged
//
// A reader runs one action at a time: another process_payment_intent while an action is
// in progress gets 409 terminal_reader_busy.

// Reader action statuses and the only action type the simulator has.
const (
	actionInProgress = "in_progress"
	actionSucceeded  = "succeeded"
	actionFailed     = "failed"
	actionProcessPI  = "process_payment_intent"
)

// reader is a terminal reader; its action is the latest one (finished or not).
type reader struct {
	id, label, registerID, locationID, serial string
	action                                    *readerAction
}

type readerAction struct {
	seq            int64 // row in reader_actions
	Type           string
	Status         string
	FailureCode    string
	FailureMessage string
	PaymentIntent  string
	Started        time.Time
}

// loadReaders makes one reader per register of the world.
func (s *Server) loadReaders() error {
	for i, reg := range s.world.Registers {
		if reg.ReaderID == "" {
			return fmt.Errorf("gateway: register %s has no readerId", reg.ID)
		}
		if _, dup := s.readers[reg.ReaderID]; dup {
			return fmt.Errorf("gateway: reader %s belongs to two registers", reg.ReaderID)
		}
		s.readers[reg.ReaderID] = &reader{
			id: reg.ReaderID, label: reg.ID, registerID: reg.ID, locationID: reg.LocationID,
			serial: fmt.Sprintf("WSC5130%08d", i+1),
		}
		s.readerIDs = append(s.readerIDs, reg.ReaderID)
	}
	return nil
}

func (s *Server) renderReader(r *reader, act *readerAction) *readerJSON {
	out := &readerJSON{
		ID: r.id, Object: "terminal.reader", DeviceSwVersion: "2.27.7.0", DeviceType: "bbpos_wisepos_e",
		IPAddress: "127.0.0.1", Label: r.label, LastSeenAt: s.now().UnixMilli(),
		Location: stripeLocation(r.locationID), SerialNumber: r.serial, Status: "online",
		Metadata: map[string]string{"register": r.registerID, "location": r.locationID},
	}
	if act != nil {
		out.Action = &readerActionJSON{
			Type: act.Type, Status: act.Status, FailureCode: optString(act.FailureCode),
			FailureMessage:       optString(act.FailureMessage),
			ProcessPaymentIntent: &processPaymentIntentJSON{PaymentIntent: act.PaymentIntent},
		}
	}
	return out
}

// reader returns the reader named in the path, or answers 404. Call under mu.
func (s *Server) reader(id string) (*reader, error) {
	r, ok := s.readers[id]
	if !ok {
		return nil, noSuch("terminal.reader", id, "reader")
	}
	return r, nil
}

func (r *reader) busy() bool { return r.action != nil && r.action.Status == actionInProgress }

// finishAction ends r's in-progress action and returns it as it now is; the reader
// changes once the change commits.
func (t *txn) finishAction(r *reader, status, code, msg string) (*readerAction, error) {
	act := *r.action
	act.Status, act.FailureCode, act.FailureMessage = status, code, msg
	if _, err := t.ExecContext(t.ctx, `UPDATE reader_actions SET status = ?, failure_code = ?, failure_message = ?,
  finished_at = ? WHERE seq = ?`, status, nullString(code), nullString(msg), fmtTime(t.now), act.seq); err != nil {
		return nil, fmt.Errorf("finish reader action %d: %w", act.seq, err)
	}
	t.after = append(t.after, func() {
		r.action = &act
		delete(t.s.processing, act.PaymentIntent)
	})
	return &act, nil
}

// getReader: GET /v1/terminal/readers/{id}.
func (s *Server) getReader(c *gin.Context, rs *reqState) (int, any, error) {
	if _, err := parseExpand(rs.p); err != nil {
		return 0, nil, err
	}
	if err := rs.p.done(); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.reader(c.Param("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderReader(r, r.action), nil
}

// listReaders: GET /v1/terminal/readers, optionally of one location (tml_…) or status.
func (s *Server) listReaders(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	pg, err := readPage(p)
	if err != nil {
		return 0, nil, err
	}
	location, _, err := p.str("location")
	if err != nil {
		return 0, nil, err
	}
	status, _, err := readOneOf(p, "status", []string{"online", "offline"})
	if err != nil {
		return 0, nil, err
	}
	if _, _, err := readOneOf(p, "device_type", []string{"bbpos_wisepos_e"}); err != nil {
		return 0, nil, err
	}
	if _, err := parseExpand(p); err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, id := range s.readerIDs {
		r := s.readers[id]
		if (location == "" || stripeLocation(r.locationID) == location) && status != "offline" {
			ids = append(ids, id)
		}
	}
	start, end := 0, len(ids)
	cursor, param := pg.startingAfter, "starting_after"
	if pg.endingBefore != "" {
		cursor, param = pg.endingBefore, "ending_before"
	}
	if cursor != "" {
		i := slices.Index(ids, cursor)
		if i < 0 {
			e := noSuch("terminal.reader", cursor, param)
			e.status = http.StatusBadRequest
			return 0, nil, e
		}
		if pg.endingBefore != "" {
			end, start = i, max(0, i-pg.limit)
		} else {
			start = i + 1
		}
	}
	hasMore := false
	if pg.endingBefore != "" {
		hasMore = start > 0
	} else if end-start > pg.limit {
		end, hasMore = start+pg.limit, true
	}
	out := listJSON{Object: "list", Data: []any{}, HasMore: hasMore, URL: "/v1/terminal/readers"}
	for _, id := range ids[start:end] {
		r := s.readers[id]
		out.Data = append(out.Data, s.renderReader(r, r.action))
	}
	return http.StatusOK, out, nil
}

// processPaymentIntent: POST /v1/terminal/readers/{id}/process_payment_intent.
func (s *Server) processPaymentIntent(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	intentID, ok, err := p.str("payment_intent")
	if err != nil {
		return 0, nil, err
	}
	if !ok || intentID == "" {
		return 0, nil, missingParam("payment_intent")
	}
	if cfg, ok, err := p.hash("process_config"); err != nil {
		return 0, nil, err
	} else if ok {
		for _, k := range []string{"skip_tipping", "enable_customer_cancellation"} {
			if _, _, err := cfg.boolean(k); err != nil {
				return 0, nil, err
			}
		}
	}
	if _, err := parseExpand(p); err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}
	var out any
	err = s.mutate(c.Request.Context(), rs, "process payment intent", func(t *txn) error {
		r, err := s.reader(c.Param("id"))
		if err != nil {
			return err
		}
		if r.busy() {
			return &apiError{
				status: http.StatusConflict, Type: errInvalidRequest, Code: "terminal_reader_busy", shouldRetry: "false",
				DocURL: docURL("terminal_reader_busy"),
				Message: fmt.Sprintf("Reader %s is currently busy processing another request (%s of %s). Cancel that action or wait for it to finish.",
					r.id, r.action.Type, r.action.PaymentIntent),
			}
		}
		pi, ok, err := loadIntent(t.ctx, t.Tx, intentID)
		if err != nil {
			return err
		}
		if !ok {
			e := noSuch("payment_intent", intentID, "payment_intent")
			e.status = http.StatusBadRequest
			return e
		}
		if !slices.Contains(processableStatuses, pi.Status) {
			return unexpectedState(pi.Status, "process", "processed", processableStatuses)
		}
		if !slices.Contains(pi.PaymentMethodTypes, "card_present") && !slices.Contains(pi.PaymentMethodTypes, "interac_present") {
			return invalidRequest("payment_intent_incompatible_payment_method", "payment_intent", fmt.Sprintf(
				"PaymentIntent %s does not accept card_present payments (payment_method_types: %s): a reader cannot process it.",
				pi.ID, strings.Join(pi.PaymentMethodTypes, ", ")))
		}
		if other, ok := s.processing[pi.ID]; ok {
			return invalidRequest("payment_intent_unexpected_state", "payment_intent", fmt.Sprintf(
				"PaymentIntent %s is already being processed by reader %s.", pi.ID, other))
		}
		act := &readerAction{Type: actionProcessPI, Status: actionInProgress, PaymentIntent: pi.ID, Started: t.now}
		res, err := t.ExecContext(t.ctx, `INSERT INTO reader_actions (reader_id, type, payment_intent, status, started_at)
  VALUES (?, ?, ?, ?, ?)`, r.id, act.Type, pi.ID, act.Status, fmtTime(t.now))
		if err != nil {
			return fmt.Errorf("insert reader action: %w", err)
		}
		if act.seq, err = res.LastInsertId(); err != nil {
			return err
		}
		pi.ReaderID, pi.UpdatedAt = r.id, t.now
		if err := saveIntent(t.ctx, t.Tx, pi); err != nil {
			return err
		}
		t.after = append(t.after, func() {
			r.action = act
			s.processing[pi.ID] = r.id
		})
		out = s.renderReader(r, act)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// presentPaymentMethod: POST /v1/test_helpers/terminal/readers/{id}/present_payment_method.
// The card (card_present[number], default 4242 4242 4242 4242) is tapped on the reader,
// and the action completes at once.
func (s *Server) presentPaymentMethod(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	typ, ok, err := readOneOf(p, "type", []string{"card_present", "interac_present"})
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		typ = "card_present"
	}
	number := "4242424242424242"
	for _, key := range []string{"card_present", "interac_present"} {
		h, ok, err := p.hash(key)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			continue
		}
		n, ok, err := h.str("number")
		if err != nil {
			return 0, nil, err
		}
		if ok {
			number = n
		}
	}
	if _, err := parseExpand(p); err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}
	var out any
	err = s.mutate(c.Request.Context(), rs, "present payment method", func(t *txn) error {
		r, err := s.reader(c.Param("id"))
		if err != nil {
			return err
		}
		if !r.busy() || r.action.Type != actionProcessPI {
			return invalidRequest("", "", fmt.Sprintf("Reader %s has no payment in progress: call process_payment_intent first.", r.id))
		}
		pi, err := t.loadIntent(r.action.PaymentIntent)
		if err != nil {
			return err
		}
		if !slices.Contains(processableStatuses, pi.Status) {
			act, err := t.finishAction(r, actionFailed, "payment_intent_unexpected_state", fmt.Sprintf("The PaymentIntent is %s.", pi.Status))
			if err != nil {
				return err
			}
			out = s.renderReader(r, act)
			return nil
		}
		if !slices.Contains(pi.PaymentMethodTypes, typ) {
			return invalidRequest("payment_intent_incompatible_payment_method", "type", fmt.Sprintf(
				"PaymentIntent %s does not accept %s payments.", pi.ID, typ))
		}
		o := cardOutcome(number)
		pm := &paymentMethod{
			ID: s.newID("pm"), Type: typ, Source: "reader", Number: number, Brand: o.brand, Last4: o.last4,
			Funding: o.funding, ExpMonth: 12, ExpYear: t.now.Year() + 3, Created: t.now,
		}
		if err := insertPaymentMethod(t.ctx, t.Tx, pm); err != nil {
			return err
		}
		status, code, msg := actionSucceeded, "", ""
		if err := t.authorize(pi, pm, r.id); err != nil {
			ae, ok := err.(*apiError)
			if !ok || !ae.commit {
				return err
			}
			status, code, msg = actionFailed, ae.Code, ae.Message
		}
		act, err := t.finishAction(r, status, code, msg)
		if err != nil {
			return err
		}
		out = s.renderReader(r, act)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// cancelAction: POST /v1/terminal/readers/{id}/cancel_action.
func (s *Server) cancelAction(c *gin.Context, rs *reqState) (int, any, error) {
	if _, err := parseExpand(rs.p); err != nil {
		return 0, nil, err
	}
	if err := rs.p.done(); err != nil {
		return 0, nil, err
	}
	var out any
	err := s.mutate(c.Request.Context(), rs, "cancel reader action", func(t *txn) error {
		r, err := s.reader(c.Param("id"))
		if err != nil {
			return err
		}
		if !r.busy() {
			return invalidRequest("", "", fmt.Sprintf("Reader %s has no action in progress to cancel.", r.id))
		}
		act, err := t.finishAction(r, actionFailed, "canceled", "The action was canceled by a cancel_action request.")
		if err != nil {
			return err
		}
		out = s.renderReader(r, act)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}
