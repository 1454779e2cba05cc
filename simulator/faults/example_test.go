package faults_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/doorbuster/doorbuster/simulator/faults"
	"github.com/gin-gonic/gin"
)

// A simulator puts the engine's middleware in front of its API and serves its admin routes.
func Example() {
	rules, err := faults.ParseRules([]byte(`
rules:
  - name: gateway-throttled
    target: gateway
    match: {method: POST, path: "/v1/payment_intents/**"}
    effect: {throttle: {retryAfter: 2s}}
  - name: slow-suiteql
    target: netsuite
    effect: {latency: {median: 200ms, sigma: 0.5, max: 2s}}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	engine := faults.New(faults.Gateway, 42)
	if err := engine.Replace(faults.ForTarget(rules, faults.Gateway)); err != nil {
		fmt.Println(err)
		return
	}

	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	g.Use(engine.Middleware())
	engine.RegisterAdmin(g)
	g.POST("/v1/payment_intents/:id/confirm", func(c *gin.Context) { c.JSON(200, gin.H{"status": "succeeded"}) })

	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/payment_intents/pi_1/confirm", nil))
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"))
	fmt.Println(rec.Body.String())
	// Output:
	// 429 2
	// {"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."}}
}

func ExampleParseRules_error() {
	_, err := faults.ParseRules([]byte(`
- name: slow
  target: netsuite
  effect: {latency: {median: 200}}
`))
	fmt.Println(err)
	// Output:
	// invalid fault rules: rules[0].effect.latency.median: must be a duration like "200ms", not a number (line 4, column 30)
}
