package netsuite

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dghubble/oauth1"

	"github.com/doorbuster/doorbuster/simulator/faults"
)

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type fixedNoncer string

func (n fixedNoncer) Nonce() string { return string(n) }

func TestTBA(t *testing.T) {
	w := tinyWorld()
	e := newEnv(t, w, Config{})
	url := e.base + "/record/v1/customer/100001?expandSubResources=false"

	// Requests signed by dghubble/oauth1 (HMAC-SHA256, realm = account) are accepted.
	if r := doWith(t, e.c, http.MethodGet, url, nil); r.status != http.StatusOK {
		t.Fatalf("signed GET: %d %s", r.status, r.body)
	}
	if r := doWith(t, e.c, http.MethodPost, e.base+"/query/v1/suiteql?limit=5", map[string]any{"q": "SELECT id FROM item"}); r.status != http.StatusOK {
		t.Fatalf("signed POST with a query string: %d %s", r.status, r.body)
	}

	tamperQuery := signedClient(w.Credentials, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.URL.RawQuery = "expandSubResources=true" // changed after signing
		return http.DefaultTransport.RoundTrip(r)
	}))
	tamperSig := signedClient(w.Credentials, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), `oauth_signature="`, `oauth_signature="A`, 1))
		return http.DefaultTransport.RoundTrip(r)
	}))
	wrongSecret := w.Credentials
	wrongSecret.TokenSecret = "not-the-secret"
	wrongRealm := w.Credentials
	wrongRealm.AccountID = "7654321"
	unknownToken := w.Credentials
	unknownToken.TokenID = "tk-nobody"
	replayCfg := &oauth1.Config{ConsumerKey: w.Credentials.ConsumerKey, ConsumerSecret: w.Credentials.ConsumerSecret,
		Realm: w.Credentials.AccountID, Signer: &oauth1.HMAC256Signer{ConsumerSecret: w.Credentials.ConsumerSecret},
		Noncer: fixedNoncer("same-nonce-every-time")}
	replay := replayCfg.Client(t.Context(), oauth1.NewToken(w.Credentials.TokenID, w.Credentials.TokenSecret))
	if r := doWith(t, replay, http.MethodGet, url, nil); r.status != http.StatusOK {
		t.Fatalf("first use of a nonce: %d %s", r.status, r.body)
	}
	tests := []struct {
		name string
		c    *http.Client
	}{
		{"unsigned", http.DefaultClient},
		{"query changed after signing", tamperQuery},
		{"signature altered", tamperSig},
		{"wrong token secret", signedClient(wrongSecret, nil)},
		{"wrong realm", signedClient(wrongRealm, nil)},
		{"unknown token", signedClient(unknownToken, nil)},
		{"replayed nonce", replay},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := doWith(t, tc.c, http.MethodGet, url, nil)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if d := r.errorDetail(t); d["o:errorCode"] != codeInvalidLogin {
				t.Errorf("code %v", d["o:errorCode"])
			}
			if h := r.header.Get("WWW-Authenticate"); !strings.Contains(h, `realm="1234567"`) || !strings.Contains(h, "token_rejected") {
				t.Errorf("WWW-Authenticate %q", h)
			}
		})
	}
	// Harness endpoints need no signature.
	if r := doWith(t, http.DefaultClient, http.MethodGet, e.hs.URL+"/healthz", nil); r.status != http.StatusOK {
		t.Errorf("healthz: %d", r.status)
	}

	// The server's clock decides staleness: 6 minutes apart in either direction is
	// beyond the ±5 min skew; 4 minutes is within it.
	for _, tc := range []struct {
		offset time.Duration
		status int
	}{{6 * time.Minute, http.StatusUnauthorized}, {-6 * time.Minute, http.StatusUnauthorized}, {4 * time.Minute, http.StatusOK}} {
		skewed := newEnv(t, tinyWorld(), Config{Clock: func() time.Time { return time.Now().Add(tc.offset) }})
		r := skewed.do(http.MethodGet, "/record/v1/customer/100001", nil)
		if r.status != tc.status {
			t.Errorf("server clock %v off: status %d, want %d: %s", tc.offset, r.status, tc.status, r.body)
			continue
		}
		if tc.status == http.StatusUnauthorized {
			if d := r.errorDetail(t); d["o:errorCode"] != codeInvalidLogin || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("stale timestamp: %v %v", d, r.header)
			}
		}
	}
}

