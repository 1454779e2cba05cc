// Package compose runs a Doorbuster world in containers: the simulators (NetSuite and
// the payment gateway, one `doorbuster sim` container) and a connector from any image
// that speaks the POS contract, on private Docker networks, through testcontainers-go.
// It also holds the image's Dockerfile and docker-compose.yml for people who prefer
// `docker compose up` (see README.md beside this file).
//
// The network layout makes a partition from one simulator possible although both run
// in one container:
//
//	          world (bridge; ports published on 127.0.0.1)
//	 ┌──────────────┴───────────────┐
//	sim ──── netsuite (internal) ─── connector     alias "netsuite" = sim:8080
//	sim ──── gateway  (internal) ─── connector     alias "gateway"  = sim:8081
//
// The simulator answers to "netsuite" only on the netsuite network and to "gateway"
// only on the gateway network, so disconnecting the connector from one of them cuts
// it off from that simulator alone; the connector stays reachable from the host over
// the world network, where the simulator has neither alias. Internal networks never
// carry a container's default route or published ports, so cutting them leaves the
// host's view untouched.
//
// The connector's environment contract (contract.Env*) is computed here, not read
// from the simulator: the world's credentials are a pure function of its seed (and
// size), so fixtures.Generate gives exactly what `doorbuster sim --seed --size` serves.
//
//	w, err := compose.Up(ctx, compose.Config{Seed: 7, Size: fixtures.Small})
//	defer w.Close(ctx) // also when err != nil
//	// w.ConnectorURL, w.NetSuiteURL, w.GatewayURL are http://127.0.0.1:PORT
//	w.PartitionConnector(ctx, compose.NetSuite)
//	w.Heal(ctx)
//	w.KillConnector(ctx); w.RestartConnector(ctx)
//
// With Ryuk disabled (TESTCONTAINERS_RYUK_DISABLED=true, needed where the ryuk image
// cannot be pulled) nothing else cleans up: Close removes every container, network
// and volume labelled with the world's run id, and the image Up built.
package compose

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
)

// Ports inside the containers, and the network aliases the connector uses.
const (
	NetSuitePort         = 8080
	GatewayPort          = 8081
	DefaultConnectorPort = 8088

	NetSuiteAlias  = "netsuite"
	GatewayAlias   = "gateway"
	ConnectorAlias = "connector"
)

// LabelRun labels every container, network, volume and image of one world with its
// run id, so that Close (and a test) can find them all.
const LabelRun = "org.doorbuster.run"

// Defaults of a Config.
const (
	DefaultStartupTimeout   = 60 * time.Second
	DefaultConnectorDataDir = "/data"
	faultsPath              = "/tmp/doorbuster-faults.json"
	logsTimeout             = 10 * time.Second // for the last log lines of what did not come up
)

// Teardown: Close gives up after closeTimeout; sweeping the run's containers,
// networks and volumes takes at most sweepTimeout of it (and sweepMaxRounds sweeps),
// the image the rest.
const (
	closeTimeout        = 2 * time.Minute
	sweepTimeout        = 90 * time.Second
	sweepMaxRounds      = 600
	sweepMinPause       = 100 * time.Millisecond
	sweepMaxPause       = time.Second
	sweepPermanentTries = 3
	// After a failed Up, Close looks until nothing of the run has shown up for
	// settleQuiet, once every settleEvery: the engine may still be finishing a create
	// whose request Up canceled.
	settleQuiet = 2 * time.Second
	settleEvery = 250 * time.Millisecond
)

// The simulators the connector can be partitioned from (untyped, so that a World
// satisfies interfaces that take the name as a string).
const (
	NetSuite = "netsuite"
	Gateway  = "gateway"
)

