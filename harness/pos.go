package harness

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/scenarios"
	pos "github.com/doorbuster/doorbuster/xk6-pos"
)

// posTraffic is the xk6-pos module as a run's Traffic.
type posTraffic struct {
	*pos.Module
}

var _ Traffic = posTraffic{}

// newPOSTraffic makes the xk6-pos module the traffic of a run.
func newPOSTraffic(world *fixtures.World, cfg TrafficConfig) (Traffic, error) {
	m, err := pos.New(world, pos.Config{
		ConnectorURL: cfg.ConnectorURL, GatewayURL: cfg.GatewayURL, GatewayKey: cfg.GatewayKey,
		JournalPath: cfg.JournalPath, Seed: cfg.Seed, RunID: cfg.RunID, Registry: cfg.Registry,
		Logger: cfg.Logger, Meta: cfg.Meta,
	})
	if err != nil {
		return nil, err
	}
	return posTraffic{m}, nil
}

// Exec maps the scenario's typed flow options onto the module's (through their JSON
// form, which uses the same keys) and returns the flow.
func (t posTraffic) Exec(flow string, o scenarios.FlowOptions) (loadgen.Exec, func(context.Context, *loadgen.VU) error, error) {
	opts, err := posOptions(o)
	if err != nil {
		return nil, nil, err
	}
	return t.Module.Exec(flow, opts)
}

// posOptions converts scenario flow options to the POS module's.
func posOptions(o scenarios.FlowOptions) (pos.Options, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return pos.Options{}, fmt.Errorf("options: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return pos.Options{}, fmt.Errorf("options: %w", err)
	}
	opts, err := pos.ParseOptions(m)
	if err != nil {
		return pos.Options{}, fmt.Errorf("options: %w", err)
	}
	return opts, nil
}
