package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/simulator/faults"
	"github.com/doorbuster/doorbuster/simulator/gateway"
	"github.com/doorbuster/doorbuster/simulator/netsuite"
)

// simOptions are the flags of `doorbuster sim`. Each simulator adds its own flags
// here and one builder to simServices.
type simOptions struct {
	Seed             int64
	Size             string
	World            string // a world file; overrides Seed and Size
	NetSuiteAddr     string
	ConcurrencyLimit int
	Books            string
	GatewayAddr      string // "" means any free loopback port (tests)
	GatewayBooks     string
	EnvFile          string
	Faults           string // a fault rules file (YAML or JSON) for both simulators
	Quiet            bool
	// ListenAny allows non-loopback listen addresses: inside a container the network
	// namespace is the container's own, and 0.0.0.0 is how its network reaches it.
	ListenAny bool

	// ready, when set (tests), is called once every simulator listens.
	ready func(services []*simService)
}

// Default listen addresses: loopback only.
const (
	defaultNetSuiteAddr = "127.0.0.1:8701"
	defaultGatewayAddr  = "127.0.0.1:8702"
)

func newSimCmd(streams ioStreams) *cobra.Command {
	opts := simOptions{Seed: 1, Size: string(fixtures.Small), NetSuiteAddr: defaultNetSuiteAddr,
		ConcurrencyLimit: netsuite.DefaultConcurrencyLimit, GatewayAddr: defaultGatewayAddr}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve the simulators (NetSuite, payment gateway) for a connector, until interrupted",
		Long: `Load (or generate) a fixture world and serve a stateful NetSuite REST simulator on
loopback: the record API, SuiteQL, async jobs, token-based authentication and
governance, with the books in SQLite. Beside it, a Stripe-shaped payment gateway:
payment intents, refunds, terminal readers (one per register), Idempotency-Key,
with its own books in SQLite.

The connector environment contract is written to --env-file as KEY=value lines
(NETSUITE_BASE_URL, NETSUITE_ACCOUNT_ID, NETSUITE_CONSUMER_KEY, NETSUITE_CONSUMER_SECRET,
NETSUITE_TOKEN_ID, NETSUITE_TOKEN_SECRET, GATEWAY_BASE_URL, GATEWAY_API_KEY), or to
standard output without it.

Harness endpoints beside the API: /healthz, /metrics (Prometheus), /_sim/export (a
snapshot of the books as an SQLite file) and POST /_sim/reset (back to the world).
Faults (latency, errors, throttling, timeouts, resets, lost responses, slow or
malformed bodies, outages) come from --faults FILE and can be read and changed at
runtime on each simulator with /_sim/faults; /_sim/events lists the faults injected.
Stop with Ctrl-C; the books stay in --books FILE (NetSuite) and --gateway-books FILE
when given.`,
		Example: `  # Serve the default small world; print the environment for a connector
  doorbuster sim

  # A medium world on a chosen port, env file for the connector, books kept
  doorbuster sim --seed 7 --size medium --netsuite-addr 127.0.0.1:9090 \
      --env-file netsuite.env --books books.db

  # A world written by 'doorbuster fixtures', a premium account's 20 slots
  doorbuster sim --world worlds/large/world.json --concurrency-limit 20

  # Any free ports (see the env file for the ones chosen), gateway books kept
  doorbuster sim --netsuite-addr 127.0.0.1:0 --gateway-addr 127.0.0.1:0 \
      --env-file sim.env --gateway-books gateway.db

  # Peak-day trouble: the rules in faults.yaml, draws seeded by --seed
  doorbuster sim --seed 7 --faults faults.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return simRun(cmd.Context(), streams, opts)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&opts.Seed, "seed", opts.Seed, "random seed of the generated world")
	f.StringVar(&opts.Size, "size", opts.Size, "generated world size: small, medium or large")
	f.StringVar(&opts.World, "world", "", "load the world from this file (from 'doorbuster fixtures') instead of generating it")
	f.StringVar(&opts.NetSuiteAddr, "netsuite-addr", opts.NetSuiteAddr, "loopback HOST:PORT to serve NetSuite on (port 0: any free port)")
	f.IntVar(&opts.ConcurrencyLimit, "concurrency-limit", opts.ConcurrencyLimit, "NetSuite governance: concurrent requests allowed (5, 15, 20, +10 per SuiteCloud Plus)")
	f.StringVar(&opts.Books, "books", "", "keep the NetSuite books in this SQLite file (replaced at start; default: a temporary file)")
	f.StringVar(&opts.GatewayAddr, "gateway-addr", opts.GatewayAddr, "loopback HOST:PORT to serve the payment gateway on (port 0: any free port)")
	f.StringVar(&opts.GatewayBooks, "gateway-books", "", "keep the payment gateway's books in this SQLite file (replaced at start; default: a temporary file)")
	f.StringVar(&opts.EnvFile, "env-file", "", "write the connector environment to this file (default: standard output)")
	f.StringVar(&opts.Faults, "faults", "", "inject the fault rules of this YAML or JSON file (rules for both simulators, each with its target)")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "log only warnings and errors")
	f.BoolVar(&opts.ListenAny, "listen-any", false, "allow non-loopback addresses such as 0.0.0.0:8080 (only inside a container, whose network is its own)")
	return cmd
}

// simService is one simulator the command serves.
type simService struct {
	Name    string
	Addr    string // as asked; after listening, the address actually bound
	Handler http.Handler
	// Env returns the environment lines for a connector, given the service's base URL.
	Env   func(baseURL string) []envVar
	Close func() error
	// Describe is a one-line summary for the status output.
	Describe string
}

type envVar struct{ Key, Value string }

// URL is the base URL the service listens on.
func (s *simService) URL() string { return "http://" + s.Addr }

// simServices builds every simulator of the command. A new simulator adds one builder.
func simServices(opts simOptions, world *fixtures.World, log *slog.Logger) ([]*simService, error) {
	engines, err := simFaultEngines(opts, log)
	if err != nil {
		return nil, err
	}
	var out []*simService
	closeAll := func() {
		for _, s := range out {
			_ = s.Close()
		}
	}
	ns, err := newNetSuiteService(opts, world, log, engines[faults.NetSuite])
	if err != nil {
		closeAll()
		return nil, err
	}
	out = append(out, ns)
	gw, err := newGatewayService(opts, world, log, engines[faults.Gateway])
	if err != nil {
		closeAll()
		return nil, err
	}
	out = append(out, gw)
	return out, nil
}

func newGatewayService(opts simOptions, world *fixtures.World, log *slog.Logger, fe *faults.Engine) (*simService, error) {
	srv, err := gateway.New(world, gateway.Config{
		BooksPath: opts.GatewayBooks,
		Logger:    log.With("sim", "gateway"),
		Seed:      opts.Seed,
		Faults:    fe,
	})
	if err != nil {
		return nil, withCode(exitSetup, err)
	}
	addr := opts.GatewayAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	return &simService{
		Name:    "gateway",
		Addr:    addr,
		Handler: srv.Handler(),
		Close:   srv.Close,
		Env: func(base string) []envVar {
			return []envVar{
				{contract.EnvGatewayBaseURL, base},
				{contract.EnvGatewayAPIKey, world.Gateway.SecretKey},
			}
		},
		Describe: fmt.Sprintf("%d terminal readers, books %s", len(world.Registers), srv.BooksPath()),
	}, nil
}

func newNetSuiteService(opts simOptions, world *fixtures.World, log *slog.Logger, fe *faults.Engine) (*simService, error) {
	if opts.ConcurrencyLimit < 1 {
		return nil, withCode(exitSetup, fmt.Errorf("--concurrency-limit %d: must be at least 1", opts.ConcurrencyLimit))
	}
	srv, err := netsuite.New(world, netsuite.Config{
		BooksPath:        opts.Books,
		ConcurrencyLimit: opts.ConcurrencyLimit,
		Logger:           log.With("sim", "netsuite"),
		Faults:           fe,
	})
	if err != nil {
		return nil, withCode(exitSetup, err)
	}
	c := world.Credentials
	return &simService{
		Name:    "netsuite",
		Addr:    opts.NetSuiteAddr,
		Handler: srv.Handler(),
		Close:   srv.Close,
		Env: func(base string) []envVar {
			return []envVar{
				{contract.EnvNetSuiteBaseURL, base},
				{contract.EnvNetSuiteAccountID, c.AccountID},
				{contract.EnvNetSuiteConsumerKey, c.ConsumerKey},
				{contract.EnvNetSuiteConsumerSecret, c.ConsumerSecret},
				{contract.EnvNetSuiteTokenID, c.TokenID},
				{contract.EnvNetSuiteTokenSecret, c.TokenSecret},
			}
		},
		Describe: fmt.Sprintf("account %s, concurrency limit %d, books %s", c.AccountID, opts.ConcurrencyLimit, srv.BooksPath()),
	}, nil
}

// loadSimWorld reads --world or generates the world of --seed and --size.
func loadSimWorld(opts simOptions) (*fixtures.World, error) {
	if opts.World != "" {
		w, err := fixtures.Load(opts.World)
		if err != nil {
			return nil, withCode(exitSetup, fmt.Errorf("--world: %w", err))
		}
		return w, nil
	}
	size, err := fixtures.ParseSize(opts.Size)
	if err != nil {
		return nil, withCode(exitSetup, fmt.Errorf("--size: %w", err))
	}
	w, err := fixtures.Generate(opts.Seed, size)
	if err != nil {
		return nil, withCode(exitSetup, err)
	}
	return w, nil
}

// listenLoopback listens on addr, refusing anything but a loopback address.
func listenLoopback(name, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--%s-addr %q: %w", name, addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--%s-addr %q: only loopback addresses (127.0.0.1, ::1, localhost) are served", name, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--%s-addr: %w", name, err)
	}
	return ln, nil
}

// listenAny listens on addr, any address (for --listen-any inside a container).
func listenAny(name, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--%s-addr: %w", name, err)
	}
	return ln, nil
}

func simRun(ctx context.Context, streams ioStreams, opts simOptions) error {
	gin.SetMode(gin.ReleaseMode)
	level := slog.LevelInfo
	if opts.Quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(streams.ErrOut, &slog.HandlerOptions{Level: level}))

	start := time.Now()
	world, err := loadSimWorld(opts)
	if err != nil {
		return err
	}
	services, err := simServices(opts, world, log)
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range services {
			if err := s.Close(); err != nil {
				log.Error("closing", "sim", s.Name, "error", err)
			}
		}
	}()

	servers := make([]*http.Server, 0, len(services))
	errc := make(chan error, len(services))
	for _, s := range services {
		listen := listenLoopback
		if opts.ListenAny {
			listen = listenAny
		}
		ln, err := listen(s.Name, s.Addr)
		if err != nil {
			for _, hs := range servers {
				_ = hs.Close()
			}
			return withCode(exitSetup, err)
		}
		s.Addr = ln.Addr().String()
		hs := &http.Server{Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		servers = append(servers, hs)
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", s.Name, err)
			}
		}()
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, hs := range servers {
			if err := hs.Shutdown(sctx); err != nil {
				_ = hs.Close()
			}
		}
	}()

	if err := writeSimEnv(streams.Out, opts.EnvFile, services); err != nil {
		return withCode(exitSetup, err)
	}
	for _, s := range services {
		fmt.Fprintf(streams.ErrOut, "%s: %s (%s)\n", s.Name, s.URL(), s.Describe)
	}
	if opts.EnvFile != "" {
		fmt.Fprintf(streams.ErrOut, "environment written to %s\n", opts.EnvFile)
	}
	fmt.Fprintf(streams.ErrOut, "ready in %v; Ctrl-C to stop\n", time.Since(start).Round(time.Millisecond))
	if opts.ready != nil {
		opts.ready(services)
	}

	select {
	case <-ctx.Done():
		fmt.Fprintln(streams.ErrOut, "stopping")
		return nil
	case err := <-errc:
		return err
	}
}

// writeSimEnv writes every service's environment lines to path (atomically), or to
// out when path is "".
func writeSimEnv(out io.Writer, path string, services []*simService) error {
	var b strings.Builder
	for _, s := range services {
		for _, v := range s.Env(s.URL()) {
			fmt.Fprintf(&b, "%s=%s\n", v.Key, v.Value)
		}
	}
	if path == "" {
		_, err := io.WriteString(out, b.String())
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".env-*")
	if err != nil {
		return fmt.Errorf("--env-file: %w", err)
	}
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("--env-file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("--env-file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("--env-file: %w", err)
	}
	return nil
}
