package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/simulator/gateway"
)

// A connector authorises a card sale with manual capture, as it would against Stripe.
func Example() {
	world := &fixtures.World{
		Currency:  "USD",
		Gateway:   fixtures.GatewayKeys{SecretKey: "sk_test_example_0000000000"},
		Registers: []fixtures.Register{{ID: "S001-R01", LocationID: "1", ReaderID: "tmr_S001R01"}},
	}
	srv, err := gateway.New(world, gateway.Config{Seed: 1})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	form := url.Values{
		"amount": {"1999"}, "currency": {"usd"}, "capture_method": {"manual"},
		"payment_method": {"pm_card_visa"}, "confirm": {"true"}, "metadata[pos_tx]": {"S001-R01-000001"},
	}
	req, _ := http.NewRequest("POST", hs.URL+"/v1/payment_intents", strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer "+world.Gateway.SecretKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", "S001-R01-000001-auth")
	resp, err := hs.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var pi struct {
		Status           string `json:"status"`
		AmountCapturable int64  `json:"amount_capturable"`
		Metadata         map[string]string
	}
	if err := json.NewDecoder(resp.Body).Decode(&pi); err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, pi.Status, pi.AmountCapturable, pi.Metadata["pos_tx"])
	// Output: 200 requires_capture 1999 S001-R01-000001
}
