package connector

import (
	"fmt"
	"sort"
	"strings"
)

// Bug names a deliberate defect the reference connector can be switched into, so that
// the harness can prove it catches each classic integration failure. All are off by
// default. connector/README.md says what each re-creates and what should catch it.
type Bug string

// The bug switches.
const (
	BugNoUpsert            Bug = "no-upsert"              // POST creates instead of PUT …/eid: upserts
	BugDropOn429           Bug = "drop-on-429"            // a 429 is final: the transaction is marked posted, never posted
	BugSyncDate            Bug = "sync-date"              // tranDate is the posting time, not occurredAt
	BugDefaultLocation     Bug = "default-location"       // every transaction is posted at the warehouse
	BugTaxOnTotal          Bug = "tax-on-total"           // tax recomputed on the total and spread over lines
	BugFullRefund          Bug = "full-refund"            // a partial return refunds the whole original sale
	BugMemoryOutbox        Bug = "memory-outbox"          // the outbox lives in memory: a crash loses accepted work
	BugBatchTruncate       Bug = "batch-truncate"         // only the first 100 of an offline batch are kept, all answered accepted
	BugRefundNoIdempotency Bug = "refund-no-idempotency"  // gateway refunds sent without an Idempotency-Key
	BugNewCustomerEachTime Bug = "new-customer-each-time" // a new customer record is created for every sale
)

// Bugs lists every bug switch with a one-line description, in a stable order.
var bugDescriptions = map[Bug]string{
	BugNoUpsert:            "create records with POST instead of upserting by external id (duplicates after retries or lost responses)",
	BugDropOn429:           "treat 429 as permanent and drop the transaction (marked posted, never posted)",
	BugSyncDate:            "use the posting time as tranDate instead of occurredAt",
	BugDefaultLocation:     "post every transaction at the warehouse location",
	BugTaxOnTotal:          "compute tax on the transaction total instead of per line (cent drift)",
	BugFullRefund:          "refund the whole original sale on a partial return",
	BugMemoryOutbox:        "keep the outbox in memory (accepted work is lost on a crash)",
	BugBatchTruncate:       "silently keep only the first 100 transactions of an offline batch",
	BugRefundNoIdempotency: "call gateway refunds without an Idempotency-Key",
	BugNewCustomerEachTime: "create a new customer on every sale instead of upserting by identity",
}

// AllBugs returns every bug switch name, sorted.
func AllBugs() []Bug {
	out := make([]Bug, 0, len(bugDescriptions))
	for b := range bugDescriptions {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Describe returns the one-line description of a bug switch ("" for an unknown name).
func (b Bug) Describe() string { return bugDescriptions[b] }

// bugSet is the set of switched-on bugs.
type bugSet map[Bug]bool

func (s bugSet) on(b Bug) bool { return s[b] }

// ParseBugs reads bug names; each element may hold several separated by commas, and
// blanks are ignored. An unknown name is an error that lists the known ones.
func ParseBugs(names []string) ([]Bug, error) {
	var out []Bug
	seen := map[Bug]bool{}
	for _, el := range names {
		for _, n := range strings.Split(el, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			b := Bug(strings.ToLower(n))
			if _, ok := bugDescriptions[b]; !ok {
				known := make([]string, 0, len(bugDescriptions))
				for _, k := range AllBugs() {
					known = append(known, string(k))
				}
				return nil, fmt.Errorf("unknown bug switch %q (known: %s)", n, strings.Join(known, ", "))
			}
			if !seen[b] {
				seen[b] = true
				out = append(out, b)
			}
		}
	}
	return out, nil
}
