package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/doorbuster/doorbuster/connector"
	ns "github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/simulator/faults"
	"github.com/doorbuster/doorbuster/simulator/gateway"
	"github.com/doorbuster/doorbuster/simulator/netsuite"
)

// embeddedConfig is what the embedded stack is started with.
type embeddedConfig struct {
	world            *fixtures.World
	seed             int64
	concurrencyLimit int // NetSuite governance
	workers          int // connector posting workers; 0 = from governance
	bugs             []connector.Bug
	version          string
	log              *slog.Logger
	// simsReady runs once the simulators serve, before the connector starts (the fault
	// rules and latency profiles are installed there, so the connector's bootstrap sees
	// them too).
	simsReady func(ctx context.Context, ep Endpoints) error
	// process, when set, runs the reference connector as a child process (for actions
	// that kill or pause it) instead of in this process.
	process *processConfig
}

// processConfig says how to run the reference connector as a child process.
type processConfig struct {
	command      []string // e.g. [/path/to/doorbuster connector]
	dataDir      string
	logPath      string
	readyTimeout time.Duration
	adm          *admin
}

// embedded is the embedded stack: both simulators and the reference connector in this
// process, each on its own loopback listener. It tears down in reverse order.
type embedded struct {
	ep      Endpoints
	info    rundir.Connector
	proc    *connectorProcess // the connector as a child process; nil when in this process
	closers []func(ctx context.Context) error
	once    sync.Once
	err     error
}

var (
	_ Stack           = (*embedded)(nil)
	_ ConnectorKiller = (*embedded)(nil)
	_ ConnectorPauser = (*embedded)(nil)
)

// errInProcess refuses to kill or pause a connector running in the harness's process.
var errInProcess = errors.New("the reference connector runs in this process: it cannot be killed or paused (the harness runs it as a child process for scenarios with such actions)")

// KillConnector kills the child connector process (SIGKILL).
func (e *embedded) KillConnector(ctx context.Context) error {
	if e.proc == nil {
		return errInProcess
	}
	return e.proc.KillConnector(ctx)
}

// RestartConnector starts the killed child connector again on the same data.
func (e *embedded) RestartConnector(ctx context.Context) error {
	if e.proc == nil {
		return errInProcess
	}
	return e.proc.RestartConnector(ctx)
}

// PauseConnector freezes the child connector process (SIGSTOP).
func (e *embedded) PauseConnector(ctx context.Context) error {
	if e.proc == nil {
		return errInProcess
	}
	return e.proc.PauseConnector(ctx)
}

// UnpauseConnector resumes the child connector process (SIGCONT).
func (e *embedded) UnpauseConnector(ctx context.Context) error {
	if e.proc == nil {
		return errInProcess
	}
	return e.proc.UnpauseConnector(ctx)
}

func (e *embedded) Endpoints() Endpoints        { return e.ep }
func (e *embedded) Connector() rundir.Connector { return e.info }

// Close stops the connector, then the gateway, then NetSuite, and removes their files.
func (e *embedded) Close(ctx context.Context) error {
	e.once.Do(func() {
		var errs []error
		for i := len(e.closers) - 1; i >= 0; i-- {
			errs = append(errs, e.closers[i](ctx))
		}
		e.err = errors.Join(errs...)
	})
	return e.err
}

// quietFaultsLogger keeps the fault engines' per-injection info lines out of the logs:
// the harness reads the events through /_sim/events.
func quietFaultsLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{h: l.Handler(), min: slog.LevelWarn})
}

// levelFilter drops records below min.
type levelFilter struct {
	h   slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.h.Enabled(ctx, l)
}
func (f levelFilter) Handle(ctx context.Context, r slog.Record) error { return f.h.Handle(ctx, r) }
func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{h: f.h.WithAttrs(a), min: f.min}
}
func (f levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{h: f.h.WithGroup(n), min: f.min}
}

// serve serves h on a fresh loopback listener and returns its base URL and a closer
// that shuts the server down (forcibly after a few seconds).
func serve(h http.Handler, log *slog.Logger) (string, func(context.Context) error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	closer := func(ctx context.Context) error {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if err != nil {
			err = srv.Close()
		}
		if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			return serr
		}
		return err
	}
	return "http://" + ln.Addr().String(), closer, nil
}

