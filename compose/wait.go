package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go/wait"
)

// httpReady is a wait strategy: GET path on the host port mapped to a container port,
// on 127.0.0.1, until every path answers 2xx. testcontainers-go's own HTTP strategy
// asks the provider for the host, which inside a container (a /.dockerenv) is the
// default gateway, not the loopback address this package publishes ports on.
type httpReady struct {
	checks  []httpCheck
	timeout time.Duration
	poll    time.Duration
}

type httpCheck struct {
	port string // "8080/tcp"
	path string
}

var _ wait.Strategy = (*httpReady)(nil)

func (s *httpReady) String() string {
	var parts []string
	for _, c := range s.checks {
		parts = append(parts, "GET "+c.path+" on port "+strings.TrimSuffix(c.port, "/tcp"))
	}
	return strings.Join(parts, " and ")
}

// WaitUntilReady polls until every check answers 2xx, the container stops, or the
// timeout passes; the error says which check failed last and how.
func (s *httpReady) WaitUntilReady(parent context.Context, target wait.StrategyTarget) error {
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	pending := append([]httpCheck(nil), s.checks...)
	for {
		state, err := target.State(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			return fmt.Errorf("container state: %w", err)
		case err == nil && !state.Running:
			return fmt.Errorf("the container stopped (%s, exit code %d)", state.Status, state.ExitCode)
		}
		for len(pending) > 0 && ctx.Err() == nil {
			if last = s.probe(ctx, client, target, pending[0]); last != nil {
				break
			}
			pending = pending[1:]
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			if err := parent.Err(); err != nil {
				// Canceled (or out of time) from outside, not our own timeout.
				return fmt.Errorf("stopped waiting (%w): last try: %w", err, last)
			}
			return fmt.Errorf("not ready within %v: last try: %w", s.timeout, last)
		case <-time.After(s.poll):
		}
	}
}

func (s *httpReady) probe(ctx context.Context, client *http.Client, target wait.StrategyTarget, c httpCheck) error {
	p, err := target.MappedPort(ctx, c.port)
	if err != nil {
		return fmt.Errorf("port %s not published yet: %w", c.port, err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", p.Num(), c.path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return fmt.Errorf("GET %s (container port %s): no answer", c.path, c.port)
		}
		return fmt.Errorf("GET %s (container port %s): %w", c.path, c.port, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s (container port %s): %s %s", c.path, c.port, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
