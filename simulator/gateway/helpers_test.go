package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/doorbuster/doorbuster/fixtures"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

const testKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"

// tinyWorld is a world of two stores with two registers each.
func tinyWorld() *fixtures.World {
	w := &fixtures.World{
		Version: fixtures.FormatVersion, Seed: 7, Size: fixtures.Small, Currency: "USD",
		Gateway: fixtures.GatewayKeys{SecretKey: testKey},
		Locations: []fixtures.Location{
			{ID: "1", Name: "Store 1", Kind: fixtures.Store},
			{ID: "2", Name: "Store 2", Kind: fixtures.Store},
		},
	}
	for _, r := range []struct{ id, loc, reader string }{
		{"S001-R01", "1", "tmr_S001R01"}, {"S001-R02", "1", "tmr_S001R02"},
		{"S002-R01", "2", "tmr_S002R01"}, {"S002-R02", "2", "tmr_S002R02"},
	} {
		w.Registers = append(w.Registers, fixtures.Register{ID: r.id, LocationID: r.loc, ReaderID: r.reader})
	}
	return w
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 11, 28, 6, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is a gateway behind a real HTTP server on loopback.
type harness struct {
	t     testing.TB
	srv   *Server
	http  *httptest.Server
	clock *fakeClock
}

func newHarness(t testing.TB, mutate ...func(*Config)) *harness {
	t.Helper()
	clock := newFakeClock()
	cfg := Config{Clock: clock.Now, Seed: 1, BooksPath: t.TempDir() + "/gateway.db"}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := New(tinyWorld(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{t: t, srv: srv, http: hs, clock: clock}
}

// reply is an HTTP answer with its JSON body decoded.
type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// str digs a string out of the body: r.str("error", "code").
func (r reply) str(path ...string) string {
	v := r.get(path...)
	s, _ := v.(string)
	return s
}

func (r reply) num(path ...string) int64 {
	v := r.get(path...)
	f, _ := v.(float64)
	return int64(f)
}

func (r reply) get(path ...string) any {
	var v any = r.body
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// do sends a request with the test key. body is a raw form-encoded string; headers are
// name, value pairs.
func (h *harness) do(method, path, body string, headers ...string) reply {
	h.t.Helper()
	return h.doAuth(method, path, body, "Bearer "+testKey, headers...)
}

func (h *harness) doAuth(method, path, body, auth string, headers ...string) reply {
	h.t.Helper()
	req, err := http.NewRequest(method, h.http.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.http.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &r.body); err != nil {
			h.t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, b)
		}
	}
	return r
}

// must sends a request and fails the test unless it answers 200.
func (h *harness) must(method, path, body string, headers ...string) reply {
	h.t.Helper()
	r := h.do(method, path, body, headers...)
	if r.status != http.StatusOK {
		h.t.Fatalf("%s %s %q: status %d, want 200: %s", method, path, body, r.status, r.raw)
	}
	return r
}

// wantError checks an error answer's status, type and code.
func wantError(t *testing.T, r reply, status int, typ, code string) {
	t.Helper()
	if r.status != status || r.str("error", "type") != typ || r.str("error", "code") != code {
		t.Fatalf("got %d %s/%s, want %d %s/%s: %s", r.status, r.str("error", "type"), r.str("error", "code"), status, typ, code, r.raw)
	}
}

// queryInt runs a one-number query on the books.
func (h *harness) queryInt(q string, args ...any) int64 {
	h.t.Helper()
	var n int64
	if err := h.srv.books.r.QueryRow(q, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (h *harness) queryString(q string, args ...any) string {
	h.t.Helper()
	var s string
	if err := h.srv.books.r.QueryRow(q, args...).Scan(&s); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return s
}