// Config says what world to bring up. The zero Config builds the image from the
// repository and runs the reference connector against a small world of seed 0.
type Config struct {
	// Image is the Doorbuster image the simulators run. "" builds one (Build says how)
	// and Close removes it unless KeepImages.
	Image string
	Build BuildOptions

	// ConnectorImage is the connector under test; "" runs the Doorbuster image's
	// reference connector (`doorbuster connector`).
	ConnectorImage string
	// ConnectorCmd replaces the image's command; nil keeps it, except that the
	// Doorbuster image gets ["connector"].
	ConnectorCmd []string
	// ConnectorPort is the port the connector listens on in its container (it gets
	// CONNECTOR_LISTEN=0.0.0.0:PORT); 0 is DefaultConnectorPort.
	ConnectorPort int
	// ConnectorReadyPath is polled until it answers 2xx; "" is contract.PathReady.
	ConnectorReadyPath string
	// ConnectorDataDir is where the connector's data volume is mounted (it gets
	// CONNECTOR_DATA_DIR); "" is DefaultConnectorDataDir. The volume starts as a copy
	// of the image's directory there, so an image should own it for its user.
	ConnectorDataDir string
	// ExtraEnv is added to the connector's environment last: it overrides the contract.
	ExtraEnv map[string]string

	// The world: Seed and Size (default fixtures.Small) are passed to `doorbuster sim`
	// and give the credentials. World, when set, is a world from fixtures.Generate
	// (saves generating it again): its Seed and Size replace these, and its
	// credentials are read.
	Seed  int64
	Size  fixtures.Size
	World *fixtures.World
	// Faults are fault rules (JSON or YAML, as `doorbuster sim --faults` reads them)
	// installed from the start; empty: none.
	Faults []byte
	// ConcurrencyLimit is NetSuite's account concurrency limit; 0 keeps the sim's default.
	ConcurrencyLimit int
	// SimArgs are extra arguments for `doorbuster sim`.
	SimArgs []string

	// KeepImages keeps the image Up built (Close removes it otherwise).
	KeepImages bool
	// StartupTimeout bounds each container's readiness; 0 is DefaultStartupTimeout.
	StartupTimeout time.Duration
	// Logger receives progress and testcontainers' messages; nil discards them.
	Logger *slog.Logger
}

// World is a running world. Its URLs are reachable from the host (127.0.0.1 only);
// the connector's stays the same across KillConnector and RestartConnector.
type World struct {
	RunID        string
	Image        string // the Doorbuster image the simulators run
	NetSuiteURL  string
	GatewayURL   string
	ConnectorURL string
	// Env is the connector's environment as it was given (contract plus ExtraEnv).
	Env map[string]string

	cfg      Config
	log      *slog.Logger
	cli      *client.Client
	networks map[string]string // role ("world", "netsuite", "gateway") → network id
	volumes  []string
	images   func(context.Context) error // removes the image Up built

	mu          sync.Mutex
	sim         testcontainers.Container
	conn        testcontainers.Container
	connReady   *httpReady
	partitioned map[string]bool
	upDone      bool // Up returned without error
	closed      bool
}

// Up brings a world up: builds the image unless Config.Image names one, creates the
// networks and volumes, starts the simulators and the connector, and waits until both
// answer over HTTP. It returns the World even with an error: call Close in any case,
// which removes whatever was created.
//
// Canceling ctx (Ctrl-C) stops Up; Close must still be called, and it works with the
// canceled ctx.
func Up(ctx context.Context, cfg Config) (*World, error) {
	w := &World{cfg: cfg, partitioned: map[string]bool{}, networks: map[string]string{}}
	w.log = cfg.Logger
	if w.log == nil {
		w.log = discardLogger()
	}
	if err := w.setDefaults(); err != nil {
		return w, err
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return w, fmt.Errorf("compose: run id: %w", err)
	}
	w.RunID = hex.EncodeToString(b[:])
	w.log = w.log.With("run", w.RunID)

	if err := w.up(ctx); err != nil {
		return w, err
	}
	w.mu.Lock()
	w.upDone = true
	w.mu.Unlock()
	return w, nil
}

