package pos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/money"
)

// The card terminal: Stripe Terminal's server-driven flow on the register's reader.
//
//	POST /v1/payment_intents                        amount, currency, capture_method=manual, card_present
//	POST /v1/terminal/readers/{id}/process_payment_intent
//	POST /v1/test_helpers/terminal/readers/{id}/present_payment_method   the card the decline model drew
//	POST /v1/payment_intents/{id}/capture           (or /cancel: a decline, a void, a failure)
//
// Every POST carries an Idempotency-Key derived from the transaction id, the attempt
// and the step, so a retry after a timeout or a 5xx is the same request to the gateway,
// as a real terminal's SDK sends it. An authorisation is never left behind: when a step
// after it fails, the terminal asks the gateway where the intent is and cancels it.

// stripeError is the gateway's error body.
type stripeError struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	DeclineCode string `json:"decline_code"`
	Message     string `json:"message"`
}

type gwReply struct {
	status int
	body   []byte
	err    *stripeError
}

func (r gwReply) String() string {
	if r.err != nil {
		return fmt.Sprintf("%d %s %s: %s", r.status, r.err.Type, r.err.Code, r.err.Message)
	}
	return strconv.Itoa(r.status)
}

type intentJSON struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	Amount           int64  `json:"amount"`
	AmountReceived   int64  `json:"amount_received"`
	AmountCapturable int64  `json:"amount_capturable"`
	LastPaymentError *struct {
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code"`
	} `json:"last_payment_error"`
}

type readerJSON struct {
	ID     string `json:"id"`
	Action *struct {
		Type           string  `json:"type"`
		Status         string  `json:"status"`
		FailureCode    *string `json:"failure_code"`
		FailureMessage *string `json:"failure_message"`
	} `json:"action"`
}

const gatewayAttempts = 4

// gw sends one gateway request, retrying (same Idempotency-Key) on connection errors,
// 5xx, 429 and 409 idempotency_key_in_use unless the gateway says Stripe-Should-Retry:
// false. err is non-nil only when no reply came at all.
func (s *session) gw(ctx context.Context, method, path string, form url.Values, key string) (gwReply, error) {
	h := http.Header{
		"Authorization": {"Bearer " + s.mod.gwKey},
		"Accept":        {"application/json"},
	}
	var body []byte
	if method == http.MethodPost {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		h.Set("Idempotency-Key", key)
		body = []byte(form.Encode())
	}
	u := s.mod.cfg.GatewayURL + path
	var lastErr error
	var last gwReply
	for attempt := range gatewayAttempts {
		if attempt > 0 && !backoff(ctx, attempt, time.Second) {
			break
		}
		status, hdr, b, err := s.doH(ctx, method, u, body, h)
		if err != nil {
			lastErr = err
			continue
		}
		rep := gwReply{status: status, body: b}
		if status >= 400 {
			var e struct {
				Error stripeError `json:"error"`
			}
			if json.Unmarshal(b, &e) == nil {
				rep.err = &e.Error
			} else {
				rep.err = &stripeError{Type: "api_error", Message: strings.TrimSpace(string(b))}
			}
		}
		last, lastErr = rep, nil
		retry := status >= 500 || status == http.StatusTooManyRequests ||
			(status == http.StatusConflict && rep.err != nil && rep.err.Code == "idempotency_key_in_use")
		if !retry || hdr.Get("Stripe-Should-Retry") == "false" {
			return rep, nil
		}
	}
	if lastErr != nil {
		return gwReply{}, lastErr
	}
	return last, nil
}

// payment is the outcome of one card payment attempt.
type payment struct {
	intentID    string
	outcome     string // PayCaptured, PayDeclined, PayCanceled, PayFailed, PayVoided
	declineCode string
	err         string
	timedOut    bool // the reader timed out before a card was presented
}

