package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"

	"github.com/doorbuster/doorbuster/certify"
)

// certifyOptions are the flags of `doorbuster certify`.
type certifyOptions struct {
	ConnectorURL   string
	NetSuiteURL    string
	GatewayURL     string
	EnvFile        string
	ConnectorImage string
	SimImage       string
	Suite          string
	Cases          []string
	Seed           int64
	SeedSet        bool
	Out            string
	Bugs           []string
	Catalog        string
	List           bool
	Verbose        bool
}

func newCertifyCmd(streams ioStreams) *cobra.Command {
	var opts certifyOptions
	cmd := &cobra.Command{
		Use:   "certify",
		Short: "Certify a connector: run the certification suite and issue a certificate",
		Long: `Run the certification suite — the cases of ` + certify.DefaultCatalogDir + `, each a scenario
with its faults, thresholds and invariants — against a connector, and issue a certificate:
CERTIFIED only when every case passed.

Where the connector comes from:
  (default)           Doorbuster's reference connector, embedded; --bug switches its bugs on
  --connector-url     a connector already running against ` + "`doorbuster sim`" + ` (find the simulators
                      with --env-file or --netsuite-url/--gateway-url); start the simulators
                      with the catalog's world: ` + "`doorbuster sim --seed 1 --size small`" + ` (or --seed N)
  --connector-image   your connector's image, run beside the simulators' image in Docker
                      (--sim-image names it; by default it is built from this repository)

Suites: pilot (the CI gate, under 10 minutes) and full (every case, under an hour);
--case runs only the cases named (C06 or C06-lost-response; repeatable).

The certificate directory (--out, default certificates/<YYYYMMDD-HHMMSS>-<suite>) holds
certificate.html (one self-contained page), certificate.json, junit.xml (one testcase
per case), summary.md (for CI step summaries) and each case's run directory under
cases/<ID>/ with its report.html. The certificate carries a digest:
` + "`doorbuster certify verify FILE`" + ` tells whether it was edited.

Exit codes: 0 certified, 98 not certified, 2 bad flags or setup, 1 anything else.`,
		Example: `  # The catalog
  doorbuster certify --list

  # Certify the reference connector (the pilot suite), and watch a bug switch fail it
  doorbuster certify
  doorbuster certify --case C06 --bug no-upsert

  # Your connector's image, the full suite
  doorbuster certify --suite full --connector-image acme/pos-connector:1.4.2 --out cert

  # Your connector, already running against the simulators
  doorbuster sim --seed 1 --size small --env-file sim.env &
  doorbuster certify --connector-url http://127.0.0.1:8088 --env-file sim.env

  # Was the certificate edited?
  doorbuster certify verify cert/certificate.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.SeedSet = cmd.Flags().Changed("seed")
			return runCertify(cmd.Context(), streams, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ConnectorURL, "connector-url", "", "certify a connector already running at this URL")
	f.StringVar(&opts.NetSuiteURL, "netsuite-url", "", "with --connector-url: the NetSuite simulator's base URL")
	f.StringVar(&opts.GatewayURL, "gateway-url", "", "with --connector-url: the gateway simulator's base URL")
	f.StringVar(&opts.EnvFile, "env-file", "", "with --connector-url: the simulators' environment file (doorbuster sim --env-file)")
	f.StringVar(&opts.ConnectorImage, "connector-image", "", "certify this connector image (needs Docker)")
	f.StringVar(&opts.SimImage, "sim-image", "", "with --connector-image: the Doorbuster image the simulators run (default: build it from this repository)")
	f.StringVar(&opts.Suite, "suite", certify.SuitePilot, "suite to run: pilot or full")
	f.StringArrayVar(&opts.Cases, "case", nil, "run only this case (id or id prefix such as C06; repeatable)")
	f.Int64Var(&opts.Seed, "seed", 0, "replace every case's seed (world, baskets, faults)")
	f.StringVar(&opts.Out, "out", "", "certificate directory (default certificates/<YYYYMMDD-HHMMSS>-<suite>)")
	f.StringArrayVar(&opts.Bugs, "bug", nil, "switch on a bug of the reference connector (repeatable)")
	f.StringVar(&opts.Catalog, "catalog", certify.DefaultCatalogDir, "directory of the case files")
	f.BoolVar(&opts.List, "list", false, "print the catalog (id, title, what it proves, duration) and exit")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "also print each run's progress lines")
	cmd.AddCommand(newCertifyVerifyCmd(streams))
	return cmd
}

func runCertify(ctx context.Context, streams ioStreams, opts certifyOptions) error {
	cat, err := certify.LoadCatalog(opts.Catalog)
	if err != nil {
		return withCode(exitSetup, fmt.Errorf("%w (run from the repository root, or give --catalog)", err))
	}
	if opts.List {
		return cat.WriteList(streams.Out)
	}
	gin.SetMode(gin.ReleaseMode)
	co := certify.Options{
		Suite: opts.Suite, Cases: opts.Cases, OutDir: opts.Out,
		ConnectorURL: opts.ConnectorURL, NetSuiteURL: opts.NetSuiteURL, GatewayURL: opts.GatewayURL, EnvFile: opts.EnvFile,
		ConnectorImage: opts.ConnectorImage, SimImage: opts.SimImage, Bugs: opts.Bugs,
		Version: version, Progress: streams.ErrOut, InvariantsWorker: invariantsWorker(),
		Logger: slog.New(slog.NewTextHandler(streams.ErrOut, &slog.HandlerOptions{Level: slog.LevelError})),
	}
	if co.OutDir == "" {
		co.OutDir = filepath.Join("certificates", time.Now().UTC().Format("20060102-150405")+"-"+opts.Suite)
	}
	if opts.SeedSet {
		co.Seed = &opts.Seed
	}
	if opts.Verbose {
		co.HarnessProgress = streams.ErrOut
	}
	cert, err := certify.Run(ctx, cat, co)
	var se *certify.SetupError
	switch {
	case errors.As(err, &se):
		return withCode(exitSetup, err)
	case err != nil:
		return err
	}
	fmt.Fprintf(streams.Out, "%s — %d of %d cases passed\n", cert.Verdict, cert.Summary.Passed, cert.Summary.Cases)
	for _, c := range cert.Cases {
		if !c.Passed() {
			fmt.Fprintf(streams.Out, "  %s %s\n", c.ID, c.Verdict)
			for _, r := range c.Reasons {
				fmt.Fprintf(streams.Out, "    - %s\n", r)
			}
		}
	}
	fmt.Fprintf(streams.Out, "certificate: %s\n", filepath.Join(co.OutDir, certify.HTMLFile))
	fmt.Fprintf(streams.Out, "digest: %s\n", cert.Digest)
	if cert.Verdict != certify.Certified {
		return withCode(exitNotCertified, fmt.Errorf("not certified: %d of %d cases did not pass", cert.Summary.Cases-cert.Summary.Passed, cert.Summary.Cases))
	}
	return nil
}

func newCertifyVerifyCmd(streams ioStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "Check that a certificate (certificate.json or certificate.html) was not edited",
		Long: `Recompute the digest of a certificate — certificate.json, or certificate.html with the
certificate it embeds and the page's own digest — and say whether it was edited after
Doorbuster issued it.

A digest detects edits; it is not a signature: keep the CI run's artifact (or sign the
files) where a forged certificate matters.

Exit codes: 0 intact, 3 edited, 2 not a certificate or unreadable.`,
		Example: `  doorbuster certify verify certificates/20251128-060000-pilot/certificate.html`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := certify.Verify(args[0])
			if err != nil {
				return withCode(exitSetup, err)
			}
			fmt.Fprint(streams.Out, v.String())
			if !v.Intact {
				return withCode(exitCertificateFails, fmt.Errorf("%s was edited", args[0]))
			}
			return nil
		},
	}
}