func (w *World) setDefaults() error {
	c := &w.cfg
	if c.World != nil {
		c.Seed, c.Size = c.World.Seed, c.World.Size
	}
	if c.Size == "" {
		c.Size = fixtures.Small
	}
	if c.ConnectorPort == 0 {
		c.ConnectorPort = DefaultConnectorPort
	}
	if c.ConnectorPort < 1 || c.ConnectorPort > 65535 {
		return fmt.Errorf("compose: ConnectorPort %d: want 1-65535", c.ConnectorPort)
	}
	if c.ConnectorReadyPath == "" {
		c.ConnectorReadyPath = contract.PathReady
	}
	if !strings.HasPrefix(c.ConnectorReadyPath, "/") {
		return fmt.Errorf("compose: ConnectorReadyPath %q: want a path starting with /", c.ConnectorReadyPath)
	}
	if c.ConnectorDataDir == "" {
		c.ConnectorDataDir = DefaultConnectorDataDir
	}
	if c.StartupTimeout <= 0 {
		c.StartupTimeout = DefaultStartupTimeout
	}
	if c.ConcurrencyLimit < 0 {
		return fmt.Errorf("compose: ConcurrencyLimit %d: want ≥ 0", c.ConcurrencyLimit)
	}
	return nil
}

func (w *World) name(suffix string) string { return "doorbuster-" + w.RunID + "-" + suffix }

func (w *World) labels() map[string]string { return map[string]string{LabelRun: w.RunID} }

func (w *World) up(ctx context.Context) error {
	cli, err := newClient(ctx)
	if err != nil {
		return err
	}
	w.cli = cli

	// The credentials first: a bad size fails before anything is created.
	world := w.cfg.World
	if world == nil {
		if world, err = fixtures.Generate(w.cfg.Seed, w.cfg.Size); err != nil {
			return fmt.Errorf("compose: world: %w", err)
		}
	}

	w.Image = w.cfg.Image
	if w.Image == "" {
		bo := w.cfg.Build
		bo.Tag = "doorbuster-run:" + w.RunID
		bo.ExtraTags = nil
		bo.Labels = maps.Clone(bo.Labels)
		if bo.Labels == nil {
			bo.Labels = map[string]string{}
		}
		maps.Copy(bo.Labels, w.labels())
		if bo.Logger == nil {
			bo.Logger = w.log
		}
		img, cleanup, err := BuildImage(ctx, bo)
		if !w.cfg.KeepImages {
			w.images = cleanup
		}
		if err != nil {
			return err
		}
		w.Image = img
	}

	for _, n := range []struct {
		role     string
		internal bool
	}{{"world", false}, {NetSuite, true}, {Gateway, true}} {
		res, err := cli.NetworkCreate(ctx, w.name(n.role), client.NetworkCreateOptions{
			Driver: "bridge", Internal: n.internal, Labels: w.labels(),
		})
		if err != nil {
			return fmt.Errorf("compose: create network %s: %w", w.name(n.role), err)
		}
		w.networks[n.role] = res.ID
	}
	for _, v := range []string{"books", "outbox"} {
		if _, err := cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: w.name(v), Labels: w.labels()}); err != nil {
			return fmt.Errorf("compose: create volume %s: %w", w.name(v), err)
		}
		w.volumes = append(w.volumes, w.name(v))
	}

	if err := w.startSim(ctx); err != nil {
		return err
	}
	w.Env = w.connectorEnv(world)
	return w.startConnector(ctx)
}

// connectorEnv is the connector's environment: the contract pointing at the
// simulators' aliases, the listen address and data directory, then ExtraEnv.
func (w *World) connectorEnv(world *fixtures.World) map[string]string {
	c := world.Credentials
	env := map[string]string{
		contract.EnvNetSuiteBaseURL:        fmt.Sprintf("http://%s:%d", NetSuiteAlias, NetSuitePort),
		contract.EnvNetSuiteAccountID:      c.AccountID,
		contract.EnvNetSuiteConsumerKey:    c.ConsumerKey,
		contract.EnvNetSuiteConsumerSecret: c.ConsumerSecret,
		contract.EnvNetSuiteTokenID:        c.TokenID,
		contract.EnvNetSuiteTokenSecret:    c.TokenSecret,
		contract.EnvGatewayBaseURL:         fmt.Sprintf("http://%s:%d", GatewayAlias, GatewayPort),
		contract.EnvGatewayAPIKey:          world.Gateway.SecretKey,
		contract.EnvConnectorListen:        fmt.Sprintf("0.0.0.0:%d", w.cfg.ConnectorPort),
		contract.EnvConnectorDataDir:       w.cfg.ConnectorDataDir,
	}
	if w.cfg.ConnectorImage == "" {
		// The image's HEALTHCHECK probes this (the default is the simulator's port).
		env["DOORBUSTER_HEALTHCHECK_URL"] = fmt.Sprintf("http://127.0.0.1:%d%s", w.cfg.ConnectorPort, contract.PathHealth)
	}
	maps.Copy(env, w.cfg.ExtraEnv)
	return env
}

