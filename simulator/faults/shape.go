package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// faultHeader marks responses the engine made up, naming the rule, to ease debugging.
const faultHeader = "X-Doorbuster-Fault"

// problem is an error answer independent of the target's shape.
type problem struct {
	status  int
	code    string // NetSuite o:errorCode / gateway error.code
	kind    string // gateway error.type; NetSuite ignores it
	message string
}

// writeProblem answers with p in the target's own error shape:
//
//	NetSuite: {"type": …, "title": "Too Many Requests", "status": 429,
//	           "o:errorDetails": [{"detail": …, "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED"}]}
//	gateway:  {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": …}}
func writeProblem(w http.ResponseWriter, t Target, rule string, p problem) {
	var body any
	h := w.Header()
	switch t {
	case Gateway:
		h.Set("Content-Type", "application/json")
		type gwErr struct {
			Type    string `json:"type"`
			Code    string `json:"code,omitempty"`
			Message string `json:"message"`
		}
		body = struct {
			Error gwErr `json:"error"`
		}{gwErr{p.kind, p.code, p.message}}
	default:
		h.Set("Content-Type", "application/vnd.oracle.resource+json; type=error")
		type detail struct {
			Detail string `json:"detail"`
			Code   string `json:"o:errorCode"`
		}
		body = struct {
			Type    string   `json:"type"`
			Title   string   `json:"title"`
			Status  int      `json:"status"`
			Details []detail `json:"o:errorDetails"`
		}{netsuiteErrorType(p.status), http.StatusText(p.status), p.status, []detail{{p.message, p.code}}}
	}
	b, err := json.Marshal(body)
	if err != nil { // cannot happen: plain structs of strings and ints
		b = []byte(`{}`)
	}
	h.Set(faultHeader, rule)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(p.status)
	_, _ = w.Write(b)
}

// netsuiteErrorType is the "type" link NetSuite puts in error bodies: the RFC 2616 section of
// the status (RFC 6585 for 429).
func netsuiteErrorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "https://tools.ietf.org/html/rfc6585#section-4"
	case status >= 400 && status <= 417:
		return fmt.Sprintf("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.%d", status-399)
	case status >= 500 && status <= 505:
		return fmt.Sprintf("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.%d", status-499)
	}
	return "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"
}