// cardPayment takes amount on the register's reader with card: create, process,
// present, then capture (or cancel, when void). txID and attempt make the idempotency
// keys; offline marks a store-and-forward payment being forwarded.
func (s *session) cardPayment(txID string, attempt int, amount money.Amount, card testCard, void, offline bool) payment {
	start, t0 := s.mod.now(), time.Now()
	p := s.cardSteps(txID, attempt, amount, card, void, offline)
	end := s.mod.now()
	ctx := s.step("payment", "card")
	s.emitDuration(ctx, s.mod.m.payment, time.Since(t0), loadgen.Tag{Key: "outcome", Value: p.outcome})
	s.emit(ctx, s.mod.m.payments, 1, loadgen.Tag{Key: "outcome", Value: p.outcome})
	if p.outcome == PayDeclined {
		s.emit(ctx, s.mod.m.declines, 1, loadgen.Tag{Key: "decline_code", Value: p.declineCode})
	}
	s.mod.countPayment(p.outcome)
	if p.intentID != "" {
		last4 := card.number
		if len(last4) > 4 {
			last4 = last4[len(last4)-4:]
		}
		e := &paymentEntry{
			intentID: p.intentID, txID: txID, registerID: s.reg.id(), locationID: s.reg.loc.ID, amount: amount.Cents(),
			outcome: p.outcome, created: start, finished: end, flow: s.flowName(), last4: last4,
			declineCode: p.declineCode, offline: offline, err: p.err,
		}
		if p.outcome == PayCaptured {
			e.captured = amount.Cents()
		}
		s.mod.j.add(e)
	}
	return p
}

func (s *session) cardSteps(txID string, attempt int, amount money.Amount, card testCard, void, forwarded bool) payment {
	key := fmt.Sprintf("%s-p%d", txID, attempt)
	reader := s.reg.fx.ReaderID
	ctx := s.step("payment", "/v1/payment_intents")
	form := url.Values{
		"amount":                 {strconv.FormatInt(amount.Cents(), 10)},
		"currency":               {currency(s.mod.world.Currency)},
		"capture_method":         {"manual"},
		"payment_method_types[]": {"card_present"},
		"metadata[pos_tx]":       {txID},
		"metadata[register]":     {s.reg.id()},
		"metadata[store]":        {s.reg.loc.ID},
	}
	rep, err := s.gw(ctx, http.MethodPost, "/v1/payment_intents", form, key+"-create")
	if err != nil || rep.status != http.StatusOK {
		// Without an answer the intent may exist; it holds no money (nothing was presented).
		return payment{outcome: PayFailed, err: "create intent: " + gwFailure(rep, err)}
	}
	var pi intentJSON
	if json.Unmarshal(rep.body, &pi) != nil || pi.ID == "" {
		return payment{outcome: PayFailed, err: "create intent: undecodable reply"}
	}
	p := payment{intentID: pi.ID}
	s.check(ctx, "terminal: intent created awaiting a card", pi.Status == "requires_payment_method" && pi.Amount == amount.Cents())

	// The reader waits for the card.
	rctx := s.step("payment", "/v1/terminal/readers/{id}/process_payment_intent")
	rep, err = s.gw(rctx, http.MethodPost, "/v1/terminal/readers/"+reader+"/process_payment_intent",
		url.Values{"payment_intent": {pi.ID}}, key+"-process")
	if err == nil && rep.status == http.StatusConflict && rep.err != nil && rep.err.Code == "terminal_reader_busy" {
		// A previous action was left on the reader (a lost answer): clear it, try again.
		s.cancelReaderAction(key + "-clear")
		rep, err = s.gw(rctx, http.MethodPost, "/v1/terminal/readers/"+reader+"/process_payment_intent",
			url.Values{"payment_intent": {pi.ID}}, key+"-process2")
	}
	if err != nil || rep.status != http.StatusOK {
		p.err = "process on reader: " + gwFailure(rep, err)
		return s.abandonIntent(p, key, PayFailed)
	}
	if !forwarded && s.opts.TerminalTimeoutRate > 0 && s.rand.Float64() < s.opts.TerminalTimeoutRate {
		// Nobody taps a card: the reader times out; the register clears it and cancels.
		s.cancelReaderAction(key + "-timeout")
		p.err, p.timedOut = "the reader timed out waiting for a card", true
		return s.abandonIntent(p, key, PayCanceled)
	}

	pctx := s.step("payment", "/v1/test_helpers/terminal/readers/{id}/present_payment_method")
	rep, err = s.gw(pctx, http.MethodPost, "/v1/test_helpers/terminal/readers/"+reader+"/present_payment_method",
		url.Values{"type": {"card_present"}, "card_present[number]": {card.number}}, key+"-present")
	authorised := false
	switch {
	case err == nil && rep.status == http.StatusOK:
		var rd readerJSON
		if json.Unmarshal(rep.body, &rd) != nil || rd.Action == nil {
			p.err = "present card: undecodable reader"
			break
		}
		if rd.Action.Status == "succeeded" {
			authorised = true
			break
		}
		code := deref(rd.Action.FailureCode)
		switch code {
		case "card_declined", "expired_card", "incorrect_cvc", "processing_error", "incorrect_number":
			p.declineCode = card.declineCode
			if p.declineCode == "" {
				p.declineCode = code
			}
			p.err = "declined: " + code + ": " + deref(rd.Action.FailureMessage)
			s.check(pctx, "terminal: decline expected from the card", card.declineCode != "")
			return s.abandonIntent(p, key, PayDeclined)
		}
		p.err = "reader action failed: " + code + ": " + deref(rd.Action.FailureMessage)
	default:
		p.err = "present card: " + gwFailure(rep, err)
	}
	if !authorised {
		// Ask the gateway whether the card went through before deciding.
		if st := s.intentStatus(pi.ID); st != "requires_capture" {
			return s.abandonIntent(p, key, PayFailed)
		}
	}
	s.check(pctx, "terminal: approval expected from the card", card.declineCode == "")

	// Authorised: capture, or (void) cancel. Past this point the iteration's end must
	// not leave the hold behind.
	cctx := context.WithoutCancel(s.step("payment", "/v1/payment_intents/{id}/capture"))
	if void {
		return s.abandonIntent(p, key, PayVoided)
	}
	rep, err = s.gw(cctx, http.MethodPost, "/v1/payment_intents/"+pi.ID+"/capture", url.Values{}, key+"-capture")
	if err == nil && rep.status == http.StatusOK {
		var got intentJSON
		ok := json.Unmarshal(rep.body, &got) == nil && got.Status == "succeeded" && got.AmountReceived == amount.Cents()
		s.check(cctx, "terminal: captured in full", ok)
		p.outcome, p.err = PayCaptured, ""
		return p
	}
	p.err = "capture: " + gwFailure(rep, err)
	switch s.intentStatus(pi.ID) {
	case "succeeded":
		p.outcome, p.err = PayCaptured, ""
		return p
	case "requires_capture":
		return s.abandonIntent(p, key, PayCanceled)
	}
	p.outcome = PayFailed
	return p
}