func (w *World) startSim(ctx context.Context) error {
	cmd := []string{"sim", "--listen-any",
		"--seed", strconv.FormatInt(w.cfg.Seed, 10), "--size", string(w.cfg.Size),
		"--netsuite-addr", fmt.Sprintf("0.0.0.0:%d", NetSuitePort),
		"--gateway-addr", fmt.Sprintf("0.0.0.0:%d", GatewayPort),
		"--books", "/data/netsuite.db", "--gateway-books", "/data/gateway.db",
		"--env-file", "/tmp/connector.env", // as the sim sees itself; the connector gets Env
	}
	if w.cfg.ConcurrencyLimit > 0 {
		cmd = append(cmd, "--concurrency-limit", strconv.Itoa(w.cfg.ConcurrencyLimit))
	}
	var files []testcontainers.ContainerFile
	if len(bytes.TrimSpace(w.cfg.Faults)) > 0 {
		cmd = append(cmd, "--faults", faultsPath)
		files = append(files, testcontainers.ContainerFile{
			Reader: bytes.NewReader(w.cfg.Faults), ContainerFilePath: faultsPath, FileMode: 0o644,
		})
	}
	cmd = append(cmd, w.cfg.SimArgs...)
	ns, gw := portSpec(NetSuitePort), portSpec(GatewayPort)
	strategy := &httpReady{
		checks:  []httpCheck{{ns, contract.PathHealth}, {gw, contract.PathHealth}},
		timeout: w.cfg.StartupTimeout, poll: 50 * time.Millisecond,
	}

	start := time.Now()
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        w.Image,
			Name:         w.name("sim"),
			Cmd:          cmd,
			Labels:       w.labels(),
			ExposedPorts: []string{ns, gw},
			Networks:     []string{w.name("world"), w.name(NetSuite), w.name(Gateway)},
			NetworkAliases: map[string][]string{
				w.name("world"):  {"sim"},
				w.name(NetSuite): {NetSuiteAlias},
				w.name(Gateway):  {GatewayAlias},
			},
			Mounts:             testcontainers.ContainerMounts{testcontainers.VolumeMount(w.name("books"), "/data")},
			Files:              files,
			HostConfigModifier: loopbackPorts(map[string]string{ns: "", gw: ""}),
			WaitingFor:         strategy,
		},
		Started: true,
		Logger:  tcLogger{w.log},
	})
	w.mu.Lock()
	w.sim = c
	w.mu.Unlock()
	if err != nil {
		return w.notReady(ctx, c, "the simulators (doorbuster sim) did not come up: "+strategy.String(), err)
	}
	if w.NetSuiteURL, err = hostURL(ctx, c, ns); err != nil {
		return err
	}
	if w.GatewayURL, err = hostURL(ctx, c, gw); err != nil {
		return err
	}
	w.log.Info("simulators ready", "netsuite", w.NetSuiteURL, "gateway", w.GatewayURL, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (w *World) startConnector(ctx context.Context) error {
	image, cmd := w.cfg.ConnectorImage, w.cfg.ConnectorCmd
	if image == "" {
		image = w.Image
		if cmd == nil {
			cmd = []string{"connector"}
		}
	}
	port := portSpec(w.cfg.ConnectorPort)
	w.connReady = &httpReady{
		checks:  []httpCheck{{port, w.cfg.ConnectorReadyPath}},
		timeout: w.cfg.StartupTimeout, poll: 50 * time.Millisecond,
	}

	// The connector's host port is chosen here, not by the engine, so that it stays
	// the same when the container is killed and started again. Another process may
	// take it between the probe and the start: then try another.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		hostPort, err := freeLoopbackPort()
		if err != nil {
			return err
		}
		start := time.Now()
		c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
			ContainerRequest: testcontainers.ContainerRequest{
				Image:        image,
				Name:         w.name("connector"),
				Cmd:          cmd,
				Env:          w.Env,
				Labels:       w.labels(),
				ExposedPorts: []string{port},
				Networks:     []string{w.name("world"), w.name(NetSuite), w.name(Gateway)},
				NetworkAliases: map[string][]string{
					w.name("world"):  {ConnectorAlias},
					w.name(NetSuite): {ConnectorAlias},
					w.name(Gateway):  {ConnectorAlias},
				},
				Mounts:             testcontainers.ContainerMounts{testcontainers.VolumeMount(w.name("outbox"), testcontainers.ContainerMountTarget(w.cfg.ConnectorDataDir))},
				HostConfigModifier: loopbackPorts(map[string]string{port: strconv.Itoa(hostPort)}),
				WaitingFor:         w.connReady,
			},
			Started: true,
			Logger:  tcLogger{w.log},
		})
		w.mu.Lock()
		w.conn = c
		w.mu.Unlock()
		if err != nil && isPortTaken(err) && ctx.Err() == nil {
			lastErr = err
			w.log.Info("connector host port taken; trying another", "port", hostPort)
			if c != nil {
				if _, rerr := w.cli.ContainerRemove(context.WithoutCancel(ctx), c.GetContainerID(), client.ContainerRemoveOptions{Force: true}); rerr != nil {
					return fmt.Errorf("compose: remove connector after a port clash: %w", rerr)
				}
			}
			continue
		}
		if err != nil {
			return w.notReady(ctx, c, fmt.Sprintf("the connector (image %s) did not come up: %s", image, w.connReady), err)
		}
		w.ConnectorURL = fmt.Sprintf("http://127.0.0.1:%d", hostPort)
		w.log.Info("connector ready", "url", w.ConnectorURL, "image", image, "took", time.Since(start).Round(time.Millisecond))
		return nil
	}
	return fmt.Errorf("compose: start the connector: no free host port after 3 tries: %w", lastErr)
}

