package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/doorbuster/doorbuster/fixtures"
)

// fixturesOptions are the flags of `doorbuster fixtures`.
type fixturesOptions struct {
	Seed int64
	Size string
	Out  string
}

func newFixturesCmd(streams ioStreams) *cobra.Command {
	opts := fixturesOptions{Seed: 1, Size: string(fixtures.Small), Out: "."}
	cmd := &cobra.Command{
		Use:   "fixtures",
		Short: "Write a seeded fixture world as JSON",
		Long: `Generate the fixture world a run plays in — subsidiary, stores and warehouses,
registers, GL accounts, tax codes, payment methods, items with stock per location,
customers, and the NetSuite TBA and gateway credentials — and write it to DIR/world.json.

The same --seed and --size always give a byte-identical file. Sizes:
  small   3 stores × 4 registers, 200 items, 500 customers (tests)
  medium  50 stores × 8 registers, 5,000 items, 50,000 customers
  large   500 stores × 10 registers, 50,000 items, 1,000,000 customers (about 1.1 GB)`,
		Example: `  # A small world for a quick test, in ./world.json
  doorbuster fixtures

  # The Black Friday chain, seed 7, in worlds/large/world.json
  doorbuster fixtures --seed 7 --size large --out worlds/large`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return fixturesRun(streams, opts)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&opts.Seed, "seed", opts.Seed, "random seed of the world")
	f.StringVar(&opts.Size, "size", opts.Size, "world size: small, medium or large")
	f.StringVar(&opts.Out, "out", opts.Out, "directory to write world.json into (created if missing)")
	return cmd
}

func fixturesRun(streams ioStreams, opts fixturesOptions) (err error) {
	size, err := fixtures.ParseSize(opts.Size)
	if err != nil {
		return withCode(exitSetup, fmt.Errorf("--size: %w", err))
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return withCode(exitSetup, fmt.Errorf("--out: %w", err))
	}
	path := filepath.Join(opts.Out, "world.json")
	// Write to a temporary file and rename, so a failed run never leaves half a world.
	tmp, err := os.CreateTemp(opts.Out, ".world-*.json")
	if err != nil {
		return withCode(exitSetup, fmt.Errorf("--out: %w", err))
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	start := time.Now()
	if err := fixtures.Write(tmp, opts.Seed, size); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(streams.ErrOut, "wrote %s world (seed %d) to %s in %s\n",
		size, opts.Seed, path, time.Since(start).Round(time.Millisecond))
	return nil
}
