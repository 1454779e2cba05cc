package gateway

import (
	"fmt"
	"net/http"
	"strings"
)

// Stripe's error types.
const (
	errAPI            = "api_error"
	errCard           = "card_error"
	errIdempotency    = "idempotency_error"
	errInvalidRequest = "invalid_request_error"
)

// apiError is an error answer in Stripe's shape:
//
//	HTTP/1.1 402 Payment Required
//	{"error": {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
//	           "message": "Your card has insufficient funds.", "charge": "ch_…",
//	           "payment_intent": {…}, "payment_method": {…}, "doc_url": "…"}}
type apiError struct {
	Type          string             `json:"type"`
	Code          string             `json:"code,omitempty"`
	DeclineCode   string             `json:"decline_code,omitempty"`
	Message       string             `json:"message"`
	Param         string             `json:"param,omitempty"`
	DocURL        string             `json:"doc_url,omitempty"`
	Charge        string             `json:"charge,omitempty"`
	PaymentIntent *intentJSON        `json:"payment_intent,omitempty"`
	PaymentMethod *paymentMethodJSON `json:"payment_method,omitempty"`

	status int // HTTP status
	// validation marks an error found before the endpoint began its work (a malformed,
	// missing or unknown parameter): Stripe saves no idempotent result for those.
	validation bool
	// commit marks an error raised after the books changed (a decline is recorded):
	// the transaction commits, then the error is the answer.
	commit bool
	// shouldRetry, when set, is sent as the Stripe-Should-Retry header.
	shouldRetry string
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.status, e.Type)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.DeclineCode != "" {
		b.WriteString("/" + e.DeclineCode)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// errorBody is the JSON body of an error answer.
type errorBody struct {
	Error *apiError `json:"error"`
}

func docURL(code string) string {
	if code == "" {
		return ""
	}
	return "https://docs.stripe.com/error-codes/" + strings.ReplaceAll(code, "_", "-")
}

// invalidParam is a 400 about one parameter, found while validating the request.
func invalidParam(param, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: errInvalidRequest, Param: param, Message: msg, validation: true}
}

func missingParam(param string) *apiError {
	e := invalidParam(param, "Missing required param: "+param+".")
	e.Code = "parameter_missing"
	e.DocURL = docURL(e.Code)
	return e
}

// invalidRequest is a 400 raised while the endpoint works (saved under an Idempotency-Key).
func invalidRequest(code, param, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: errInvalidRequest, Code: code, Param: param, Message: msg, DocURL: docURL(code)}
}

// noSuch is a 404 for an object that does not exist.
func noSuch(object, id, param string) *apiError {
	return &apiError{
		status: http.StatusNotFound, Type: errInvalidRequest, Code: "resource_missing", Param: param,
		Message: fmt.Sprintf("No such %s: '%s'", object, id), DocURL: docURL("resource_missing"),
	}
}

// unexpectedState is a 400 for an operation the intent's status does not allow.
//
//	You cannot capture this PaymentIntent because it has a status of requires_payment_method.
//	Only a PaymentIntent with one of the following statuses may be captured: requires_capture.
func unexpectedState(status, verb, past string, allowed []string) *apiError {
	return &apiError{
		status: http.StatusBadRequest, Type: errInvalidRequest, Code: "payment_intent_unexpected_state",
		Message: fmt.Sprintf("You cannot %s this PaymentIntent because it has a status of %s. Only a PaymentIntent with one of the following statuses may be %s: %s.",
			verb, status, past, strings.Join(allowed, ", ")),
		DocURL: docURL("payment_intent_unexpected_state"),
	}
}

// internalError is a 500 api_error; err is logged, not shown.
func internalError(requestID string) *apiError {
	return &apiError{
		status: http.StatusInternalServerError, Type: errAPI,
		Message: "An unknown error occurred (request " + requestID + "). The gateway simulator logged the cause.",
	}
}