// notReady wraps err (errors.Is sees through it, to a context error for instance)
// with what did not come up and the container's last log lines.
func (w *World) notReady(ctx context.Context, c testcontainers.Container, what string, err error) error {
	var extra string
	if strings.Contains(err.Error(), "reaper") {
		// testcontainers-go reads its configuration once per process, from the
		// environment and ~/.testcontainers.properties only: compose cannot turn the
		// reaper off itself.
		extra += "\n(the testcontainers reaper, Ryuk, did not start: where its image cannot be pulled, set " +
			"TESTCONTAINERS_RYUK_DISABLED=true before the process first uses testcontainers, or ryuk.disabled=true " +
			"in ~/.testcontainers.properties; Close removes the world without it)"
	}
	if c != nil {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logsTimeout)
		defer cancel()
		if logs, lerr := w.logs(lctx, c.GetContainerID(), 20); lerr == nil && strings.TrimSpace(logs) != "" {
			extra += "\nlast log lines:\n" + logs
		}
	}
	return fmt.Errorf("compose: %s: %w%s", what, err, extra)
}

// PartitionConnector cuts the connector off from one simulator: it leaves that
// simulator's network, so the alias no longer resolves and open connections go dead.
// The host still reaches the connector. Partitioning twice is harmless.
func (w *World) PartitionConnector(ctx context.Context, from string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	id, err := w.targetNetwork(from)
	if err != nil {
		return err
	}
	if w.partitioned[from] {
		return nil
	}
	if _, err := w.cli.NetworkDisconnect(ctx, id, client.NetworkDisconnectOptions{Container: w.conn.GetContainerID(), Force: true}); err != nil {
		return fmt.Errorf("compose: partition the connector from %s: %w", from, err)
	}
	w.partitioned[from] = true
	w.log.Info("connector partitioned", "from", from)
	return nil
}

// Heal reconnects the connector to every simulator it was partitioned from, with its
// network alias.
func (w *World) Heal(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		return errors.New("compose: no connector")
	}
	var errs []error
	for _, t := range []string{NetSuite, Gateway} {
		if !w.partitioned[t] {
			continue
		}
		_, err := w.cli.NetworkConnect(ctx, w.networks[t], client.NetworkConnectOptions{
			Container:      w.conn.GetContainerID(),
			EndpointConfig: &network.EndpointSettings{Aliases: []string{ConnectorAlias}},
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("compose: heal the partition from %s: %w", t, err))
			continue
		}
		delete(w.partitioned, t)
		w.log.Info("connector partition healed", "from", t)
	}
	return errors.Join(errs...)
}

