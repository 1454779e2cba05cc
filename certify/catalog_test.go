package certify

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/connector"
	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/scenarios"
	pos "github.com/doorbuster/doorbuster/xk6-pos"
)

// catalogDir is the shipped catalog, from this package's directory.
const catalogDir = "../" + DefaultCatalogDir

// wantCases is the catalog issue 8 asks for, at least.
var wantCases = []string{
	"C00-contract", "C01-sale-tenders", "C02-return", "C03-exchange", "C04-offline-resync",
	"C05-governance-429", "C06-lost-response", "C07-netsuite-outage", "C08-gateway-faults",
	"C09-declines", "C10-crash-restart", "C11-customer-dedupe", "C12-hot-sku", "C13-partition", "C14-peak",
}

func loadShipped(t *testing.T) *Catalog {
	t.Helper()
	cat, err := LoadCatalog(catalogDir)
	if err != nil {
		t.Fatalf("LoadCatalog: %v", err)
	}
	return cat
}

func TestCatalogShipped(t *testing.T) {
	cat := loadShipped(t)
	var ids []string
	for _, c := range cat.Cases {
		ids = append(ids, c.ID)
	}
	for _, id := range wantCases {
		if !slices.Contains(ids, id) {
			t.Errorf("the catalog lacks %s (has %v)", id, ids)
		}
	}
	var pilot, full time.Duration
	for _, c := range cat.Cases {
		t.Run(c.ID, func(t *testing.T) {
			// Every case is a real scenario file: Load checks it as `doorbuster run` does.
			f, err := scenarios.Load(c.Path)
			if err != nil {
				t.Fatalf("scenarios.Load: %v", err)
			}
			if c.Title == "" || c.Proves == "" || c.Duration <= 0 {
				t.Errorf("metadata incomplete: title %q, proves %q, duration %s", c.Title, c.Proves, c.Duration)
			}
			// One world for the whole catalog, so that one `doorbuster sim` serves every
			// case in url mode.
			if f.Seed != 1 || f.Fixtures.Size != fixtures.Small || f.Fixtures.File != "" {
				t.Errorf("world: seed %d, fixtures %+v; every case plays in the small world of seed 1", f.Seed, f.Fixtures)
			}
			if d := f.TrafficDuration(); d <= 0 || d > c.Duration {
				t.Errorf("traffic lasts %s, more than the case's declared duration %s", d, c.Duration)
			}
			if len(c.Invariants()) < 5 {
				t.Errorf("asserts only %v", c.Invariants())
			}
			for _, id := range f.Invariants.Skip {
				if !slices.Contains(scenarios.BuiltinInvariants(), id) {
					t.Errorf("skips unknown invariant %s", id)
				}
			}
			if len(c.Thresholds()) == 0 {
				t.Errorf("no thresholds")
			}
			var customs []invariants.Custom
			for _, ci := range f.Invariants.Custom {
				customs = append(customs, invariants.Custom{ID: ci.ID, Statement: ci.Statement, SQL: ci.SQL})
			}
			if err := invariants.ValidateCustom(context.Background(), customs); err != nil {
				t.Errorf("custom invariants: %v", err)
			}
			// The flows accept the options (the POS module is stricter than the schema).
			w, err := fixtures.Generate(f.Seed, f.Fixtures.Size)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range f.ScenarioNames() {
				sc := f.Scenarios[name]
				if sku := sc.Options.SingleItemSKU; sku != nil {
					if _, ok := w.ItemBySKU(*sku); !ok {
						t.Errorf("scenarios.%s: singleItemSKU %s is not in the world", name, *sku)
					}
				}
				if _, err := pos.ParseOptions(optionsMap(t, sc.Options)); err != nil {
					t.Errorf("scenarios.%s.options: %v", name, err)
				}
			}
		})
		if c.In(SuitePilot) {
			pilot += c.Duration
		}
		full += c.Duration
	}
	if pilot > 10*time.Minute {
		t.Errorf("the pilot suite is declared at %s, over 10 minutes", pilot)
	}
	if full > time.Hour {
		t.Errorf("the full suite is declared at %s, over an hour", full)
	}
	if !strings.HasPrefix(cat.Version, "sha256:") || len(cat.Version) != len("sha256:")+64 {
		t.Errorf("catalog version %q", cat.Version)
	}
}

