package gateway

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// createRefund: POST /v1/refunds. The refund is of a payment_intent or a charge; its amount
// defaults to what is left to refund, and can never exceed captured minus already refunded.
// Card refunds succeed at once.
func (s *Server) createRefund(c *gin.Context, rs *reqState) (int, any, error) {
	p := rs.p
	intentID, _, err := p.str("payment_intent")
	if err != nil {
		return 0, nil, err
	}
	chargeID, _, err := p.str("charge")
	if err != nil {
		return 0, nil, err
	}
	if intentID == "" && chargeID == "" {
		return 0, nil, missingParam("payment_intent")
	}
	amount, amountGiven, err := p.integer("amount")
	if err != nil {
		return 0, nil, err
	}
	if amountGiven && amount <= 0 {
		return 0, nil, invalidParam("amount", "Invalid amount: a refund's amount must be a positive integer (minor units).")
	}
	reason, _, err := readOneOf(p, "reason", refundReasons)
	if err != nil {
		return 0, nil, err
	}
	metadata, _, err := readMetadata(p)
	if err != nil {
		return 0, nil, err
	}
	if _, err := parseExpand(p); err != nil {
		return 0, nil, err
	}
	if err := p.done(); err != nil {
		return 0, nil, err
	}

	var out any
	err = s.mutate(c.Request.Context(), rs, "create refund", func(t *txn) error {
		var ch *charge
		if chargeID != "" {
			var ok bool
			var err error
			if ch, ok, err = loadCharge(t.ctx, t.Tx, chargeID); err != nil {
				return err
			}
			if !ok {
				e := noSuch("charge", chargeID, "charge")
				e.status = http.StatusBadRequest
				return e
			}
			if intentID != "" && intentID != ch.PaymentIntent {
				return invalidRequest("", "charge", fmt.Sprintf("Charge %s does not belong to PaymentIntent %s.", chargeID, intentID))
			}
			intentID = ch.PaymentIntent
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
		if ch == nil && pi.LatestCharge != "" {
			if ch, _, err = loadCharge(t.ctx, t.Tx, pi.LatestCharge); err != nil {
				return err
			}
		}
		if ch == nil || !ch.Captured || pi.AmountReceived == 0 {
			return invalidRequest("charge_not_refundable", "", fmt.Sprintf(
				"This PaymentIntent (%s) does not have a successful, captured charge to refund (status %s).", pi.ID, pi.Status))
		}
		remaining := ch.AmountCaptured - ch.AmountRefunded
		if remaining <= 0 {
			return invalidRequest("charge_already_refunded", "", fmt.Sprintf("Charge %s has already been refunded.", ch.ID))
		}
		if !amountGiven {
			amount = remaining
		}
		if amount > remaining {
			return invalidRequest("amount_too_large", "amount", fmt.Sprintf(
				"Refund amount (%d %s) is greater than unrefunded amount on charge (%d %s).", amount, pi.Currency, remaining, pi.Currency))
		}
		re := &refund{
			ID: s.newID("re"), PaymentIntent: pi.ID, Charge: ch.ID, Amount: amount, Currency: pi.Currency,
			Reason: reason, Status: "succeeded", Metadata: nonNil(metadata), Created: t.now,
		}
		if err := insertRefund(t.ctx, t.Tx, re); err != nil {
			return err
		}
		ch.AmountRefunded += amount
		if err := saveCharge(t.ctx, t.Tx, ch); err != nil {
			return err
		}
		pi.AmountRefunded += amount
		pi.UpdatedAt = t.now
		if err := saveIntent(t.ctx, t.Tx, pi); err != nil {
			return err
		}
		if err := t.event(event{Intent: pi.ID, Type: "refunded", Amount: amount, StatusBefore: pi.Status, StatusAfter: pi.Status, ObjectID: re.ID, Code: reason}); err != nil {
			return err
		}
		t.after = append(t.after, func() {
			s.m.refunds.Inc()
			s.m.refunded.Add(float64(amount))
		})
		out = renderRefund(re)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// getRefund: GET /v1/refunds/{id}.
func (s *Server) getRefund(c *gin.Context, rs *reqState) (int, any, error) {
	if _, err := parseExpand(rs.p); err != nil {
		return 0, nil, err
	}
	if err := rs.p.done(); err != nil {
		return 0, nil, err
	}
	id := c.Param("id")
	re, ok, err := loadRefund(c.Request.Context(), s.books.r, id)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, noSuch("refund", id, "refund")
	}
	return http.StatusOK, renderRefund(re), nil
}
