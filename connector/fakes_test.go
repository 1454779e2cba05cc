package connector

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/connector/netsuite"
)

// fakeNetSuite is a minimal NetSuite REST stand-in for unit tests: canned SuiteQL
// views, governanceLimits, and a record store that logs every write. Integration tests
// use the real simulator instead.
type fakeNetSuite struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	log     []string                                             // "PUT cashSale/eid:X", "POST customer", in order
	records map[string]map[string]any                            // "cashSale/eid:X" → body (last written)
	nextID  int                                                  // internal ids for new records
	ids     map[string]string                                    // "cashSale/eid:X" → internal id
	fail    func(method, path string) (int, string, http.Header) // inject a reply; status 0 = none
	lost    func(method, path string) bool                       // write, then answer 502 as if the reply was lost
	limit   int
	// requireNames, when set, vets customer bodies: false answers NetSuite's 400 for a
	// person without a name.
	requireNames func(body map[string]any) bool
	// views are the SuiteQL views, a copy of fakeViews a test may change.
	views map[string][]map[string]any
	// recordDelay holds every record request that long, to let concurrent ones overlap;
	// inFlight and maxInFlight count record requests being served.
	recordDelay           time.Duration
	inFlight, maxInFlight int
	// active counts every request being served.
	active int
}

// hangUp is the status a fail hook returns to have the connection closed without a reply.
const hangUp = -1

var fakeViews = map[string][]map[string]any{
	"salestaxitem": {
		{"id": "1", "itemid": "CA-SF", "rate": 8.625},
		{"id": "2", "itemid": "NON-TAXABLE", "rate": 0},
		{"id": "3", "itemid": "NY-NYC", "rate": 8.875},
	},
	"paymentmethod": {
		{"id": "1", "name": "Cash", "methodtype": "cash"},
		{"id": "2", "name": "Card", "methodtype": "card"},
		{"id": "3", "name": "Gift Certificate", "methodtype": "gift_card"},
	},
	"location": {
		{"id": "10", "name": "Store 1", "subsidiary": "1", "locationtype": "store", "taxcode": "1"},
		{"id": "11", "name": "Store 2", "subsidiary": "1", "locationtype": "store", "taxcode": "3"},
		{"id": "20", "name": "Warehouse", "subsidiary": "1", "locationtype": "warehouse", "taxcode": nil},
	},
	"item": {
		{"id": "100", "itemid": "SKU-A", "upccode": "012345678905", "displayname": "Apple", "baseprice": 10.0, "istaxable": "T", "salestaxcode": "1"},
		{"id": "101", "itemid": "SKU-B", "upccode": "036000291452", "displayname": "Bread", "baseprice": 0.99, "istaxable": "F", "salestaxcode": "2"},
		{"id": "102", "itemid": "SKU-C", "upccode": "042100005264", "displayname": "Cheese", "baseprice": 3.33, "istaxable": "T", "salestaxcode": "1"},
	},
	"inventoryitemlocations": {
		{"item": "100", "location": "10", "quantityonhand": 50.0},
		{"item": "101", "location": "10", "quantityonhand": 7.0},
		{"item": "100", "location": "11", "quantityonhand": 5.0},
	},
}

var fromRe = regexp.MustCompile(`(?i)FROM\s+(\w+)(?:\s+WHERE\s+location\s*=\s*(\d+))?`)