// TestCatalogCatchesEveryBug: each bug switch of the reference connector has a pilot case
// whose invariants include the one that names it (issue 7's detection table).
func TestCatalogCatchesEveryBug(t *testing.T) {
	cat := loadShipped(t)
	catches := map[connector.Bug]struct{ caseID, invariant string }{
		connector.BugNoUpsert:            {"C06-lost-response", invariants.ExactlyOnce},
		connector.BugDropOn429:           {"C05-governance-429", invariants.ExactlyOnce},
		connector.BugSyncDate:            {"C04-offline-resync", invariants.OfflineTranDate},
		connector.BugDefaultLocation:     {"C01-sale-tenders", invariants.SaleLocation},
		connector.BugTaxOnTotal:          {"C01-sale-tenders", invariants.Amounts},
		connector.BugFullRefund:          {"C02-return", invariants.PaymentsReconcile},
		connector.BugMemoryOutbox:        {"C10-crash-restart", invariants.ExactlyOnce},
		connector.BugBatchTruncate:       {"C04-offline-resync", invariants.ExactlyOnce},
		connector.BugRefundNoIdempotency: {"C08-gateway-faults", invariants.PaymentsReconcile},
		connector.BugNewCustomerEachTime: {"C11-customer-dedupe", invariants.OneCustomerPerIdentity},
	}
	for _, b := range connector.AllBugs() {
		want, ok := catches[b]
		if !ok {
			t.Errorf("bug switch %s: no case is known to catch it", b)
			continue
		}
		c, err := cat.find(want.caseID)
		if err != nil {
			t.Fatal(err)
		}
		if !c.In(SuitePilot) {
			t.Errorf("bug switch %s: %s is not in the pilot suite", b, c.ID)
		}
		if !slices.Contains(c.Invariants(), want.invariant) {
			t.Errorf("bug switch %s: %s does not assert %s", b, c.ID, want.invariant)
		}
	}
}

// optionsMap turns typed flow options back into the map the POS module parses.
func optionsMap(t *testing.T, o scenarios.FlowOptions) map[string]any {
	t.Helper()
	m := map[string]any{}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCatalogErrors(t *testing.T) {
	valid := func(id string, suites string) string {
		return `name: x
scenarios:
  s: {executor: constant-vus, exec: sale, vus: 1, duration: 1s}
thresholds:
  checks: ["rate==1"]
certification: {id: ` + id + `, title: T, proves: P, duration: 10s, suites: ` + suites + `}
`
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"empty", map[string]string{}, "no case files"},
		{"no metadata", map[string]string{"C1.yaml": "name: x\nscenarios:\n  s: {executor: constant-vus, exec: sale, duration: 1s}\n"}, "no certification"},
		{"id not file name", map[string]string{"C1.yaml": valid("C2", "[pilot]")}, "name the file after the case"},
		{"bad scenario", map[string]string{"C1.yaml": "name: x\nscenarios:\n  s: {executor: nope, exec: sale}\n" + "certification: {id: C1, title: T, proves: P}\n"}, "C1.yaml:3"},
		{"no pilot", map[string]string{"C1.yaml": valid("C1", "[full]")}, "no case belongs to the pilot suite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadCatalog(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadCatalog: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	cat := loadShipped(t)
	pilot, err := cat.Select(SuitePilot, nil)
	if err != nil {
		t.Fatal(err)
	}
	full, err := cat.Select(SuiteFull, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != len(cat.Cases) || len(pilot) == 0 || len(pilot) >= len(full) {
		t.Errorf("pilot %d cases, full %d, catalog %d", len(pilot), len(full), len(cat.Cases))
	}
	for _, c := range pilot {
		if c.ID == "C14-peak" || c.ID == "C07-netsuite-outage" {
			t.Errorf("%s is in the pilot suite", c.ID)
		}
	}
	got, err := cat.Select(SuitePilot, []string{"c06", "C01-sale-tenders"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "C01-sale-tenders" || got[1].ID != "C06-lost-response" {
		t.Errorf("Select(C06, C01) = %v", got)
	}
	if _, err := cat.Select(SuitePilot, []string{"C99"}); err == nil || !strings.Contains(err.Error(), "no such case") {
		t.Errorf("unknown case: %v", err)
	}
	if _, err := cat.Select("nightly", nil); err == nil {
		t.Error("unknown suite accepted")
	}
}

func TestWriteList(t *testing.T) {
	cat := loadShipped(t)
	var buf bytes.Buffer
	if err := cat.WriteList(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, c := range cat.Cases {
		for _, want := range []string{c.ID + " ", c.Title, c.Proves, fmtDuration(c.Duration)} {
			if !strings.Contains(out, want) {
				t.Errorf("--list lacks %q", want)
			}
		}
	}
	for _, want := range []string{"suite pilot", "suite full", cat.Version, "kill-connector", "the contract conformance test"} {
		if !strings.Contains(out, want) {
			t.Errorf("--list lacks %q:\n%s", want, out)
		}
	}
	if testing.Verbose() {
		t.Log("\n" + out)
	}
}
