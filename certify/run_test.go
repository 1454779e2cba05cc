package certify

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/scenarios"
)

// envChildConnector makes the test binary run the reference connector from the
// environment contract instead of the tests: the child process the crash case kills.
const envChildConnector = "DOORBUSTER_CERTIFY_TEST_CONNECTOR"

func TestMain(m *testing.M) {
	if os.Getenv(envChildConnector) == "1" {
		os.Exit(runChildConnector())
	}
	gin.SetMode(gin.ReleaseMode)
	// The testcontainers reaper's image cannot be pulled everywhere; certify removes the
	// containers, networks and volumes it starts itself (TestCertifyImage asserts it).
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	// Every child process of the tests is the connector (ConnectorCommand below).
	os.Setenv(envChildConnector, "1")
	os.Exit(m.Run())
}

// runChildConnector is `doorbuster connector` for the tests.
func runChildConnector() int {
	gin.SetMode(gin.ReleaseMode)
	cfg, err := connector.ConfigFromEnv(os.Getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		os.Stderr.WriteString("connector: " + err.Error() + "\n")
		return 2
	}
	c, err := connector.New(cfg)
	if err != nil {
		os.Stderr.WriteString("connector: " + err.Error() + "\n")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.Run(ctx); err != nil {
		os.Stderr.WriteString("connector: " + err.Error() + "\n")
		return 1
	}
	return 0
}

// testCatalog is the short stand-ins of testdata/catalog.
func testCatalog(t *testing.T) *Catalog {
	t.Helper()
	cat, err := LoadCatalog("testdata/catalog")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func testOptions(t *testing.T, cases ...string) Options {
	t.Helper()
	var progress bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("progress:\n%s", progress.String())
		}
	})
	return Options{
		Suite: SuiteFull, Cases: cases, OutDir: filepath.Join(t.TempDir(), "cert"), Version: "test",
		ConnectorCommand: []string{os.Args[0], "-test.run=^$"}, Progress: &progress,
	}
}

// TestCertifyEmbedded: the clean reference connector is CERTIFIED on the contract case
// and lost responses; with no-upsert the lost-response case fails naming exactly-once.
func TestCertifyEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real traffic for about 20 s")
	}
	t.Parallel()
	cat := testCatalog(t)
	t.Run("clean", func(t *testing.T) {
		t.Parallel()
		opts := testOptions(t, "C00", "C06")
		cert, err := Run(context.Background(), cat, opts)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if cert.Verdict != Certified {
			t.Fatalf("clean reference connector: %s: %+v", cert.Verdict, cert.Cases)
		}
		c00 := cert.Cases[0]
		if c00.ID != "C00-contract" || len(c00.Checks) < 10 || c00.Mode != ModeEmbedded {
			t.Errorf("C00: %d contract checks, mode %s", len(c00.Checks), c00.Mode)
		}
		checkCertificateDir(t, opts.OutDir, cert)
		for _, c := range cert.Cases {
			if len(c.Invariants) == 0 || len(c.Thresholds) == 0 || c.KPIs == nil || c.Report == "" {
				t.Errorf("%s: invariants %d, thresholds %d, kpis %v, report %q", c.ID, len(c.Invariants), len(c.Thresholds), c.KPIs, c.Report)
			}
			if slices.ContainsFunc(c.Invariants, func(r InvariantResult) bool { return r.ID == invariants.OfflineTranDate }) {
				t.Errorf("%s reports offline-trandate, which it skips", c.ID)
			}
		}
	})
	t.Run("no-upsert", func(t *testing.T) {
		t.Parallel()
		bug := testOptions(t, "C06")
		bug.Bugs = []string{string(connector.BugNoUpsert)}
		cert, err := Run(context.Background(), cat, bug)
		if err != nil {
			t.Fatalf("Run with no-upsert: %v", err)
		}
		if cert.Verdict != NotCertified || cert.Cases[0].Verdict != CaseFail {
			t.Fatalf("no-upsert: %s, case %s", cert.Verdict, cert.Cases[0].Verdict)
		}
		if !slices.ContainsFunc(cert.Cases[0].Reasons, func(r string) bool { return strings.HasPrefix(r, "invariant exactly-once failed") }) {
			t.Errorf("no-upsert: reasons %q do not name exactly-once", cert.Cases[0].Reasons)
		}
		if !slices.Equal(cert.Connector.Bugs, bug.Bugs) {
			t.Errorf("the certificate does not name the bug switch: %+v", cert.Connector)
		}
		checkCertificateDir(t, bug.OutDir, cert)
	})
}

