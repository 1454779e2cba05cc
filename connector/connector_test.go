package connector

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
)

func TestSalePostsCashSale(t *testing.T) {
	h := startHarness(t)
	tx := cardSale("S1-R1-0001", "S1-R1", day,
		line("SKU-A", 2, 1000, 173, "CA-SF"),
		line("SKU-B", 1, 99, 0, "NON-TAXABLE"))
	tx.Customer = &contract.Customer{LoyaltyID: "L123", FirstName: "Ada", LastName: "Lovelace"}
	h.submit(tx)
	st := h.drained()
	if st.Posted != 1 || st.DeadLettered != 0 || st.LastPostedAt == nil {
		t.Fatalf("status %+v", st)
	}
	if w := h.ns.writes(); len(w) != 2 || w[0] != "PUT customer/eid:LOY-L123" || w[1] != "PUT cashSale/eid:S1-R1-0001" {
		t.Fatalf("writes %v", w)
	}
	b := h.ns.body("cashSale/eid:S1-R1-0001")
	for _, c := range []struct {
		keys []any
		want any
	}{
		{[]any{"tranDate"}, "2025-11-28"},
		{[]any{"externalId"}, "S1-R1-0001"},
		{[]any{"location", "id"}, "10"},
		{[]any{"entity", "id"}, h.ns.ids["customer/eid:LOY-L123"]},
		{[]any{"paymentMethod", "id"}, "2"},
		{[]any{"pnRefNum"}, "pi_S1-R1-0001"},
		{[]any{"custbody_pos_register"}, "S1-R1"},
		{[]any{"item", "items", 0, "item", "id"}, "100"},
		{[]any{"item", "items", 0, "quantity"}, 2.0},
		{[]any{"item", "items", 0, "rate"}, 10.0},
		{[]any{"item", "items", 0, "amount"}, 20.0},
		{[]any{"item", "items", 0, "taxCode", "id"}, "1"},
		{[]any{"item", "items", 0, "tax1Amt"}, 1.73},
		{[]any{"item", "items", 1, "taxCode", "id"}, "2"},
		{[]any{"item", "items", 1, "custcol_restock"}, nil},
	} {
		if got := path(b, c.keys...); got != c.want {
			t.Errorf("%v = %#v, want %#v", c.keys, got, c.want)
		}
	}
	ts := h.status("S1-R1-0001")
	if ts.State != contract.StatePosted || ts.NetSuiteID == "" || ts.NetSuiteID != h.ns.ids["cashSale/eid:S1-R1-0001"] || ts.PostedAt == nil {
		t.Errorf("transaction status %+v", ts)
	}
}

func TestResubmissionIsHarmless(t *testing.T) {
	h := startHarness(t)
	tx := cardSale("T-1", "R1", day, line("SKU-A", 1, 1000, 86, "CA-SF"))
	code, first := h.do("POST", "/pos/v1/transactions", tx)
	if code != http.StatusAccepted {
		t.Fatalf("first: %d %s", code, first)
	}
	var acc contract.Acceptance
	if err := json.Unmarshal(first, &acc); err != nil || acc.ID != "T-1" || acc.AcceptedAt.IsZero() {
		t.Fatalf("acceptance %s", first)
	}
	h.drained()
	for range 3 {
		code, again := h.do("POST", "/pos/v1/transactions", tx)
		if code != http.StatusOK || string(again) != string(first) {
			t.Fatalf("resubmission: %d %s, want 200 %s", code, again, first)
		}
	}
	// The same id with other content is refused.
	other := tx
	other.Lines = []contract.Line{line("SKU-A", 2, 1000, 173, "CA-SF")}
	other.Tenders = []contract.Tender{{Type: contract.Card, Amount: total(other.Lines), PaymentIntentID: "pi_x"}}
	if code, b := h.do("POST", "/pos/v1/transactions", other); code != http.StatusConflict || !strings.Contains(string(b), `"field":"id"`) {
		t.Errorf("reused id: %d %s", code, b)
	}
	// The same sale queued offline after a lost reply, and sent in a batch: a duplicate.
	offline := tx
	offline.Offline = true
	if code, b := h.do("POST", "/pos/v1/transactions:batch", contract.Batch{Transactions: []contract.Transaction{offline}}); code != http.StatusOK ||
		!strings.Contains(string(b), `"status":"duplicate"`) {
		t.Errorf("resubmitted offline: %d %s", code, b)
	}
	h.drained()
	if w := h.ns.writes(); len(w) != 1 {
		t.Errorf("writes %v, want one cash sale", w)
	}
	if st := h.c.Status(); st.Posted != 1 {
		t.Errorf("status %+v", st)
	}
}

