package gateway

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// The JSON objects the gateway answers with, field for field a subset of Stripe's.

type intentJSON struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Amount             int64             `json:"amount"`
	AmountCapturable   int64             `json:"amount_capturable"`
	AmountReceived     int64             `json:"amount_received"`
	CanceledAt         *int64            `json:"canceled_at"`
	CancellationReason *string           `json:"cancellation_reason"`
	CaptureMethod      string            `json:"capture_method"`
	ClientSecret       string            `json:"client_secret"`
	ConfirmationMethod string            `json:"confirmation_method"`
	Created            int64             `json:"created"`
	Currency           string            `json:"currency"`
	Customer           *string           `json:"customer"`
	Description        *string           `json:"description"`
	LastPaymentError   *apiError         `json:"last_payment_error"`
	LatestCharge       any               `json:"latest_charge"` // id, expanded charge, or null
	Livemode           bool              `json:"livemode"`
	Metadata           map[string]string `json:"metadata"`
	NextAction         *struct{}         `json:"next_action"`
	PaymentMethod      any               `json:"payment_method"` // id, expanded payment method, or null
	PaymentMethodTypes []string          `json:"payment_method_types"`
	Processing         *struct{}         `json:"processing"`
	ReceiptEmail       *string           `json:"receipt_email"`
	Status             string            `json:"status"`
}