// TestCertifyCrash: C10 kills the connector process (kill -9) 8 s into the traffic
// and restarts it; the durable outbox loses nothing, memory-outbox loses its backlog.
func TestCertifyCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real traffic for about 30 s")
	}
	t.Parallel()
	cat := testCatalog(t)
	for _, tt := range []struct {
		bugs []string
		want string
	}{
		{nil, CasePass},
		{[]string{string(connector.BugMemoryOutbox)}, CaseFail},
	} {
		t.Run(fmt.Sprint(tt.bugs), func(t *testing.T) {
			t.Parallel()
			opts := testOptions(t, "C10")
			opts.Bugs = tt.bugs
			cert, err := Run(context.Background(), cat, opts)
			if err != nil {
				t.Fatalf("Run %v: %v", tt.bugs, err)
			}
			c := cert.Cases[0]
			if c.Verdict != tt.want || c.Mode != "embedded-process" {
				t.Fatalf("bugs %v: %s in mode %s, want %s: %q", tt.bugs, c.Verdict, c.Mode, tt.want, c.Reasons)
			}
			if len(c.Actions) != 2 || c.Actions[0].Do != string(scenarios.KillConnector) || c.Actions[1].Do != string(scenarios.RestartConnector) ||
				c.Actions[0].Error != "" || c.Actions[1].Error != "" || c.Actions[0].DoneMs < 8000 || c.Actions[1].DoneMs < 10000 {
				t.Errorf("bugs %v: actions %+v", tt.bugs, c.Actions)
			}
			if tt.want == CasePass && !slices.ContainsFunc(c.Invariants, func(r InvariantResult) bool {
				return r.ID == invariants.StockViewConverges && r.Verdict == "pass"
			}) {
				t.Errorf("the restarted connector's stock view: %+v", c.Invariants)
			}
			if tt.want == CaseFail && !slices.ContainsFunc(c.Reasons, func(r string) bool { return strings.HasPrefix(r, "invariant exactly-once failed") }) {
				t.Errorf("memory-outbox: reasons %q do not name exactly-once", c.Reasons)
			}
		})
	}
}

// checkCertificateDir checks the certificate directory's files and links.
func checkCertificateDir(t *testing.T, dir string, cert *Certificate) {
	t.Helper()
	for _, f := range []string{JSONFile, HTMLFile, JUnitFile, MarkdownFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("certificate directory: %v", err)
		}
	}
	for _, f := range []string{JSONFile, HTMLFile} {
		v, err := Verify(filepath.Join(dir, f))
		if err != nil || !v.Intact || v.Computed != cert.Digest {
			t.Errorf("Verify %s: %v %+v", f, err, v)
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, HTMLFile))
	for _, c := range cert.Cases {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(c.Report))); err != nil {
			t.Errorf("%s: its report link %q: %v", c.ID, c.Report, err)
		}
		if !bytes.Contains(page, []byte(`href="`+c.Report+`"`)) {
			t.Errorf("certificate.html does not link %s", c.Report)
		}
	}
}

func TestRunSetupErrors(t *testing.T) {
	cat := testCatalog(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, JSONFile), []byte("{}"), 0o644)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"unknown suite", Options{Suite: "nightly"}, "unknown suite"},
		{"url and image", Options{ConnectorURL: "http://127.0.0.1:1", ConnectorImage: "x"}, "exclusive"},
		{"bug with url", Options{ConnectorURL: "http://127.0.0.1:1", Bugs: []string{"no-upsert"}}, "does not apply to --connector-url"},
		{"unknown bug", Options{Bugs: []string{"no-such-bug"}}, "no-such-bug"},
		{"env file without url", Options{EnvFile: "sim.env"}, "--connector-url"},
		{"out holds a certificate", Options{OutDir: dir}, "already holds a certificate"},
		{"unknown case", Options{Cases: []string{"C42"}}, "no such case"},
		{"url down", Options{ConnectorURL: "http://127.0.0.1:1", OutDir: t.TempDir(), ReadyTimeout: time.Second}, "does not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.OutDir == "" {
				tt.opts.OutDir = filepath.Join(t.TempDir(), "out")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := Run(ctx, cat, tt.opts)
			var se *SetupError
			if err == nil || !strings.Contains(err.Error(), tt.want) || !asSetup(err, &se) {
				t.Errorf("Run: %v, want a setup error containing %q", err, tt.want)
			}
		})
	}
}

func asSetup(err error, se **SetupError) bool {
	e, ok := err.(*SetupError)
	*se = e
	return ok
}

func TestSameCatalogPosition(t *testing.T) {
	cat := loadShipped(t)
	c, _ := cat.find("C12")
	r := &runner{opts: Options{}}
	cr := &caseRun{c: c, dir: t.TempDir()}
	if err := r.prepare(cr, 7); err != nil {
		t.Fatal(err)
	}
	sku := *cr.file.Scenarios["doorbuster"].Options.SingleItemSKU
	if !strings.HasSuffix(sku, "-000033") || cr.path == c.Path {
		t.Errorf("seed 7: singleItemSKU %s from %s", sku, cr.path)
	}
	if _, ok := cr.world.ItemBySKU(sku); !ok {
		t.Errorf("%s is not in the seed-7 world", sku)
	}
	cr = &caseRun{c: c, dir: t.TempDir()}
	if err := r.prepare(cr, 1); err != nil || cr.path != c.Path {
		t.Errorf("seed 1 needs no derived file: %s, %v", cr.path, err)
	}
}

// TestPrepareActions: the harness plays a case's actions, so the case file runs as it is,
// actions and all, in every mode.
func TestPrepareActions(t *testing.T) {
	cat := loadShipped(t)
	for _, id := range []string{"C10", "C13"} {
		c, _ := cat.find(id)
		for _, image := range []bool{false, true} {
			r := &runner{opts: Options{}}
			if image {
				r.opts.ConnectorImage = "x"
			}
			cr := &caseRun{c: c, dir: t.TempDir()}
			if err := r.prepare(cr, 1); err != nil {
				t.Fatal(err)
			}
			if cr.path != c.Path || len(cr.file.Actions) == 0 || !slices.Equal(timeline(cr.file), c.Actions) {
				t.Errorf("%s image=%v: runs %s with actions %v, want %s as it is (%v)", id, image, cr.path, cr.file.Actions, c.Path, c.Actions)
			}
		}
	}
}
