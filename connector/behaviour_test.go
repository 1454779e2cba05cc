package connector

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
)

// Without a configured concurrency the workers are governanceLimits minus one, and
// they never have more NetSuite record requests in flight than that, however many
// registers have work.
func TestWorkersStayWithinTheConcurrencyBudget(t *testing.T) {
	h := startHarness(t, func(c *Config) { c.Concurrency = 0 })
	h.waitFor("workers", func() bool { return h.c.Workers() != 0 })
	if got := h.c.Workers(); got != h.ns.limit-1 {
		t.Fatalf("%d workers for an account limit of %d, want %d", got, h.ns.limit, h.ns.limit-1)
	}
	h.ns.mu.Lock()
	h.ns.recordDelay = 15 * time.Millisecond
	h.ns.mu.Unlock()
	var b contract.Batch
	for i := range 24 {
		b.Transactions = append(b.Transactions, cardSale(fmt.Sprintf("CB-%02d", i), fmt.Sprintf("R%d", i%12), day.Add(time.Duration(i)*time.Second),
			line("SKU-B", 1, 99, 0, "")))
	}
	if code, body := h.do("POST", contract.PathBatch, b); code != http.StatusOK {
		t.Fatalf("batch: %d %s", code, body)
	}
	if st := h.drained(); st.Posted != 24 {
		t.Fatalf("status %+v", st)
	}
	h.ns.mu.Lock()
	peak := h.ns.maxInFlight
	h.ns.mu.Unlock()
	if peak > h.c.Workers() {
		t.Errorf("%d NetSuite record requests in flight at once, budget %d", peak, h.c.Workers())
	}
	if peak < 2 {
		t.Errorf("at most %d record request in flight: the workers do not run in parallel", peak)
	}
}

// Every transient failure is retried with its cause counted in /metrics, and the
// transaction ends up posted exactly once; a Retry-After is waited out.
func TestRetryCausesEndToEnd(t *testing.T) {
	for _, c := range []struct {
		name, cause string
		fail        func() (int, string, http.Header)
		minGap      time.Duration // between the failed attempt and the next
	}{
		{"429 with Retry-After", causeThrottled, func() (int, string, http.Header) {
			return 429, `{"status":429,"o:errorDetails":[{"detail":"Concurrent request limit exceeded.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}`,
				http.Header{"Retry-After": {"1"}}
		}, time.Second},
		{"503", causeServer, func() (int, string, http.Header) { return 503, "", nil }, 0},
		{"timeout", causeTimeout, func() (int, string, http.Header) {
			time.Sleep(400 * time.Millisecond) // longer than the request timeout; then the write goes through
			return 0, "", nil
		}, 0},
		{"connection reset", causeNetwork, func() (int, string, http.Header) { return hangUp, "", nil }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := startHarness(t, func(cfg *Config) { cfg.RequestTimeout = 150 * time.Millisecond })
			var mu sync.Mutex
			var at []time.Time
			h.ns.setFail(func(m, p string) (int, string, http.Header) {
				if !strings.HasPrefix(p, "record/v1/cashSale") {
					return 0, "", nil
				}
				mu.Lock()
				at = append(at, time.Now())
				first := len(at) == 1
				mu.Unlock()
				if first {
					return c.fail()
				}
				return 0, "", nil
			})
			before := h.metric(`connector_retries_total{cause="` + c.cause + `"}`)
			h.submit(cardSale("RC-1", "R1", day, line("SKU-B", 1, 99, 0, "")))
			if st := h.drained(); st.Posted != 1 || st.DeadLettered != 0 {
				t.Fatalf("status %+v", st)
			}
			if got := h.metric(`connector_retries_total{cause="` + c.cause + `"}`); got != before+1 {
				t.Errorf("retries of cause %s: %v → %v, want one more", c.cause, before, got)
			}
			if n := h.ns.count("cashSale/"); n != 1 {
				t.Errorf("%d cash sales in the books, want 1", n)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(at) < 2 {
				t.Fatalf("%d attempts", len(at))
			}
			if gap := at[1].Sub(at[0]); gap < c.minGap {
				t.Errorf("retried after %v, want at least %v", gap, c.minGap)
			}
		})
	}
}

// The item and stock cache is read again through SuiteQL every RefreshInterval.
func TestCacheRefreshedOnInterval(t *testing.T) {
	h := startHarness(t, func(c *Config) { c.RefreshInterval = 50 * time.Millisecond })
	onHand := func() float64 {
		var it contract.Item
		if code, b := h.do("GET", "/pos/v1/items/012345678905?location=10", nil); code != 200 || json.Unmarshal(b, &it) != nil {
			t.Fatalf("lookup: %d %s", code, b)
		}
		return it.OnHand
	}
	if got := onHand(); got != 50 {
		t.Fatalf("on hand %v, want NetSuite's 50", got)
	}
	h.ns.setOnHand("100", "10", 42) // stock moved in NetSuite, not through this connector
	h.waitFor("the refreshed on hand", func() bool { return onHand() == 42 })
}

