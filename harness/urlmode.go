package harness

import (
	"context"
	"fmt"

	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/harness/rundir"
)

// found is the url-mode stack: a connector and simulators already running, which the
// harness only uses (Close stops nothing).
type found struct {
	ep   Endpoints
	info rundir.Connector
}

var _ Stack = (*found)(nil)

func (f *found) Endpoints() Endpoints            { return f.ep }
func (f *found) Connector() rundir.Connector     { return f.info }
func (f *found) Close(ctx context.Context) error { return nil }

// urlStack resolves the url-mode endpoints from the flags and the environment file, and
// checks that the simulators serve the world of the scenario (same NetSuite account and
// keys), as far as the environment file tells.
func urlStack(cfg *Config, w *fixtures.World) (*found, error) {
	ep := Endpoints{Connector: cfg.ConnectorURL, NetSuite: cfg.NetSuiteURL, Gateway: cfg.GatewayURL, GatewayKey: cfg.GatewayKey}
	if cfg.EnvFile != "" {
		env, err := connector.ReadEnvFile(cfg.EnvFile)
		if err != nil {
			return nil, fmt.Errorf("--env-file: %w", err)
		}
		if ep.NetSuite == "" {
			ep.NetSuite = env[contract.EnvNetSuiteBaseURL]
		}
		if ep.Gateway == "" {
			ep.Gateway = env[contract.EnvGatewayBaseURL]
		}
		if ep.GatewayKey == "" {
			ep.GatewayKey = env[contract.EnvGatewayAPIKey]
		}
		cr := w.Credentials
		for _, c := range []struct{ key, want string }{
			{contract.EnvNetSuiteAccountID, cr.AccountID},
			{contract.EnvNetSuiteConsumerKey, cr.ConsumerKey},
			{contract.EnvNetSuiteTokenID, cr.TokenID},
		} {
			if got, ok := env[c.key]; ok && got != c.want {
				return nil, fmt.Errorf("--env-file %s: %s is %q but the scenario's world has %q: start `doorbuster sim` with the scenario's fixtures (seed %d, size %s)",
					cfg.EnvFile, c.key, got, c.want, w.Seed, w.Size)
			}
		}
	}
	if ep.GatewayKey == "" {
		ep.GatewayKey = w.Gateway.SecretKey
	}
	if ep.NetSuite == "" || ep.Gateway == "" {
		return nil, fmt.Errorf("url mode needs the simulators' base URLs for their /_sim admin API: give --netsuite-url and --gateway-url, or --env-file from `doorbuster sim --env-file`")
	}
	for _, u := range []struct{ flag, url string }{
		{"--connector-url", ep.Connector}, {"--netsuite-url", ep.NetSuite}, {"--gateway-url", ep.Gateway},
	} {
		if err := checkURL(u.flag, u.url); err != nil {
			return nil, err
		}
	}
	return &found{ep: ep, info: rundir.Connector{URL: ep.Connector}}, nil
}
