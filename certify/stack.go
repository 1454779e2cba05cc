package certify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/compose"
	"github.com/doorbuster/doorbuster/connector"
	ns "github.com/doorbuster/doorbuster/connector/netsuite"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/simulator/faults"
	"github.com/doorbuster/doorbuster/simulator/gateway"
	"github.com/doorbuster/doorbuster/simulator/netsuite"
)

// The stacks certify starts itself: the contract case's own world, where the
// conformance checks run before the harness runs the case's traffic on a fresh one.

// caseStack is the system a case runs against: the simulators and the connector, by URL.
type caseStack struct {
	NetSuite   string
	Gateway    string
	GatewayKey string
	Connector  string
	close      func(ctx context.Context) error
}

func (s *caseStack) Close(ctx context.Context) error {
	if s == nil || s.close == nil {
		return nil
	}
	return s.close(ctx)
}

// stackConfig is what a case's stack is made of.
type stackConfig struct {
	world            *fixtures.World
	seed             int64
	concurrencyLimit int
	workers          int // the connector's posting workers; 0: from governance
	bugs             []string
	log              *slog.Logger
	// logFile receives the connector container's output; simLogFile the in-process
	// simulators' logs.
	logFile    string
	simLogFile string
}

// closers runs closing functions in reverse order.
type closers []func(context.Context) error

func (c closers) close(ctx context.Context) error {
	var errs []error
	for i := len(c) - 1; i >= 0; i-- {
		errs = append(errs, c[i](ctx))
	}
	return errors.Join(errs...)
}

// startSims starts the NetSuite and gateway simulators in this process on loopback
// ports, each with its fault engine (so the harness can install rules and start the
// fault clock), and returns their URLs.
func startSims(cfg stackConfig) (nsURL, gwURL string, cl closers, err error) {
	defer func() {
		if err != nil {
			cl.close(context.Background())
			cl = nil
		}
	}()
	quiet := slog.New(slog.DiscardHandler)
	simLog := quiet
	if cfg.simLogFile != "" {
		f, err := os.OpenFile(cfg.simLogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return "", "", cl, err
		}
		cl = append(cl, func(context.Context) error { return f.Close() })
		simLog = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	nsFaults := faults.New(faults.NetSuite, cfg.seed, faults.WithLogger(quiet), faults.WithEventLimit(200_000))
	gwFaults := faults.New(faults.Gateway, cfg.seed+1, faults.WithLogger(quiet), faults.WithEventLimit(200_000))
	nsSrv, err := netsuite.New(cfg.world, netsuite.Config{ConcurrencyLimit: cfg.concurrencyLimit, Faults: nsFaults,
		Logger: simLog.With("component", "netsuite")})
	if err != nil {
		return "", "", cl, fmt.Errorf("start the NetSuite simulator: %w", err)
	}
	cl = append(cl, func(context.Context) error { return nsSrv.Close() })
	nsURL, stop, err := serveLoopback(nsSrv.Handler(), simLog)
	if err != nil {
		return "", "", cl, fmt.Errorf("start the NetSuite simulator: %w", err)
	}
	cl = append(cl, stop)
	gwSrv, err := gateway.New(cfg.world, gateway.Config{Faults: gwFaults, Seed: cfg.seed, Logger: simLog.With("component", "gateway")})
	if err != nil {
		return "", "", cl, fmt.Errorf("start the gateway simulator: %w", err)
	}
	cl = append(cl, func(context.Context) error { return gwSrv.Close() })
	gwURL, stop, err = serveLoopback(gwSrv.Handler(), simLog)
	if err != nil {
		return "", "", cl, fmt.Errorf("start the gateway simulator: %w", err)
	}
	cl = append(cl, stop)
	return nsURL, gwURL, cl, nil
}

// serveLoopback serves h on a fresh 127.0.0.1 port.
func serveLoopback(h http.Handler, log *slog.Logger) (string, func(context.Context) error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func(ctx context.Context) error {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, nil
}

// startInProcess starts the simulators and the reference connector in this process:
// the contract case's world in embedded mode.
func startInProcess(ctx context.Context, cfg stackConfig) (_ *caseStack, err error) {
	nsURL, gwURL, cl, err := startSims(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			cl.close(context.WithoutCancel(ctx))
		}
	}()
	bugs, err := connector.ParseBugs(cfg.bugs)
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", "doorbuster-certify-")
	if err != nil {
		return nil, err
	}
	cl = append(cl, func(context.Context) error { return os.RemoveAll(dataDir) })
	cr := cfg.world.Credentials
	conn, err := connector.New(connector.Config{
		NetSuiteURL: nsURL,
		NetSuite: ns.Credentials{AccountID: cr.AccountID, ConsumerKey: cr.ConsumerKey,
			ConsumerSecret: cr.ConsumerSecret, TokenID: cr.TokenID, TokenSecret: cr.TokenSecret},
		GatewayURL: gwURL, GatewayKey: cfg.world.Gateway.SecretKey,
		DataDir: dataDir, Concurrency: cfg.workers, Bugs: bugs, Seed: cfg.seed,
		Logger: cfg.log.With("component", "connector"),
	})
	if err != nil {
		return nil, fmt.Errorf("start the reference connector: %w", err)
	}
	cl = append(cl, func(context.Context) error { return conn.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- conn.Serve(cctx, ln) }()
	cl = append(cl, func(context.Context) error { cancel(); return <-done })
	st := &caseStack{NetSuite: nsURL, Gateway: gwURL, GatewayKey: cfg.world.Gateway.SecretKey,
		Connector: "http://" + ln.Addr().String(), close: cl.close}
	if err := waitReady(ctx, st.Connector+contract.PathReady, time.Minute); err != nil {
		return nil, fmt.Errorf("the reference connector: %w", err)
	}
	return st, nil
}

// waitReady polls u until it answers 2xx, ctx ends or timeout passes.
func waitReady(ctx context.Context, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	var last error
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s: %w", timeout, last)
		case <-time.After(delay):
		}
	}
}

