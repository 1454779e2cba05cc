package loadgen

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Benchmarks run each measured phase for benchPhase (1s; DOORBUSTER_BENCH_PHASE overrides,
// e.g. 3s) per b.N round; run them with -benchtime=1x:
//
//	go test ./loadgen -run '^$' -bench . -benchtime=1x
func benchPhase() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("DOORBUSTER_BENCH_PHASE")); err == nil && d > 0 {
		return d
	}
	return time.Second
}

func trivialServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
}

func quietEngine(opts ...Option) *Engine {
	return New(append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// oneRequest is the one-request flow: GET, read the body, close it.
func oneRequest(url string) Exec {
	return func(ctx context.Context, vu *VU) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := vu.HTTP().Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	}
}

// BenchmarkEngineVsVegeta measures the engine's maximum iterations/s for a one-request
// flow (constant-vus, 32 VUs) and vegeta's attack rate (rate 0 = as fast as possible, 32
// workers, results into vegeta.Metrics) against the same local handler in the same
// process. The two alternate in four slices of each phase so that a change of load on the
// machine hits both alike. Metrics: engine_it/s, vegeta_req/s, and engine/vegeta.
func BenchmarkEngineVsVegeta(b *testing.B) {
	srv := trivialServer()
	defer srv.Close()
	const workers, slices = 32, 4
	slice := benchPhase() / slices
	eng := quietEngine()
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: srv.URL + "/"})
	var engineIt, vegetaReq float64
	var engineTime, vegetaTime time.Duration
	for range b.N * slices {
		res, err := eng.Run(context.Background(), Plan{Scenarios: []Scenario{{
			Name: "max", Executor: ConstantVUs, VUs: workers, Duration: slice, Exec: oneRequest(srv.URL + "/"),
		}}})
		if err != nil {
			b.Fatal(err)
		}
		if res.Scenarios[0].Errors > 0 {
			b.Fatalf("engine: %d errors, first: %s", res.Scenarios[0].Errors, res.Scenarios[0].FirstError)
		}
		engineIt += float64(res.Scenarios[0].Iterations)
		engineTime += res.Duration

		// An attacker stops for good after an attack: a new one per slice (32 new
		// connections per slice, negligible).
		atk := vegeta.NewAttacker(vegeta.Workers(workers), vegeta.MaxWorkers(workers), vegeta.KeepAlive(true))
		start := time.Now()
		var m vegeta.Metrics
		for r := range atk.Attack(tr, vegeta.Rate{Freq: 0}, slice, "max") {
			m.Add(r)
		}
		m.Close()
		vegetaTime += time.Since(start)
		vegetaReq += float64(m.Requests)
		if m.Success < 0.999 {
			b.Fatalf("vegeta: success %v, errors %v", m.Success, m.Errors)
		}
	}
	e := engineIt / engineTime.Seconds()
	v := vegetaReq / vegetaTime.Seconds()
	b.ReportMetric(e, "engine_it/s")
	b.ReportMetric(v, "vegeta_req/s")
	b.ReportMetric(e/v, "engine/vegeta")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkArrivalRate2000 runs a constant-arrival-rate scenario at 2,000 iterations/s of
// the one-request flow and reports the achieved rate, its ratio to the target, and the
// start-time jitter (actual start − intended start) p50/p99/max in µs.
func BenchmarkArrivalRate2000(b *testing.B) {
	srv := trivialServer()
	defer srv.Close()
	const rate = 2000
	phase := benchPhase()
	eng := quietEngine()
	jitter := hdrhistogram.New(1, 60_000_000, 3)
	var mu sync.Mutex
	flow := oneRequest(srv.URL + "/")
	var iters, dropped float64
	var elapsed time.Duration
	for range b.N {
		res, err := eng.Run(context.Background(), Plan{Scenarios: []Scenario{{
			Name: "rate", Executor: ConstantArrivalRate, Rate: rate, TimeUnit: time.Second, Duration: phase,
			PreAllocatedVUs: 50, MaxVUs: 400,
			Exec: func(ctx context.Context, vu *VU) error {
				j := vu.Start.Sub(vu.IntendedStart)
				mu.Lock()
				_ = jitter.RecordValue(max(j.Microseconds(), 0))
				mu.Unlock()
				return flow(ctx, vu)
			},
		}}})
		if err != nil {
			b.Fatal(err)
		}
		iters += float64(res.Scenarios[0].Iterations)
		dropped += float64(res.Scenarios[0].Dropped)
		elapsed += phase
	}
	achieved := iters / elapsed.Seconds()
	b.ReportMetric(achieved, "achieved_it/s")
	b.ReportMetric(achieved/rate, "achieved/target")
	b.ReportMetric(dropped, "dropped")
	b.ReportMetric(float64(jitter.ValueAtPercentile(50)), "jitter_p50_µs")
	b.ReportMetric(float64(jitter.ValueAtPercentile(99)), "jitter_p99_µs")
	b.ReportMetric(float64(jitter.Max()), "jitter_max_µs")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkIdleVUMemory allocates 5,000 VUs of an arrival-rate scenario (each with its
// goroutine and HTTP client) and reports the heap and stack they hold, per VU.
func BenchmarkIdleVUMemory(b *testing.B) {
	const vus = 5000
	eng := quietEngine()
	var perVU float64
	for range b.N {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var during runtime.MemStats
		var once sync.Once
		_, err := eng.Run(context.Background(), Plan{Scenarios: []Scenario{{
			Name: "idle", Executor: ConstantArrivalRate, Rate: 1, TimeUnit: time.Second, Duration: 200 * time.Millisecond,
			PreAllocatedVUs: vus,
			Exec: func(ctx context.Context, vu *VU) error {
				once.Do(func() {
					time.Sleep(50 * time.Millisecond) // let every VU goroutine park
					runtime.GC()
					runtime.ReadMemStats(&during)
				})
				return nil
			},
		}}})
		if err != nil {
			b.Fatal(err)
		}
		held := float64(during.HeapInuse+during.StackInuse) - float64(before.HeapInuse+before.StackInuse)
		perVU += held / vus
	}
	b.ReportMetric(perVU/float64(b.N), "bytes/idle_VU")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkEmit measures recording one sample from parallel VUs (per-VU buffers, one
// collector goroutine: no shared lock on the path).
func BenchmarkEmit(b *testing.B) {
	eng := quietEngine()
	m := eng.Metrics().Trend("bench_trend", true)
	ctx := WithTags(context.Background(), tag("flow", "sale"))
	b.ReportAllocs()
	var per int64
	_, err := eng.Run(context.Background(), Plan{Scenarios: []Scenario{{
		Name: "emit", Executor: PerVUIterations, VUs: runtime.GOMAXPROCS(0), Iterations: 1,
		Exec: func(_ context.Context, vu *VU) error {
			if vu.ID != 1 {
				return nil
			}
			per = int64(b.N)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				// Each goroutine is its own VU, as in a run.
				v := vu.run.newVU(vu.sc)
				i := 0.0
				for pb.Next() {
					i++
					v.Emit(ctx, m, i)
				}
				v.flush()
			})
			b.StopTimer()
			return nil
		},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	_ = per
}
