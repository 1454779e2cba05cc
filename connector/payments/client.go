// Package payments is the connector's client for the Stripe-shaped card payment gateway:
// it makes refunds on captured payment intents, form-encoded with a bearer key and an
// Idempotency-Key, as Stripe's API expects.
package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to one gateway. It is safe for concurrent use.
type Client struct {
	base *url.URL
	key  string
	http *http.Client
}

// New returns a client for the gateway at baseURL (the root that /v1/... hangs off)
// authenticating with the secret key. hc nil means http.DefaultClient.
func New(baseURL, key string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("payments: base URL %q is not an absolute URL", baseURL)
	}
	if key == "" {
		return nil, fmt.Errorf("payments: the API key is empty")
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: u, key: key, http: hc}, nil
}

// Refund is the gateway's refund object (the fields the connector uses).
type Refund struct {
	ID            string `json:"id"`
	Object        string `json:"object"`
	Amount        int64  `json:"amount"`
	PaymentIntent string `json:"payment_intent"`
	Status        string `json:"status"`
}

// RefundParams asks for a refund of Amount cents of a payment intent.
type RefundParams struct {
	PaymentIntent  string
	Amount         int64
	Reason         string            // e.g. "requested_by_customer"; empty = none
	Metadata       map[string]string // sent as metadata[k]=v
	IdempotencyKey string            // empty sends no Idempotency-Key header
}

// Error is a reply outside 2xx, in Stripe's error shape when the server sent one.
type Error struct {
	Status      int
	Type        string // api_error, card_error, idempotency_error, invalid_request_error, …
	Code        string
	Message     string
	Param       string
	Body        []byte
	RetryAfter  time.Duration
	ShouldRetry *bool // the Stripe-Should-Retry header, when sent
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("payments: refund: %d", e.Status)
	if e.Type != "" {
		msg += " " + e.Type
	}
	if e.Code != "" {
		msg += "/" + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Type == "" && e.Message == "" && len(e.Body) > 0 {
		b := string(e.Body)
		if len(b) > 300 {
			b = b[:300] + "…"
		}
		msg += ": " + b
	}
	return msg
}

// MalformedError is a 2xx reply that is not a refund.
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string { return "payments: refund: malformed reply: " + e.Err.Error() }
func (e *MalformedError) Unwrap() error { return e.Err }

// CreateRefund makes (or, with the same idempotency key, replays) a refund.
func (c *Client) CreateRefund(ctx context.Context, p RefundParams) (*Refund, error) {
	if p.PaymentIntent == "" || p.Amount <= 0 {
		return nil, fmt.Errorf("payments: refund needs a payment intent and a positive amount (got %q, %d)", p.PaymentIntent, p.Amount)
	}
	form := url.Values{"payment_intent": {p.PaymentIntent}, "amount": {strconv.FormatInt(p.Amount, 10)}}
	if p.Reason != "" {
		form.Set("reason", p.Reason)
	}
	for k, v := range p.Metadata {
		form.Set("metadata["+k+"]", v)
	}
	u := *c.base
	u.Path += "/v1/refunds"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("payments: refund: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", p.IdempotencyKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("payments: refund %s: %w", p.PaymentIntent, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("payments: refund %s: read reply: %w", p.PaymentIntent, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode, Body: b}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		if v := resp.Header.Get("Stripe-Should-Retry"); v != "" {
			r := v == "true"
			e.ShouldRetry = &r
		}
		var eb struct {
			Error struct{ Type, Code, Message, Param string }
		}
		if json.Unmarshal(b, &eb) == nil {
			e.Type, e.Code, e.Message, e.Param = eb.Error.Type, eb.Error.Code, eb.Error.Message, eb.Error.Param
		}
		return nil, e
	}
	var r Refund
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, &MalformedError{Err: err}
	}
	if r.ID == "" {
		return nil, &MalformedError{Err: fmt.Errorf("no refund id in %q", string(b))}
	}
	return &r, nil
}
