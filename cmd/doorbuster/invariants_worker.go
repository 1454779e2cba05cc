package main

import (
	"os"
	"testing"

	"github.com/doorbuster/doorbuster/invariants"
	"github.com/spf13/cobra"
)

// newInvariantsWorkerCmd is the invariant checker's worker process (hidden): `run`,
// `certify` and `report` start it to build part of the check's tables on a second core.
func newInvariantsWorkerCmd(streams ioStreams) *cobra.Command {
	return &cobra.Command{
		Use:    "invariants-worker",
		Short:  "The invariant checker's worker process (started by the checker; reads its work on stdin)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return invariants.ServeWorker(cmd.Context(), streams.In, streams.Out)
		},
	}
}

// invariantsWorker is the command of the checker's worker process: this executable's
// invariants-worker; nil in a test binary, which does not serve it (the worker then
// runs in-process).
func invariantsWorker() []string {
	if testing.Testing() {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	return []string{exe, "invariants-worker"}
}