func TestInvalidTransactionsAreRefused(t *testing.T) {
	h := startHarness(t)
	good := cardSale("V-1", "R1", day, line("SKU-A", 1, 1000, 86, "CA-SF"))
	for _, c := range []struct {
		name  string
		body  any
		code  int
		field string
	}{
		{"not JSON", `{"id": `, 400, ""},
		{"wrong type", `{"id": 7}`, 400, "id"},
		{"missing lines", func() contract.Transaction { t := good; t.Lines = nil; return t }(), 422, "lines"},
		{"zero quantity", func() contract.Transaction {
			t := good
			t.Lines = []contract.Line{line("SKU-A", 0, 1000, 0, "")}
			return t
		}(), 422, "lines[0].quantity"},
		{"tenders off", func() contract.Transaction {
			t := good
			t.Tenders = []contract.Tender{{Type: contract.Cash, Amount: 1}}
			return t
		}(), 422, "tenders"},
	} {
		code, b := h.do("POST", "/pos/v1/transactions", c.body)
		var er contract.ErrorReply
		if code != c.code || json.Unmarshal(b, &er) != nil || er.Error.Field != c.field || er.Error.Message == "" {
			t.Errorf("%s: %d %s, want %d with field %q", c.name, code, b, c.code, c.field)
		}
	}
	if st := h.c.Status(); st.Pending+st.Posted != 0 {
		t.Errorf("something was stored: %+v", st)
	}
}

func TestPerRegisterOrder(t *testing.T) {
	h := startHarness(t, func(c *Config) { c.Concurrency = 4 })
	// Each register's first sale is held at NetSuite; the rest arrive meanwhile, out of
	// order, so the posting order behind it is the connector's choice.
	release := make(chan struct{})
	h.ns.setFail(func(m, p string) (int, string, http.Header) {
		if strings.HasPrefix(p, "record/") {
			<-release
		}
		return 0, "", nil
	})
	for _, reg := range []string{"A", "B"} {
		h.submit(cardSale(reg+"-first", "R"+reg, day.Add(-time.Hour), line("SKU-B", 1, 99, 0, "")))
	}
	h.waitFor("both first sales in flight", func() bool { return h.c.Status().InFlight == 2 })
	var batch contract.Batch
	for i, off := range []int{3, 1, 2, 0} {
		batch.Transactions = append(batch.Transactions, cardSale(fmt.Sprintf("A-%d", i), "RA", day.Add(time.Duration(off)*time.Minute), line("SKU-B", 1, 99, 0, "")))
		batch.Transactions = append(batch.Transactions, cardSale(fmt.Sprintf("B-%d", i), "RB", day.Add(time.Duration(off)*time.Minute), line("SKU-B", 1, 99, 0, "")))
	}
	code, b := h.do("POST", "/pos/v1/transactions:batch", batch)
	if code != http.StatusOK {
		t.Fatalf("batch %d %s", code, b)
	}
	close(release)
	h.drained()
	var a, bb []string
	for _, w := range h.ns.writes() {
		if strings.HasPrefix(w, "PUT cashSale/eid:A") {
			a = append(a, strings.TrimPrefix(w, "PUT cashSale/eid:"))
		} else {
			bb = append(bb, strings.TrimPrefix(w, "PUT cashSale/eid:"))
		}
	}
	// occurredAt offsets 3,1,2,0 for ids 0..3 → order 3,1,2,0.
	if fmt.Sprint(a) != "[A-first A-3 A-1 A-2 A-0]" || fmt.Sprint(bb) != "[B-first B-3 B-1 B-2 B-0]" {
		t.Errorf("posting order A %v, B %v", a, bb)
	}
}

