package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/doorbuster/doorbuster/simulator/faults"
)

// simFaultEngines returns one fault engine per simulator, its draws seeded from --seed
// (NetSuite's with the seed, the gateway's with seed+1, so the two streams differ), holding
// the rules of --faults for its target. Without --faults the engines start empty: rules can
// still be set at runtime through each simulator's /_sim/faults.
func simFaultEngines(opts simOptions, log *slog.Logger) (map[faults.Target]*faults.Engine, error) {
	var rules []faults.Rule
	if opts.Faults != "" {
		data, err := os.ReadFile(opts.Faults)
		if err != nil {
			return nil, withCode(exitSetup, fmt.Errorf("--faults: %w", err))
		}
		if rules, err = faults.ParseRules(data); err != nil {
			return nil, withCode(exitSetup, fmt.Errorf("--faults %s: %w", opts.Faults, err))
		}
	}
	engines := map[faults.Target]*faults.Engine{}
	for i, t := range []faults.Target{faults.NetSuite, faults.Gateway} {
		e := faults.New(t, opts.Seed+int64(i), faults.WithLogger(log.With("sim", string(t))))
		if err := e.Replace(faults.ForTarget(rules, t)); err != nil {
			return nil, withCode(exitSetup, fmt.Errorf("--faults %s: %w", opts.Faults, err))
		}
		engines[t] = e
	}
	return engines, nil
}
