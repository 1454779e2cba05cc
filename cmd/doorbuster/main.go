// Command doorbuster is the load-testing and certification harness for
// point-of-sale to NetSuite connectors. Run `doorbuster --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes. They are part of Doorbuster's interface: CI gates act on them.
const (
	exitOK               = 0
	exitError            = 1   // an unexpected failure
	exitSetup            = 2   // bad flags, a bad scenario file, or a world that would not start
	exitThresholds       = 99  // thresholds failed (as k6)
	exitInvariants       = 97  // an invariant failed: the books disagree with the registers
	exitInterrupted      = 105 // the run was cut short by Ctrl-C (k6's ExternalAbort)
	exitNotCertified     = 98  // a certification case failed
	exitCertificateFails = 3   // `certify verify`: the certificate was edited
)

// exitCodeError carries a process exit code through cobra's error return.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

// withCode wraps err so that main exits with code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitCodeError{code: code, err: err}
}

// ioStreams is where commands write: data to Out, progress and status to ErrOut.
type ioStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func newRootCmd(streams ioStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "doorbuster",
		Short: "Load-test and certify a point-of-sale to NetSuite connector",
		Long: `Doorbuster simulates NetSuite and a payment gateway, plays thousands of virtual
registers through your connector, and then checks the books and the inventory for
every invariant that matters on Black Friday.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	// One line per command; each command lives in its own file.
	root.AddCommand(newVersionCmd(streams))
	root.AddCommand(newFixturesCmd(streams))
	root.AddCommand(newSimCmd(streams))
	root.AddCommand(newConnectorCmd(streams))
	root.AddCommand(newHealthcheckCmd(streams))
	root.AddCommand(newReportCmd(streams))
	root.AddCommand(newRunCmd(streams))
	root.AddCommand(newCertifyCmd(streams))
	root.AddCommand(newInvariantsWorkerCmd(streams))
	return root
}

func newVersionCmd(streams ioStreams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print Doorbuster's version",
		Example: "  doorbuster version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(streams.Out, "doorbuster %s\n", version)
			return err
		},
	}
}

func main() {
	// Container mode removes its own containers, networks, volumes and images on every
	// path, so testcontainers' reaper (an image pulled from a registry, which air-gapped
	// CI machines cannot reach) is off unless the user asks for it.
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	os.Exit(run(os.Args[1:], ioStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}

func run(args []string, streams ioStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(streams.ErrOut, "doorbuster:", err)
	var ce *exitCodeError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}
