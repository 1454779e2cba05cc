package faults

import (
	"net/http"
	"strconv"
)

// Malformed answers 200 with a JSON body cut short, shaped like the target's usual answers
// (a NetSuite collection, a gateway payment intent), without running the simulator's handler.
// The HTTP message itself is well formed (its Content-Length matches); the JSON is not.
//
//	malformed: {}
type Malformed struct{}

var _ Effect = (*Malformed)(nil)

// Name returns "malformed".
func (*Malformed) Name() string { return "malformed" }

// truncated bodies per target: valid prefixes of plausible answers, cut mid-value.
const (
	truncatedNetSuite = `{"links":[{"rel":"self","href":"/services/rest/query/v1/suiteql"}],"count":1,"hasMore":false,"items":[{"links":[],"id":"1`
	truncatedGateway  = `{"id":"pi_3Q","object":"payment_intent","amount":1099,"currency":"usd","status":"succ`
)

// Apply writes the truncated body.
func (*Malformed) Apply(x *Exchange) {
	body := truncatedNetSuite
	if x.Target == Gateway {
		body = truncatedGateway
	}
	h := x.W.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set(faultHeader, x.Rule)
	x.W.WriteHeader(http.StatusOK)
	_, _ = x.W.Write([]byte(body))
}