// Partitioned reports whether the connector is cut off from the target.
func (w *World) Partitioned(t string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.partitioned[t]
}

func (w *World) targetNetwork(t string) (string, error) {
	if w.conn == nil {
		return "", errors.New("compose: no connector")
	}
	id, ok := w.networks[t]
	if !ok || (t != NetSuite && t != Gateway) {
		return "", fmt.Errorf("compose: partition from %q: want %q or %q", t, NetSuite, Gateway)
	}
	return id, nil
}

// PauseConnector freezes the connector's processes (docker pause): connections to it
// stay open and nothing answers.
func (w *World) PauseConnector(ctx context.Context) error {
	id, err := w.connectorID()
	if err != nil {
		return err
	}
	if _, err := w.cli.ContainerPause(ctx, id, client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("compose: pause the connector: %w", err)
	}
	return nil
}

// UnpauseConnector lets a paused connector run on.
func (w *World) UnpauseConnector(ctx context.Context) error {
	id, err := w.connectorID()
	if err != nil {
		return err
	}
	if _, err := w.cli.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("compose: unpause the connector: %w", err)
	}
	return nil
}

// KillConnector sends SIGKILL to the connector (kill -9: no shutdown, no flush) and
// returns once the container has stopped. Its data volume stays.
func (w *World) KillConnector(ctx context.Context) error {
	id, err := w.connectorID()
	if err != nil {
		return err
	}
	if _, err := w.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("compose: kill the connector: %w", err)
	}
	res := w.cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-res.Result:
	case err := <-res.Error:
		return fmt.Errorf("compose: wait for the killed connector to stop: %w", err)
	case <-ctx.Done():
		return fmt.Errorf("compose: wait for the killed connector to stop: %w", ctx.Err())
	}
	w.log.Info("connector killed")
	return nil
}

// RestartConnector starts the stopped (killed) connector container again — same
// image, environment, host port and data volume — and waits until it is ready.
func (w *World) RestartConnector(ctx context.Context) error {
	w.mu.Lock()
	c := w.conn
	w.mu.Unlock()
	if c == nil {
		return errors.New("compose: no connector")
	}
	start := time.Now()
	if err := c.Start(ctx); err != nil {
		return w.notReady(ctx, c, "the restarted connector did not come up: "+w.connReady.String(), err)
	}
	w.log.Info("connector restarted", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// ConnectorLogs returns the connector's output (stdout and stderr), all of it.
func (w *World) ConnectorLogs(ctx context.Context) (string, error) {
	id, err := w.connectorID()
	if err != nil {
		return "", err
	}
	return w.logs(ctx, id, 0)
}

// SimLogs returns the simulators' output (stdout and stderr), all of it.
func (w *World) SimLogs(ctx context.Context) (string, error) {
	w.mu.Lock()
	c := w.sim
	w.mu.Unlock()
	if c == nil {
		return "", errors.New("compose: no simulator container")
	}
	return w.logs(ctx, c.GetContainerID(), 0)
}

func (w *World) connectorID() (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		return "", errors.New("compose: no connector")
	}
	return w.conn.GetContainerID(), nil
}

// logs returns a container's stdout and stderr interleaved; tail > 0 keeps the last
// lines only.
func (w *World) logs(ctx context.Context, id string, tail int) (string, error) {
	opts := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true}
	if tail > 0 {
		opts.Tail = strconv.Itoa(tail)
	}
	rc, err := w.cli.ContainerLogs(ctx, id, opts)
	if err != nil {
		return "", fmt.Errorf("compose: logs: %w", err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, rc); err != nil {
		return buf.String(), fmt.Errorf("compose: logs: %w", err)
	}
	return buf.String(), nil
}

// Close removes the world: its containers (with anonymous volumes), networks, named
// volumes, and the image Up built unless KeepImages — everything labelled with the
// run id, also what a failed or canceled Up left half made. It runs to the end even
// when ctx is canceled (it uses context.WithoutCancel, bounded to two minutes), and a
// second Close does nothing. Close on a nil World is a no-op.
//
// It sweeps until nothing of the run is left: an Up canceled mid-request leaves the
// engine finishing what it was asked (a container or network create) after the first
// sweep, so after a failed Up Close also goes on looking until nothing of the run has
// shown up for settleQuiet. It returns an error only when something is left.
func (w *World) Close(ctx context.Context) error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	quiet := time.Duration(0)
	if !w.upDone {
		quiet = settleQuiet
	}
	w.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	var errs []error
	if w.cli != nil && w.RunID != "" {
		sctx, scancel := context.WithTimeout(ctx, sweepTimeout)
		errs = append(errs, sweepRun(sctx, w.cli, w.RunID, quiet, w.log))
		scancel()
	}
	if w.images != nil {
		errs = append(errs, w.images(ctx))
	}
	if w.cli != nil {
		errs = append(errs, w.cli.Close())
	}
	return errors.Join(errs...)
}

