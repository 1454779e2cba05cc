package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/doorbuster/doorbuster/contract"
)

// connectorProcess is the reference connector as a child process (`doorbuster
// connector`), for runs whose actions kill, restart or pause it: a kill is a real
// SIGKILL, a restart starts the same command on the same data directory and address,
// a pause is SIGSTOP. Its output goes to a log file. The child is in its own process
// group, so a Ctrl-C at the terminal reaches the harness only (which then stops it in
// order).
type connectorProcess struct {
	command []string
	env     []string // the whole environment of the child
	addr    string   // host:port it listens on, the same after a restart
	logPath string
	adm     *admin
	log     *slog.Logger
	// readyTimeout bounds each start's wait for the contract's readiness endpoint.
	readyTimeout time.Duration

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed once the current process has exited
	paused bool
}

// URL is the connector's base URL.
func (p *connectorProcess) URL() string { return "http://" + p.addr }

// freeLoopbackAddr returns a 127.0.0.1 address that was free a moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// childEnv is this process's environment without the connector's contract variables
// (NETSUITE_*, GATEWAY_*, CONNECTOR_*), plus env.
func childEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "NETSUITE_") || strings.HasPrefix(k, "GATEWAY_") || strings.HasPrefix(k, "CONNECTOR_") {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// start starts the process and waits until it is ready. A process that exits or does
// not become ready is an error quoting the end of its log.
func (p *connectorProcess) start(ctx context.Context) error {
	p.mu.Lock()
	if p.cmd != nil && !isClosed(p.exited) {
		p.mu.Unlock()
		return errors.New("the connector process is already running")
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("the connector's log: %w", err)
	}
	fmt.Fprintf(logf, "--- %s doorbuster: starting %s\n", time.Now().UTC().Format(time.RFC3339Nano), strings.Join(p.command, " "))
	cmd := exec.Command(p.command[0], p.command[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, logf, logf
	cmd.SysProcAttr = ownProcessGroup()
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.mu.Unlock()
		return fmt.Errorf("start the connector process %q: %w", p.command[0], err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.paused = cmd, exited, false
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(logf, "--- %s doorbuster: the connector process exited: %v\n", time.Now().UTC().Format(time.RFC3339Nano), exitStatus(err))
		logf.Close()
		close(exited)
	}()
	return p.waitReady(ctx, exited)
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// waitReady polls the readiness endpoint until it answers 2xx, the process exits, or
// the ready timeout passes.
func (p *connectorProcess) waitReady(ctx context.Context, exited chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, p.readyTimeout)
	defer cancel()
	u := p.URL() + contract.PathReady
	var last error
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		last = p.adm.do(rctx, http.MethodGet, u, nil, nil)
		rcancel()
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("the connector process exited before it was ready; the end of %s:\n%s", p.logPath, p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("the connector process was not ready within %s (%v); the end of %s:\n%s", p.readyTimeout, last, p.logPath, p.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail returns the last lines of the log file.
func (p *connectorProcess) logTail() string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	const max = 4 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		f.Seek(fi.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(bytes.TrimSpace(b))
}

// running returns the current process and its exit channel, or an error when it is not
// running.
func (p *connectorProcess) running() (*exec.Cmd, chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isClosed(p.exited) {
		return nil, nil, errors.New("the connector process is not running")
	}
	return p.cmd, p.exited, nil
}

// KillConnector sends SIGKILL (kill -9: no shutdown, nothing flushed) and waits until
// the process is gone. Its data directory stays.
func (p *connectorProcess) KillConnector(ctx context.Context) error {
	cmd, exited, err := p.running()
	if err != nil {
		return err
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill the connector process: %w", err)
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kill the connector process: it did not exit: %w", ctx.Err())
	}
}

// RestartConnector starts the killed connector again: same command, environment, data
// directory and address; it returns once it is ready.
func (p *connectorProcess) RestartConnector(ctx context.Context) error {
	return p.start(ctx)
}

// PauseConnector freezes the process (SIGSTOP).
func (p *connectorProcess) PauseConnector(ctx context.Context) error {
	cmd, _, err := p.running()
	if err != nil {
		return err
	}
	if err := stopProcess(cmd.Process); err != nil {
		return fmt.Errorf("pause the connector process: %w", err)
	}
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
	return nil
}

// UnpauseConnector lets the frozen process run on (SIGCONT).
func (p *connectorProcess) UnpauseConnector(ctx context.Context) error {
	cmd, _, err := p.running()
	if err != nil {
		return err
	}
	if err := continueProcess(cmd.Process); err != nil {
		return fmt.Errorf("unpause the connector process: %w", err)
	}
	p.mu.Lock()
	p.paused = false
	p.mu.Unlock()
	return nil
}

// stop ends the process at the end of the run: resumed if paused, asked to stop
// (SIGINT, a graceful shutdown), killed after grace.
func (p *connectorProcess) stop(ctx context.Context) error {
	p.mu.Lock()
	cmd, exited, paused := p.cmd, p.exited, p.paused
	p.mu.Unlock()
	if cmd == nil || isClosed(exited) {
		return nil
	}
	if paused {
		continueProcess(cmd.Process)
	}
	const grace = 10 * time.Second
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		cmd.Process.Kill()
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-exited:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	cmd.Process.Kill()
	<-exited
	return fmt.Errorf("the connector process did not stop within %s of an interrupt: killed", grace)
}