func TestBatchResults(t *testing.T) {
	h := startHarness(t)
	h.submit(cardSale("D-1", "R1", day, line("SKU-B", 1, 99, 0, "")))
	bad := cardSale("D-3", "R1", day, line("SKU-B", -1, 99, 0, ""))
	code, b := h.do("POST", "/pos/v1/transactions:batch", map[string]any{"transactions": []any{
		cardSale("D-1", "R1", day, line("SKU-B", 1, 99, 0, "")),
		cardSale("D-2", "R1", day, line("SKU-B", 1, 99, 0, "")),
		bad,
		cardSale("D-2", "R1", day, line("SKU-B", 1, 99, 0, "")),
	}})
	var res contract.BatchResult
	if code != http.StatusOK || json.Unmarshal(b, &res) != nil || len(res.Results) != 4 {
		t.Fatalf("batch: %d %s", code, b)
	}
	want := []string{contract.ItemDuplicate, contract.ItemAccepted, contract.ItemRejected, contract.ItemDuplicate}
	for i, r := range res.Results {
		if r.Status != want[i] {
			t.Errorf("result %d: %+v, want %s", i, r, want[i])
		}
	}
	if e := res.Results[2].Error; e == nil || e.Field != "transactions[2].lines[0].quantity" {
		t.Errorf("rejected item error %+v", e)
	}
	big := contract.Batch{}
	for i := range contract.MaxBatch + 1 {
		big.Transactions = append(big.Transactions, cardSale(fmt.Sprintf("X-%d", i), "R1", day, line("SKU-B", 1, 99, 0, "")))
	}
	if code, b := h.do("POST", "/pos/v1/transactions:batch", big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized batch: %d %s", code, b)
	}
	if st := h.drained(); st.Posted != 2 {
		t.Errorf("status %+v", st)
	}
}

func TestReturnRefundsCardThenPostsCashRefund(t *testing.T) {
	h := startHarness(t)
	h.submit(cardSale("S-1", "R1", day, line("SKU-A", 2, 1000, 173, "CA-SF"), line("SKU-C", 1, 333, 29, "CA-SF")))
	ret := cardReturn("RT-1", "R2", "S-1", day.Add(time.Hour), line("SKU-A", 1, 1000, 86, "CA-SF"))
	ret.Lines[0].Restock = true
	h.submit(ret)
	h.drained()
	calls, keys, made := h.gw.snapshot()
	if made != 1 || len(calls) != 1 || keys[0] != "RT-1" || calls[0].Get("payment_intent") != "pi_S-1" || calls[0].Get("amount") != "1086" {
		t.Fatalf("gateway calls %v keys %v", calls, keys)
	}
	w := h.ns.writes()
	if w[len(w)-1] != "PUT cashRefund/eid:RT-1" {
		t.Fatalf("writes %v", w)
	}
	b := h.ns.body("cashRefund/eid:RT-1")
	if path(b, "createdFrom", "externalId") != "S-1" || path(b, "pnRefNum") != "re_1" || path(b, "paymentMethod", "id") != "2" ||
		path(b, "item", "items", 0, "custcol_restock") != true || path(b, "item", "items", 0, "amount") != 10.0 {
		t.Errorf("cash refund %v", b)
	}
	if ts := h.status("RT-1"); ts.State != contract.StatePosted {
		t.Errorf("return status %+v", ts)
	}
}

