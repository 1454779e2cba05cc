package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/doorbuster/doorbuster/compose"
	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/harness/rundir"
)

// Containers is image mode's ContainerStarter: package compose runs the simulators
// (`doorbuster sim` in the Doorbuster image) and the connector image on private Docker
// networks, through testcontainers-go.
type Containers struct {
	// SimImage is the Doorbuster image the simulators run; "" builds one from this
	// repository (compose.BuildImage: needs the Go toolchain and the source), removed
	// after the run. A connector image equal to SimImage runs its reference connector.
	SimImage string
	// Version is compiled into a built image.
	Version string
}

var _ ContainerStarter = Containers{}

// StartStack starts the containers. The Stack it returns (also with an error: close it)
// kills, restarts, pauses and partitions the connector container, and on Close saves the
// connector's output into the run directory and removes everything it created.
func (c Containers) StartStack(ctx context.Context, req ContainerRequest) (Stack, error) {
	if req.WorldFile != "" {
		return nil, fmt.Errorf("--connector-image: the simulators' container generates the world from its seed and size; a world file (fixtures.file %s) is not supported in image mode", req.WorldFile)
	}
	if err := compose.Available(ctx); err != nil {
		return nil, fmt.Errorf("--connector-image needs a Docker engine: %w", err)
	}
	connImage := req.Image
	if connImage == c.SimImage {
		connImage = "" // the Doorbuster image: compose runs its `doorbuster connector`
	}
	env := req.ConnectorEnv
	if connImage != "" {
		// Bug switches are the reference connector's; another image gets none.
		env = filterEnv(env, func(k string) bool { return k != connector.EnvBugs })
	}
	w, err := compose.Up(ctx, compose.Config{
		Image: c.SimImage, Build: compose.BuildOptions{Version: c.Version, Logger: req.Logger},
		ConnectorImage: connImage, ExtraEnv: env,
		Seed: req.WorldSeed, Size: req.WorldSize, World: req.World, Faults: req.Faults,
		ConcurrencyLimit: req.NetSuiteConcurrencyLimit, Logger: req.Logger,
	})
	st := &containerStack{w: w, image: req.Image, reference: connImage == "", key: req.World.Gateway.SecretKey, runDir: req.RunDir}
	if strings.TrimSpace(env[connector.EnvBugs]) != "" {
		st.bugs = strings.Split(env[connector.EnvBugs], ",")
	}
	if err != nil {
		return st, fmt.Errorf("start the containers: %w", err)
	}
	return st, nil
}

// filterEnv returns the entries of m whose key keep accepts.
func filterEnv(m map[string]string, keep func(string) bool) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if keep(k) {
			out[k] = v
		}
	}
	return out
}

// containerStack is a compose.World as a Stack with all the optional abilities.
type containerStack struct {
	w         *compose.World
	image     string
	reference bool
	bugs      []string
	key       string
	runDir    string
}

var (
	_ Stack           = (*containerStack)(nil)
	_ ConnectorKiller = (*containerStack)(nil)
	_ ConnectorPauser = (*containerStack)(nil)
	_ Partitioner     = (*containerStack)(nil)
)

func (s *containerStack) Endpoints() Endpoints {
	return Endpoints{NetSuite: s.w.NetSuiteURL, Gateway: s.w.GatewayURL, GatewayKey: s.key, Connector: s.w.ConnectorURL}
}

func (s *containerStack) Connector() rundir.Connector {
	c := rundir.Connector{URL: s.w.ConnectorURL, Image: s.image, Reference: s.reference}
	if s.reference {
		c.Bugs = s.bugs
	}
	return c
}

func (s *containerStack) KillConnector(ctx context.Context) error { return s.w.KillConnector(ctx) }
func (s *containerStack) RestartConnector(ctx context.Context) error {
	return s.w.RestartConnector(ctx)
}
func (s *containerStack) PauseConnector(ctx context.Context) error { return s.w.PauseConnector(ctx) }
func (s *containerStack) UnpauseConnector(ctx context.Context) error {
	return s.w.UnpauseConnector(ctx)
}
func (s *containerStack) Heal(ctx context.Context) error { return s.w.Heal(ctx) }

// PartitionConnector cuts the connector container off from the simulator's network.
func (s *containerStack) PartitionConnector(ctx context.Context, from string) error {
	return s.w.PartitionConnector(ctx, from)
}

// Close saves the connector's output as connector/connector.log in the run directory,
// then removes the containers, networks, volumes and a built image.
func (s *containerStack) Close(ctx context.Context) error {
	var errs []error
	if s.w != nil && s.runDir != "" {
		if logs, err := s.w.ConnectorLogs(ctx); err == nil {
			path := filepath.Join(s.runDir, rundir.ConnectorLogFile)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
				errs = append(errs, os.WriteFile(path, []byte(logs), 0o644))
			}
		}
	}
	errs = append(errs, s.w.Close(ctx))
	return errors.Join(errs...)
}
