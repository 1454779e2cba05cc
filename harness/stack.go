package harness

import (
	"context"
	"log/slog"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/harness/rundir"
)

// Stack is the system a run drives, reached by URL: the two simulators (with their
// /_sim admin API) and the connector under test. The embedded, url and image modes each
// provide one.
type Stack interface {
	Endpoints() Endpoints
	// Connector identifies the connector under test for run.json.
	Connector() rundir.Connector
	// Close stops what the stack started (nothing, for a stack it only found).
	Close(ctx context.Context) error
}

// Endpoints are the base URLs of a stack.
type Endpoints struct {
	// NetSuite is the NetSuite simulator's base URL: its REST API is under
	// /services/rest, its admin API under /_sim.
	NetSuite string
	// Gateway is the gateway simulator's base URL (API under /v1, admin under /_sim).
	Gateway string
	// GatewayKey is the gateway's secret key the card terminals use.
	GatewayKey string
	// Connector is the connector's base URL (the POS contract).
	Connector string
}

// ContainerStarter starts the simulators and a connector image on one container
// network (image mode). Package compose provides it.
type ContainerStarter interface {
	StartStack(ctx context.Context, req ContainerRequest) (Stack, error)
}

// ContainerRequest is what image mode asks a ContainerStarter for.
type ContainerRequest struct {
	// Image is the connector's image.
	Image string
	// World is the fixture world; WorldFile is its file when it came from one, else the
	// simulators' container generates it from WorldSeed and WorldSize.
	World     *fixtures.World
	WorldFile string
	WorldSeed int64
	WorldSize fixtures.Size
	// NetSuiteConcurrencyLimit is the simulated account's governance limit.
	NetSuiteConcurrencyLimit int
	// ConnectorEnv are environment variables for the connector beyond the contract's
	// (CONNECTOR_BUGS for the reference connector's image, CONNECTOR_CONCURRENCY).
	ConnectorEnv map[string]string
	// Faults are the fault rules of both simulators (the latency profiles' and the
	// scenario's) as one JSON list, in `doorbuster sim --faults` format, to install
	// from the start. The harness installs them again through /_sim/faults once the
	// stack is up, so a starter may ignore them.
	Faults []byte
	// RunDir is the run directory, where a starter may leave the containers' output.
	RunDir string
	Logger *slog.Logger
}

// ConnectorKiller is an optional ability of a Stack: kill the connector without warning
// (kill -9, container kill) and start it again with the same data, for crash cases.
// The names are those of compose.World.
type ConnectorKiller interface {
	KillConnector(ctx context.Context) error
	RestartConnector(ctx context.Context) error
}

// Partitioner is an optional ability of a Stack: cut the connector off from one
// simulator ("netsuite" or "gateway") and heal every cut (image mode).
type Partitioner interface {
	PartitionConnector(ctx context.Context, from string) error
	Heal(ctx context.Context) error
}

// ConnectorPauser is an optional ability of a Stack: freeze the connector (SIGSTOP,
// docker pause) and let it run on. The names are those of compose.World.
type ConnectorPauser interface {
	PauseConnector(ctx context.Context) error
	UnpauseConnector(ctx context.Context) error
}
