// Package loadgen is Doorbuster's load engine: k6's executors, metrics, thresholds and
// end-of-test summary, as a Go library that knows nothing about point-of-sale.
//
// A Plan names scenarios; each scenario has an executor (k6's names and options) and an
// Exec, the function one iteration runs on a virtual user (VU). The engine runs the
// scenarios, collects every sample a VU emits into tagged series (Trends as HDR
// histograms, so memory stays flat however long the run), evaluates thresholds in k6's
// grammar, and returns a Result that renders as k6's summary.
//
//	Plan ─▶ Engine.Run ─▶ executors ─▶ VUs ─▶ Exec(ctx, vu)
//	                                     │ samples (per-VU buffers)
//	                                     ▼
//	                          collector (one goroutine) ─▶ series, HDRs, time series
//	                                     ▼
//	                          Result ─▶ Summary / WriteText / Merge
//
// A minimal run:
//
//	eng := loadgen.New()
//	res, err := eng.Run(ctx, loadgen.Plan{
//		Seed: 42,
//		Scenarios: []loadgen.Scenario{{
//			Name: "checkout", Executor: loadgen.ConstantArrivalRate,
//			Rate: 20, TimeUnit: time.Second, Duration: 30 * time.Second, PreAllocatedVUs: 10,
//			Exec: func(ctx context.Context, vu *loadgen.VU) error {
//				resp, err := vu.HTTP().Get(url)
//				if err != nil {
//					return err
//				}
//				defer resp.Body.Close()
//				vu.Check(ctx, "status is 200", resp.StatusCode == 200)
//				return nil
//			},
//		}},
//		Thresholds: map[string][]loadgen.ThresholdSpec{
//			"http_req_duration{scenario:checkout}": {{Threshold: "p(95)<500"}},
//		},
//	})
//	loadgen.WriteText(os.Stdout, res)
//
// Units follow k6: time Trends are recorded and reported in milliseconds (thresholds on
// them are written in ms: "p(95)<2000"), data in bytes.
//
// Built-in metrics (k6's names): Counters iterations, dropped_iterations, http_reqs,
// data_sent, data_received; Gauges vus, vus_max (sampled every second, untagged); Rates
// checks (tagged check), http_req_failed; time Trends iteration_duration (service time),
// iteration_latency (from the intended start: see MetricIterationLatency),
// http_req_duration, http_req_blocked, http_req_connecting, http_req_tls_handshaking,
// http_req_sending, http_req_waiting, http_req_receiving. Every sample from a VU carries
// scenario=<name>, the scenario's tags and the context's tags (WithTags); HTTP samples add
// method, status and name.
//
// Thresholds: "<agg> <op> <number>" with avg|min|med|max|p(N) on Trends, rate on Rates,
// count|rate on Counters (rate: total per second of the run), value on Gauges (the last
// sample); ops < <= > >= == !=. Keys may filter tags, "http_req_duration{flow:sale}".
// A threshold whose (sub-)metric received no sample fails, saying so. abortOnFail
// thresholds are evaluated every second (WithAbortEvalInterval) once delayAbortEval has
// passed; a failure stops the run like a graceful stop (Result.Stopped "threshold").
// Measurements known only after the run join a finished Result with Result.AddTrend, and
// Result.EvaluateThresholds evaluates the thresholds again on them.
// Trend percentiles are within 0.1% (HDR, 3 significant digits, 1 µs to 1 h) and clamped
// to the exact min and max; avg, min, max, counts and rates are exact.
package loadgen