// /readyz is 503 until the item cache is loaded from NetSuite (and item lookups say
// so too); then 200.
func TestNotReadyUntilTheItemCacheLoads(t *testing.T) {
	ns, gw := newFakeNetSuite(t), newFakeGateway(t)
	var mu sync.Mutex
	down, asked := true, 0
	ns.setFail(func(m, p string) (int, string, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		if down && p == "query/v1/suiteql" {
			asked++
			return 503, "", nil
		}
		return 0, "", nil
	})
	h := &harness{t: t, ns: ns, gw: gw, cfg: testConfig(t, ns, gw)}
	h.launch()
	h.waitFor("a few failed SuiteQL loads", func() bool { mu.Lock(); defer mu.Unlock(); return asked >= 3 })
	if code, b := h.do("GET", "/readyz", nil); code != http.StatusServiceUnavailable || !strings.Contains(string(b), "not_ready") {
		t.Errorf("readyz before the cache: %d %s", code, b)
	}
	if code, _ := h.do("GET", "/pos/v1/items/012345678905?location=10", nil); code != http.StatusServiceUnavailable {
		t.Errorf("lookup before the cache: %d", code)
	}
	if code, _ := h.do("GET", "/healthz", nil); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	h.waitFor("ready", func() bool { code, _ := h.do("GET", "/readyz", nil); return code == http.StatusOK })
}

// /metrics reports the outbox depth, post latency, dead letters (also after a
// restart) and the accepted/posted counts.
func TestMetrics(t *testing.T) {
	h := startHarness(t)
	block := make(chan struct{})
	h.ns.setFail(func(m, p string) (int, string, http.Header) {
		switch {
		case p == "record/v1/cashSale/eid:M-DL":
			return 400, `{"status":400,"o:errorDetails":[{"detail":"Invalid","o:errorCode":"INVALID_CONTENT"}]}`, nil
		case strings.HasPrefix(p, "record/v1/cashSale/eid:M-W"):
			<-block
		}
		return 0, "", nil
	})
	h.submit(cardSale("M-DL", "R1", day, line("SKU-B", 1, 99, 0, "")))
	for i := range 3 {
		h.submit(cardSale(fmt.Sprintf("M-W%d", i), "R2", day.Add(time.Duration(i)*time.Second), line("SKU-B", 1, 99, 0, "")))
	}
	h.waitFor("one in flight, two pending", func() bool {
		return h.metric(`connector_outbox_depth{state="inFlight"}`) == 1 && h.metric(`connector_outbox_depth{state="pending"}`) == 2
	})
	close(block)
	h.drained()
	for sample, want := range map[string]float64{
		"connector_transactions_accepted_total":   4,
		"connector_transactions_posted_total":     3,
		"connector_dead_letters_total":            1,
		"connector_dead_letters":                  1,
		"connector_post_duration_seconds_count":   3,
		`connector_outbox_depth{state="pending"}`: 0,
	} {
		if got := h.metric(sample); got != want {
			t.Errorf("%s = %v, want %v", sample, got, want)
		}
	}
	// The dead-letter gauge is the outbox's, so a restart keeps it.
	h.stop()
	h.start()
	if got := h.metric("connector_dead_letters"); got != 1 {
		t.Errorf("connector_dead_letters after a restart = %v, want 1", got)
	}
}

// connector/README.md documents every bug switch in its table.
func TestREADMEDocumentsEveryBug(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, bug := range AllBugs() {
		if !strings.Contains(string(b), "| `"+string(bug)+"` |") {
			t.Errorf("README.md has no row for the bug switch %s", bug)
		}
	}
}

// A return whose sale is still in this connector's outbox waits for it however long
// NetSuite is down: it is never posted before its sale (which NetSuite would refuse,
// dead-lettering the return) just because DependencyWait ran out during an outage.
func TestReturnWaitsForItsPendingSaleThroughAnOutage(t *testing.T) {
	h := startHarness(t, func(c *Config) { c.DependencyWait = 100 * time.Millisecond })
	var mu sync.Mutex
	down := true
	h.ns.setFail(func(m, p string) (int, string, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		if down && strings.HasPrefix(p, "record/") {
			return 503, "", nil
		}
		return 0, "", nil
	})
	// The sale is last in its register's backlog; the return is alone on its register.
	for i := range 8 {
		h.submit(cardSale(fmt.Sprintf("OW-%d", i), "R1", day.Add(time.Duration(i)*time.Second), line("SKU-B", 1, 99, 0, "")))
	}
	h.submit(cardSale("OW-S", "R1", day.Add(time.Minute), line("SKU-A", 1, 1000, 86, "CA-SF")))
	h.submit(cardReturn("OW-R", "R2", "OW-S", day.Add(time.Hour), line("SKU-A", 1, 1000, 86, "CA-SF")))
	time.Sleep(300 * time.Millisecond) // the outage outlasts DependencyWait
	mu.Lock()
	down = false
	mu.Unlock()
	if st := h.drained(); st.Posted != 10 || st.DeadLettered != 0 {
		t.Fatalf("status %+v; return: %+v", st, h.status("OW-R"))
	}
	var order []string
	for _, w := range h.ns.writes() {
		if strings.Contains(w, "OW-S") || strings.Contains(w, "OW-R") {
			order = append(order, w)
		}
	}
	if n := len(order); n == 0 || order[n-1] != "PUT cashRefund/eid:OW-R" {
		t.Errorf("writes %v, want the refund last", order)
	}
}