// abandonIntent cancels the intent (a decline, a timeout, a void or a failure) and
// returns p with outcome; when the cancel itself fails, the outcome is failed.
func (s *session) abandonIntent(p payment, key, outcome string) payment {
	ctx := context.WithoutCancel(s.step("payment", "/v1/payment_intents/{id}/cancel"))
	reason := "abandoned"
	if outcome == PayVoided {
		reason = "requested_by_customer"
	}
	rep, err := s.gw(ctx, http.MethodPost, "/v1/payment_intents/"+p.intentID+"/cancel",
		url.Values{"cancellation_reason": {reason}}, key+"-cancel")
	if err == nil && rep.status == http.StatusOK {
		p.outcome = outcome
		return p
	}
	if err == nil && rep.err != nil && rep.err.Code == "payment_intent_unexpected_state" {
		// Already canceled (by the reader's cancel), or captured after all: ask.
		switch s.intentStatus(p.intentID) {
		case "canceled":
			p.outcome = outcome
			return p
		case "succeeded":
			s.mod.log.Warn("pos: an intent to cancel was captured", "intent", p.intentID)
		}
	}
	p.err = joinErr(p.err, "cancel: "+gwFailure(rep, err))
	p.outcome = PayFailed
	return p
}

// cancelReaderAction clears the reader's action in progress, if any.
func (s *session) cancelReaderAction(key string) {
	ctx := context.WithoutCancel(s.step("payment", "/v1/terminal/readers/{id}/cancel_action"))
	_, _ = s.gw(ctx, http.MethodPost, "/v1/terminal/readers/"+s.reg.fx.ReaderID+"/cancel_action", url.Values{}, key)
}

// intentStatus asks the gateway for an intent's status ("" when it cannot tell).
func (s *session) intentStatus(id string) string {
	ctx := context.WithoutCancel(s.step("payment", "/v1/payment_intents/{id}"))
	rep, err := s.gw(ctx, http.MethodGet, "/v1/payment_intents/"+id, nil, "")
	if err != nil || rep.status != http.StatusOK {
		return ""
	}
	var pi intentJSON
	if json.Unmarshal(rep.body, &pi) != nil {
		return ""
	}
	return pi.Status
}

func gwFailure(rep gwReply, err error) string {
	if err != nil {
		return err.Error()
	}
	return rep.String()
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func currency(c string) string {
	if c == "" {
		return "usd"
	}
	return strings.ToLower(c)
}
