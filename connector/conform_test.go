package connector_test

import (
	"context"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
)

// The reference connector passes the contract's conformance suite, run over loopback
// against the simulators.
func TestConformance(t *testing.T) {
	t.Parallel() // against its own simulators; mostly waiting
	e := newWorld(t, 5)
	r := startConnector(t, e.config(t.TempDir()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := contract.Conform(ctx, r.url, e.w, contract.WithIDPrefix("conform-ref"), contract.WithBatchSize(20))
	if len(results) == 0 {
		t.Fatal("no conformance results")
	}
	for _, res := range results {
		if !res.Passed {
			t.Errorf("%s (%s): %s", res.ID, res.Name, res.Detail)
		}
	}
	// What the suite submitted posts cleanly too.
	if st := drain(t, r.url, 30*time.Second); st.DeadLettered != 0 || st.Posted == 0 {
		t.Errorf("after conformance: %+v", st)
	}
}