// sweepRun removes the run's containers, networks and volumes (removeRun), sweeping
// again until a sweep finds nothing and, with quiet > 0, nothing has shown up for
// quiet. Errors that clear once the run's containers are gone (a volume or network
// still in use, a removal in progress) are retried until ctx ends; any other error is
// retried for sweepPermanentTries sweeps in a row, then returned. At ctx's end it
// returns what is left and the last sweep's errors.
func sweepRun(ctx context.Context, cli *client.Client, run string, quiet time.Duration, log *slog.Logger) error {
	var (
		cleanSince time.Time
		permanent  int
		lastFound  []string
		lastErrs   []error
		pause      = sweepMinPause
	)
	for sweep := 1; sweep <= sweepMaxRounds; sweep++ {
		found, errs := removeRun(ctx, cli, run)
		switch {
		case len(found) == 0 && len(errs) == 0:
			if cleanSince.IsZero() {
				cleanSince = time.Now()
				log.Debug("nothing of the run left", "sweep", sweep, "settle", quiet)
			}
			if time.Since(cleanSince) >= quiet {
				return nil
			}
			pause = settleEvery
		default:
			if !cleanSince.IsZero() {
				log.Info("the run showed up again after a clean sweep", "after", time.Since(cleanSince).Round(time.Millisecond), "found", found)
			} else if sweep > 1 {
				log.Debug("sweeping the run again", "sweep", sweep, "found", found, "errors", errors.Join(errs...))
			}
			cleanSince, lastFound, lastErrs = time.Time{}, found, errs
			if slices.ContainsFunc(errs, func(err error) bool { return !isTransient(err) }) {
				if permanent++; permanent >= sweepPermanentTries {
					return fmt.Errorf("compose: remove run %s (sweep %d): %w", run, sweep, errors.Join(errs...))
				}
			} else {
				permanent = 0
			}
			if len(errs) == 0 {
				pause = sweepMinPause // removed something: look again soon
			} else {
				pause = min(2*pause, sweepMaxPause)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("compose: remove run %s: still there after %d sweeps (%v): %v: %w",
				run, sweep, ctx.Err(), lastFound, errors.Join(lastErrs...))
		case <-time.After(pause):
		}
	}
	return fmt.Errorf("compose: remove run %s: still there after %d sweeps: %v: %w",
		run, sweepMaxRounds, lastFound, errors.Join(lastErrs...))
}

// removeRun makes one sweep: it force-removes the containers labelled with run (in
// any state, also created and never started), then its networks, then its volumes. It
// returns what it found ("container NAME", ...) and the errors of removals that failed
// (not-found is no error: something else removed it first).
func removeRun(ctx context.Context, cli *client.Client, run string) (found []string, errs []error) {
	f := make(client.Filters).Add("label", LabelRun+"="+run)
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		errs = append(errs, fmt.Errorf("compose: list containers: %w", err))
	}
	for _, c := range cs.Items {
		name := strings.Join(c.Names, ",")
		found = append(found, "container "+name)
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("compose: remove container %s: %w", name, err))
		}
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		errs = append(errs, fmt.Errorf("compose: list networks: %w", err))
	}
	for _, n := range ns.Items {
		found = append(found, "network "+n.Name)
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("compose: remove network %s: %w", n.Name, err))
		}
	}
	vs, err := runVolumes(ctx, cli, run)
	if err != nil {
		errs = append(errs, err)
	}
	for _, v := range vs {
		found = append(found, "volume "+v)
		if _, err := cli.VolumeRemove(ctx, v, client.VolumeRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("compose: remove volume %s: %w", v, err))
		}
	}
	return found, errs
}