func TestExchangePostsRefundAndSale(t *testing.T) {
	h := startHarness(t)
	h.submit(cardSale("S-9", "R1", day, line("SKU-A", 1, 1000, 86, "CA-SF")))
	// Bring back the apple (10.86), take cheese ×2 (6.66 + 0.57 tax): the customer is refunded 3.63.
	ex := contract.Transaction{ID: "EX-1", Type: contract.Exchange, LocationID: "10", RegisterID: "R1", OccurredAt: day.Add(time.Hour),
		OriginalTransactionID: "S-9",
		Lines:                 []contract.Line{line("SKU-A", -1, 1000, -86, "CA-SF"), line("SKU-C", 2, 333, 57, "CA-SF")}}
	ex.Lines[0].Restock = true
	ex.Tenders = []contract.Tender{{Type: contract.Card, Amount: total(ex.Lines), PaymentIntentID: "pi_S-9"}}
	if ex.Tenders[0].Amount != -363 {
		t.Fatalf("test arithmetic: %v", ex.Tenders[0].Amount)
	}
	h.submit(ex)
	h.drained()
	w := h.ns.writes()
	if fmt.Sprint(w[len(w)-2:]) != "[PUT cashRefund/eid:EX-1-R PUT cashSale/eid:EX-1-S]" {
		t.Fatalf("writes %v", w)
	}
	calls, keys, _ := h.gw.snapshot()
	if len(calls) != 1 || calls[0].Get("amount") != "363" || keys[0] != "EX-1" {
		t.Errorf("gateway %v %v", calls, keys)
	}
	r, s := h.ns.body("cashRefund/eid:EX-1-R"), h.ns.body("cashSale/eid:EX-1-S")
	// Refund 10.86 = exchange credit 7.23 + 3.63 back to the card; sale 7.23 = the credit.
	if path(r, "createdFrom", "externalId") != "S-9" || path(r, "item", "items", 0, "quantity") != 1.0 ||
		path(r, "item", "items", 0, "tax1Amt") != 0.86 || path(r, "paymentMethod", "id") != "2" {
		t.Errorf("refund %v", r)
	}
	if path(s, "item", "items", 0, "quantity") != 2.0 || path(s, "paymentMethod", "id") != "2" || path(s, "pnRefNum") != nil {
		t.Errorf("sale %v", s)
	}
	if ts := h.status("EX-1"); ts.NetSuiteID != h.ns.ids["cashSale/eid:EX-1-S"] {
		t.Errorf("exchange status %+v", ts)
	}
}

// A discounted item brought back in an exchange is refunded at what was paid for it:
// the discount shrinks the returned line (contract.LineNet), it is not refunded on top.
func TestExchangeOfADiscountedItem(t *testing.T) {
	h := startHarness(t)
	sold := line("SKU-A", 1, 1000, 69, "CA-SF") // 10.00 − 2.00, 8.625 % of 8.00
	sold.Discount = 200
	h.submit(cardSale("S-D", "R1", day, sold))
	back := sold
	back.Quantity, back.TaxAmount, back.Restock = -1, -sold.TaxAmount, true
	ex := contract.Transaction{ID: "EX-D", Type: contract.Exchange, LocationID: "10", RegisterID: "R1", OccurredAt: day.Add(time.Hour),
		OriginalTransactionID: "S-D", Lines: []contract.Line{back, line("SKU-C", 1, 333, 29, "CA-SF")}}
	// 8.69 back, 3.62 taken: 5.07 refunded to the card.
	ex.Tenders = []contract.Tender{{Type: contract.Card, Amount: total(ex.Lines), PaymentIntentID: "pi_S-D"}}
	if ex.Tenders[0].Amount != -507 {
		t.Fatalf("test arithmetic: %v", ex.Tenders[0].Amount)
	}
	h.submit(ex)
	if st := h.drained(); st.Posted != 2 || st.DeadLettered != 0 {
		t.Fatalf("status %+v", st)
	}
	r := h.ns.body("cashRefund/eid:EX-D-R")
	if got := path(r, "item", "items", 0, "amount"); got != 8.0 {
		t.Errorf("returned line amount %v, want 8.00 (10.00 less the 2.00 discount)", got)
	}
	calls, _, _ := h.gw.snapshot()
	if len(calls) != 1 || calls[0].Get("amount") != "507" {
		t.Errorf("gateway refunds %v, want one of 507 cents", calls)
	}
}

