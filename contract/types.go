// Package contract is the POS↔connector contract: what a virtual register sends to any
// connector and what it expects back. It holds the Go types, the OpenAPI document
// (served by connectors at /openapi.yaml), the environment contract, and a conformance
// test that any connector URL can be pointed at.
//
// JSON field names here are fixed: extra fields may be added, none may be renamed.
// Money is a decimal number of the currency's major unit with two decimals.
package contract

import (
	"time"

	"github.com/doorbuster/doorbuster/money"
)

// Paths of the contract's endpoints.
const (
	PathItem         = "/pos/v1/items/{barcode}" // GET ?location=ID
	PathTransactions = "/pos/v1/transactions"    // POST one transaction
	PathBatch        = "/pos/v1/transactions:batch"
	PathTransaction  = "/pos/v1/transactions/{id}" // GET state
	PathSyncStatus   = "/pos/v1/sync/status"
	PathOpenAPI      = "/openapi.yaml"
	PathHealth       = "/healthz"
	PathReady        = "/readyz"
)

// MaxBatch is the largest offline batch a connector must accept in one call.
const MaxBatch = 1000

// TxType is the kind of a POS transaction.
type TxType string

// Transaction types.
const (
	Sale     TxType = "sale"
	Return   TxType = "return"
	Exchange TxType = "exchange"
)

// TenderType is how a tender was paid.
type TenderType string

// Tender types.
const (
	Card     TenderType = "card"
	Cash     TenderType = "cash"
	GiftCard TenderType = "gift_card"
)

// Transaction is one finished POS transaction.
//
// Signs: in a sale every line quantity is positive and tenders are what the customer
// paid. In a return every line quantity is positive (the quantity returned) and tenders
// are what was refunded, as positive amounts. In an exchange a line with a negative
// quantity is an item returned and a positive one an item sold; tenders carry the net
// difference (positive: the customer paid; negative: the customer was refunded).
//
// A line's total is quantity × unitPrice − discount + taxAmount, where the discount
// (always ≥ 0) is taken off the line's magnitude: on an exchange's returned line
// (negative quantity) it is added back, −1 × 10.00 with a 2.00 discount being −8.00.
// LineTotal computes it; the tenders add up to the sum of the line totals.
type Transaction struct {
	ID                    string    `json:"id"` // register-generated, globally unique
	Type                  TxType    `json:"type"`
	LocationID            string    `json:"locationId"` // NetSuite location id of the store
	RegisterID            string    `json:"registerId"`
	CashierID             string    `json:"cashierId"`
	OccurredAt            time.Time `json:"occurredAt"` // register clock, RFC 3339
	Customer              *Customer `json:"customer,omitempty"`
	Lines                 []Line    `json:"lines"`
	Tenders               []Tender  `json:"tenders"`
	OriginalTransactionID string    `json:"originalTransactionId,omitempty"` // returns and exchanges
	Offline               bool      `json:"offline"`
}

// Customer identifies a customer at the register. Any of the fields may be empty; a
// loyalty id, when present, is the identity.
type Customer struct {
	LoyaltyID string `json:"loyaltyId,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
}

// Line is one item line.
type Line struct {
	SKU       string       `json:"sku"`
	Quantity  float64      `json:"quantity"` // units, or weight for weighed items
	UnitPrice money.Amount `json:"unitPrice"`
	Discount  money.Amount `json:"discount"`  // total discount on the line, ≥ 0; shrinks the line's magnitude (see LineTotal)
	TaxCode   string       `json:"taxCode"`   // tax code name as the item lookup gave it
	TaxAmount money.Amount `json:"taxAmount"` // tax on the line, as the register computed it
	Restock   bool         `json:"restock"`   // returns: the item goes back on the shelf
}

// Tender is one payment (or refund) in a transaction.
type Tender struct {
	Type            TenderType   `json:"type"`
	Amount          money.Amount `json:"amount"`
	PaymentIntentID string       `json:"paymentIntentId,omitempty"` // card: the gateway intent
}

// Item is the reply to an item lookup by barcode at a location.
type Item struct {
	SKU     string       `json:"sku"`
	ItemID  string       `json:"itemId"` // NetSuite internal id
	Barcode string       `json:"barcode"`
	Name    string       `json:"name"`
	Price   money.Amount `json:"price"`
	TaxCode string       `json:"taxCode"`
	TaxRate float64      `json:"taxRate"` // percent: 8.625 means 8.625 %
	OnHand  float64      `json:"onHand"`
}

// SyncStatus is the connector's backlog, polled by the harness to drain.
type SyncStatus struct {
	Pending      int        `json:"pending"`
	InFlight     int        `json:"inFlight"`
	Posted       int        `json:"posted"`
	DeadLettered int        `json:"deadLettered"`
	LastPostedAt *time.Time `json:"lastPostedAt"`
}

// TxState is where a transaction is in the connector.
type TxState string

// Transaction states.
const (
	StatePending      TxState = "pending"
	StateInFlight     TxState = "inFlight"
	StatePosted       TxState = "posted"
	StateDeadLettered TxState = "deadLettered"
)

// TransactionStatus is the reply to GET /pos/v1/transactions/{id}.
type TransactionStatus struct {
	ID         string     `json:"id"`
	State      TxState    `json:"state"`
	NetSuiteID string     `json:"netsuiteId,omitempty"` // internal id of the cash sale or refund
	Error      string     `json:"error,omitempty"`      // the kept NetSuite error of a dead letter
	AcceptedAt time.Time  `json:"acceptedAt"`
	PostedAt   *time.Time `json:"postedAt,omitempty"`
}

// Batch is an offline register's queue, uploaded in one call.
type Batch struct {
	Transactions []Transaction `json:"transactions"`
}

// BatchResult is the reply to a batch: one result per transaction, in order.
type BatchResult struct {
	Results []ItemResult `json:"results"`
}

// ItemResult is the fate of one transaction of a batch.
type ItemResult struct {
	ID     string `json:"id"`
	Status string `json:"status"` // "accepted", "duplicate" or "rejected"
	Error  *Error `json:"error,omitempty"`
}

// Batch item statuses.
const (
	ItemAccepted  = "accepted"
	ItemDuplicate = "duplicate"
	ItemRejected  = "rejected"
)

// ErrorReply is the body of every 4xx/5xx reply.
type ErrorReply struct {
	Error Error `json:"error"`
}

// Error says what was wrong and where.
type Error struct {
	Code    string `json:"code"` // e.g. "invalid_field", "not_found"
	Message string `json:"message"`
	Field   string `json:"field,omitempty"` // JSON path of the offending field, e.g. "lines[2].quantity"
}

// Environment variable names of the connector environment contract: the same for the
// embedded reference connector and a user's container.
const (
	EnvNetSuiteBaseURL        = "NETSUITE_BASE_URL"
	EnvNetSuiteAccountID      = "NETSUITE_ACCOUNT_ID"
	EnvNetSuiteConsumerKey    = "NETSUITE_CONSUMER_KEY"
	EnvNetSuiteConsumerSecret = "NETSUITE_CONSUMER_SECRET"
	EnvNetSuiteTokenID        = "NETSUITE_TOKEN_ID"
	EnvNetSuiteTokenSecret    = "NETSUITE_TOKEN_SECRET"
	EnvGatewayBaseURL         = "GATEWAY_BASE_URL"
	EnvGatewayAPIKey          = "GATEWAY_API_KEY"
	EnvConnectorListen        = "CONNECTOR_LISTEN"
	EnvConnectorDataDir       = "CONNECTOR_DATA_DIR"
)
