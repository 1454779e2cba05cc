package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stripe/stripe-go/v82"
)

// newStripeClient is the real stripe-go SDK pointed at the simulator. rt, when non-nil,
// wraps the HTTP transport; retries is the SDK's MaxNetworkRetries.
func newStripeClient(t *testing.T, baseURL, key string, retries int64, rt func(http.RoundTripper) http.RoundTripper) *stripe.Client {
	t.Helper()
	transport := http.DefaultTransport
	if rt != nil {
		transport = rt(transport)
	}
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:               stripe.String(baseURL),
		HTTPClient:        &http.Client{Transport: transport},
		MaxNetworkRetries: stripe.Int64(retries),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	if impl, ok := backend.(*stripe.BackendImplementation); ok {
		impl.SetNetworkRetriesSleep(false) // no back-off pauses in tests
	}
	return stripe.NewClient(key, stripe.WithBackends(&stripe.Backends{API: backend, Connect: backend, Uploads: backend, MeterEvents: backend}))
}

func TestStripeGoSDK(t *testing.T) {
	h := newHarness(t)
	sc := newStripeClient(t, h.http.URL, testKey, 0, nil)
	ctx := context.Background()

	// Create, confirm, partial capture, refund.
	pi, err := sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{
		Amount: stripe.Int64(4200), Currency: stripe.String(string(stripe.CurrencyUSD)),
		CaptureMethod:      stripe.String(string(stripe.PaymentIntentCaptureMethodManual)),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		Metadata:           map[string]string{"pos_tx": "S001-R01-000001", "store": "1"},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if pi.Status != stripe.PaymentIntentStatusRequiresPaymentMethod || pi.Amount != 4200 || pi.Metadata["pos_tx"] != "S001-R01-000001" {
		t.Fatalf("created: %+v", pi)
	}
	pi, err = sc.V1PaymentIntents.Confirm(ctx, pi.ID, &stripe.PaymentIntentConfirmParams{PaymentMethod: stripe.String("pm_card_visa")})
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if pi.Status != stripe.PaymentIntentStatusRequiresCapture || pi.AmountCapturable != 4200 || pi.PaymentMethod == nil || pi.LatestCharge == nil {
		t.Fatalf("confirmed: %+v", pi)
	}
	pi, err = sc.V1PaymentIntents.Capture(ctx, pi.ID, &stripe.PaymentIntentCaptureParams{AmountToCapture: stripe.Int64(4000)})
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	if pi.Status != stripe.PaymentIntentStatusSucceeded || pi.AmountReceived != 4000 {
		t.Fatalf("captured: %+v", pi)
	}
	re, err := sc.V1Refunds.Create(ctx, &stripe.RefundCreateParams{
		PaymentIntent: stripe.String(pi.ID), Amount: stripe.Int64(1500), Reason: stripe.String("requested_by_customer"),
		Metadata: map[string]string{"pos_tx": "S001-R01-000002"},
	})
	if err != nil {
		t.Fatalf("refund: %v", err)
	}
	if re.Status != stripe.RefundStatusSucceeded || re.Amount != 1500 || re.PaymentIntent.ID != pi.ID || re.Charge.ID != pi.LatestCharge.ID {
		t.Fatalf("refund: %+v", re)
	}
	got, err := sc.V1Refunds.Retrieve(ctx, re.ID, nil)
	if err != nil || got.Amount != 1500 {
		t.Fatalf("retrieve refund: %v %+v", err, got)
	}
	// More than is left is refused, as a typed invalid_request_error.
	_, err = sc.V1Refunds.Create(ctx, &stripe.RefundCreateParams{PaymentIntent: stripe.String(pi.ID), Amount: stripe.Int64(2501)})
	var se *stripe.Error
	if !errors.As(err, &se) || se.Type != stripe.ErrorTypeInvalidRequest || se.Code != stripe.ErrorCodeAmountTooLarge || se.Param != "amount" {
		t.Fatalf("over-refund: %v", err)
	}

	// A decline surfaces as a card_error with its decline code and the intent.
	_, err = sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{
		Amount: stripe.Int64(1000), Currency: stripe.String("usd"),
		PaymentMethod: stripe.String("pm_card_visa_chargeDeclinedInsufficientFunds"), Confirm: stripe.Bool(true),
	})
	if !errors.As(err, &se) {
		t.Fatalf("decline: %T %v, want *stripe.Error", err, err)
	}
	if se.Type != stripe.ErrorTypeCard || se.Code != stripe.ErrorCodeCardDeclined || se.DeclineCode != stripe.DeclineCodeInsufficientFunds ||
		se.HTTPStatusCode != http.StatusPaymentRequired || se.PaymentIntent == nil || se.PaymentIntent.Status != stripe.PaymentIntentStatusRequiresPaymentMethod {
		t.Fatalf("decline: %+v", se)
	}
	var ce *stripe.CardError
	if !errors.As(se.Err, &ce) || ce.DeclineCode != stripe.DeclineCodeInsufficientFunds {
		t.Errorf("decline is not a *stripe.CardError: %T", se.Err)
	}
	if se.PaymentIntent.LastPaymentError == nil || se.PaymentIntent.LastPaymentError.DeclineCode != stripe.DeclineCodeInsufficientFunds {
		t.Errorf("last_payment_error: %+v", se.PaymentIntent.LastPaymentError)
	}

	// An idempotent retry returns the same intent.
	create := func() *stripe.PaymentIntent {
		p := &stripe.PaymentIntentCreateParams{
			Amount: stripe.Int64(777), Currency: stripe.String("usd"), PaymentMethod: stripe.String("pm_card_visa"),
			Confirm: stripe.Bool(true), Metadata: map[string]string{"pos_tx": "S001-R01-000003"},
		}
		p.SetIdempotencyKey("pos-S001-R01-000003-auth")
		pi, err := sc.V1PaymentIntents.Create(ctx, p)
		if err != nil {
			t.Fatalf("idempotent create: %v", err)
		}
		return pi
	}
	a, b := create(), create()
	if a.ID != b.ID || b.LastResponse.Header.Get("Idempotent-Replayed") != "true" || b.LastResponse.IdempotencyKey != "pos-S001-R01-000003-auth" {
		t.Fatalf("idempotent retry: %s then %s (replayed %q)", a.ID, b.ID, b.LastResponse.Header.Get("Idempotent-Replayed"))
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM payment_intents WHERE pos_tx = 'S001-R01-000003'`); n != 1 {
		t.Errorf("%d intents for one idempotent sale", n)
	}

	// Retrieve, list and cancel.
	open, err := sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{Amount: stripe.Int64(500), Currency: stripe.String("usd")})
	if err != nil {
		t.Fatal(err)
	}
	open, err = sc.V1PaymentIntents.Cancel(ctx, open.ID, &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("abandoned")})
	if err != nil || open.Status != stripe.PaymentIntentStatusCanceled {
		t.Fatalf("cancel: %v %+v", err, open)
	}
	_, err = sc.V1PaymentIntents.Capture(ctx, open.ID, nil)
	if !errors.As(err, &se) || se.Code != stripe.ErrorCodePaymentIntentUnexpectedState {
		t.Fatalf("capture of a canceled intent: %v", err)
	}
	n := 0
	for p, err := range sc.V1PaymentIntents.List(ctx, &stripe.PaymentIntentListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(2)}}) {
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		if p.ID == "" {
			t.Errorf("listed intent without id")
		}
		n++
	}
	if want := h.queryInt(`SELECT COUNT(*) FROM payment_intents`); int64(n) != want {
		t.Errorf("listed %d intents over pages of 2, books hold %d", n, want)
	}

	// Card present, through the SDK's terminal services.
	cp, err := sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{
		Amount: stripe.Int64(1250), Currency: stripe.String("usd"), CaptureMethod: stripe.String("manual"),
		PaymentMethodTypes: stripe.StringSlice([]string{"card_present"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := sc.V1TerminalReaders.ProcessPaymentIntent(ctx, "tmr_S002R01", &stripe.TerminalReaderProcessPaymentIntentParams{PaymentIntent: stripe.String(cp.ID)})
	if err != nil || rd.Action == nil || rd.Action.Status != stripe.TerminalReaderActionStatusInProgress || rd.Action.ProcessPaymentIntent.PaymentIntent.ID != cp.ID {
		t.Fatalf("process_payment_intent: %v %+v", err, rd)
	}
	rd, err = sc.V1TestHelpersTerminalReaders.PresentPaymentMethod(ctx, "tmr_S002R01", &stripe.TestHelpersTerminalReaderPresentPaymentMethodParams{
		CardPresent: &stripe.TestHelpersTerminalReaderPresentPaymentMethodCardPresentParams{Number: stripe.String("4242424242424242")},
	})
	if err != nil || rd.Action.Status != stripe.TerminalReaderActionStatusSucceeded || rd.Location.ID != "tml_2" {
		t.Fatalf("present_payment_method: %v %+v", err, rd)
	}
	cp, err = sc.V1PaymentIntents.Retrieve(ctx, cp.ID, nil)
	if err != nil || cp.Status != stripe.PaymentIntentStatusRequiresCapture {
		t.Fatalf("card-present intent: %v %+v", err, cp)
	}

	// A wrong key is an authentication error.
	_, err = newStripeClient(t, h.http.URL, "sk_test_not_the_key_1234", 0, nil).V1PaymentIntents.Retrieve(ctx, cp.ID, nil)
	if !errors.As(err, &se) || se.HTTPStatusCode != http.StatusUnauthorized || se.Type != stripe.ErrorTypeInvalidRequest {
		t.Fatalf("wrong key: %v", err)
	}
}

// loseFirstResponse lets the first POST reach the server, reads its answer and throws
// it away, returning a network error: the SDK must retry with the same Idempotency-Key.
type loseFirstResponse struct {
	next http.RoundTripper
	lost atomic.Bool
	keys []string
}

func (l *loseFirstResponse) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost {
		l.keys = append(l.keys, req.Header.Get("Idempotency-Key"))
	}
	resp, err := l.next.RoundTrip(req)
	if err == nil && req.Method == http.MethodPost && l.lost.CompareAndSwap(false, true) {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errors.New("connection reset by peer (simulated)")
	}
	return resp, err
}

// TestStripeGoRetryAfterLostResponse: the SDK's automatic Idempotency-Key makes its own
// retry of a lost answer safe; the books hold one intent, the SDK sees it once.
func TestStripeGoRetryAfterLostResponse(t *testing.T) {
	h := newHarness(t)
	lossy := &loseFirstResponse{}
	sc := newStripeClient(t, h.http.URL, testKey, 2, func(next http.RoundTripper) http.RoundTripper {
		lossy.next = next
		return lossy
	})
	pi, err := sc.V1PaymentIntents.Create(context.Background(), &stripe.PaymentIntentCreateParams{
		Amount: stripe.Int64(1000), Currency: stripe.String("usd"), PaymentMethod: stripe.String("pm_card_visa"), Confirm: stripe.Bool(true),
	})
	if err != nil {
		t.Fatalf("create with a lost first answer: %v", err)
	}
	if len(lossy.keys) != 2 || lossy.keys[0] == "" || lossy.keys[0] != lossy.keys[1] {
		t.Fatalf("SDK sent keys %q, want the same key twice", lossy.keys)
	}
	if pi.LastResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry was not a replay")
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM payment_intents`); n != 1 {
		t.Errorf("%d intents, want 1", n)
	}
	if n := h.queryInt(`SELECT COUNT(*) FROM charges`); n != 1 {
		t.Errorf("%d charges, want 1", n)
	}
}
