package netsuite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/simulator/tba"
)

var creds = Credentials{AccountID: "1234567_SB1", ConsumerKey: "ck", ConsumerSecret: "cs", TokenID: "tk", TokenSecret: "ts"}

// fakeNetSuite verifies TBA on every request with the simulator's verifier and records
// what it was sent.
type fakeNetSuite struct {
	mu       sync.Mutex
	requests []string
	bodies   []string
	handle   func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte)) (*Client, *fakeNetSuite) {
	t.Helper()
	f := &fakeNetSuite{handle: handle}
	v := tba.NewVerifier([]tba.Credential{{AccountID: creds.AccountID, ConsumerKey: creds.ConsumerKey,
		ConsumerSecret: creds.ConsumerSecret, TokenID: creds.TokenID, TokenSecret: creds.TokenSecret}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.Verify(r); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"status":401,"o:errorDetails":[{"detail":%q,"o:errorCode":"INVALID_LOGIN"}]}`, err.Error())
			return
		}
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		f.bodies = append(f.bodies, string(b))
		f.mu.Unlock()
		f.handle(w, r, b)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, creds, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  string
		cr   Credentials
	}{
		{"relative URL", "localhost:1", creds},
		{"empty URL", "", creds},
		{"no token secret", "http://127.0.0.1:1", Credentials{AccountID: "1", ConsumerKey: "a", ConsumerSecret: "b", TokenID: "c"}},
	} {
		if _, err := New(tc.url, tc.cr, nil); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestUpsertSignsAndReadsLocation(t *testing.T) {
	c, f := newFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Location", "http://"+r.Host+"/services/rest/record/v1/cashSale/4711")
		w.WriteHeader(http.StatusNoContent)
	})
	id, err := c.Upsert(context.Background(), "cashSale", "S001-R01-0001", map[string]any{"tranDate": "2025-11-28"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "4711" {
		t.Errorf("id %q", id)
	}
	if f.requests[0] != "PUT /services/rest/record/v1/cashSale/eid:S001-R01-0001" {
		t.Errorf("request %q", f.requests[0])
	}
	if f.bodies[0] != `{"tranDate":"2025-11-28"}` {
		t.Errorf("body %q", f.bodies[0])
	}
	if _, err := c.Upsert(context.Background(), "cashSale", "bad id/x", nil); err == nil {
		t.Error("invalid external id accepted")
	}
}

func TestErrorsCarryNetSuiteDetail(t *testing.T) {
	c, _ := newFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case strings.Contains(r.URL.Path, "cashSale"):
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"type":"x","title":"Too Many Requests","status":429,"o:errorDetails":[{"detail":"Concurrent request limit exceeded. Request blocked.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"status":400,"o:errorDetails":[{"detail":"Invalid item reference key 99.","o:errorCode":"INVALID_CONTENT","o:errorPath":"item.items[0].item"}]}`)
		}
	})
	_, err := c.Upsert(context.Background(), "cashSale", "a", map[string]any{})
	var e *Error
	if !errors.As(err, &e) || e.Status != 429 || e.Code != "CONCURRENCY_LIMIT_EXCEEDED" || e.RetryAfter != 7*time.Second {
		t.Fatalf("429: %#v", err)
	}
	_, err = c.Create(context.Background(), "cashRefund", map[string]any{})
	if !errors.As(err, &e) || e.Status != 400 || e.ErrorPath != "item.items[0].item" || !strings.Contains(e.Error(), "Invalid item reference key 99") {
		t.Fatalf("400: %v", err)
	}
	if !strings.Contains(string(e.Body), "INVALID_CONTENT") {
		t.Errorf("body not kept: %s", e.Body)
	}
}

func TestQueryAllPages(t *testing.T) {
	const total = 2500
	c, f := newFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.Header.Get("Prefer") != "transient" {
			t.Errorf("Prefer %q", r.Header.Get("Prefer"))
		}
		var q struct{ Q string }
		if err := json.Unmarshal(body, &q); err != nil || q.Q != "SELECT id FROM item" {
			t.Errorf("body %s", body)
		}
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		var items []string
		for i := offset; i < min(offset+limit, total); i++ {
			items = append(items, fmt.Sprintf(`{"links":[],"id":"%d","price":1.5,"flag":"T"}`, i))
		}
		fmt.Fprintf(w, `{"links":[],"count":%d,"hasMore":%t,"offset":%d,"totalResults":%d,"items":[%s]}`,
			len(items), offset+limit < total, offset, total, strings.Join(items, ","))
	})
	n := 0
	err := c.QueryAll(context.Background(), "SELECT id FROM item", nil, func(r Row) error {
		if r.String("id") != strconv.Itoa(n) || r.Float("price") != 1.5 || !r.Bool("flag") || r.String("missing") != "" {
			return fmt.Errorf("row %d: %v", n, r)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != total || len(f.requests) != 3 {
		t.Errorf("%d rows in %d requests", n, len(f.requests))
	}
}

func TestGovernanceLimitsAndMalformed(t *testing.T) {
	c, _ := newFake(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.HasSuffix(r.URL.Path, "governanceLimits") {
			io.WriteString(w, `{"accountConcurrencyLimit":15,"accountUnallocatedConcurrencyLimit":13,"integrationConcurrencyLimit":2,"integrationLimitType":"integrationSpecific"}`)
			return
		}
		io.WriteString(w, `{"items":[{"id":`) // truncated
	})
	l, err := c.GovernanceLimits(context.Background())
	if err != nil || l.AccountConcurrencyLimit != 15 {
		t.Fatalf("%+v %v", l, err)
	}
	_, err = c.SuiteQL(context.Background(), "SELECT 1", 10, 0)
	var m *MalformedError
	if !errors.As(err, &m) {
		t.Fatalf("truncated body: %v", err)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2025, 11, 28, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := retryAfter(tc.in, now); got != tc.want {
			t.Errorf("Retry-After %q: %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestValidExternalID(t *testing.T) {
	for s, want := range map[string]bool{"LOY-123": true, "a_b": true, "": false, "a b": false, "a:b": false, "é": false, strings.Repeat("a", 256): false} {
		if ValidExternalID(s) != want {
			t.Errorf("%q: %v", s, !want)
		}
	}
}
