package gateway

import (
	"slices"
	"time"
)

// PaymentIntent statuses (Stripe's).
const (
	statusRequiresPaymentMethod = "requires_payment_method"
	statusRequiresConfirmation  = "requires_confirmation"
	statusRequiresAction        = "requires_action"
	statusProcessing            = "processing"
	statusRequiresCapture       = "requires_capture"
	statusSucceeded             = "succeeded"
	statusCanceled              = "canceled"
)

// intentStatuses lists every status, for metrics.
var intentStatuses = [...]string{
	statusRequiresPaymentMethod, statusRequiresConfirmation, statusRequiresAction, statusProcessing,
	statusRequiresCapture, statusSucceeded, statusCanceled,
}

// The statuses each operation accepts, in the order Stripe lists them in its errors.
// The simulator authorises cards synchronously, so requires_action and processing are
// accepted where Stripe accepts them but never entered.
var (
	confirmableStatuses = []string{statusRequiresPaymentMethod, statusRequiresConfirmation, statusRequiresAction}
	capturableStatuses  = []string{statusRequiresCapture}
	cancelableStatuses  = []string{statusRequiresPaymentMethod, statusRequiresCapture, statusRequiresConfirmation, statusRequiresAction, statusProcessing}
	// Amount, currency, capture method and payment method can change until the intent
	// is authorised; metadata and description at any time.
	updatableStatuses = []string{statusRequiresPaymentMethod, statusRequiresConfirmation, statusRequiresAction}
	// A reader can collect a card for an intent that has none yet.
	processableStatuses = []string{statusRequiresPaymentMethod, statusRequiresConfirmation}
)

// legalTransitions is Stripe's PaymentIntent state machine (REFERENCE "Stripe-shaped
// gateway"); intent.setStatus refuses anything else.
//
//	requires_payment_method ─▶ requires_confirmation ─▶ requires_action | processing | requires_capture ─▶ succeeded
//	        ▲  (decline)                                        │                                           │
//	        └───────────────────────────────────────────────────┘      every status but succeeded ─▶ canceled
var legalTransitions = map[string][]string{
	statusRequiresPaymentMethod: {statusRequiresConfirmation, statusRequiresAction, statusProcessing, statusRequiresCapture, statusSucceeded, statusCanceled, statusRequiresPaymentMethod},
	statusRequiresConfirmation:  {statusRequiresPaymentMethod, statusRequiresAction, statusProcessing, statusRequiresCapture, statusSucceeded, statusCanceled},
	statusRequiresAction:        {statusRequiresPaymentMethod, statusRequiresConfirmation, statusProcessing, statusRequiresCapture, statusSucceeded, statusCanceled},
	statusProcessing:            {statusRequiresPaymentMethod, statusRequiresCapture, statusSucceeded, statusCanceled},
	statusRequiresCapture:       {statusSucceeded, statusCanceled},
	statusSucceeded:             {},
	statusCanceled:              {},
}

func legal(from, to string) bool { return slices.Contains(legalTransitions[from], to) }

// intent is a PaymentIntent as the books hold it. Amounts are in minor units.
type intent struct {
	Seq                int64
	ID                 string
	Amount             int64
	Currency           string
	Status             string
	CaptureMethod      string // automatic | automatic_async | manual
	PaymentMethodTypes []string
	PaymentMethod      string // pm_ id of the attached payment method, if any
	AmountCapturable   int64
	AmountReceived     int64 // captured
	AmountRefunded     int64
	LatestCharge       string
	ReaderID           string // the terminal reader that last processed it
	Description        string
	ReceiptEmail       string
	CancellationReason string
	LastPaymentError   *apiError
	Metadata           map[string]string
	ClientSecret       string
	Created            time.Time
	AuthorizedAt       time.Time // zero: never
	CapturedAt         time.Time
	CanceledAt         time.Time
	UpdatedAt          time.Time
}

// manualCapture reports whether an authorisation waits for a capture.
func (pi *intent) manualCapture() bool { return pi.CaptureMethod == "manual" }

// charge is one authorisation attempt (Stripe's Charge); failed attempts are kept too.
type charge struct {
	Seq            int64
	ID             string
	PaymentIntent  string
	Amount         int64
	AmountCaptured int64
	AmountRefunded int64
	Currency       string
	Status         string // succeeded | failed
	Captured       bool
	PaymentMethod  string
	PMType         string // card | card_present | interac_present
	Brand, Last4   string
	Funding        string
	FailureCode    string
	FailureMessage string
	DeclineCode    string
	ReaderID       string
	Created        time.Time
	CapturedAt     time.Time
	ReleasedAt     time.Time // an uncaptured authorisation was released by a cancel
}

// paymentMethod is a card the gateway has seen, under the pm_ id it gave it.
type paymentMethod struct {
	ID       string
	Type     string // card | card_present | interac_present
	Source   string // what it was made from: "pm_card_visa", "card", "reader"
	Number   string // the test card number behind it (test numbers only)
	Brand    string
	Last4    string
	Funding  string
	ExpMonth int
	ExpYear  int
	Created  time.Time
}

// refund is a refund of captured money.
type refund struct {
	Seq           int64
	ID            string
	PaymentIntent string
	Charge        string
	Amount        int64
	Currency      string
	Reason        string
	Status        string
	Metadata      map[string]string
	Created       time.Time
}

// Refund reasons and cancellation reasons Stripe accepts.
var (
	refundReasons       = []string{"duplicate", "fraudulent", "requested_by_customer"}
	cancellationReasons = []string{"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
	paymentMethodTypes  = []string{"card", "card_present", "interac_present"}
	captureMethods      = []string{"automatic", "automatic_async", "manual"}
)
