package compose

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/testcontainers/testcontainers-go"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
)

// composeFile is the part of docker-compose.yml the checks below read.
type composeFile struct {
	Services map[string]struct {
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Networks    map[string]struct {
			Aliases []string `yaml:"aliases"`
		} `yaml:"networks"`
		Volumes []string `yaml:"volumes"`
	} `yaml:"services"`
	Networks map[string]struct {
		Internal bool `yaml:"internal"`
	} `yaml:"networks"`
}

func readComposeFile(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return f
}

// The compose file's environment contract must be the one of the world its sim
// serves: credentials are a function of the seed, and a drift would leave the
// connector unable to authenticate.
func TestComposeFileContractMatchesWorld(t *testing.T) {
	f := readComposeFile(t)
	sim, conn := f.Services["sim"], f.Services["connector"]
	flags := map[string]string{}
	for _, a := range sim.Command {
		if k, v, ok := strings.Cut(a, "="); ok {
			flags[k] = v
		}
	}
	seed, err := strconv.ParseInt(flags["--seed"], 10, 64)
	if err != nil {
		t.Fatalf("sim --seed: %v", err)
	}
	size, err := fixtures.ParseSize(flags["--size"])
	if err != nil {
		t.Fatalf("sim --size: %v", err)
	}
	w, err := fixtures.Generate(seed, size)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		contract.EnvNetSuiteBaseURL:        "http://netsuite:" + strings.TrimPrefix(flags["--netsuite-addr"], "0.0.0.0:"),
		contract.EnvNetSuiteAccountID:      w.Credentials.AccountID,
		contract.EnvNetSuiteConsumerKey:    w.Credentials.ConsumerKey,
		contract.EnvNetSuiteConsumerSecret: w.Credentials.ConsumerSecret,
		contract.EnvNetSuiteTokenID:        w.Credentials.TokenID,
		contract.EnvNetSuiteTokenSecret:    w.Credentials.TokenSecret,
		contract.EnvGatewayBaseURL:         "http://gateway:" + strings.TrimPrefix(flags["--gateway-addr"], "0.0.0.0:"),
		contract.EnvGatewayAPIKey:          w.Gateway.SecretKey,
		contract.EnvConnectorDataDir:       "/data",
	}
	for k, v := range want {
		if got := conn.Environment[k]; got != v {
			t.Errorf("connector %s = %q, want %q", k, got, v)
		}
	}
	if !slicesContain(sim.Command, "--listen-any") {
		t.Error("sim command lacks --listen-any: it would refuse 0.0.0.0")
	}
}

// Ports are published on loopback only; the aliases live on the internal networks
// that make a partition from one simulator possible.
func TestComposeFileNetworksAndPorts(t *testing.T) {
	f := readComposeFile(t)
	for name, s := range f.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q: want 127.0.0.1 only", name, p)
			}
		}
		if len(s.Volumes) == 0 {
			t.Errorf("%s has no volume for /data", name)
		}
	}
	for _, n := range []string{"netsuite", "gateway"} {
		if !f.Networks[n].Internal {
			t.Errorf("network %s is not internal", n)
		}
		if got := f.Services["sim"].Networks[n].Aliases; len(got) != 1 || got[0] != n {
			t.Errorf("sim aliases on %s = %v, want [%s]", n, got, n)
		}
		if _, ok := f.Services["connector"].Networks[n]; !ok {
			t.Errorf("connector is not on network %s", n)
		}
	}
	if _, ok := f.Services["sim"].Networks["world"]; !ok {
		t.Error("sim is not on the world network (its ports would not be published)")
	}
}

func TestBuildContext(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "doorbuster")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := buildContext(bin)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*tar.Header{}
	body := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got[h.Name], body[h.Name] = h, string(b)
	}
	tests := []struct {
		name string
		mode int64
		body string
	}{
		// The Dockerfile is the embedded compose/Dockerfile.
		{"Dockerfile", 0o644, string(Dockerfile)},
		{"doorbuster", 0o755, "binary"},
		{"data/", 0o755, ""},
		// tmp/ must be world-writable for any user id.
		{"tmp/", 0o1777, ""},
	}
	for _, tt := range tests {
		h, ok := got[tt.name]
		if !ok {
			t.Errorf("%s missing from the context", tt.name)
			continue
		}
		if h.Mode != tt.mode {
			t.Errorf("%s mode %o, want %o", tt.name, h.Mode, tt.mode)
		}
		if body[tt.name] != tt.body {
			t.Errorf("%s body differs", tt.name)
		}
	}
	if len(got) != len(tests) {
		t.Errorf("context holds %d entries, want only %d", len(got), len(tests))
	}
	if !bytes.Contains(Dockerfile, []byte("FROM scratch")) || !bytes.Contains(Dockerfile, []byte("USER 65532:65532")) {
		t.Error("the Dockerfile is not FROM scratch with a non-root user")
	}
}