func TestRetriesUntilPosted(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		header http.Header
	}{
		{"429", 429, http.Header{"Retry-After": {"0"}}},
		{"503", 503, nil},
		{"500", 500, nil},
		{"401", 401, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := startHarness(t)
			var mu sync.Mutex
			left := 3
			h.ns.setFail(func(m, p string) (int, string, http.Header) {
				mu.Lock()
				defer mu.Unlock()
				if strings.HasPrefix(p, "record/v1/cashSale") && left > 0 {
					left--
					return c.status, `{"status":` + fmt.Sprint(c.status) + `,"o:errorDetails":[{"detail":"injected","o:errorCode":"X"}]}`, c.header
				}
				return 0, "", nil
			})
			h.submit(cardSale("RT-"+c.name, "R1", day, line("SKU-B", 1, 99, 0, "")))
			st := h.drained()
			if st.Posted != 1 || st.DeadLettered != 0 {
				t.Fatalf("status %+v", st)
			}
			n := 0
			for _, w := range h.ns.writes() {
				if strings.HasPrefix(w, "PUT cashSale") {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d cash sale writes reached the books, want 1", n)
			}
		})
	}
}

func TestPermanentErrorDeadLetters(t *testing.T) {
	h := startHarness(t)
	const body = `{"type":"x","title":"Bad Request","status":400,"o:errorDetails":[{"detail":"Invalid item reference key 100.","o:errorCode":"INVALID_CONTENT","o:errorPath":"item.items[0].item"}]}`
	h.ns.setFail(func(m, p string) (int, string, http.Header) {
		if p == "record/v1/cashSale/eid:DL-1" {
			return 400, body, nil
		}
		return 0, "", nil
	})
	h.submit(cardSale("DL-1", "R1", day, line("SKU-B", 1, 99, 0, "")))
	// Its return cannot be linked and dead-letters too; another register is unaffected.
	h.submit(cardReturn("DL-2", "R2", "DL-1", day.Add(time.Hour), line("SKU-B", 1, 99, 0, "")))
	h.submit(cardSale("OK-1", "R1", day.Add(time.Minute), line("SKU-B", 1, 99, 0, "")))
	st := h.drained()
	if st.DeadLettered != 2 || st.Posted != 1 {
		t.Fatalf("status %+v", st)
	}
	ts := h.status("DL-1")
	if ts.State != contract.StateDeadLettered || !strings.Contains(ts.Error, "INVALID_CONTENT") || !strings.Contains(ts.Error, body) {
		t.Errorf("dead letter %+v", ts)
	}
	if ts := h.status("DL-2"); ts.State != contract.StateDeadLettered || !strings.Contains(ts.Error, "original transaction DL-1") {
		t.Errorf("dependent %+v", ts)
	}
	if _, _, made := h.gw.snapshot(); made != 0 {
		t.Errorf("refund made for a return of a dead-lettered sale")
	}
}

func TestUnknownSKUDeadLettersWithField(t *testing.T) {
	h := startHarness(t)
	h.submit(cardSale("U-1", "R1", day, line("NOPE", 1, 99, 0, "")))
	if st := h.drained(); st.DeadLettered != 1 {
		t.Fatalf("%+v", st)
	}
	if ts := h.status("U-1"); !strings.Contains(ts.Error, `lines[0].sku: no NetSuite item has SKU "NOPE"`) {
		t.Errorf("%+v", ts)
	}
}

