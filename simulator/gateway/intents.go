package gateway

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// Metadata limits, as Stripe's.
const (
	maxMetadataKeys     = 50
	maxMetadataKeyLen   = 40
	maxMetadataValueLen = 500
)

// readMetadata reads metadata[…]; an empty value for a key unsets it on update.
func readMetadata(p *params) (map[string]string, bool, error) {
	m, ok, err := p.stringMap("metadata")
	if !ok || err != nil {
		return nil, ok, err
	}
	if len(m) > maxMetadataKeys {
		return nil, true, invalidParam("metadata", fmt.Sprintf("Invalid metadata: at most %d keys, got %d.", maxMetadataKeys, len(m)))
	}
	for k, v := range m {
		if len(k) > maxMetadataKeyLen {
			return nil, true, invalidParam("metadata["+truncate(k, 60)+"]", fmt.Sprintf("Invalid metadata: keys can be at most %d characters long.", maxMetadataKeyLen))
		}
		if len(v) > maxMetadataValueLen {
			return nil, true, invalidParam("metadata["+k+"]", fmt.Sprintf("Invalid metadata: values can be at most %d characters long.", maxMetadataValueLen))
		}
	}
	return m, true, nil
}

// mergeMetadata applies an update to metadata as Stripe does: keys are set, an empty
// value unsets a key, and an empty update (metadata=) unsets every key.
func mergeMetadata(cur, upd map[string]string) (map[string]string, error) {
	if len(upd) == 0 {
		return map[string]string{}, nil
	}
	out := maps.Clone(nonNil(cur))
	for k, v := range upd {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	if len(out) > maxMetadataKeys {
		return nil, invalidRequest("", "metadata", fmt.Sprintf("Invalid metadata: at most %d keys; this update would leave %d.", maxMetadataKeys, len(out)))
	}
	return out, nil
}

// readAmount reads a positive amount and checks it against the currency's bounds.
func checkAmount(param string, amount int64, currency string) error {
	minimum, _ := minimumAmount(currency)
	if amount < minimum {
		e := invalidParam(param, fmt.Sprintf("Amount must be at least %d %s (minor units).", minimum, currency))
		e.Code = "amount_too_small"
		e.DocURL = docURL(e.Code)
		return e
	}
	if amount > maxAmount {
		e := invalidParam(param, fmt.Sprintf("Amount must be no more than %d %s (minor units).", maxAmount, currency))
		e.Code = "amount_too_large"
		e.DocURL = docURL(e.Code)
		return e
	}
	return nil
}

// readCurrency reads a currency: three letters, any case, one the gateway knows.
func readCurrency(p *params) (string, bool, error) {
	cur, ok, err := p.str("currency")
	if !ok || err != nil {
		return "", ok, err
	}
	lc := strings.ToLower(cur)
	if _, known := minimumAmount(lc); !known {
		return "", true, invalidParam("currency", fmt.Sprintf("Invalid currency: %s. The gateway supports these currencies: %s.", truncate(cur, 20), currencies))
	}
	return lc, true, nil
}

func readOneOf(p *params, key string, allowed []string) (string, bool, error) {
	v, ok, err := p.str(key)
	if !ok || err != nil {
		return "", ok, err
	}
	if !slices.Contains(allowed, v) {
		return "", true, invalidParam(p.name(key), fmt.Sprintf("Invalid %s: must be one of %s.", p.name(key), strings.Join(allowed, ", ")))
	}
	return v, true, nil
}

func readPaymentMethodTypes(p *params) ([]string, bool, error) {
	types, ok, err := p.strings("payment_method_types")
	if !ok || err != nil {
		return nil, ok, err
	}
	if len(types) == 0 {
		return nil, true, invalidParam("payment_method_types", "Invalid payment_method_types: give at least one type.")
	}
	for i, t := range types {
		if !slices.Contains(paymentMethodTypes, t) {
			return nil, true, invalidParam(fmt.Sprintf("payment_method_types[%d]", i), fmt.Sprintf(
				"The payment method type %q is invalid. The gateway supports: %s.", truncate(t, 40), strings.Join(paymentMethodTypes, ", ")))
		}
	}
	return slices.Compact(slices.Clone(types)), true, nil
}

// pmRequest is how a request names the card to pay with: a payment method id (a test
// pm_card_* or one the gateway issued) or raw card data.
type pmRequest struct {
	id   string
	card *cardData
}

type cardData struct {
	number            string
	expMonth, expYear int
}

func (r pmRequest) given() bool { return r.id != "" || r.card != nil }

func readPaymentMethod(p *params) (pmRequest, error) {
	var r pmRequest
	id, _, err := p.str("payment_method")
	if err != nil {
		return r, err
	}
	r.id = id
	data, ok, err := p.hash("payment_method_data")
	if err != nil || !ok {
		return r, err
	}
	if r.id != "" {
		e := invalidParam("payment_method_data", "You may only specify one of these parameters: payment_method, payment_method_data.")
		e.Code = "parameters_exclusive"
		return r, e
	}
	typ, ok, err := data.str("type")
	if err != nil {
		return r, err
	}
	if !ok {
		return r, missingParam("payment_method_data[type]")
	}
	if typ != "card" {
		return r, invalidParam("payment_method_data[type]", "Invalid payment_method_data[type]: only card can be given as raw data; card_present cards are read by a terminal reader.")
	}
	card, ok, err := data.hash("card")
	if err != nil {
		return r, err
	}
	if !ok {
		return r, missingParam("payment_method_data[card]")
	}
	cd := &cardData{}
	number, ok, err := card.str("number")
	if err != nil {
		return r, err
	}
	if !ok || number == "" {
		return r, missingParam("payment_method_data[card][number]")
	}
	cd.number = number
	for _, f := range []struct {
		key      string
		dst      *int
		min, max int64
	}{{"exp_month", &cd.expMonth, 1, 12}, {"exp_year", &cd.expYear, 2000, 2100}} {
		v, ok, err := card.integer(f.key)
		if err != nil {
			return r, err
		}
		if ok && (v < f.min || v > f.max) {
			return r, invalidParam("payment_method_data[card]["+f.key+"]", fmt.Sprintf("Invalid %s: must be from %d to %d.", f.key, f.min, f.max))
		}
		*f.dst = int(v)
	}
	if _, _, err := card.str("cvc"); err != nil {
		return r, err
	}
	r.card = cd
	return r, nil
}

// resolvePaymentMethod turns a request's payment method into a stored one: a test
// pm_card_* or raw card data becomes a new pm_ (as Stripe does), an issued pm_ is loaded.
func (t *txn) resolvePaymentMethod(r pmRequest) (*paymentMethod, error) {
	pm := &paymentMethod{Type: "card", Created: t.now, ExpMonth: 12, ExpYear: t.now.Year() + 3}
	switch {
	case r.card != nil:
		pm.Source, pm.Number = "card", r.card.number
		if r.card.expMonth != 0 {
			pm.ExpMonth = r.card.expMonth
		}
		if r.card.expYear != 0 {
			pm.ExpYear = r.card.expYear
		}
	default:
		if number, ok := testPaymentMethodCard(r.id); ok {
			pm.Source, pm.Number = r.id, number
			break
		}
		existing, ok, err := loadPaymentMethod(t.ctx, t.Tx, r.id)
		if err != nil {
			return nil, err
		}
		if !ok {
			e := noSuch("PaymentMethod", r.id, "payment_method")
			e.status = http.StatusBadRequest
			return nil, e
		}
		return existing, nil
	}
	o := cardOutcome(pm.Number)
	pm.Brand, pm.Last4, pm.Funding = o.brand, o.last4, o.funding
	pm.ID = t.s.newID("pm")
	if err := insertPaymentMethod(t.ctx, t.Tx, pm); err != nil {
		return nil, err
	}
	return pm, nil
}

// authorize sends pm's card to the issuer for pi. Approved: a manual-capture intent
// waits in requires_capture, an automatic one is captured and succeeded. Declined: the
// intent goes back to requires_payment_method with last_payment_error, and the answer is
// a 402 card_error (the change still commits). readerID names the terminal, if any.
func (t *txn) authorize(pi *intent, pm *paymentMethod, readerID string) error {
	o := cardOutcome(pm.Number)
	before := pi.Status
	ch := &charge{
		ID: t.s.newID("ch"), PaymentIntent: pi.ID, Amount: pi.Amount, Currency: pi.Currency,
		PaymentMethod: pm.ID, PMType: pm.Type, Brand: pm.Brand, Last4: pm.Last4, Funding: pm.Funding,
		ReaderID: readerID, Created: t.now,
	}
	pi.PaymentMethod, pi.LatestCharge, pi.UpdatedAt = pm.ID, ch.ID, t.now
	if readerID != "" {
		pi.ReaderID = readerID
	}
	if !o.approved() {
		ch.Status, ch.FailureCode, ch.FailureMessage, ch.DeclineCode = "failed", o.code, o.message, o.declineCode
		cardErr := &apiError{
			status: http.StatusPaymentRequired, Type: errCard, Code: o.code, DeclineCode: o.declineCode,
			Message: o.message, Charge: ch.ID, DocURL: docURL(o.code), PaymentMethod: renderPaymentMethod(pm),
		}
		pi.LastPaymentError = cardErr
		if err := t.setStatus(pi, statusRequiresPaymentMethod); err != nil {
			return err
		}
		if err := saveCharge(t.ctx, t.Tx, ch); err != nil {
			return err
		}
		if err := saveIntent(t.ctx, t.Tx, pi); err != nil {
			return err
		}
		code := o.declineCode
		if code == "" {
			code = o.code
		}
		if err := t.event(event{Intent: pi.ID, Type: "declined", Amount: pi.Amount, StatusBefore: before, StatusAfter: pi.Status, ObjectID: ch.ID, Code: code}); err != nil {
			return err
		}
		t.after = append(t.after, func() { t.s.m.declines.WithLabelValues(code).Inc() })
		// The error carries the intent as it now is, as Stripe's does.
		view, err := t.s.renderIntent(t.ctx, t.Tx, pi, nil)
		if err != nil {
			return err
		}
		answer := *cardErr
		answer.PaymentIntent = view
		answer.commit = true
		return &answer
	}
	ch.Status = "succeeded"
	pi.LastPaymentError = nil
	if pi.AuthorizedAt.IsZero() {
		pi.AuthorizedAt = t.now
	}
	next := statusSucceeded
	if pi.manualCapture() {
		next = statusRequiresCapture
		pi.AmountCapturable = pi.Amount
	} else {
		ch.Captured, ch.AmountCaptured, ch.CapturedAt = true, pi.Amount, t.now
		pi.AmountReceived, pi.CapturedAt = pi.Amount, t.now
	}
	if err := t.setStatus(pi, next); err != nil {
		return err
	}
	if err := saveCharge(t.ctx, t.Tx, ch); err != nil {
		return err
	}
	if err := saveIntent(t.ctx, t.Tx, pi); err != nil {
		return err
	}
	after := statusRequiresCapture
	if !pi.manualCapture() {
		after = statusSucceeded
	}
	if err := t.event(event{Intent: pi.ID, Type: "authorized", Amount: pi.Amount, StatusBefore: before, StatusAfter: after, ObjectID: ch.ID}); err != nil {
		return err
	}
	if !pi.manualCapture() {
		if err := t.event(event{Intent: pi.ID, Type: "captured", Amount: pi.Amount, StatusBefore: after, StatusAfter: pi.Status, ObjectID: ch.ID}); err != nil {
			return err
		}
		amount := pi.Amount
		t.after = append(t.after, func() { t.s.m.captured.Add(float64(amount)) })
	}
	return nil
}

// loadIntentForUpdate reads the intent named in the path, or answers 404.
func (t *txn) loadIntent(id string) (*intent, error) {
	pi, ok, err := loadIntent(t.ctx, t.Tx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuch("payment_intent", id, "intent")
	}
	return pi, nil
}

func (s *Server) intentAnswer(t *txn, pi *intent, exp expansion, out *any) error {
	view, err := s.renderIntent(t.ctx, t.Tx, pi, exp)
	if err != nil {
		return err
	}
	*out = view
	return nil
}

// createIntent: POST /v1/payment_intents.
func (s *Server) createIntent(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	amount, ok, err := p.integer("amount")
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, missingParam("amount")
	}
	currency, ok, err := readCurrency(p)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, missingParam("currency")
	}
	if err := checkAmount("amount", amount, currency); err != nil {
		return 0, nil, err
	}
	captureMethod, ok, err := readOneOf(p, "capture_method", captureMethods)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		captureMethod = "automatic"
	}
	types, typesGiven, err := readPaymentMethodTypes(p)
	if err != nil {
		return 0, nil, err
	}
	if apm, ok, err := p.hash("automatic_payment_methods"); err != nil {
		return 0, nil, err
	} else if ok {
		if _, _, err := apm.boolean("enabled"); err != nil {
			return 0, nil, err
		}
		if _, _, err := apm.str("allow_redirects"); err != nil {
			return 0, nil, err
		}
		if typesGiven {
			e := invalidParam("automatic_payment_methods", "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.")
			e.Code = "parameters_exclusive"
			return 0, nil, e
		}
	}
	if !typesGiven {
		types = []string{"card"}
	}
	pmReq, err := readPaymentMethod(p)
	if err != nil {
		return 0, nil, err
	}
	confirm, _, err := p.boolean("confirm")
	if err != nil {
		return 0, nil, err
	}
	metadata, _, err := readMetadata(p)
	if err != nil {
		return 0, nil, err
	}
	description, _, err := p.str("description")
	if err != nil {
		return 0, nil, err
	}
	email, _, err := p.str("receipt_email")
	if err != nil {
		return 0, nil, err
	}
	if _, _, err := p.str("return_url"); err != nil {
		return 0, nil, err
	}
	exp, err := parseExpand(p, "latest_charge", "payment_method")
	if err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}
	if confirm && !pmReq.given() {
		return 0, nil, missingParam("payment_method")
	}

	var out any
	err = s.mutate(c.Request.Context(), rs, "create payment intent", func(t *txn) error {
		pi := &intent{
			ID: s.newID("pi"), Amount: amount, Currency: currency, Status: statusRequiresPaymentMethod,
			CaptureMethod: captureMethod, PaymentMethodTypes: types, Description: description, ReceiptEmail: email,
			Metadata: nonNil(metadata), Created: t.now, UpdatedAt: t.now,
		}
		pi.ClientSecret = pi.ID + "_secret_" + s.newID("")[1:]
		var pm *paymentMethod
		if pmReq.given() {
			var err error
			if pm, err = t.resolvePaymentMethod(pmReq); err != nil {
				return err
			}
			if err := checkPMType(pi, pm); err != nil {
				return err
			}
			pi.PaymentMethod, pi.Status = pm.ID, statusRequiresConfirmation
		}
		if err := saveIntent(t.ctx, t.Tx, pi); err != nil {
			return err
		}
		if err := t.event(event{Intent: pi.ID, Type: "created", Amount: pi.Amount, StatusAfter: pi.Status}); err != nil {
			return err
		}
		status := pi.Status
		t.after = append(t.after, func() { s.m.transition("", status) })
		if confirm {
			if err := t.authorize(pi, pm, ""); err != nil {
				return err
			}
		}
		return s.intentAnswer(t, pi, exp, &out)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// checkPMType refuses a payment method whose type the intent does not accept.
func checkPMType(pi *intent, pm *paymentMethod) error {
	if slices.Contains(pi.PaymentMethodTypes, pm.Type) {
		return nil
	}
	return invalidRequest("payment_intent_incompatible_payment_method", "payment_method", fmt.Sprintf(
		"The PaymentMethod provided (%s) is not allowed for this PaymentIntent. Attach a PaymentMethod of one of these types: %s.",
		pm.Type, strings.Join(pi.PaymentMethodTypes, ", ")))
}

// getIntent: GET /v1/payment_intents/{id}.
func (s *Server) getIntent(c *gin.Context, rs *reqState) (int, any, error) {
	exp, err := parseExpand(rs.p, "latest_charge", "payment_method")
	if err != nil {
		return 0, nil, err
	}
	if _, _, err := rs.p.str("client_secret"); err != nil {
		return 0, nil, err
	}
	if err := rs.p.done(); err != nil {
		return 0, nil, err
	}
	ctx := c.Request.Context()
	id := c.Param("id")
	pi, ok, err := loadIntent(ctx, s.books.r, id)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, noSuch("payment_intent", id, "intent")
	}
	view, err := s.renderIntent(ctx, s.books.r, pi, exp)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, view, nil
}

// updateIntent: POST /v1/payment_intents/{id}. Metadata, description and receipt_email
// change at any status; amount, currency, capture method and payment method only before
// the intent is authorised.
func (s *Server) updateIntent(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	metadata, metaGiven, err := readMetadata(p)
	if err != nil {
		return 0, nil, err
	}
	description, descGiven, err := p.str("description")
	if err != nil {
		return 0, nil, err
	}
	email, emailGiven, err := p.str("receipt_email")
	if err != nil {
		return 0, nil, err
	}
	amount, amountGiven, err := p.integer("amount")
	if err != nil {
		return 0, nil, err
	}
	currency, currencyGiven, err := readCurrency(p)
	if err != nil {
		return 0, nil, err
	}
	captureMethod, cmGiven, err := readOneOf(p, "capture_method", captureMethods)
	if err != nil {
		return 0, nil, err
	}
	types, typesGiven, err := readPaymentMethodTypes(p)
	if err != nil {
		return 0, nil, err
	}
	pmReq, err := readPaymentMethod(p)
	if err != nil {
		return 0, nil, err
	}
	exp, err := parseExpand(p, "latest_charge", "payment_method")
	if err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}
	paymentFields := amountGiven || currencyGiven || cmGiven || typesGiven || pmReq.given()

	var out any
	err = s.mutate(c.Request.Context(), rs, "update payment intent", func(t *txn) error {
		pi, err := t.loadIntent(c.Param("id"))
		if err != nil {
			return err
		}
		if paymentFields && !slices.Contains(updatableStatuses, pi.Status) {
			return unexpectedState(pi.Status, "update the amount, currency, capture method or payment method of", "updated", updatableStatuses)
		}
		before := pi.Status
		if currencyGiven {
			pi.Currency = currency
		}
		if amountGiven {
			pi.Amount = amount
		}
		if amountGiven || currencyGiven {
			if err := checkAmount("amount", pi.Amount, pi.Currency); err != nil {
				err.(*apiError).validation = false
				return err
			}
		}
		if cmGiven {
			pi.CaptureMethod = captureMethod
		}
		if typesGiven {
			pi.PaymentMethodTypes = types
		}
		if pmReq.given() {
			pm, err := t.resolvePaymentMethod(pmReq)
			if err != nil {
				return err
			}
			if err := checkPMType(pi, pm); err != nil {
				return err
			}
			pi.PaymentMethod = pm.ID
			if err := t.setStatus(pi, statusRequiresConfirmation); err != nil {
				return err
			}
		}
		if metaGiven {
			merged, err := mergeMetadata(pi.Metadata, metadata)
			if err != nil {
				return err
			}
			pi.Metadata = merged
		}
		if descGiven {
			pi.Description = description
		}
		if emailGiven {
			pi.ReceiptEmail = email
		}
		pi.UpdatedAt = t.now
		if err := saveIntent(t.ctx, t.Tx, pi); err != nil {
			return err
		}
		if err := t.event(event{Intent: pi.ID, Type: "updated", Amount: pi.Amount, StatusBefore: before, StatusAfter: pi.Status}); err != nil {
			return err
		}
		return s.intentAnswer(t, pi, exp, &out)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// confirmIntent: POST /v1/payment_intents/{id}/confirm.
func (s *Server) confirmIntent(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	pmReq, err := readPaymentMethod(p)
	if err != nil {
		return 0, nil, err
	}
	captureMethod, cmGiven, err := readOneOf(p, "capture_method", captureMethods)
	if err != nil {
		return 0, nil, err
	}
	email, emailGiven, err := p.str("receipt_email")
	if err != nil {
		return 0, nil, err
	}
	if _, _, err := p.str("return_url"); err != nil {
		return 0, nil, err
	}
	exp, err := parseExpand(p, "latest_charge", "payment_method")
	if err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}
	var out any
	err = s.mutate(c.Request.Context(), rs, "confirm payment intent", func(t *txn) error {
		pi, err := t.loadIntent(c.Param("id"))
		if err != nil {
			return err
		}
		if !slices.Contains(confirmableStatuses, pi.Status) {
			return unexpectedState(pi.Status, "confirm", "confirmed", confirmableStatuses)
		}
		if reader, busy := s.processing[pi.ID]; busy {
			return invalidRequest("payment_intent_unexpected_state", "", fmt.Sprintf(
				"This PaymentIntent is being processed by terminal reader %s; cancel the reader's action before confirming it another way.", reader))
		}
		if cmGiven {
			pi.CaptureMethod = captureMethod
		}
		if emailGiven {
			pi.ReceiptEmail = email
		}
		var pm *paymentMethod
		switch {
		case pmReq.given():
			if pm, err = t.resolvePaymentMethod(pmReq); err != nil {
				return err
			}
		case pi.PaymentMethod != "":
			if pm, err = t.resolvePaymentMethod(pmRequest{id: pi.PaymentMethod}); err != nil {
				return err
			}
		default:
			return invalidRequest("payment_intent_unexpected_state", "payment_method",
				"You cannot confirm this PaymentIntent because it's missing a payment method. Confirm it with a payment_method or payment_method_data.")
		}
		if err := checkPMType(pi, pm); err != nil {
			return err
		}
		if err := t.authorize(pi, pm, ""); err != nil {
			return err
		}
		return s.intentAnswer(t, pi, exp, &out)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// captureIntent: POST /v1/payment_intents/{id}/capture, all of amount_capturable or
// amount_to_capture of it; the rest of the hold is released.
func (s *Server) captureIntent(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	toCapture, partial, err := p.integer("amount_to_capture")
	if err != nil {
		return 0, nil, err
	}
	if partial && toCapture <= 0 {
		return 0, nil, invalidParam("amount_to_capture", "Invalid amount_to_capture: must be a positive integer.")
	}
	metadata, metaGiven, err := readMetadata(p)
	if err != nil {
		return 0, nil, err
	}
	exp, err := parseExpand(p, "latest_charge", "payment_method")
	if err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}
	var out any
	err = s.mutate(c.Request.Context(), rs, "capture payment intent", func(t *txn) error {
		pi, err := t.loadIntent(c.Param("id"))
		if err != nil {
			return err
		}
		if !slices.Contains(capturableStatuses, pi.Status) {
			return unexpectedState(pi.Status, "capture", "captured", capturableStatuses)
		}
		amount := pi.AmountCapturable
		if partial {
			if toCapture > pi.AmountCapturable {
				return invalidRequest("amount_too_large", "amount_to_capture", fmt.Sprintf(
					"The amount_to_capture (%d) is greater than the amount_capturable (%d) of this PaymentIntent.", toCapture, pi.AmountCapturable))
			}
			amount = toCapture
		}
		ch, ok, err := loadCharge(t.ctx, t.Tx, pi.LatestCharge)
		if err != nil {
			return err
		}
		if !ok || ch.Status != "succeeded" {
			return fmt.Errorf("intent %s in requires_capture without a successful charge (%q)", pi.ID, pi.LatestCharge)
		}
		before := pi.Status
		ch.Captured, ch.AmountCaptured, ch.CapturedAt = true, amount, t.now
		pi.AmountReceived, pi.AmountCapturable, pi.CapturedAt, pi.UpdatedAt = amount, 0, t.now, t.now
		if metaGiven {
			if pi.Metadata, err = mergeMetadata(pi.Metadata, metadata); err != nil {
				return err
			}
		}
		if err := t.setStatus(pi, statusSucceeded); err != nil {
			return err
		}
		if err := saveCharge(t.ctx, t.Tx, ch); err != nil {
			return err
		}
		if err := saveIntent(t.ctx, t.Tx, pi); err != nil {
			return err
		}
		if err := t.event(event{Intent: pi.ID, Type: "captured", Amount: amount, StatusBefore: before, StatusAfter: pi.Status, ObjectID: ch.ID}); err != nil {
			return err
		}
		t.after = append(t.after, func() { s.m.captured.Add(float64(amount)) })
		return s.intentAnswer(t, pi, exp, &out)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// cancelIntent: POST /v1/payment_intents/{id}/cancel. A requires_capture intent's hold is
// released; a reader processing the intent has its action failed.
func (s *Server) cancelIntent(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	reason, _, err := readOneOf(p, "cancellation_reason", cancellationReasons)
	if err != nil {
		return 0, nil, err
	}
	exp, err := parseExpand(p, "latest_charge", "payment_method")
	if err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}
	var out any
	err = s.mutate(c.Request.Context(), rs, "cancel payment intent", func(t *txn) error {
		pi, err := t.loadIntent(c.Param("id"))
		if err != nil {
			return err
		}
		if !slices.Contains(cancelableStatuses, pi.Status) {
			return unexpectedState(pi.Status, "cancel", "canceled", cancelableStatuses)
		}
		before := pi.Status
		released := pi.AmountCapturable
		if released > 0 {
			ch, ok, err := loadCharge(t.ctx, t.Tx, pi.LatestCharge)
			if err != nil {
				return err
			}
			if ok {
				ch.ReleasedAt = t.now
				if err := saveCharge(t.ctx, t.Tx, ch); err != nil {
					return err
				}
			}
		}
		pi.AmountCapturable, pi.CanceledAt, pi.UpdatedAt, pi.CancellationReason = 0, t.now, t.now, reason
		if err := t.setStatus(pi, statusCanceled); err != nil {
			return err
		}
		if err := saveIntent(t.ctx, t.Tx, pi); err != nil {
			return err
		}
		if err := t.event(event{Intent: pi.ID, Type: "canceled", Amount: released, StatusBefore: before, StatusAfter: pi.Status, Code: reason}); err != nil {
			return err
		}
		if readerID, ok := s.processing[pi.ID]; ok {
			if _, err := t.finishAction(s.readers[readerID], actionFailed, "payment_intent_canceled", "The PaymentIntent was canceled."); err != nil {
				return err
			}
		}
		return s.intentAnswer(t, pi, exp, &out)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// getCharge: GET /v1/charges/{id}.
func (s *Server) getCharge(c *gin.Context, rs *reqState) (int, any, error) {
	if _, err := parseExpand(rs.p); err != nil {
		return 0, nil, err
	}
	if err := rs.p.done(); err != nil {
		return 0, nil, err
	}
	id := c.Param("id")
	ch, ok, err := loadCharge(c.Request.Context(), s.books.r, id)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, noSuch("charge", id, "id")
	}
	return http.StatusOK, renderCharge(ch), nil
}
