package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"

	"github.com/doorbuster/doorbuster/connector"
)

// connectorOptions are the flags of `doorbuster connector`.
type connectorOptions struct {
	envFile         string
	bugs            []string
	listen          string
	dataDir         string
	concurrency     int
	refreshInterval time.Duration
	logLevel        string
}

func newConnectorCmd(streams ioStreams) *cobra.Command {
	var opts connectorOptions
	var names []string
	for _, b := range connector.AllBugs() {
		names = append(names, fmt.Sprintf("  %-24s %s", b, b.Describe()))
	}
	cmd := &cobra.Command{
		Use:   "connector",
		Short: "Run the reference POS→NetSuite connector",
		Long: `Run Doorbuster's reference connector: it serves the POS contract (/pos/v1/...),
keeps accepted transactions in a durable SQLite outbox, and posts them to NetSuite
(and card refunds to the gateway) with upserts by external id, backoff and dead letters.

It is configured by the environment contract: NETSUITE_BASE_URL, NETSUITE_ACCOUNT_ID,
NETSUITE_CONSUMER_KEY, NETSUITE_CONSUMER_SECRET, NETSUITE_TOKEN_ID, NETSUITE_TOKEN_SECRET,
GATEWAY_BASE_URL, GATEWAY_API_KEY, CONNECTOR_LISTEN (default 127.0.0.1:8088) and
CONNECTOR_DATA_DIR; plus CONNECTOR_BUGS, CONNECTOR_CONCURRENCY and
CONNECTOR_REFRESH_INTERVAL. With --env-file, the file's values win over the
environment, and flags win over both.

Bug switches (off by default) re-create classic integration failures:
` + strings.Join(names, "\n"),
		Example: `  # Against the simulators started by "doorbuster sim --env-file sim.env":
  doorbuster connector --env-file sim.env --data-dir ./connector-data

  # The same connector with two classic bugs switched on:
  doorbuster connector --env-file sim.env --data-dir /tmp/c --bug no-upsert --bug sync-date`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := opts.config(cmd, os.Getenv)
			if err != nil {
				return withCode(exitSetup, err)
			}
			level := slog.LevelInfo
			if err := level.UnmarshalText([]byte(opts.logLevel)); err != nil {
				return withCode(exitSetup, fmt.Errorf("--log-level %q: want debug, info, warn or error", opts.logLevel))
			}
			cfg.Logger = slog.New(slog.NewTextHandler(streams.ErrOut, &slog.HandlerOptions{Level: level}))
			gin.SetMode(gin.ReleaseMode)
			c, err := connector.New(cfg)
			if err != nil {
				return withCode(exitSetup, err)
			}
			defer c.Close()
			if err := c.Run(cmd.Context()); err != nil {
				return withCode(exitSetup, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.envFile, "env-file", "", "read the environment contract from this KEY=value file (as written by doorbuster sim --env-file)")
	f.StringArrayVar(&opts.bugs, "bug", nil, "switch on a bug (repeatable; see the list above)")
	f.StringVar(&opts.listen, "listen", "", "host:port to serve the POS contract on (default $CONNECTOR_LISTEN or "+connector.DefaultListen+")")
	f.StringVar(&opts.dataDir, "data-dir", "", "directory of the durable outbox (default $CONNECTOR_DATA_DIR)")
	f.IntVar(&opts.concurrency, "concurrency", -1, "posting workers (default: NetSuite's accountConcurrencyLimit minus one)")
	f.DurationVar(&opts.refreshInterval, "refresh-interval", 0, "item and stock cache refresh interval (default 5m)")
	f.StringVar(&opts.logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

// config builds the connector's configuration: environment, then the env file, then flags.
func (o *connectorOptions) config(cmd *cobra.Command, getenv func(string) string) (connector.Config, error) {
	lookup := getenv
	if o.envFile != "" {
		file, err := connector.ReadEnvFile(o.envFile)
		if err != nil {
			return connector.Config{}, err
		}
		lookup = func(k string) string {
			if v, ok := file[k]; ok {
				return v
			}
			return getenv(k)
		}
	}
	cfg, err := connector.ConfigFromEnv(lookup)
	if err != nil {
		return cfg, err
	}
	bugs, err := connector.ParseBugs(o.bugs)
	if err != nil {
		return cfg, fmt.Errorf("--bug: %w", err)
	}
	for _, b := range bugs {
		dup := false
		for _, have := range cfg.Bugs {
			dup = dup || have == b
		}
		if !dup {
			cfg.Bugs = append(cfg.Bugs, b)
		}
	}
	if o.listen != "" {
		cfg.Listen = o.listen
	}
	if o.dataDir != "" {
		cfg.DataDir = o.dataDir
	}
	if cmd.Flags().Changed("concurrency") {
		if o.concurrency < 0 {
			return cfg, fmt.Errorf("--concurrency %d: want 0 (from governance limits) or more", o.concurrency)
		}
		cfg.Concurrency = o.concurrency
	}
	if o.refreshInterval < 0 {
		return cfg, fmt.Errorf("--refresh-interval %v: want a positive duration", o.refreshInterval)
	}
	if o.refreshInterval > 0 {
		cfg.RefreshInterval = o.refreshInterval
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}