func newFakeNetSuite(t *testing.T) *fakeNetSuite {
	f := &fakeNetSuite{t: t, records: map[string]map[string]any{}, ids: map[string]string{}, nextID: 5000, limit: 5,
		views: map[string][]map[string]any{}}
	for name, rows := range fakeViews {
		for _, row := range rows {
			f.views[name] = append(f.views[name], maps.Clone(row))
		}
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNetSuite) creds() netsuite.Credentials {
	return netsuite.Credentials{AccountID: "TSTDRV1", ConsumerKey: "ck", ConsumerSecret: "cs", TokenID: "tk", TokenSecret: "ts"}
}

func (f *fakeNetSuite) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "OAuth ") || !strings.Contains(r.Header.Get("Authorization"), `oauth_signature_method="HMAC-SHA256"`) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	// The failure mode is the one in force when the request arrived: a request sent
	// before a test changes it must not see the new one.
	f.mu.Lock()
	fail := f.fail
	f.active++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.active--
		f.mu.Unlock()
	}()
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/services/rest/")
	if strings.HasPrefix(path, "record/") {
		f.mu.Lock()
		f.inFlight++
		f.maxInFlight = max(f.maxInFlight, f.inFlight)
		delay := f.recordDelay
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.inFlight--
			f.mu.Unlock()
		}()
		time.Sleep(delay)
	}
	if fail != nil {
		if status, b, h := fail(r.Method, path); status == hangUp {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		} else if status != 0 {
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			io.WriteString(w, b)
			return
		}
	}
	switch {
	case path == "system/v1/governanceLimits":
		fmt.Fprintf(w, `{"accountConcurrencyLimit":%d,"accountUnallocatedConcurrencyLimit":%d}`, f.limit, f.limit)
	case path == "query/v1/suiteql":
		f.suiteql(w, r, body)
	case strings.HasPrefix(path, "record/v1/"):
		f.record(w, r, strings.TrimPrefix(path, "record/v1/"), body)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeNetSuite) suiteql(w http.ResponseWriter, r *http.Request, body []byte) {
	var q struct{ Q string }
	json.Unmarshal(body, &q)
	m := fromRe.FindStringSubmatch(q.Q)
	if m == nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var rows []map[string]any
	f.mu.Lock()
	view := f.views[strings.ToLower(m[1])]
	f.mu.Unlock()
	for _, row := range view {
		if m[2] != "" && row["location"] != m[2] {
			continue
		}
		rows = append(rows, row)
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	end := min(len(rows), offset+limit)
	page := []map[string]any{}
	if offset < end {
		page = rows[offset:end]
	}
	json.NewEncoder(w).Encode(map[string]any{"items": page, "hasMore": end < len(rows), "count": len(page), "offset": offset, "totalResults": len(rows)})
}

func (f *fakeNetSuite) record(w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	var b map[string]any
	if err := json.Unmarshal(body, &b); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasPrefix(rest, "customer") && f.requireNames != nil && !f.requireNames(b) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"status":400,"o:errorDetails":[{"detail":"Please enter value(s) for: Company Name (or First Name / Last Name).","o:errorCode":"USER_ERROR","o:errorPath":"companyName"}]}`)
		return
	}
	// As NetSuite, a refund's createdFrom must name an existing cash sale.
	if from, ok := b["createdFrom"].(map[string]any); ok && strings.HasPrefix(rest, "cashRefund") {
		if eid, _ := from["externalId"].(string); eid != "" && f.records["cashSale/eid:"+eid] == nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"status":400,"o:errorDetails":[{"detail":"Invalid createdFrom reference key %s.","o:errorCode":"INVALID_KEY_OR_REF","o:errorPath":"createdFrom"}]}`, eid)
			return
		}
	}
	var key string
	switch r.Method {
	case http.MethodPut:
		key = rest
		f.log = append(f.log, "PUT "+rest)
	case http.MethodPost:
		f.log = append(f.log, "POST "+rest)
		f.nextID++
		key = rest + "/" + strconv.Itoa(f.nextID)
		f.ids[key] = strconv.Itoa(f.nextID)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	id, ok := f.ids[key]
	if !ok {
		f.nextID++
		id = strconv.Itoa(f.nextID)
		f.ids[key] = id
	}
	f.records[key] = b
	if f.lost != nil && f.lost(r.Method, rest) {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	typ, _, _ := strings.Cut(rest, "/")
	w.Header().Set("Location", f.srv.URL+"/services/rest/record/v1/"+typ+"/"+id)
	w.WriteHeader(http.StatusNoContent)
}

// writes returns the write log.
func (f *fakeNetSuite) writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// body returns the body last written under key, e.g. "cashSale/eid:T1".
func (f *fakeNetSuite) body(key string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.records[key]
}

// idle waits (bounded) until no request is being served.
func (f *fakeNetSuite) idle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		n := f.active
		f.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake NetSuite still serving %d requests", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fakeNetSuite) setFail(fn func(method, path string) (int, string, http.Header)) {
	f.mu.Lock()
	f.fail = fn
	f.mu.Unlock()
}

// fakeGateway records refunds, replaying by Idempotency-Key as Stripe does.
type fakeGateway struct {
	srv     *httptest.Server
	mu      sync.Mutex
	calls   []url.Values // form of every refund call
	keys    []string     // Idempotency-Key of every call ("" if none)
	byKey   map[string]string
	refunds int
	fail    func() int  // status to answer instead, 0 = none
	lost    func() bool // make the refund, then answer 502 as if the reply was lost
}

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{byKey: map[string]string{}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk_test_fake" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.ParseForm()
		g.mu.Lock()
		defer g.mu.Unlock()
		g.calls = append(g.calls, r.PostForm)
		key := r.Header.Get("Idempotency-Key")
		g.keys = append(g.keys, key)
		if g.fail != nil {
			if s := g.fail(); s != 0 {
				w.WriteHeader(s)
				io.WriteString(w, `{"error":{"type":"api_error","message":"injected"}}`)
				return
			}
		}
		id, ok := g.byKey[key]
		if !ok || key == "" {
			g.refunds++
			id = fmt.Sprintf("re_%d", g.refunds)
			if key != "" {
				g.byKey[key] = id
			}
		}
		if g.lost != nil && g.lost() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		amount, _ := strconv.Atoi(r.PostForm.Get("amount"))
		fmt.Fprintf(w, `{"id":%q,"object":"refund","amount":%d,"payment_intent":%q,"status":"succeeded"}`, id, amount, r.PostForm.Get("payment_intent"))
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGateway) snapshot() (calls []url.Values, keys []string, made int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]url.Values(nil), g.calls...), append([]string(nil), g.keys...), g.refunds
}

// count returns how many records were written with keys starting with prefix.
func (f *fakeNetSuite) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k := range f.records {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// setOnHand changes what NetSuite says is on hand of item at location.
func (f *fakeNetSuite) setOnHand(item, location string, q float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var rows []map[string]any
	for _, row := range f.views["inventoryitemlocations"] {
		row = maps.Clone(row)
		if row["item"] == item && row["location"] == location {
			row["quantityonhand"] = q
		}
		rows = append(rows, row)
	}
	f.views["inventoryitemlocations"] = rows
}