type cardDetailsJSON struct {
	Brand    string `json:"brand"`
	Last4    string `json:"last4"`
	Funding  string `json:"funding"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	Country  string `json:"country"`
}

type paymentMethodJSON struct {
	ID          string            `json:"id"`
	Object      string            `json:"object"`
	Type        string            `json:"type"`
	Card        *cardDetailsJSON  `json:"card,omitempty"`
	CardPresent *cardDetailsJSON  `json:"card_present,omitempty"`
	Interac     *cardDetailsJSON  `json:"interac_present,omitempty"`
	Created     int64             `json:"created"`
	Customer    *string           `json:"customer"`
	Livemode    bool              `json:"livemode"`
	Metadata    map[string]string `json:"metadata"`
}

type chargeOutcomeJSON struct {
	NetworkStatus string  `json:"network_status"`
	Reason        *string `json:"reason"`
	RiskLevel     string  `json:"risk_level"`
	SellerMessage string  `json:"seller_message"`
	Type          string  `json:"type"`
}

type chargeJSON struct {
	ID                   string            `json:"id"`
	Object               string            `json:"object"`
	Amount               int64             `json:"amount"`
	AmountCaptured       int64             `json:"amount_captured"`
	AmountRefunded       int64             `json:"amount_refunded"`
	Captured             bool              `json:"captured"`
	Created              int64             `json:"created"`
	Currency             string            `json:"currency"`
	FailureCode          *string           `json:"failure_code"`
	FailureMessage       *string           `json:"failure_message"`
	Livemode             bool              `json:"livemode"`
	Metadata             map[string]string `json:"metadata"`
	Outcome              chargeOutcomeJSON `json:"outcome"`
	Paid                 bool              `json:"paid"`
	PaymentIntent        string            `json:"payment_intent"`
	PaymentMethod        *string           `json:"payment_method"`
	PaymentMethodDetails map[string]any    `json:"payment_method_details"`
	Refunded             bool              `json:"refunded"`
	Status               string            `json:"status"`
}

type refundJSON struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Amount             int64             `json:"amount"`
	BalanceTransaction *string           `json:"balance_transaction"`
	Charge             string            `json:"charge"`
	Created            int64             `json:"created"`
	Currency           string            `json:"currency"`
	Metadata           map[string]string `json:"metadata"`
	PaymentIntent      string            `json:"payment_intent"`
	Reason             *string           `json:"reason"`
	Status             string            `json:"status"`
}

type processPaymentIntentJSON struct {
	PaymentIntent string `json:"payment_intent"`
}

type readerActionJSON struct {
	Type                 string                    `json:"type"`
	Status               string                    `json:"status"`
	FailureCode          *string                   `json:"failure_code"`
	FailureMessage       *string                   `json:"failure_message"`
	ProcessPaymentIntent *processPaymentIntentJSON `json:"process_payment_intent,omitempty"`
}

type readerJSON struct {
	ID              string            `json:"id"`
	Object          string            `json:"object"`
	Action          *readerActionJSON `json:"action"`
	DeviceSwVersion string            `json:"device_sw_version"`
	DeviceType      string            `json:"device_type"`
	IPAddress       string            `json:"ip_address"`
	Label           string            `json:"label"`
	LastSeenAt      int64             `json:"last_seen_at"`
	Livemode        bool              `json:"livemode"`
	Location        string            `json:"location"`
	Metadata        map[string]string `json:"metadata"`
	SerialNumber    string            `json:"serial_number"`
	Status          string            `json:"status"`
}

type listJSON struct {
	Object  string `json:"object"`
	Data    []any  `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optUnix(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	u := t.Unix()
	return &u
}

// expansion is the set of fields an expand[] parameter asked for.
type expansion map[string]bool

// parseExpand reads expand[] and refuses fields outside allowed.
func parseExpand(p *params, allowed ...string) (expansion, error) {
	list, _, err := p.strings("expand")
	if err != nil {
		return nil, err
	}
	exp := expansion{}
	for i, f := range list {
		if !slices.Contains(allowed, f) {
			return nil, invalidParam(fmt.Sprintf("expand[%d]", i), "This property cannot be expanded ("+truncate(f, 60)+").")
		}
		exp[f] = true
	}
	return exp, nil
}

// inList turns a list's "data.x" expansions into the item's "x".
func (e expansion) inList() expansion {
	out := expansion{}
	for f := range e {
		if len(f) > 5 && f[:5] == "data." {
			out[f[5:]] = true
		}
	}
	return out
}

func (s *Server) renderIntent(ctx context.Context, q querier, pi *intent, exp expansion) (*intentJSON, error) {
	out := &intentJSON{
		ID: pi.ID, Object: "payment_intent", Amount: pi.Amount, AmountCapturable: pi.AmountCapturable,
		AmountReceived: pi.AmountReceived, CanceledAt: optUnix(pi.CanceledAt),
		CancellationReason: optString(pi.CancellationReason), CaptureMethod: pi.CaptureMethod,
		ClientSecret: pi.ClientSecret, ConfirmationMethod: "automatic", Created: pi.Created.Unix(),
		Currency: pi.Currency, Description: optString(pi.Description), LastPaymentError: pi.LastPaymentError,
		Metadata: nonNil(pi.Metadata), PaymentMethodTypes: pi.PaymentMethodTypes,
		ReceiptEmail: optString(pi.ReceiptEmail), Status: pi.Status,
	}
	if pi.LatestCharge != "" {
		out.LatestCharge = pi.LatestCharge
		if exp["latest_charge"] {
			ch, ok, err := loadCharge(ctx, q, pi.LatestCharge)
			if err != nil {
				return nil, err
			}
			if ok {
				out.LatestCharge = renderCharge(ch)
			}
		}
	}
	if pi.PaymentMethod != "" {
		out.PaymentMethod = pi.PaymentMethod
		if exp["payment_method"] {
			pm, ok, err := loadPaymentMethod(ctx, q, pi.PaymentMethod)
			if err != nil {
				return nil, err
			}
			if ok {
				out.PaymentMethod = renderPaymentMethod(pm)
			}
		}
	}
	return out, nil
}

func renderPaymentMethod(pm *paymentMethod) *paymentMethodJSON {
	details := &cardDetailsJSON{Brand: pm.Brand, Last4: pm.Last4, Funding: pm.Funding, ExpMonth: pm.ExpMonth, ExpYear: pm.ExpYear, Country: "US"}
	out := &paymentMethodJSON{ID: pm.ID, Object: "payment_method", Type: pm.Type, Created: pm.Created.Unix(), Metadata: map[string]string{}}
	switch pm.Type {
	case "card_present":
		out.CardPresent = details
	case "interac_present":
		out.Interac = details
	default:
		out.Card = details
	}
	return out
}

func renderCharge(ch *charge) *chargeJSON {
	out := &chargeJSON{
		ID: ch.ID, Object: "charge", Amount: ch.Amount, AmountCaptured: ch.AmountCaptured,
		AmountRefunded: ch.AmountRefunded, Captured: ch.Captured, Created: ch.Created.Unix(), Currency: ch.Currency,
		FailureCode: optString(ch.FailureCode), FailureMessage: optString(ch.FailureMessage), Metadata: map[string]string{},
		Paid: ch.Status == "succeeded", PaymentIntent: ch.PaymentIntent, PaymentMethod: optString(ch.PaymentMethod),
		Refunded: ch.AmountCaptured > 0 && ch.AmountRefunded == ch.AmountCaptured, Status: ch.Status,
		PaymentMethodDetails: map[string]any{
			"type":    ch.PMType,
			ch.PMType: map[string]string{"brand": ch.Brand, "last4": ch.Last4, "funding": ch.Funding},
		},
	}
	if ch.Status == "succeeded" {
		out.Outcome = chargeOutcomeJSON{NetworkStatus: "approved_by_network", RiskLevel: "normal", SellerMessage: "Payment complete.", Type: "authorized"}
	} else {
		out.Outcome = chargeOutcomeJSON{NetworkStatus: "declined_by_network", Reason: optString(ch.DeclineCode), RiskLevel: "normal",
			SellerMessage: "The bank did not return any further details with this decline.", Type: "issuer_declined"}
	}
	return out
}

func renderRefund(re *refund) *refundJSON {
	return &refundJSON{
		ID: re.ID, Object: "refund", Amount: re.Amount, Charge: re.Charge, Created: re.Created.Unix(),
		Currency: re.Currency, Metadata: nonNil(re.Metadata), PaymentIntent: re.PaymentIntent,
		Reason: optString(re.Reason), Status: re.Status,
	}
}