// isTransient reports whether a removal failed for a reason that passes once the
// run's containers are gone: a volume or network still in use (by a container the
// engine created after the sweep listed them), a removal already in progress.
func isTransient(err error) bool {
	if cerrdefs.IsConflict(err) || cerrdefs.IsNotFound(err) {
		return true
	}
	s := err.Error()
	for _, m := range []string{"is in use", "active endpoints", "already in progress", "is being removed"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// runVolumes lists the run's volumes: labelled with it, or named like its volumes (a
// container created late, after the sweep, re-creates its named volume unlabelled).
func runVolumes(ctx context.Context, cli *client.Client, run string) ([]string, error) {
	prefix := "doorbuster-" + run + "-"
	var out []string
	for _, f := range []client.Filters{
		make(client.Filters).Add("label", LabelRun+"="+run),
		make(client.Filters).Add("name", prefix),
	} {
		vs, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
		if err != nil {
			return nil, fmt.Errorf("compose: list volumes: %w", err)
		}
		for _, v := range vs.Items {
			if (v.Labels[LabelRun] == run || strings.HasPrefix(v.Name, prefix)) && !slices.Contains(out, v.Name) {
				out = append(out, v.Name)
			}
		}
	}
	return out, nil
}

// Leftovers lists what is still there of a run: containers, networks, volumes and
// images labelled with its id, as "kind name" strings (a test asserts it is empty).
func Leftovers(ctx context.Context, run string) ([]string, error) {
	cli, err := newClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	f := make(client.Filters).Add("label", LabelRun+"="+run)
	var out []string
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	for _, c := range cs.Items {
		out = append(out, "container "+strings.Join(c.Names, ","))
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, err
	}
	for _, n := range ns.Items {
		out = append(out, "network "+n.Name)
	}
	vs, err := runVolumes(ctx, cli, run)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		out = append(out, "volume "+v)
	}
	is, err := cli.ImageList(ctx, client.ImageListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	for _, i := range is.Items {
		out = append(out, "image "+strings.Join(append([]string{i.ID}, i.RepoTags...), ","))
	}
	slices.Sort(out)
	return out, nil
}

// Available reports whether a Docker engine answers, with the reason when not.
func Available(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cli, err := newClient(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("compose: docker engine: %w", err)
	}
	return nil
}

// newClient connects to the engine testcontainers-go would use (DOCKER_HOST,
// ~/.testcontainers.properties, the default socket).
func newClient(ctx context.Context) (*client.Client, error) {
	dc, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("compose: docker engine: %w", err)
	}
	return dc.Client, nil
}

func portSpec(p int) string { return strconv.Itoa(p) + "/tcp" }

// loopbackPorts publishes the given container ports ("8080/tcp") on 127.0.0.1 only,
// each on the host port given ("" or "0": any free one).
func loopbackPorts(ports map[string]string) func(*container.HostConfig) {
	return func(hc *container.HostConfig) {
		if hc.PortBindings == nil {
			hc.PortBindings = network.PortMap{}
		}
		for spec, hostPort := range ports {
			p := network.MustParsePort(spec)
			hc.PortBindings[p] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hostPort}}
		}
	}
}

// hostURL is http://127.0.0.1:PORT for the host port mapped to the container port.
func hostURL(ctx context.Context, c testcontainers.Container, port string) (string, error) {
	p, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", fmt.Errorf("compose: mapped port of %s: %w", port, err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", p.Num()), nil
}

func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("compose: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func isPortTaken(err error) bool {
	s := err.Error()
	return strings.Contains(s, "port is already allocated") || strings.Contains(s, "address already in use")
}

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// tcLogger sends testcontainers-go's messages to slog at debug level.
type tcLogger struct{ log *slog.Logger }

func (l tcLogger) Printf(format string, v ...any) {
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)), "from", "testcontainers")
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
