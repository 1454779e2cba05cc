package certify

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/compose"
	"github.com/doorbuster/doorbuster/scenarios"
)

// TestCertifyImage certifies the reference connector's image (the Doorbuster image run
// as `doorbuster connector`) in containers: the contract case, and the crash case with a
// real container kill and restart. It needs a Docker engine: without one it skips,
// unless DOORBUSTER_REQUIRE_DOCKER=1 (CI), where it fails.
func TestCertifyImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and runs containers")
	}
	if err := compose.Available(t.Context()); err != nil {
		if os.Getenv("DOORBUSTER_REQUIRE_DOCKER") == "1" {
			t.Fatalf("Docker is required (DOORBUSTER_REQUIRE_DOCKER=1) but not reachable: %v", err)
		}
		t.Skipf("no Docker engine reachable (%v); set DOORBUSTER_REQUIRE_DOCKER=1 to fail instead", err)
	}
	t.Parallel()
	run := fmt.Sprintf("certify-test-%d", time.Now().UnixNano())
	start := time.Now()
	image, cleanup, err := compose.BuildImage(t.Context(), compose.BuildOptions{
		Tag: "doorbuster-certify-test:" + run, Labels: map[string]string{compose.LabelRun: run},
	})
	t.Cleanup(func() {
		if err := cleanup(context.Background()); err != nil {
			t.Errorf("remove the test image: %v", err)
		}
		if left, err := compose.Leftovers(context.Background(), run); err != nil || len(left) > 0 {
			t.Errorf("left behind: %v %v", left, err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image %s built in %s", image, time.Since(start).Round(time.Millisecond))

	opts := testOptions(t, "C00", "C10")
	opts.ConnectorImage, opts.SimImage = image, image
	cert, err := Run(t.Context(), testCatalog(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Verdict != Certified {
		t.Fatalf("the reference connector's image: %s: %+v", cert.Verdict, cert.Cases)
	}
	ci := cert.Connector
	if ci.Mode != ModeImage || ci.Image != image || !strings.HasPrefix(ci.ImageDigest, "sha256:") || !ci.Reference {
		t.Errorf("connector identity: %+v", ci)
	}
	for _, c := range cert.Cases {
		if c.Mode != ModeImage {
			t.Errorf("%s ran in mode %s", c.ID, c.Mode)
		}
	}
	c10 := cert.Cases[1]
	if len(c10.Actions) != 2 || c10.Actions[0].Do != string(scenarios.KillConnector) || c10.Actions[0].Error != "" || c10.Actions[1].Error != "" {
		t.Errorf("C10 actions: %+v", c10.Actions)
	}
	checkCertificateDir(t, opts.OutDir, cert)
}
