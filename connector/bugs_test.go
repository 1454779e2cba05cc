package connector

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
)

// once returns a func that is true the first n times.
func firstN(n int) func() bool {
	var mu sync.Mutex
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		n--
		return n >= 0
	}
}

// Each bug switch changes what the connector does; every case runs with the switch
// off and on and checks both behaviours.
func TestBugSwitches(t *testing.T) {
	cases := []struct {
		bug Bug
		// run drives the connector and returns what it observed.
		run            func(t *testing.T, h *harness) string
		correct, buggy string
	}{
		{
			bug: BugNoUpsert,
			run: func(t *testing.T, h *harness) string {
				lost := firstN(1)
				h.ns.lost = func(m, p string) bool { return strings.HasPrefix(p, "cashSale") && lost() }
				h.submit(cardSale("NU-1", "R1", day, line("SKU-B", 1, 99, 0, "")))
				h.drained()
				return fmt.Sprintf("%d cash sales", h.ns.count("cashSale"))
			},
			correct: "1 cash sales", buggy: "2 cash sales",
		},
		{
			bug: BugDropOn429,
			run: func(t *testing.T, h *harness) string {
				throttled := firstN(2)
				h.ns.setFail(func(m, p string) (int, string, http.Header) {
					if strings.HasPrefix(p, "record/v1/cashSale") && throttled() {
						return 429, `{"status":429,"o:errorDetails":[{"detail":"Concurrent request limit exceeded. Request blocked.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}`, nil
					}
					return 0, "", nil
				})
				h.submit(cardSale("DR-1", "R1", day, line("SKU-B", 1, 99, 0, "")))
				st := h.drained()
				return fmt.Sprintf("status posted=%d, %d cash sales", st.Posted, h.ns.count("cashSale"))
			},
			correct: "status posted=1, 1 cash sales", buggy: "status posted=1, 0 cash sales",
		},
		{
			bug: BugSyncDate,
			run: func(t *testing.T, h *harness) string {
				h.submit(cardSale("SD-1", "R1", day, line("SKU-B", 1, 99, 0, "")))
				h.drained()
				return fmt.Sprint(path(h.ns.body("cashSale/eid:SD-1"), "tranDate"))
			},
			correct: "2025-11-28", buggy: "2025-12-02",
		},
		{
			bug: BugDefaultLocation,
			run: func(t *testing.T, h *harness) string {
				h.submit(cardSale("DL-1", "R1", day, line("SKU-B", 1, 99, 0, "")))
				h.drained()
				return fmt.Sprint(path(h.ns.body("cashSale/eid:DL-1"), "location", "id"))
			},
			correct: "10", buggy: "20",
		},
		{
			bug: BugTaxOnTotal,
			run: func(t *testing.T, h *harness) string {
				// 3 × 3.33 at 8.625 %: 0.29 per line (0.87), but 0.86 on the total.
				l := line("SKU-C", 1, 333, 29, "CA-SF")
				h.submit(cardSale("TT-1", "R1", day, l, l, l))
				h.drained()
				b := h.ns.body("cashSale/eid:TT-1")
				var sum float64
				for i := range 3 {
					sum += path(b, "item", "items", i, "tax1Amt").(float64)
				}
				return fmt.Sprintf("tax %.2f", sum)
			},
			correct: "tax 0.87", buggy: "tax 0.86",
		},
		{
			bug: BugFullRefund,
			run: func(t *testing.T, h *harness) string {
				h.submit(cardSale("FR-S", "R1", day, line("SKU-A", 2, 1000, 173, "CA-SF"), line("SKU-C", 1, 333, 29, "CA-SF")))
				h.submit(cardReturn("FR-R", "R1", "FR-S", day.Add(time.Hour), line("SKU-A", 1, 1000, 86, "CA-SF")))
				h.drained()
				calls, _, _ := h.gw.snapshot()
				b := h.ns.body("cashRefund/eid:FR-R")
				items, _ := path(b, "item", "items").([]any)
				return fmt.Sprintf("refund %s cents, %d lines", calls[0].Get("amount"), len(items))
			},
			correct: "refund 1086 cents, 1 lines", buggy: "refund 2535 cents, 2 lines",
		},
		{
			bug: BugMemoryOutbox,
			run: func(t *testing.T, h *harness) string {
				h.ns.setFail(func(m, p string) (int, string, http.Header) {
					if strings.HasPrefix(p, "record/") {
						return 503, "", nil
					}
					return 0, "", nil
				})
				h.submit(cardSale("MO-1", "R1", day, line("SKU-B", 1, 99, 0, "")))
				h.stop()     // the process goes away with the transaction accepted, not posted
				h.ns.idle(t) // a retry sent before the stop is answered 503 like the others
				h.ns.setFail(nil)
				h.start()
				time.Sleep(50 * time.Millisecond)
				st := h.drained()
				code, _ := h.do("GET", "/pos/v1/transactions/MO-1", nil)
				return fmt.Sprintf("posted=%d, lookup %d, %d cash sales", st.Posted, code, h.ns.count("cashSale"))
			},
			correct: "posted=1, lookup 200, 1 cash sales", buggy: "posted=0, lookup 404, 0 cash sales",
		},
		{
			bug: BugBatchTruncate,
			run: func(t *testing.T, h *harness) string {
				var b contract.Batch
				for i := range 150 {
					b.Transactions = append(b.Transactions, cardSale(fmt.Sprintf("BT-%03d", i), "R1", day.Add(time.Duration(i)*time.Second), line("SKU-B", 1, 99, 0, "")))
				}
				_, body := h.do("POST", "/pos/v1/transactions:batch", b)
				accepted := strings.Count(string(body), `"status":"accepted"`)
				st := h.drained()
				return fmt.Sprintf("answered %d accepted, posted %d", accepted, st.Posted)
			},
			correct: "answered 150 accepted, posted 150", buggy: "answered 150 accepted, posted 100",
		},
		{
			bug: BugRefundNoIdempotency,
			run: func(t *testing.T, h *harness) string {
				h.gw.lost = firstN(1)
				h.submit(cardSale("RI-S", "R1", day, line("SKU-A", 1, 1000, 86, "CA-SF")))
				h.submit(cardReturn("RI-R", "R1", "RI-S", day.Add(time.Hour), line("SKU-A", 1, 1000, 86, "CA-SF")))
				h.drained()
				_, keys, made := h.gw.snapshot()
				return fmt.Sprintf("key %q, %d refunds made", keys[0], made)
			},
			correct: `key "RI-R", 1 refunds made`, buggy: `key "", 2 refunds made`,
		},
		{
			bug: BugNewCustomerEachTime,
			run: func(t *testing.T, h *harness) string {
				for i := range 3 {
					tx := cardSale(fmt.Sprintf("NC-%d", i), "R1", day.Add(time.Duration(i)*time.Minute), line("SKU-B", 1, 99, 0, ""))
					tx.Customer = &contract.Customer{LoyaltyID: "L77"}
					h.submit(tx)
				}
				h.drained()
				return fmt.Sprintf("%d customers", h.ns.count("customer"))
			},
			correct: "1 customers", buggy: "3 customers",
		},
	}
	seen := map[Bug]bool{}
	for _, c := range cases {
		seen[c.bug] = true
		for _, on := range []bool{false, true} {
			name := string(c.bug) + "/off"
			want := c.correct
			if on {
				name, want = string(c.bug)+"/on", c.buggy
			}
			t.Run(name, func(t *testing.T) {
				h := startHarness(t, func(cfg *Config) {
					if on {
						cfg.Bugs = []Bug{c.bug}
					}
					cfg.Clock = func() time.Time { return time.Date(2025, 12, 2, 15, 0, 0, 0, time.UTC).Add(time.Since(start)) }
				})
				if got := c.run(t, h); got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			})
		}
	}
	for _, b := range AllBugs() {
		if !seen[b] {
			t.Errorf("bug switch %s has no test", b)
		}
	}
}

var start = time.Now()
