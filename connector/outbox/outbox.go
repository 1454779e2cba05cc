// Package outbox is the connector's durable queue of accepted POS transactions: a
// transaction is in the outbox once Accept returns, and it leaves the pending state only
// when it has been posted to NetSuite or dead-lettered.
//
// Two stores implement Store: Open gives the durable one, a SQLite file in WAL mode with
// synchronous=FULL whose writes are group-committed (concurrent accepts share one fsync,
// and no caller is answered before its commit), and NewMemory gives a volatile one used
// only by the memory-outbox bug switch.
//
//	HTTP accept ──► Accept (commit) ──► 202
//	worker ──► Get body ──► NetSuite ──► MarkPosted / MarkDead
package outbox

import (
	"context"
	"errors"
	"time"
)

// State is where a stored transaction is. In flight is not a stored state: a row that was
// being posted when the process died is pending again on restart.
type State string

// Stored states.
const (
	Pending      State = "pending"
	Posted       State = "posted"
	DeadLettered State = "deadLettered"
)

// Record is one stored transaction.
type Record struct {
	Seq        int64     // arrival order, assigned by the store
	ID         string    // the register's transaction id, unique
	Type       string    // sale | return | exchange
	RegisterID string    // posting is ordered per register
	OccurredAt time.Time // register clock
	OriginalID string    // the sale a return or exchange refers to
	Digest     string    // hash of the canonical transaction, to tell a resubmission from a reuse of the id
	Body       []byte    // the transaction as accepted (canonical JSON)
	Reply      []byte    // the body of the first reply, replayed to resubmissions
	AcceptedAt time.Time
	State      State
	Error      string // the kept error of a dead letter
	NetSuiteID string // internal id of the record posted (the cash sale or refund)
	RefundID   string // the gateway refund made for this transaction, if any
	PostedAt   time.Time
}

// Outcome is what Accept did with one record.
type Outcome int

// Accept outcomes.
const (
	Accepted  Outcome = iota // stored now
	Duplicate                // the same transaction was already stored
	Conflict                 // the id was already stored with a different transaction
)

// Result is the fate of one record given to Accept. Existing is the stored record for a
// Duplicate or a Conflict (without its body).
type Result struct {
	Outcome  Outcome
	Existing *Record
}

// Stats are the stored counts by state.
type Stats struct {
	Pending, Posted, DeadLettered int
	LastPostedAt                  time.Time
}

// ErrNotFound is returned for an id the store does not hold.
var ErrNotFound = errors.New("outbox: no such transaction")

// Store is a durable (or, for the memory-outbox bug, volatile) outbox.
type Store interface {
	// Accept stores the records in one transaction, in order, and returns one result
	// per record. Once it returns without error every Accepted record is committed.
	Accept(ctx context.Context, recs []Record) ([]Result, error)
	// Get returns the stored record with its body.
	Get(ctx context.Context, id string) (Record, error)
	// Open returns every pending record, without bodies, in (OccurredAt, Seq) order.
	Open(ctx context.Context) ([]Record, error)
	// Stats counts the records by state.
	Stats(ctx context.Context) (Stats, error)
	// SetRefund records the gateway refund made for a transaction.
	SetRefund(ctx context.Context, id, refundID string) error
	// MarkPosted moves a pending transaction to posted.
	MarkPosted(ctx context.Context, id, netsuiteID string, at time.Time) error
	// MarkDead moves a pending transaction to dead-lettered, keeping why.
	MarkDead(ctx context.Context, id, reason string) error
	Close() error
}