// startEmbedded starts NetSuite, the gateway and the reference connector. On error, what
// was started is stopped again.
func startEmbedded(ctx context.Context, c embeddedConfig) (_ *embedded, err error) {
	e := &embedded{}
	defer func() {
		if err != nil {
			e.Close(context.WithoutCancel(ctx))
		}
	}()
	w := c.world
	flog := quietFaultsLogger(c.log)
	// The engines keep many events: profile latencies record one per request, and the
	// harness reads them once a second.
	nsFaults := faults.New(faults.NetSuite, c.seed, faults.WithLogger(flog), faults.WithEventLimit(200_000))
	gwFaults := faults.New(faults.Gateway, c.seed+1, faults.WithLogger(flog), faults.WithEventLimit(200_000))

	nsSrv, err := netsuite.New(w, netsuite.Config{ConcurrencyLimit: c.concurrencyLimit, Faults: nsFaults,
		Logger: c.log.With("component", "netsuite")})
	if err != nil {
		return nil, fmt.Errorf("start the NetSuite simulator: %w", err)
	}
	e.closers = append(e.closers, func(context.Context) error { return nsSrv.Close() })
	nsURL, stopNS, err := serve(nsSrv.Handler(), c.log)
	if err != nil {
		return nil, fmt.Errorf("start the NetSuite simulator: %w", err)
	}
	e.closers = append(e.closers, stopNS)

	gwSrv, err := gateway.New(w, gateway.Config{Faults: gwFaults, Seed: c.seed,
		Logger: c.log.With("component", "gateway")})
	if err != nil {
		return nil, fmt.Errorf("start the gateway simulator: %w", err)
	}
	e.closers = append(e.closers, func(context.Context) error { return gwSrv.Close() })
	gwURL, stopGW, err := serve(gwSrv.Handler(), c.log)
	if err != nil {
		return nil, fmt.Errorf("start the gateway simulator: %w", err)
	}
	e.closers = append(e.closers, stopGW)

	if c.simsReady != nil {
		if err := c.simsReady(ctx, Endpoints{NetSuite: nsURL, Gateway: gwURL, GatewayKey: w.Gateway.SecretKey}); err != nil {
			return nil, err
		}
	}

	bugs := make([]string, len(c.bugs))
	for i, b := range c.bugs {
		bugs[i] = string(b)
	}
	if c.process != nil {
		proc, err := startConnectorProcess(ctx, c, nsURL, gwURL, bugs)
		if proc != nil {
			e.proc = proc
			e.closers = append(e.closers, proc.stop)
		}
		if err != nil {
			return nil, fmt.Errorf("start the reference connector as a process: %w", err)
		}
		e.ep = Endpoints{NetSuite: nsURL, Gateway: gwURL, GatewayKey: w.Gateway.SecretKey, Connector: proc.URL()}
		e.info = rundir.Connector{URL: e.ep.Connector, Version: c.version, Bugs: bugs, Reference: true}
		return e, nil
	}

	dataDir, err := os.MkdirTemp("", "doorbuster-connector-")
	if err != nil {
		return nil, fmt.Errorf("start the reference connector: %w", err)
	}
	e.closers = append(e.closers, func(context.Context) error { return os.RemoveAll(dataDir) })
	cr := w.Credentials
	conn, err := connector.New(connector.Config{
		NetSuiteURL: nsURL,
		NetSuite: ns.Credentials{AccountID: cr.AccountID, ConsumerKey: cr.ConsumerKey,
			ConsumerSecret: cr.ConsumerSecret, TokenID: cr.TokenID, TokenSecret: cr.TokenSecret},
		GatewayURL:  gwURL,
		GatewayKey:  w.Gateway.SecretKey,
		Listen:      "127.0.0.1:0",
		DataDir:     dataDir,
		Concurrency: c.workers,
		Bugs:        c.bugs,
		Logger:      c.log.With("component", "connector"),
		Seed:        c.seed,
	})
	if err != nil {
		return nil, fmt.Errorf("start the reference connector: %w", err)
	}
	e.closers = append(e.closers, func(context.Context) error { return conn.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the reference connector: %w", err)
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- conn.Serve(cctx, ln) }()
	e.closers = append(e.closers, func(context.Context) error {
		cancel()
		return <-done
	})

	e.ep = Endpoints{NetSuite: nsURL, Gateway: gwURL, GatewayKey: w.Gateway.SecretKey,
		Connector: "http://" + ln.Addr().String()}
	e.info = rundir.Connector{URL: e.ep.Connector, Version: c.version, Bugs: bugs, Reference: true}
	return e, nil
}

// startConnectorProcess starts the reference connector as a child process with the
// environment contract, its data directory and log as c.process says. On error the
// process it returns (if any) still has to be stopped.
func startConnectorProcess(ctx context.Context, c embeddedConfig, nsURL, gwURL string, bugs []string) (*connectorProcess, error) {
	pc := c.process
	if len(pc.command) == 0 {
		return nil, errors.New("no command to run the reference connector")
	}
	if err := os.MkdirAll(pc.dataDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(pc.logPath), 0o755); err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	cr := c.world.Credentials
	env := map[string]string{
		contract.EnvNetSuiteBaseURL: nsURL, contract.EnvNetSuiteAccountID: cr.AccountID,
		contract.EnvNetSuiteConsumerKey: cr.ConsumerKey, contract.EnvNetSuiteConsumerSecret: cr.ConsumerSecret,
		contract.EnvNetSuiteTokenID: cr.TokenID, contract.EnvNetSuiteTokenSecret: cr.TokenSecret,
		contract.EnvGatewayBaseURL: gwURL, contract.EnvGatewayAPIKey: c.world.Gateway.SecretKey,
		contract.EnvConnectorListen: addr, contract.EnvConnectorDataDir: pc.dataDir,
	}
	if len(bugs) > 0 {
		env[connector.EnvBugs] = strings.Join(bugs, ",")
	}
	if c.workers > 0 {
		env[connector.EnvConcurrency] = fmt.Sprint(c.workers)
	}
	p := &connectorProcess{command: pc.command, env: childEnv(env), addr: addr, logPath: pc.logPath,
		adm: pc.adm, log: c.log, readyTimeout: pc.readyTimeout}
	return p, p.start(ctx)
}