func TestReadBuildOutput(t *testing.T) {
	tests := []struct {
		name, in, err string
	}{
		{"success", `{"stream":"Step 1/9 : FROM scratch\n"}{"stream":"Successfully built 0123\n"}`, ""},
		// The engine's error is returned with the last lines of output.
		{"failure", `{"stream":"Step 4/9 : COPY doorbuster /doorbuster\n"}{"errorDetail":{"message":"no such file"},"error":"COPY failed: no such file"}`, "COPY failed: no such file\nStep 4/9"},
		{"garbage", `{"stream":`, "reading the build output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := readBuildOutput(strings.NewReader(tt.in))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err %v, want it to contain %q", err, tt.err)
			}
		})
	}
}

func TestFindRepo(t *testing.T) {
	dir, err := findRepo("")
	if err != nil {
		t.Fatal(err)
	}
	if !isModuleRoot(dir) || filepath.Base(filepath.Join(dir, "compose")) != "compose" {
		t.Errorf("findRepo = %s", dir)
	}
	if _, err := findRepo(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not the root") {
		t.Errorf("a directory without go.mod: err %v", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"zero", Config{}, ""},
		{"bad port", Config{ConnectorPort: 70000}, "ConnectorPort"},
		{"bad ready path", Config{ConnectorReadyPath: "readyz"}, "ConnectorReadyPath"},
		{"bad limit", Config{ConcurrencyLimit: -1}, "ConcurrencyLimit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &World{cfg: tt.cfg}
			err := w.setDefaults()
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if w.cfg.ConnectorPort != DefaultConnectorPort || w.cfg.ConnectorReadyPath != contract.PathReady ||
					w.cfg.ConnectorDataDir != DefaultConnectorDataDir || w.cfg.Size != fixtures.Small {
					t.Errorf("defaults not applied: %+v", w.cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
		})
	}
}

func TestConnectorEnv(t *testing.T) {
	w := &World{cfg: Config{ExtraEnv: map[string]string{"CONNECTOR_BUGS": "no-upsert", contract.EnvConnectorListen: "0.0.0.0:9000"}}}
	if err := w.setDefaults(); err != nil {
		t.Fatal(err)
	}
	world, err := fixtures.Generate(3, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	env := w.connectorEnv(world)
	tests := []struct{ key, want string }{
		{contract.EnvNetSuiteBaseURL, "http://netsuite:8080"},
		{contract.EnvGatewayBaseURL, "http://gateway:8081"},
		{contract.EnvNetSuiteAccountID, world.Credentials.AccountID},
		{contract.EnvGatewayAPIKey, world.Gateway.SecretKey},
		{contract.EnvConnectorDataDir, "/data"},
		// ExtraEnv wins over the contract.
		{contract.EnvConnectorListen, "0.0.0.0:9000"},
		{"CONNECTOR_BUGS", "no-upsert"},
		// The Doorbuster image's health check is pointed at the connector.
		{"DOORBUSTER_HEALTHCHECK_URL", "http://127.0.0.1:8088/healthz"},
	}
	for _, tt := range tests {
		if env[tt.key] != tt.want {
			t.Errorf("%s = %q, want %q", tt.key, env[tt.key], tt.want)
		}
	}
	// Another image gets the contract and nothing Doorbuster-specific.
	w.cfg.ConnectorImage = "example/connector:1"
	if _, ok := w.connectorEnv(world)["DOORBUSTER_HEALTHCHECK_URL"]; ok {
		t.Error("a foreign connector image got DOORBUSTER_HEALTHCHECK_URL")
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// A World fits the harness's optional stack abilities, which name the simulator with
// a plain string.
var _ interface {
	PartitionConnector(ctx context.Context, from string) error
	Heal(ctx context.Context) error
	KillConnector(ctx context.Context) error
	RestartConnector(ctx context.Context) error
} = (*World)(nil)

func TestPartitionTargetChecked(t *testing.T) {
	w := &World{networks: map[string]string{"world": "w", NetSuite: "n", Gateway: "g"}, partitioned: map[string]bool{}}
	if err := w.PartitionConnector(context.Background(), NetSuite); err == nil || !strings.Contains(err.Error(), "no connector") {
		t.Errorf("without a connector: %v", err)
	}
	for _, bad := range []string{"world", "", "NetSuite"} {
		if _, err := (&World{networks: w.networks, conn: fakeContainer{}}).targetNetwork(bad); err == nil {
			t.Errorf("partition from %q accepted", bad)
		}
	}
}

// fakeContainer stands for a started container where only its presence matters.
type fakeContainer struct{ testcontainers.Container }
