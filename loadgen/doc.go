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
package loadgen
