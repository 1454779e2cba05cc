package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/harness/rundir"
)

// runningStack starts simulators and a connector as a user would have them running for
// url mode (here in-process, without fault rules), torn down at the end of the test.
func runningStack(t *testing.T, seed int64) (*embedded, *fixtures.World) {
	t.Helper()
	w, err := fixtures.Generate(seed, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	st, err := startEmbedded(context.Background(), embeddedConfig{world: w, seed: seed, concurrencyLimit: 15,
		log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	return st, w
}

func TestURLMode(t *testing.T) {
	st, w := runningStack(t, 7) // statusScenario's seed: the same world
	ep := st.Endpoints()
	env := filepath.Join(t.TempDir(), "sim.env")
	body := fmt.Sprintf("%s=%s/services/rest\n%s=%s\n%s=%s\n%s=%s\n", contract.EnvNetSuiteBaseURL, ep.NetSuite,
		contract.EnvGatewayBaseURL, ep.Gateway, contract.EnvGatewayAPIKey, w.Gateway.SecretKey,
		contract.EnvNetSuiteAccountID, w.Credentials.AccountID)
	if err := os.WriteFile(env, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var tr *statusTraffic
	dir := filepath.Join(t.TempDir(), "run")
	out, err := Run(context.Background(), Config{
		ScenarioPath: writeScenario(t, "status.yaml", statusScenario), OutDir: dir,
		ConnectorURL: ep.Connector, EnvFile: env, NewTraffic: newStatusTraffic(&tr),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Passed() {
		t.Errorf("url-mode run did not pass: %+v", out.Result.Thresholds)
	}
	run, err := rundir.LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if run.Mode != rundir.ModeURL || run.Connector.URL != ep.Connector || run.Connector.Reference ||
		run.Simulators.NetSuite != ep.NetSuite+"/services/rest" {
		t.Errorf("run.json %+v", run)
	}
	fl, err := rundir.LoadFaults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fl.Rules) != 12 {
		t.Errorf("url mode installed %d rules, want 12 (10 profile + 2 scenario)", len(fl.Rules))
	}
	for _, f := range []string{rundir.NetSuiteBooksFile, rundir.GatewayBooksFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	// The stack the harness found is still running: url mode stops nothing.
	if err := newAdmin().waitReady(context.Background(), "connector", ep.Connector+contract.PathHealth, time.Second); err != nil {
		t.Errorf("url mode stopped the connector: %v", err)
	}
}

func TestURLModeWorldMismatch(t *testing.T) {
	st, _ := runningStack(t, 99) // another world than the scenario's
	ep := st.Endpoints()
	env := filepath.Join(t.TempDir(), "sim.env")
	other, _ := fixtures.Generate(99, fixtures.Small)
	body := fmt.Sprintf("%s=%s\n%s=%s\n%s=%s\n", contract.EnvNetSuiteBaseURL, ep.NetSuite,
		contract.EnvGatewayBaseURL, ep.Gateway, contract.EnvNetSuiteAccountID, other.Credentials.AccountID)
	if err := os.WriteFile(env, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Config{
		ScenarioPath: writeScenario(t, "status.yaml", statusScenario), OutDir: filepath.Join(t.TempDir(), "run"),
		ConnectorURL: ep.Connector, EnvFile: env,
	})
	if !IsSetup(err) || !strings.Contains(err.Error(), contract.EnvNetSuiteAccountID) {
		t.Fatalf("err = %v, want a setup error about the world", err)
	}
}

// fakeContainers stands in for package compose: it starts the in-process stack and
// records what image mode asked for.
type fakeContainers struct {
	req ContainerRequest
}

func (f *fakeContainers) StartStack(ctx context.Context, req ContainerRequest) (Stack, error) {
	f.req = req
	st, err := startEmbedded(ctx, embeddedConfig{world: req.World, seed: req.WorldSeed,
		concurrencyLimit: req.NetSuiteConcurrencyLimit, log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	return imageStack{st, req.Image}, nil
}

// imageStack reports the image as the connector's identity, as a container stack does.
type imageStack struct {
	*embedded
	image string
}

func (s imageStack) Connector() rundir.Connector {
	c := s.embedded.Connector()
	c.Image, c.Digest, c.Reference = s.image, "sha256:feed", false
	return c
}

func TestImageModeHook(t *testing.T) {
	fc := &fakeContainers{}
	var tr *statusTraffic
	dir := filepath.Join(t.TempDir(), "run")
	out, err := Run(context.Background(), Config{
		ScenarioPath: writeScenario(t, "status.yaml", statusScenario), OutDir: dir,
		ConnectorImage: "example/connector:1", Containers: fc, Bugs: []string{"sync-date"},
		NewTraffic: newStatusTraffic(&tr),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Passed() {
		t.Errorf("image-mode run did not pass")
	}
	if fc.req.Image != "example/connector:1" || fc.req.WorldSeed != 7 || fc.req.ConnectorEnv["CONNECTOR_BUGS"] != "sync-date" {
		t.Errorf("request %+v", fc.req)
	}
	var rules []struct{ Name, Target string }
	if err := json.Unmarshal(fc.req.Faults, &rules); err != nil || len(rules) != 12 {
		t.Errorf("request faults: %d rules, %v", len(rules), err)
	}
	run, err := rundir.LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if run.Mode != rundir.ModeImage || run.Connector.Image != "example/connector:1" || run.Connector.Digest == "" {
		t.Errorf("run.json %+v", run)
	}
	portsClosed(t, run.Connector.URL, run.Simulators.NetSuite, run.Simulators.Gateway)
}
