package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/compose"
	"github.com/doorbuster/doorbuster/harness/rundir"
)

// TestRunImageMode runs `doorbuster run --connector-image` on Docker: the simulators and
// the reference connector's container (the Doorbuster image, built for the test), a kill
// -9 of the container and its restart, and a network partition from NetSuite, healed.
// The run passes: nothing acknowledged is lost.
func TestRunImageMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and runs containers: not in -short")
	}
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true") // the ryuk image may not be pullable; the run removes what it starts
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := compose.Available(ctx); err != nil {
		if os.Getenv("DOORBUSTER_REQUIRE_DOCKER") == "1" {
			t.Fatalf("Docker is required (DOORBUSTER_REQUIRE_DOCKER=1) but not reachable: %v", err)
		}
		t.Skipf("no Docker engine reachable (%v); set DOORBUSTER_REQUIRE_DOCKER=1 to fail instead", err)
	}
	var b [4]byte
	rand.Read(b[:])
	image, cleanup, err := compose.BuildImage(ctx, compose.BuildOptions{Tag: "doorbuster-run-test:" + hex.EncodeToString(b[:]), Version: "test"})
	defer cleanup(context.WithoutCancel(ctx))
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "image.yaml")
	body := `name: image
seed: 4
scenarios:
  checkout:
    executor: constant-arrival-rate
    exec: sale
    rate: 4
    duration: 6s
    preAllocatedVUs: 6
    options: {tenders: {card: 0.5, cash: 0.5}, declineRate: 0, insufficientFundsRate: 0}
actions:
  - {at: 1s, do: kill-connector, duration: 1s}
  - {at: 4s, do: partition-netsuite, duration: 1s}
thresholds:
  pos_transactions{outcome:acknowledged}: ["count>=10"]
drain: {timeout: 1m}
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", path, "--out", out, "--connector-image", image, "--sim-image", image}, ioStreams{Out: &stdout, ErrOut: &stderr})
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	r, err := rundir.LoadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != rundir.ModeImage || r.Connector.Image != image || !r.Connector.Reference {
		t.Errorf("run.json connector %+v, mode %s", r.Connector, r.Mode)
	}
	acts, err := rundir.LoadActions(out)
	if err != nil {
		t.Fatal(err)
	}
	var did []string
	for _, s := range acts.Steps {
		if s.Time == nil || s.How != rundir.ActionByContainer {
			t.Errorf("step %+v", s)
		}
		did = append(did, s.Do)
	}
	if !slices.Equal(did, []string{"kill-connector", "restart-connector", "partition-netsuite", "heal"}) {
		t.Errorf("steps %v", did)
	}
	if _, err := os.Stat(filepath.Join(out, rundir.ConnectorLogFile)); err != nil {
		t.Errorf("the connector container's output: %v", err)
	}
}
