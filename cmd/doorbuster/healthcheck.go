package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// EnvHealthcheckURL names the URLs (separated by spaces) `doorbuster healthcheck`
// probes when given none. The container image sets it (to the simulators' /healthz),
// and a container running another command overrides it (the connector's /healthz).
const EnvHealthcheckURL = "DOORBUSTER_HEALTHCHECK_URL"

func newHealthcheckCmd(streams ioStreams) *cobra.Command {
	timeout := 2 * time.Second
	cmd := &cobra.Command{
		Use:   "healthcheck [URL...]",
		Short: "Probe loopback URLs: exit 0 when each replies 2xx, 1 otherwise (for container health checks)",
		Long: `GET each URL once and exit 0 when every reply is 2xx, 1 on any other status, a
refused connection, a timeout or a bad URL — the exit codes Docker's HEALTHCHECK
expects. The image has no curl, so its HEALTHCHECK runs this command.

Without arguments the URLs come from $` + EnvHealthcheckURL + ` (separated by spaces).
Only loopback addresses are probed (the check runs inside the container it checks).`,
		Example: `  doorbuster healthcheck http://127.0.0.1:8080/healthz http://127.0.0.1:8081/healthz
  DOORBUSTER_HEALTHCHECK_URL=http://127.0.0.1:8088/healthz doorbuster healthcheck`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets := args
			if len(targets) == 0 {
				targets = strings.Fields(os.Getenv(EnvHealthcheckURL))
			}
			if len(targets) == 0 {
				return withCode(exitError, fmt.Errorf("healthcheck: no URL (give one, or set %s)", EnvHealthcheckURL))
			}
			for _, target := range targets {
				// Every failure is exit 1: Docker reserves 2.
				if err := healthcheck(cmd.Context(), streams.Out, target, timeout); err != nil {
					return withCode(exitError, err)
				}
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "give up after this long (connect and reply)")
	return cmd
}

// healthcheck GETs target and returns nil on a 2xx reply, printing the status line to out.
func healthcheck(ctx context.Context, out io.Writer, target string, timeout time.Duration) error {
	if timeout <= 0 {
		return fmt.Errorf("healthcheck: --timeout %v: want a positive duration", timeout)
	}
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("healthcheck %q: want an http:// or https:// URL", target)
	}
	if host := u.Hostname(); host != "localhost" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("healthcheck %q: only loopback hosts (127.0.0.1, ::1, localhost) are probed", target)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	client := &http.Client{
		// Report a redirect as what it is rather than following it elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("healthcheck %s: no reply within %v", target, timeout)
		}
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("healthcheck %s: %s", target, resp.Status)
	}
	_, err = fmt.Fprintf(out, "%s: %s\n", target, resp.Status)
	return err
}
