package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The instrumented client records every HTTP metric, tagged method, status, name, the
// scenario and the request context's tags.
func TestHTTPMetrics(t *testing.T) {
	body := strings.Repeat("x", 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(500)
		case "/slow":
			time.Sleep(20 * time.Millisecond)
			io.WriteString(w, body)
		default:
			io.WriteString(w, body)
		}
	}))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "h", Executor: PerVUIterations, VUs: 2, Iterations: 5, Tags: map[string]string{"team": "pos"},
		Exec: func(ctx context.Context, vu *VU) error {
			ctx = WithTags(ctx, tag("flow", "sale"))
			get := func(ctx context.Context, url string) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				resp, err := vu.HTTP().Do(req)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			get(ctx, srv.URL+"/ok")
			get(WithTags(ctx, tag("name", "slow-one")), srv.URL+"/slow?id=1")
			get(ctx, srv.URL+"/fail")
			get(ctx, deadURL+"/gone")
			vu.Check(ctx, "always", true)
			return nil
		},
	}}})
	total := func(name string, filter ...Tag) float64 { return counterTotal(res, name, filter...) }
	if got := total(MetricHTTPReqs); got != 40 {
		t.Errorf("http_reqs %v, want 40", got)
	}
	if got := total(MetricHTTPReqs, tag("name", "/ok"), tag("status", "200"), tag("method", "GET"), tag("flow", "sale"), tag("scenario", "h"), tag("team", "pos")); got != 10 {
		t.Errorf("http_reqs for /ok with all tags: %v, want 10", got)
	}
	if got := total(MetricHTTPReqs, tag("name", "slow-one")); got != 10 {
		t.Errorf("name tag from the context: %v, want 10", got)
	}
	if got := total(MetricHTTPReqs, tag("status", "0")); got != 10 {
		t.Errorf("transport errors tagged status 0: %v, want 10", got)
	}
	failed := res.Metric(MetricHTTPReqFailed)
	if failed.Count != 40 || failed.NonZero != 20 {
		t.Errorf("http_req_failed %d/%d, want 20 of 40 (500s and transport errors)", failed.NonZero, failed.Count)
	}
	slow := res.Metric(MetricHTTPReqDuration, tag("name", "slow-one"))
	if slow.Min < 19 || slow.Percentile(50) < 19 {
		t.Errorf("slow requests: min %v ms", slow.Min)
	}
	if w := res.Metric(MetricHTTPReqWaiting, tag("name", "slow-one")); w.Min < 19 {
		t.Errorf("waiting of slow requests %v ms, want >= 20", w.Min)
	}
	// Bodies are 1000 bytes; the request headers a few dozen.
	recv := total(MetricDataReceived, tag("name", "/ok"))
	if recv < 10*1000 || recv > 10*1400 {
		t.Errorf("data_received for /ok %v, want about 10×1.1kB", recv)
	}
	if sent := total(MetricDataSent, tag("name", "/ok")); sent < 10*40 || sent > 10*300 {
		t.Errorf("data_sent for /ok %v", sent)
	}
	// Connections are reused: at most one connect per VU to the live server.
	conn := res.Metric(MetricHTTPReqConnecting, tag("name", "/ok"))
	if conn.NonZero > 2 {
		t.Errorf("%d requests connected anew: connections not reused", conn.NonZero)
	}
	if got := res.Metric(MetricChecks, tag("check", "always")); got.Count != 10 || got.NonZero != 10 {
		t.Errorf("checks %+v", got)
	}
}

func TestWithTags(t *testing.T) {
	ctx := WithTags(context.Background(), tag("b", "1"), tag("a", "1"))
	ctx = WithTags(ctx, tag("b", "2"), tag("c", "3"))
	if got := TagsFrom(ctx).String(); got != "a:1,b:2,c:3" {
		t.Errorf("tags %q", got)
	}
	if WithTags(ctx) != ctx {
		t.Error("WithTags without tags should return ctx")
	}
	x, y := NewTagSet(tag("a", "1"), tag("b", "2")), NewTagSet(tag("b", "2"), tag("a", "1"))
	if !sameTags(x, y) || x.hash != y.hash {
		t.Error("equal sets differ")
	}
	if z := NewTagSet(tag("a", "1"), tag("b", "3")); sameTags(x, z) {
		t.Error("different sets equal")
	}
}

// Under WithExpectedStatuses an expected 404 is no failure, and an unexpected 200 is one,
// as with k6's http.expectedStatuses; samples say which in expected_response.
func TestExpectedStatuses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	res := mustRun(t, New(), Plan{Scenarios: []Scenario{{
		Name: "e", Executor: SharedIterations, VUs: 1, Iterations: 1,
		Exec: func(ctx context.Context, vu *VU) error {
			for _, c := range []struct {
				ctx  context.Context
				path string
			}{
				{WithExpectedStatuses(ctx, http.StatusNotFound), "/missing"}, // expected 404
				{WithExpectedStatuses(ctx, http.StatusNotFound), "/ok"},      // unexpected 200
				{ctx, "/missing"}, // default: 404 fails
				{ctx, "/ok"},      // default: 200 passes
			} {
				req, _ := http.NewRequestWithContext(c.ctx, http.MethodGet, srv.URL+c.path, nil)
				resp, err := vu.HTTP().Do(req)
				if err != nil {
					return err
				}
				resp.Body.Close()
			}
			return nil
		},
	}}})
	failed := res.Metric(MetricHTTPReqFailed)
	if failed.Count != 4 || failed.NonZero != 2 {
		t.Errorf("http_req_failed %d of %d, want 2 of 4", failed.NonZero, failed.Count)
	}
	if got := counterTotal(res, MetricHTTPReqs, tag("expected_response", "true"), tag("status", "404")); got != 1 {
		t.Errorf("expected 404s %v, want 1", got)
	}
}

// Engine.Emit from another goroutine while runs start and end is safe (go test -race).
func TestEmitRacesRunStart(t *testing.T) {
	e := New()
	g := e.Metrics().Gauge("backlog")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ {
			e.Emit(g, float64(i))
		}
	}()
	for i := 0; i < 3; i++ {
		mustRun(t, e, Plan{Scenarios: []Scenario{{Name: "s", Executor: SharedIterations, VUs: 1, Iterations: 1,
			Exec: func(ctx context.Context, vu *VU) error { return nil }}}})
	}
	<-done
}
