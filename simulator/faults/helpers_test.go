package faults

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

func init() { gin.SetMode(gin.TestMode) }

// world is a simulator stand-in: a gin engine with the fault middleware in front of a
// handler that counts its committed writes.
type world struct {
	engine  *Engine
	srv     *httptest.Server
	commits atomic.Int64 // handler runs that reached their "commit"
	served  atomic.Int64 // requests whose whole gin chain returned
}

const handlerBody = `{"id":"42","status":"ok","items":[1,2,3,4,5,6,7,8,9,10]}`

func newWorld(t *testing.T, e *Engine, rules ...Rule) *world {
	t.Helper()
	if err := e.Replace(rules); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	w := &world{engine: e}
	g := gin.New()
	g.Use(func(c *gin.Context) { c.Next(); w.served.Add(1) })
	g.Use(e.Middleware())
	e.RegisterAdmin(g)
	g.NoRoute(func(c *gin.Context) {
		w.commits.Add(1) // the write is in the books before any answer leaves
		c.Header("Content-Type", "application/json")
		c.String(http.StatusOK, handlerBody)
	})
	w.srv = httptest.NewServer(g)
	t.Cleanup(w.srv.Close)
	return w
}

// client returns a client that never reuses connections, so the transport cannot retry a
// request on a fresh connection behind the test's back.
func client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

// do sends one request and reads the whole body; it returns the response (nil on error),
// the body, the time taken and the error.
func (w *world) do(method, path string) (*http.Response, []byte, time.Duration, error) {
	return doWith(client(10*time.Second), method, w.srv.URL+path)
}

func doWith(c *http.Client, method, url string) (*http.Response, []byte, time.Duration, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return nil, nil, 0, err
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, time.Since(start), err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, time.Since(start), err
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeClock is a settable clock for windows.
type fakeClock struct{ now atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.now.Store(time.Date(2025, 11, 28, 6, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.now.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

func dur(s string) Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return Duration(d)
}