func TestReturnWaitsForItsSale(t *testing.T) {
	h := startHarness(t)
	// The return arrives first (the sale is still in an offline register's queue).
	h.submit(cardReturn("W-R", "R2", "W-S", day.Add(time.Hour), line("SKU-B", 1, 99, 0, "")))
	time.Sleep(50 * time.Millisecond)
	if st := h.c.Status(); st.Posted != 0 {
		t.Fatalf("return posted before its sale: %+v", st)
	}
	h.submit(cardSale("W-S", "R1", day, line("SKU-B", 1, 99, 0, "")))
	h.drained()
	var order []string
	for _, w := range h.ns.writes() {
		order = append(order, w)
	}
	if fmt.Sprint(order) != "[PUT cashSale/eid:W-S PUT cashRefund/eid:W-R]" {
		t.Errorf("order %v", order)
	}
}

func TestOneCustomerPerIdentity(t *testing.T) {
	h := startHarness(t, func(c *Config) { c.Concurrency = 4 })
	var batch contract.Batch
	for i := range 8 {
		tx := cardSale(fmt.Sprintf("C-%d", i), fmt.Sprintf("R%d", i), day, line("SKU-B", 1, 99, 0, ""))
		tx.Customer = &contract.Customer{Email: "  New.Customer@Example.com "}
		if i%2 == 1 {
			tx.Customer.Email = "new.customer@example.com"
		}
		batch.Transactions = append(batch.Transactions, tx)
	}
	h.do("POST", "/pos/v1/transactions:batch", batch)
	h.drained()
	n := 0
	var eid string
	for _, w := range h.ns.writes() {
		if strings.HasPrefix(w, "PUT customer/") {
			n++
			eid = w
		}
	}
	if n != 1 || !strings.HasPrefix(eid, "PUT customer/eid:CUS-") {
		t.Errorf("%d customer upserts (%s), want 1", n, eid)
	}
}

func TestItemLookup(t *testing.T) {
	h := startHarness(t)
	get := func(path string) (int, contract.Item) {
		code, b := h.do("GET", path, nil)
		var it contract.Item
		json.Unmarshal(b, &it)
		return code, it
	}
	code, it := get("/pos/v1/items/012345678905?location=10")
	if code != 200 || it.SKU != "SKU-A" || it.ItemID != "100" || it.Price != 1000 || it.TaxCode != "CA-SF" || it.TaxRate != 8.625 || it.OnHand != 50 {
		t.Fatalf("lookup %d %+v", code, it)
	}
	// The store's jurisdiction decides the tax of a taxable item; an exempt item keeps its code.
	if _, it := get("/pos/v1/items/012345678905?location=11"); it.TaxCode != "NY-NYC" || it.OnHand != 5 {
		t.Errorf("at store 2: %+v", it)
	}
	if _, it := get("/pos/v1/items/036000291452?location=11"); it.TaxCode != "NON-TAXABLE" || it.TaxRate != 0 || it.OnHand != 0 {
		t.Errorf("exempt: %+v", it)
	}
	// An accepted sale decrements the local view at once, a restocked return adds back.
	h.ns.setFail(func(m, p string) (int, string, http.Header) { return 503, "", nil })
	h.submit(cardSale("L-1", "R1", day, line("SKU-A", 3, 1000, 259, "CA-SF")))
	ret := cardReturn("L-2", "R1", "L-1", day, line("SKU-A", 1, 1000, 86, "CA-SF"))
	ret.Lines[0].Restock = true
	h.submit(ret)
	if _, it := get("/pos/v1/items/012345678905?location=10"); it.OnHand != 48 {
		t.Errorf("after sale and return: onHand %v, want 48", it.OnHand)
	}
	for _, c := range []struct {
		path string
		code int
	}{
		{"/pos/v1/items/999999999999?location=10", 404},
		{"/pos/v1/items/012345678905", 400},
		{"/pos/v1/items/012345678905?location=77", 400},
	} {
		if code, b := h.do("GET", c.path, nil); code != c.code || !strings.Contains(string(b), `"error"`) {
			t.Errorf("%s: %d %s", c.path, code, b)
		}
	}
}

