package contract

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// The JSON names the POS contract fixes (issue 4): any client written from that list
// must agree with these types. Extra fields may be added; none of these may be renamed.
// This test pins the names independently of the Go types and the OpenAPI document, so
// renaming a field in both still fails here.
func TestJSONFieldNamesAreTheContract(t *testing.T) {
	at := time.Date(2025, 11, 28, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{"transaction", Transaction{
			ID: "x", Type: Return, LocationID: "1", RegisterID: "R", CashierID: "C", OccurredAt: at,
			Customer: &Customer{LoyaltyID: "L"}, Lines: []Line{{SKU: "A"}}, Tenders: []Tender{{Type: Cash}},
			OriginalTransactionID: "o", Offline: true,
		}, []string{"id", "type", "locationId", "registerId", "cashierId", "occurredAt", "customer", "lines",
			"tenders", "originalTransactionId", "offline"}},
		{"customer", Customer{LoyaltyID: "L", Email: "e", Phone: "p", FirstName: "f", LastName: "l"},
			[]string{"loyaltyId", "email", "phone", "firstName", "lastName"}},
		{"line", Line{SKU: "A", Quantity: 1, UnitPrice: 1, Discount: 1, TaxCode: "T", TaxAmount: 1, Restock: true},
			[]string{"sku", "quantity", "unitPrice", "discount", "taxCode", "taxAmount", "restock"}},
		{"tender", Tender{Type: Card, Amount: 1, PaymentIntentID: "pi"}, []string{"type", "amount", "paymentIntentId"}},
		{"item lookup reply", Item{SKU: "A", ItemID: "1", Barcode: "0", Name: "n", Price: 1, TaxCode: "T", TaxRate: 1, OnHand: 1},
			[]string{"sku", "itemId", "barcode", "name", "price", "taxCode", "taxRate", "onHand"}},
		{"sync status", SyncStatus{Pending: 1, InFlight: 1, Posted: 1, DeadLettered: 1, LastPostedAt: &at},
			[]string{"pending", "inFlight", "posted", "deadLettered", "lastPostedAt"}},
		// lastPostedAt is there (null) before anything was posted.
		{"sync status, nothing posted", SyncStatus{}, []string{"pending", "inFlight", "posted", "deadLettered", "lastPostedAt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.want {
				if _, ok := got[k]; !ok {
					t.Errorf("%s has no field %q: %s", tt.name, k, b)
				}
			}
		})
	}
}

// The enumerations and the money format are part of the contract too.
func TestContractValuesAndMoney(t *testing.T) {
	for got, want := range map[string]string{
		string(Sale): "sale", string(Return): "return", string(Exchange): "exchange",
		string(Card): "card", string(Cash): "cash", string(GiftCard): "gift_card",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
	// Money: a decimal number of the major unit with two decimals.
	b, _ := json.Marshal(Line{SKU: "A", Quantity: 1, UnitPrice: 1990, Discount: 5, TaxAmount: 100})
	for _, want := range []string{`"unitPrice":19.90`, `"discount":0.05`, `"taxAmount":1.00`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var l Line
	if err := json.Unmarshal([]byte(`{"sku":"A","quantity":1,"unitPrice":19.9}`), &l); err != nil || l.UnitPrice != 1990 {
		t.Errorf("19.9 decodes as %v (%v)", l.UnitPrice, err)
	}
	states := []string{string(StatePending), string(StateInFlight), string(StatePosted), string(StateDeadLettered)}
	if !slices.Equal(states, []string{"pending", "inFlight", "posted", "deadLettered"}) {
		t.Errorf("transaction states %v", states)
	}
}

// The environment contract's names are fixed: a user's connector image reads them.
func TestEnvironmentContractNames(t *testing.T) {
	for got, want := range map[string]string{
		EnvNetSuiteBaseURL: "NETSUITE_BASE_URL", EnvNetSuiteAccountID: "NETSUITE_ACCOUNT_ID",
		EnvNetSuiteConsumerKey: "NETSUITE_CONSUMER_KEY", EnvNetSuiteConsumerSecret: "NETSUITE_CONSUMER_SECRET",
		EnvNetSuiteTokenID: "NETSUITE_TOKEN_ID", EnvNetSuiteTokenSecret: "NETSUITE_TOKEN_SECRET",
		EnvGatewayBaseURL: "GATEWAY_BASE_URL", EnvGatewayAPIKey: "GATEWAY_API_KEY",
		EnvConnectorListen: "CONNECTOR_LISTEN", EnvConnectorDataDir: "CONNECTOR_DATA_DIR",
	} {
		if got != want {
			t.Errorf("%s, want %s", got, want)
		}
		if !strings.Contains(string(OpenAPI()), want) {
			t.Errorf("openapi.yaml does not name %s", want)
		}
	}
}