// The governance test: with a 200 ms latency fault on SuiteQL and a limit of 2,
// 10 concurrent SuiteQL requests → the excess get 429 CONCURRENCY_LIMIT_EXCEEDED. The
// fault's delay is served inside the governance slot, as a slow NetSuite request is.
func TestGovernanceWithLatencyFault(t *testing.T) {
	eng := faults.New(faults.NetSuite, 42, faults.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	rules, err := faults.ParseRules([]byte(`
- name: slow-suiteql
  target: netsuite
  match: {method: POST, path: /services/rest/query/v1/suiteql}
  effect: {latency: {delay: 200ms}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Replace(rules); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, tinyWorld(), Config{ConcurrencyLimit: 2, Faults: eng})
	const n = 10
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		codes = map[int]int{}
		other []string
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := doWith(t, e.c, http.MethodPost, e.base+"/query/v1/suiteql", map[string]any{"q": "SELECT id FROM item"}, "Prefer", "transient")
			mu.Lock()
			defer mu.Unlock()
			codes[r.status]++
			if r.status == http.StatusTooManyRequests {
				if d := r.errorDetail(t); d["o:errorCode"] != codeConcurrency {
					other = append(other, fmt.Sprint(d))
				}
			}
		}()
	}
	begin := time.Now()
	close(start)
	wg.Wait()
	if len(other) > 0 {
		t.Errorf("429s with another code: %v", other)
	}
	if codes[http.StatusOK]+codes[http.StatusTooManyRequests] != n {
		t.Fatalf("statuses %v", codes)
	}
	// All ten arrive within a few ms of each other and each success holds its slot
	// for 200 ms, so at most two succeed per 200 ms that the burst took to arrive.
	maxOK := 2 * (1 + int(time.Since(begin)/(200*time.Millisecond)))
	if codes[http.StatusOK] < 1 || codes[http.StatusOK] > maxOK || codes[http.StatusTooManyRequests] < n-maxOK {
		t.Errorf("statuses %v (at most %d successes expected)", codes, maxOK)
	}
	t.Logf("statuses %v in %v", codes, time.Since(begin))
	if got := scrape(t, e, "netsuite_governance_rejections_total"); got != fmt.Sprint(codes[http.StatusTooManyRequests]) {
		t.Errorf("rejections metric %s, want %d", got, codes[http.StatusTooManyRequests])
	}
	// Sequential requests all fit.
	for i := 0; i < 3; i++ {
		if r := e.suiteQL("SELECT id FROM item", ""); r.status != http.StatusOK {
			t.Errorf("sequential request %d: %d", i, r.status)
		}
	}
}

// scrape returns the value of a metric line that starts with name (first match).
func scrape(t *testing.T, e *env, name string) string {
	t.Helper()
	r := doWith(t, http.DefaultClient, http.MethodGet, e.hs.URL+"/metrics", nil)
	for _, line := range strings.Split(string(r.body), "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			return line[strings.LastIndexByte(line, ' ')+1:]
		}
	}
	return ""
}

func TestGovernanceLimits(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{ConcurrencyLimit: 20})
	m := e.do(http.MethodGet, "/system/v1/governanceLimits", nil).json(t)
	if m["accountConcurrencyLimit"] != 20.0 || m["integrationConcurrencyLimit"] != 20.0 || m["integrationLimitType"] == nil {
		t.Errorf("limits %v", m)
	}
}

func TestAsyncJobsAndIdempotency(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	body := map[string]any{"location": ref1("1"), "paymentMethod": ref1("2"), "item": items(saleLineBody("1003", 1))}
	key := "3f1c8a2e-6f0b-4f53-9a51-2f1d6f0b9a11"
	r := e.do(http.MethodPut, "/record/v1/cashSale/eid:ASYNC-1", body, "Prefer", "respond-async", "X-NetSuite-Idempotency-Key", key)
	if r.status != http.StatusAccepted || r.header.Get("Preference-Applied") != "respond-async" {
		t.Fatalf("async submit: %d %v %s", r.status, r.header, r.body)
	}
	job := r.header.Get("Location")
	if !strings.Contains(job, "/services/rest/async/v1/job/") {
		t.Fatalf("job Location %q", job)
	}
	// Poll until the job completes (bounded).
	deadline := time.Now().Add(10 * time.Second)
	var status map[string]any
	for {
		status = doWith(t, e.c, http.MethodGet, job, nil).json(t)
		if status["completed"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not completed: %v", status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status["progress"] != "succeeded" {
		t.Fatalf("job %v", status)
	}
	res := doWith(t, e.c, http.MethodGet, job+"/task/"+status["id"].(string)+"/result", nil)
	if res.status != http.StatusNoContent || !strings.Contains(res.header.Get("Location"), "/record/v1/cashSale/") {
		t.Errorf("job result %d %v", res.status, res.header)
	}
	if n := e.queryInt("SELECT COUNT(*) FROM transactions WHERE externalid = 'ASYNC-1'"); n != 1 {
		t.Fatalf("%d sales after the job", n)
	}
	// The same key again: 400 IDEMPOTENCY_ERROR pointing at the first job, nothing runs.
	again := e.do(http.MethodPut, "/record/v1/cashSale/eid:ASYNC-2", body, "Prefer", "respond-async", "X-NetSuite-Idempotency-Key", key)
	if again.status != http.StatusBadRequest || again.errorDetail(t)["o:errorCode"] != codeIdempotency || again.header.Get("Location") != job {
		t.Errorf("repeated key: %d %v %s", again.status, again.header, again.body)
	}
	// The key is ignored on synchronous requests.
	if r := e.do(http.MethodPut, "/record/v1/cashSale/eid:SYNC-1", body, "X-NetSuite-Idempotency-Key", key); r.status != http.StatusNoContent {
		t.Errorf("sync with a used key: %d %s", r.status, r.body)
	}
	// The refused request was never queued: one job exists, and no ASYNC-2 sale.
	e.srv.jobs.mu.Lock()
	jobs, queued := len(e.srv.jobs.jobs), len(e.srv.jobs.queue)
	e.srv.jobs.mu.Unlock()
	if jobs != 1 || queued != 0 {
		t.Errorf("%d jobs and %d queued after a refused key, want 1 and 0", jobs, queued)
	}
	if n := e.queryInt("SELECT COUNT(*) FROM transactions WHERE externalid = 'ASYNC-2'"); n != 0 {
		t.Errorf("the refused async request ran")
	}
	// An async request that fails keeps its error as the result.
	bad := e.do(http.MethodPost, "/record/v1/cashSale", map[string]any{"location": ref1("1")}, "Prefer", "respond-async")
	if bad.status != http.StatusAccepted {
		t.Fatalf("async submit: %d", bad.status)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		status = doWith(t, e.c, http.MethodGet, bad.header.Get("Location"), nil).json(t)
		if status["completed"] == true || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status["progress"] != "failed" {
		t.Errorf("failed job %v", status)
	}
	res = doWith(t, e.c, http.MethodGet, bad.header.Get("Location")+"/task/"+status["id"].(string)+"/result", nil)
	if res.status != http.StatusBadRequest || res.errorDetail(t)["o:errorCode"] != codeUserError {
		t.Errorf("failed job result %d %s", res.status, res.body)
	}
}

func TestExportResetHealthMetrics(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	e.mustWrite(http.MethodPost, "/record/v1/cashSale", map[string]any{"location": ref1("1"), "item": items(saleLineBody("1001", 3))})

	r := doWith(t, http.DefaultClient, http.MethodGet, e.hs.URL+"/_sim/export", nil)
	if r.status != http.StatusOK {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	path := filepath.Join(t.TempDir(), "books.db")
	if err := os.WriteFile(path, r.body, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var on float64
	if err := db.QueryRow("SELECT COUNT(*) FROM transactions").Scan(&n); err != nil || n != 1 {
		t.Errorf("snapshot transactions: %d %v", n, err)
	}
	if err := db.QueryRow("SELECT quantityonhand FROM inventoryitemlocations WHERE item = 1001 AND location = 1").Scan(&on); err != nil || on != 7 {
		t.Errorf("snapshot on hand: %v %v", on, err)
	}

	if r := doWith(t, http.DefaultClient, http.MethodPost, e.hs.URL+"/_sim/reset", nil); r.status != http.StatusOK {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	if n := e.queryInt("SELECT COUNT(*) FROM transactions"); n != 0 {
		t.Errorf("%d transactions after reset", n)
	}
	if on := e.onHand("1001", "1"); on != 10 {
		t.Errorf("on hand %v after reset", on)
	}
	// Ids start over after a reset; the world's records are back.
	if r := e.do(http.MethodGet, "/record/v1/customer/100002", nil); r.status != http.StatusOK {
		t.Errorf("world customer after reset: %d", r.status)
	}
	// transaction_sums is emptied with the lines, and its triggers keep it after.
	if n := e.queryInt("SELECT COUNT(*) FROM transaction_sums"); n != 0 {
		t.Errorf("%d transaction_sums rows after reset", n)
	}
	e.mustWrite(http.MethodPost, "/record/v1/cashSale", map[string]any{"location": ref1("1"), "item": items(saleLineBody("1001", 2))})
	if n := e.queryInt(`SELECT COUNT(*) FROM transaction_sums s JOIN transactions t ON t.id = s.transaction_id
		WHERE s.item_lines = (SELECT COUNT(*) FROM transaction_lines l WHERE l.transaction_id = t.id AND l.sublist = 'item')
			AND s.item_qty = 2 AND s.moves = 1 AND s.move_qty = -2 AND s.gl_lines > 0 AND s.debit = s.credit
			AND s.debit = (SELECT SUM(debit_cents) FROM gl_lines g WHERE g.transaction_id = t.id)`); n != 1 {
		t.Errorf("transaction_sums after a sale past the reset: %d matching rows, want 1", n)
	}

	h := doWith(t, http.DefaultClient, http.MethodGet, e.hs.URL+"/healthz", nil).json(t)
	if h["status"] != "ok" {
		t.Errorf("healthz %v", h)
	}
	doWith(t, http.DefaultClient, http.MethodGet, e.base+"/record/v1/customer/1", nil) // a 401
	m := string(doWith(t, http.DefaultClient, http.MethodGet, e.hs.URL+"/metrics", nil).body)
	for _, want := range []string{
		`netsuite_requests_total{method="POST",route="record/cashSale",status="204"} 2`,
		`netsuite_requests_total{method="GET",route="auth",status="401"} 1`,
		`netsuite_requests_in_flight 1`, // the scrape itself
		`netsuite_governance_rejections_total 0`,
		`netsuite_auth_failures_total{reason="missing_header"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestBooksFileKeptAtPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "books.db")
	if err := os.WriteFile(path, []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := New(tinyWorld(), Config{BooksPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if srv.BooksPath() != path {
		t.Errorf("BooksPath %q", srv.BooksPath())
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM items").Scan(&n); err != nil || n != 3 {
		t.Errorf("books file after Close: %d items, %v", n, err)
	}
}

func TestTemporaryBooksRemovedOnClose(t *testing.T) {
	srv, err := New(tinyWorld(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	path := srv.BooksPath()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("temporary books still exist: %v", err)
	}
}

// waitUntil polls cond until it holds, failing the test after a deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestGovernancePoolIsShared: record, SuiteQL, async submissions, job status and running
// async jobs all draw on the one account-wide pool. Holding the books' write lock parks a
// write (and the slot it holds) for as long as the test wants.
func TestGovernancePoolIsShared(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{ConcurrencyLimit: 1})
	sale := map[string]any{"location": ref1("1"), "item": items(saleLineBody("1003", 1))}
	wantThrottled := func(what string, r reply) {
		t.Helper()
		if r.status != http.StatusTooManyRequests {
			t.Errorf("%s while the slot is held: %d %s", what, r.status, r.body)
			return
		}
		if d := r.errorDetail(t); d["o:errorCode"] != codeConcurrency {
			t.Errorf("%s: code %v", what, d["o:errorCode"])
		}
	}
	inUse := func() int { return len(e.srv.gov.slots) }

	// A synchronous record write holds the only slot.
	e.srv.st.b.wmu.Lock()
	done := make(chan reply, 1)
	go func() { done <- e.do(http.MethodPost, "/record/v1/cashSale", sale) }()
	waitUntil(t, "the write to hold the slot", func() bool { return inUse() == 1 })
	wantThrottled("SuiteQL", e.suiteQL("SELECT id FROM item", ""))
	wantThrottled("record GET", e.do(http.MethodGet, "/record/v1/customer/100001", nil))
	wantThrottled("async submission", e.do(http.MethodPost, "/record/v1/cashSale", sale, "Prefer", "respond-async"))
	wantThrottled("job status", e.do(http.MethodGet, "/async/v1/job/1", nil))
	wantThrottled("governanceLimits", e.do(http.MethodGet, "/system/v1/governanceLimits", nil))
	e.srv.st.b.wmu.Unlock()
	if r := <-done; r.status != http.StatusNoContent {
		t.Fatalf("the held write: %d %s", r.status, r.body)
	}
	waitUntil(t, "the slot to be released", func() bool { return inUse() == 0 })
	if got := scrape(t, e, "netsuite_governance_rejections_total"); got != "5" {
		t.Errorf("rejections metric %s, want 5", got)
	}

	// A running async job holds the slot too: its submission gets in and out, then the
	// job takes the slot and keeps it while it writes.
	e.srv.st.b.wmu.Lock()
	r := e.do(http.MethodPut, "/record/v1/cashSale/eid:ASYNC-GOV", sale, "Prefer", "respond-async")
	if r.status != http.StatusAccepted {
		e.srv.st.b.wmu.Unlock()
		t.Fatalf("async submission: %d %s", r.status, r.body)
	}
	loc := r.header.Get("Location")
	jobID, _ := parseID(loc[strings.LastIndexByte(loc, '/')+1:])
	progress := func() string { j, _ := e.srv.jobs.snapshot(jobID); return j.progress }
	waitUntil(t, "the job to start", func() bool { return progress() == "inProgress" && inUse() == 1 })
	wantThrottled("record GET during an async job", e.do(http.MethodGet, "/record/v1/customer/100001", nil))
	e.srv.st.b.wmu.Unlock()
	waitUntil(t, "the job to finish", func() bool { return progress() == "succeeded" })
	waitUntil(t, "the job's slot to be released", func() bool { return inUse() == 0 })
	if r := e.do(http.MethodGet, "/record/v1/customer/100001", nil); r.status != http.StatusOK {
		t.Errorf("record GET after the job: %d %s", r.status, r.body)
	}
	if n := e.queryInt("SELECT COUNT(*) FROM transactions"); n != 2 {
		t.Errorf("%d sales, want 2", n)
	}
}

// TestLostResponseCommitsTheWrite: with a lostResponse rule on cash sale upserts, the
// client sees its connection reset, yet the sale is in the books; the injected fault is
// counted on /metrics and listed by /_sim/events; the client's retry of the same upsert
// finds the sale and books nothing twice.
func TestLostResponseCommitsTheWrite(t *testing.T) {
	eng := faults.New(faults.NetSuite, 7, faults.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	rules, err := faults.ParseRules([]byte(`
- name: lost-sales
  target: netsuite
  match: {method: PUT, recordType: cashSale}
  effect: {lostResponse: {}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Replace(rules); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, tinyWorld(), Config{Faults: eng})
	body := map[string]any{"location": ref1("1"), "paymentMethod": ref1("2"), "pnRefNum": "pi_lost",
		"item": items(saleLineBody("1001", 1))}
	data, _ := json.Marshal(body)
	lossy := signedClient(tinyWorld().Credentials, &http.Transport{DisableKeepAlives: true})
	req, _ := http.NewRequest(http.MethodPut, e.base+"/record/v1/cashSale/eid:LOST-1", bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	resp, err := lossy.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want the connection reset without an answer", resp.StatusCode)
	}
	// The write is in the books behind the lost answer.
	if n := e.queryInt("SELECT COUNT(*) FROM transactions WHERE externalid = 'LOST-1'"); n != 1 {
		t.Fatalf("%d sales behind the lost response, want 1", n)
	}
	if got := e.onHand("1001", "1"); got != 9 {
		t.Errorf("on hand %v, want 9", got)
	}
	var evs struct {
		Events []faults.Event `json:"events"`
	}
	if err := json.Unmarshal(doWith(t, http.DefaultClient, http.MethodGet, e.hs.URL+"/_sim/events?since=0", nil).body, &evs); err != nil {
		t.Fatal(err)
	}
	if len(evs.Events) != 1 || evs.Events[0].Rule != "lost-sales" || evs.Events[0].Effect != "lostResponse" ||
		evs.Events[0].Path != "/services/rest/record/v1/cashSale/eid:LOST-1" {
		t.Errorf("events %+v", evs.Events)
	}
	if got := scrape(t, e, `doorbuster_faults_injected_total{effect="lostResponse",rule="lost-sales",target="netsuite"}`); got != "1" {
		t.Errorf("injected faults metric %q, want 1", got)
	}
	// The retry (the fault gone) is answered, with the same record and nothing booked twice.
	eng.Clear()
	id := e.mustWrite(http.MethodPut, "/record/v1/cashSale/eid:LOST-1", body)
	if got := e.queryIntStr("SELECT id FROM transactions WHERE externalid = 'LOST-1'"); got != id {
		t.Errorf("retry answered id %s, books hold %s", id, got)
	}
	if got := e.onHand("1001", "1"); got != 9 {
		t.Errorf("on hand %v after the retry, want 9 (one sale)", got)
	}
	e.checkBalanced()
}

// TestExportIsConsistentDuringWrites: snapshots taken while sales are being written each
// hold whole transactions only: every sale with its lines, GL and stock moves, the GL
// balanced, and on hand equal to the world's stock plus the moves.
func TestExportIsConsistentDuringWrites(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{ConcurrencyLimit: 16})
	const writers, perWriter = 4, 15
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				select {
				case <-stop:
					return
				default:
				}
				r := e.do(http.MethodPut, fmt.Sprintf("/record/v1/cashSale/eid:W%d-%d", w, i), map[string]any{
					"location": ref1(fmt.Sprint(1 + i%2)), "paymentMethod": ref1("2"),
					"item": items(saleLineBody("1001", 1), saleLineBody("1002", 0.5), saleLineBody("1003", 2))})
				if r.status != http.StatusNoContent {
					t.Errorf("write: %d %s", r.status, r.body)
					return
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	check := func(snap string) (sales int) {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+snap+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		one := func(q string) int {
			t.Helper()
			var n int
			if err := db.QueryRow(q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		}
		sales = one("SELECT COUNT(*) FROM transactions")
		for q, want := range map[string]int{
			"SELECT COUNT(*) FROM records WHERE type = 'cashSale'": sales,
			"SELECT COUNT(*) FROM transaction_lines":               3 * sales,
			"SELECT COUNT(*) FROM inventory_moves":                 3 * sales,
			"SELECT COUNT(*) FROM tenders":                         sales,
			"SELECT COUNT(DISTINCT transaction_id) FROM gl_lines":  sales,
			"SELECT COUNT(*) FROM (SELECT 1 FROM gl_lines GROUP BY transaction_id HAVING SUM(debit_cents) != SUM(credit_cents))": 0,
			`SELECT COUNT(*) FROM inventory v WHERE v.onhand != 10 + COALESCE((SELECT SUM(m.quantity) FROM inventory_moves m
				WHERE m.item = v.item AND m.location = v.location), 0)`: 0,
		} {
			if got := one(q); got != want {
				t.Errorf("snapshot with %d sales: %s = %d, want %d", sales, q, got, want)
			}
		}
		return sales
	}
	dir := t.TempDir()
	last := -1
	for i := 0; i < 5; i++ {
		r := doWith(t, http.DefaultClient, http.MethodGet, e.hs.URL+"/_sim/export", nil)
		if r.status != http.StatusOK {
			t.Fatalf("export: %d %s", r.status, r.body)
		}
		snap := filepath.Join(dir, fmt.Sprintf("books-%d.db", i))
		if err := os.WriteFile(snap, r.body, 0o600); err != nil {
			t.Fatal(err)
		}
		n := check(snap)
		t.Logf("snapshot %d: %d sales", i, n)
		if n < last {
			t.Errorf("snapshot %d has %d sales, fewer than the one before (%d)", i, n, last)
		}
		last = n
	}
}

// TestAsyncSuiteQL: a SuiteQL query sent with Prefer: respond-async runs as a job whose
// result is the synchronous answer.
func TestAsyncSuiteQL(t *testing.T) {
	e := newEnv(t, tinyWorld(), Config{})
	r := e.do(http.MethodPost, "/query/v1/suiteql?limit=2", map[string]any{"q": "SELECT id, itemid FROM item ORDER BY id"}, "Prefer", "respond-async")
	if r.status != http.StatusAccepted || !strings.Contains(r.header.Get("Location"), "/async/v1/job/") {
		t.Fatalf("async SuiteQL: %d %v %s", r.status, r.header, r.body)
	}
	job := r.header.Get("Location")
	var status map[string]any
	waitUntil(t, "the SuiteQL job", func() bool {
		status = doWith(t, e.c, http.MethodGet, job, nil).json(t)
		return status["completed"] == true
	})
	if status["progress"] != "succeeded" {
		t.Fatalf("job %v", status)
	}
	res := doWith(t, e.c, http.MethodGet, job+"/task/"+status["id"].(string)+"/result", nil)
	if res.status != http.StatusOK {
		t.Fatalf("result: %d %s", res.status, res.body)
	}
	m := res.json(t)
	rows := m["items"].([]any)
	if len(rows) != 2 || rows[0].(map[string]any)["itemid"] != "ELEC-000001" || m["totalResults"] != 3.0 || m["hasMore"] != true {
		t.Errorf("job result %s", res.body)
	}
}
