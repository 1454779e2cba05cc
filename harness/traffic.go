package harness

import (
	"context"
	"log/slog"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/scenarios"
)

// Traffic is the POS traffic module as the harness uses it: virtual registers that drive
// the connector and the gateway, and write the journal.
type Traffic interface {
	// Exec returns one iteration of flow with the scenario's options, and the per-VU
	// initialiser (may be nil).
	Exec(flow string, opts scenarios.FlowOptions) (loadgen.Exec, func(context.Context, *loadgen.VU) error, error)
	// Flush uploads what registers still hold (offline queues, unanswered submissions)
	// after the traffic.
	Flush(ctx context.Context) error
	// ProbeStock reads the connector's on-hand for up to n (item, store) pairs into the
	// journal, after the drain.
	ProbeStock(ctx context.Context, n int) error
	// Close finishes and closes the journal.
	Close() error
}

// TrafficConfig is what a Traffic module is made with.
type TrafficConfig struct {
	ConnectorURL string
	GatewayURL   string
	GatewayKey   string
	JournalPath  string
	Seed         int64
	// RunID makes the registers' transaction ids unique across runs (and segments)
	// against the same connector.
	RunID    string
	Registry *loadgen.Registry // the engine's: register the module's metrics here
	Logger   *slog.Logger
	Meta     map[string]string // written to the journal's meta table
}

// NewTraffic makes the traffic module of a run.
type NewTraffic func(world *fixtures.World, cfg TrafficConfig) (Traffic, error)
