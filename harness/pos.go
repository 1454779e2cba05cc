package harness

import (
	"errors"

	"github.com/doorbuster/doorbuster/fixtures"
)

// newPOSTraffic makes the xk6-pos module the traffic of a run.
func newPOSTraffic(world *fixtures.World, cfg TrafficConfig) (Traffic, error) {
	return nil, errors.New("the POS traffic module (xk6-pos) is not wired in yet")
}