func TestHealthReadyMetricsOpenAPI(t *testing.T) {
	h := startHarness(t)
	for _, c := range []struct {
		path, want string
	}{
		{"/healthz", "ok"},
		{"/readyz", "ready"},
		{"/openapi.yaml", "openapi: 3.1.0"},
		{"/metrics", "connector_outbox_depth"},
		{"/pos/v1/sync/status", `"deadLettered":0`},
	} {
		if code, b := h.do("GET", c.path, nil); code != 200 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d %.200s", c.path, code, b)
		}
	}
	if code, b := h.do("GET", "/openapi.yaml", nil); code != 200 || string(b) != string(contract.OpenAPI()) {
		t.Errorf("/openapi.yaml is not the contract's document (%d, %d bytes)", code, len(b))
	}
	// NetSuite down: not ready.
	h.ns.srv.Close()
	h.c.reach.seen.Store(0)
	if code, b := h.do("GET", "/readyz", nil); code != 503 || !strings.Contains(string(b), "netsuite_unreachable") {
		t.Errorf("readyz with NetSuite down: %d %s", code, b)
	}
	if code, _ := h.do("GET", "/pos/v1/transactions/nope", nil); code != 404 {
		t.Errorf("unknown transaction: %d", code)
	}
}

func TestRecoversPendingAfterRestart(t *testing.T) {
	h := startHarness(t)
	h.ns.setFail(func(m, p string) (int, string, http.Header) {
		if strings.HasPrefix(p, "record/") {
			return 503, "", nil
		}
		return 0, "", nil
	})
	h.submit(cardSale("P-1", "R1", day, line("SKU-B", 1, 99, 0, "")))
	h.submit(cardSale("P-2", "R1", day.Add(time.Second), line("SKU-B", 1, 99, 0, "")))
	h.stop()
	h.ns.setFail(nil)
	h.start()
	if st := h.drained(); st.Posted != 2 {
		t.Fatalf("after restart: %+v", st)
	}
}

func TestConfigAndBugParsing(t *testing.T) {
	if _, err := ParseBugs([]string{"no-upsert,sync-date", " drop-on-429 "}); err != nil {
		t.Error(err)
	}
	_, err := ParseBugs([]string{"no-such-bug"})
	if err == nil || !strings.Contains(err.Error(), `"no-such-bug"`) || !strings.Contains(err.Error(), "memory-outbox") {
		t.Errorf("unknown bug: %v", err)
	}
	env := map[string]string{"NETSUITE_BASE_URL": "http://127.0.0.1:1", "NETSUITE_ACCOUNT_ID": "1", "NETSUITE_CONSUMER_KEY": "a",
		"NETSUITE_CONSUMER_SECRET": "b", "NETSUITE_TOKEN_ID": "c", "NETSUITE_TOKEN_SECRET": "d", "CONNECTOR_DATA_DIR": t.TempDir(),
		"CONNECTOR_BUGS": "tax-on-total", "CONNECTOR_CONCURRENCY": "3"}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || cfg.Validate() != nil || cfg.Concurrency != 3 || len(cfg.Bugs) != 1 {
		t.Errorf("from env: %+v %v", cfg, err)
	}
	env["NETSUITE_TOKEN_SECRET"] = ""
	cfg, _ = ConfigFromEnv(func(k string) string { return env[k] })
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "NETSUITE_TOKEN_SECRET") {
		t.Errorf("missing secret: %v", err)
	}
	env["CONNECTOR_BUGS"] = "nope"
	if _, err := ConfigFromEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("unknown bug in env accepted")
	}
	parsed, err := ParseEnv(strings.NewReader("# from doorbuster sim\nNETSUITE_BASE_URL=http://127.0.0.1:9/x\nexport GATEWAY_API_KEY=\"sk_test_1\"\n\n"))
	if err != nil || parsed["NETSUITE_BASE_URL"] != "http://127.0.0.1:9/x" || parsed["GATEWAY_API_KEY"] != "sk_test_1" {
		t.Errorf("env file: %v %v", parsed, err)
	}
	if _, err := ParseEnv(strings.NewReader("just words\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad env line: %v", err)
	}
}

