package reports

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/loadgen"
)

// TestMetricsRoundTrip: the engine's Result survives metrics.json (json.Marshal, then
// rundir.LoadMetrics, i.e. json.Unmarshal into loadgen.Result) with everything the
// reports read: k6's summary, thresholds, per-scenario sub-metrics and time series.
func TestMetricsRoundTrip(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	eng := loadgen.New()
	checkout := eng.Metrics().Trend("pos_checkout_duration", true)
	res, err := eng.Run(context.Background(), loadgen.Plan{
		Seed: 1,
		Scenarios: []loadgen.Scenario{{
			Name: "checkout", Executor: loadgen.SharedIterations, VUs: 2, Iterations: 30,
			Exec: func(ctx context.Context, vu *loadgen.VU) error {
				resp, err := vu.HTTP().Get(srv.URL)
				if err != nil {
					return err
				}
				resp.Body.Close()
				vu.Check(ctx, "accepted", resp.StatusCode == http.StatusAccepted)
				vu.Emit(ctx, checkout, float64(10+vu.Rand.IntN(90)))
				return nil
			},
		}},
		Thresholds: map[string][]loadgen.ThresholdSpec{
			"pos_checkout_duration{scenario:checkout}": {{Threshold: "p(95)<1000"}},
			"http_req_failed":                          {{Threshold: "rate<0.01"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := rundir.WriteJSON(filepath.Join(dir, rundir.MetricsFile), res); err != nil {
		t.Fatal(err)
	}
	back, err := rundir.LoadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, a, b any) {
		t.Helper()
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s differs after the round trip:\n before: %.600s\n  after: %.600s", what, ja, jb)
		}
	}
	same("Summary()", res.Summary(), back.Summary())
	same("thresholds", res.Thresholds, back.Thresholds)
	same("time series", res.TimeSeries, back.TimeSeries)
	same("scenarios", res.Scenarios, back.Scenarios)
	in := &Input{Result: res}
	inBack := &Input{Result: back}
	now := time.Unix(0, 0)
	if a, b := Summarize(in, now, "t"), Summarize(inBack, now, "t"); !reflect.DeepEqual(a.Metrics, b.Metrics) || !reflect.DeepEqual(a.KPIs, b.KPIs) {
		t.Error("the summary's metrics or KPIs differ after the round trip")
	}
	if p := back.Metric("pos_checkout_duration", loadgen.Tag{Key: "scenario", Value: "checkout"}).Percentile(95); p < 10 || p > 100 {
		t.Errorf("p(95) after the round trip = %v, want within the samples' 10..100", p)
	}
}
