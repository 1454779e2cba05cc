package pos

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/loadgen"
)

// BenchmarkRegisterMemory reports the heap a module takes per virtual register of a
// medium world (400 registers), journal writer included.
func BenchmarkRegisterMemory(b *testing.B) {
	w, err := fixtures.Generate(1, fixtures.Medium)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m, err := New(w, Config{ConnectorURL: "http://127.0.0.1:1", JournalPath: filepath.Join(b.TempDir(), "j.db"), RunID: "b"})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(m.regs)), "B/register")
		m.Close()
	}
}

// BenchmarkSaleFlow runs cash sales through the engine against the fake connector and
// reports transactions per second (one process, loopback, 2 cores shared).
func BenchmarkSaleFlow(b *testing.B) {
	w, err := fixtures.Generate(7, fixtures.Small)
	if err != nil {
		b.Fatal(err)
	}
	conn := newFakeConnector(b, w)
	reg := loadgen.NewRegistry()
	m, err := New(w, Config{ConnectorURL: conn.srv.URL, JournalPath: filepath.Join(b.TempDir(), "j.db"), Registry: reg, RunID: "b"})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	o, _ := ParseOptions(map[string]any{"tenders": map[string]any{"cash": 1}})
	exec, init, err := m.Exec(FlowSale, o)
	if err != nil {
		b.Fatal(err)
	}
	eng := loadgen.New(loadgen.WithRegistry(reg))
	b.ResetTimer()
	start := time.Now()
	_, err = eng.Run(context.Background(), loadgen.Plan{Seed: 1, Scenarios: []loadgen.Scenario{{
		Name: "bench", Executor: loadgen.SharedIterations, VUs: min(8, b.N), Iterations: int64(b.N), Exec: exec, InitVU: init, MaxDuration: time.Hour,
	}}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
}