func TestTransactionEID(t *testing.T) {
	for in, want := range map[string]string{
		"S001-R02-000123": "S001-R02-000123",
		"a_b-c":           "a_b-c",
		"a.b:c":           "POS-" + digest("tx:a.b:c"),
	} {
		if got := transactionEID(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
	if got := transactionEID(strings.Repeat("x.", 128)); !strings.HasPrefix(got, "POS-") {
		t.Errorf("long id → %q", got)
	}
}

func TestNamelessNewCustomerGetsPlaceholderName(t *testing.T) {
	h := startHarness(t)
	// The fake refuses a customer without a name, as NetSuite does on create.
	var mu sync.Mutex
	refused := 0
	h.ns.requireNames = func(body map[string]any) bool {
		mu.Lock()
		defer mu.Unlock()
		if body["firstName"] == nil && body["lastName"] == nil {
			refused++
			return false
		}
		return true
	}
	tx := cardSale("NN-1", "R1", day, line("SKU-B", 1, 99, 0, ""))
	tx.Customer = &contract.Customer{Email: "jane.doe@example.com"}
	h.submit(tx)
	if st := h.drained(); st.Posted != 1 {
		t.Fatalf("%+v", st)
	}
	ident := customerIdentity(tx.Customer)
	if b := h.ns.body("customer/eid:" + ident); refused != 1 || path(b, "lastName") != "jane.doe" || path(b, "email") != "jane.doe@example.com" {
		t.Errorf("refused %d, customer %v", refused, b)
	}
}

// Local stock deltas are an estimate; once the outbox drains, the cache is read again
// and the lookup gives NetSuite's on hand.
func TestStockViewRefreshedAfterDrain(t *testing.T) {
	h := startHarness(t)
	onHand := func() float64 {
		_, b := h.do("GET", "/pos/v1/items/012345678905?location=10", nil)
		var it contract.Item
		json.Unmarshal(b, &it)
		return it.OnHand
	}
	block := make(chan struct{})
	h.ns.setFail(func(m, p string) (int, string, http.Header) {
		if strings.HasPrefix(p, "record/") {
			<-block
		}
		return 0, "", nil
	})
	h.submit(cardSale("SV-1", "R1", day, line("SKU-A", 3, 1000, 259, "CA-SF")))
	if got := onHand(); got != 47 {
		t.Fatalf("after accepting a sale of 3: %v, want 47", got)
	}
	close(block)
	h.drained()
	// The fake's stock never moves: NetSuite says 50, and the view goes back to it.
	h.waitFor("the view to be refreshed", func() bool { return onHand() == 50 })
}

// Without a configured concurrency the budget is governanceLimits minus one.
func TestConcurrencyFromGovernance(t *testing.T) {
	for _, c := range []struct{ limit, want int }{{5, 4}, {15, 14}, {1, 1}} {
		ns, gw := newFakeNetSuite(t), newFakeGateway(t)
		ns.limit = c.limit
		cfg := testConfig(t, ns, gw)
		cfg.Concurrency = 0
		h := &harness{t: t, ns: ns, gw: gw, cfg: cfg}
		h.start()
		h.waitFor("workers", func() bool { return h.c.Workers() != 0 })
		if got := h.c.Workers(); got != c.want {
			t.Errorf("limit %d: %d workers, want %d", c.limit, got, c.want)
		}
		h.stop()
	}
}