// imageStackConfig is what image mode needs beyond stackConfig.
type imageStackConfig struct {
	simImage       string
	connectorImage string
}

// startImage starts the simulators' container and the connector image on their
// networks (package compose).
func startImage(ctx context.Context, cfg stackConfig, ic imageStackConfig) (*caseStack, error) {
	env := map[string]string{}
	if len(cfg.bugs) > 0 {
		env[connector.EnvBugs] = strings.Join(cfg.bugs, ",")
	}
	if cfg.workers > 0 {
		env[connector.EnvConcurrency] = fmt.Sprint(cfg.workers)
	}
	connImage := ic.connectorImage
	if connImage == ic.simImage {
		connImage = "" // the Doorbuster image: compose runs its `doorbuster connector`
	}
	w, err := compose.Up(ctx, compose.Config{
		Image: ic.simImage, ConnectorImage: connImage, ExtraEnv: env,
		Seed: cfg.world.Seed, Size: cfg.world.Size, World: cfg.world,
		ConcurrencyLimit: cfg.concurrencyLimit, KeepImages: true, Logger: cfg.log,
	})
	if err != nil {
		w.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("start the containers: %w", err)
	}
	return &caseStack{NetSuite: w.NetSuiteURL, Gateway: w.GatewayURL, GatewayKey: cfg.world.Gateway.SecretKey,
		Connector: w.ConnectorURL,
		close: func(ctx context.Context) error {
			if cfg.logFile != "" {
				if logs, err := w.ConnectorLogs(ctx); err == nil {
					os.WriteFile(cfg.logFile, []byte(logs), 0o644)
				}
			}
			return w.Close(ctx)
		}}, nil
}

// probeVersion asks a connector for its version: GET /healthz {"version"}, else
// /openapi.yaml's info.version.
func probeVersion(ctx context.Context, base string) string {
	base = strings.TrimRight(base, "/")
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) []byte {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return nil
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return b
	}
	var h struct {
		Version string `json:"version"`
	}
	if b := get(contract.PathHealth); b != nil && json.Unmarshal(b, &h) == nil && h.Version != "" {
		return h.Version
	}
	if b := get("/openapi.yaml"); b != nil {
		return openAPIVersion(string(b))
	}
	return ""
}

// openAPIVersion reads info.version from an OpenAPI document in YAML (block style), as
// far as a line scan can: the first "version:" indented under "info:".
func openAPIVersion(doc string) string {
	inInfo := false
	for _, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		if !indented {
			inInfo = strings.HasPrefix(trimmed, "info:")
			continue
		}
		if inInfo && strings.HasPrefix(trimmed, "version:") {
			return strings.Trim(strings.TrimSpace(strings.TrimPrefix(trimmed, "version:")), `"'`)
		}
	}
	return ""
}

// imageDigest returns an image's repo digest (when it was pulled or pushed) or its id,
// through the docker command; "" when it cannot tell.
func imageDigest(ctx context.Context, image string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{json .RepoDigests}} {{.Id}}", image).Output()
	if err != nil {
		return ""
	}
	repo, id, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	var digests []string
	if json.Unmarshal([]byte(repo), &digests) == nil && len(digests) > 0 {
		return digests[0]
	}
	return id
}
