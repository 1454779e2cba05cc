package certify

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sampleCertificate is a certificate of two cases, one failed.
func sampleCertificate() *Certificate {
	at := time.Date(2025, 11, 28, 6, 0, 0, 0, time.UTC)
	obs := 412.5
	c := &Certificate{
		Schema: Schema, SchemaVersion: SchemaVersion,
		Connector:  ConnectorInfo{Mode: ModeImage, Image: "acme/pos-connector:1.4.2", ImageDigest: "sha256:" + strings.Repeat("ab", 32), Version: "1.4.2"},
		Doorbuster: Generator{Version: "v0.9.0"},
		Suite:      SuitePilot,
		Catalog:    CatalogInfo{Version: "sha256:" + strings.Repeat("cd", 32), Dir: "scenarios/certification", Cases: 15},
		Seed:       1, World: WorldInfo{Size: "small", Seed: 1},
		StartedAt: at, FinishedAt: at.Add(8 * time.Minute), DurationMs: 480000,
		Cases: []CaseResult{
			{
				ID: "C01-sale-tenders", Title: "Sales with every tender", Proves: "Sales post <exactly> once & right.",
				Verdict: CasePass, File: "scenarios/certification/C01-sale-tenders.yaml", FileHash: "sha256:01", Seed: 1,
				Mode: ModeImage, StartedAt: at, DurationMs: 41000, RunDir: "cases/C01-sale-tenders", Report: "cases/C01-sale-tenders/report.html",
				Invariants: []InvariantResult{{ID: "exactly-once", Statement: "posted once", Verdict: "pass"}, {ID: "offline-trandate", Statement: "dates", Verdict: "not-applicable", Reason: "no offline transactions"}},
				Thresholds: []ThresholdResult{{Metric: "pos_checkout_duration", Expression: "p(95)<1s", OK: true, Observed: &obs, Source: "engine"}},
			},
			{
				ID: "C06-lost-response", Title: "Lost responses", Proves: "No duplicates.",
				Verdict: CaseFail, Reasons: []string{"invariant exactly-once failed: 7 violation(s) — posted once"},
				File: "scenarios/certification/C06-lost-response.yaml", FileHash: "sha256:06", Seed: 1, Mode: ModeImage,
				StartedAt: at.Add(time.Minute), DurationMs: 39000, RunDir: "cases/C06-lost-response", Report: "cases/C06-lost-response/report.html",
				Invariants: []InvariantResult{{ID: "exactly-once", Statement: "posted once", Verdict: "fail", Violations: 7,
					Evidence: []Evidence{{TxID: "S001-R01-x-000003", What: "posted twice", Expected: "1 cash sale", Actual: "2 cash sales"}}}},
				Thresholds: []ThresholdResult{{Metric: "http_req_failed", Expression: "rate==0", OK: false, Message: "rate=0.01 is not == 0", Source: "engine"}},
			},
		},
	}
	c.finish()
	return c
}

func TestFinishVerdict(t *testing.T) {
	c := sampleCertificate()
	if c.Verdict != NotCertified || c.Summary != (Tally{Cases: 2, Passed: 1, Failed: 1}) {
		t.Errorf("verdict %s, tally %+v", c.Verdict, c.Summary)
	}
	c.Cases = c.Cases[:1]
	c.finish()
	if c.Verdict != Certified {
		t.Errorf("one passing case: %s", c.Verdict)
	}
	c.Cases = nil
	c.finish()
	if c.Verdict != NotCertified {
		t.Errorf("no case: %s", c.Verdict)
	}
}

func TestDigestRoundTrip(t *testing.T) {
	c := sampleCertificate()
	if err := c.Seal(); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(c.Digest) {
		t.Fatalf("digest %q", c.Digest)
	}
	first := c.Digest
	if err := c.Seal(); err != nil || c.Digest != first {
		t.Fatalf("sealing twice: %s then %s (%v)", first, c.Digest, err)
	}
	var buf bytes.Buffer
	if err := c.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	canon, recorded, err := Canonical(buf.Bytes())
	if err != nil || recorded != first || digestOf(canon) != first {
		t.Fatalf("Canonical: recorded %s computed %s, want %s (%v)", recorded, digestOf(canon), first, err)
	}
	// Re-indenting the file keeps the digest; changing a value does not.
	var compact bytes.Buffer
	if err := json.Compact(&compact, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if canon2, _, _ := Canonical(compact.Bytes()); digestOf(canon2) != first {
		t.Error("compacting the JSON changed the digest")
	}
	c.Cases[1].Verdict = CasePass
	c.Digest = ""
	b, _ := json.Marshal(c)
	if canon3, _, _ := Canonical(b); digestOf(canon3) == first {
		t.Error("a changed verdict kept the digest")
	}
}

// writeSample writes the sample certificate's files into a new directory.
func writeSample(t *testing.T) (string, *Certificate) {
	t.Helper()
	dir := t.TempDir()
	c := sampleCertificate()
	if err := c.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	return dir, c
}

func TestVerifyIntact(t *testing.T) {
	dir, c := writeSample(t)
	for _, name := range []string{JSONFile, HTMLFile} {
		v, err := Verify(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !v.Intact || v.Computed != c.Digest || v.Recorded != c.Digest {
			t.Errorf("%s: %+v", name, v)
		}
		if !strings.Contains(v.String(), "intact") || !strings.Contains(v.String(), NotCertified) {
			t.Errorf("%s: report %q", name, v.String())
		}
	}
}

// TestVerifyDetectsTamper: editing one byte of a verdict — in the JSON, in the data the
// page embeds, or in what the page shows — is found.
func TestVerifyDetectsTamper(t *testing.T) {
	dir, _ := writeSample(t)
	jsonDoc, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	embedStart := bytes.Index(page, []byte(jsonScriptOpen))
	tests := []struct {
		name string
		file string
		doc  []byte
		// old becomes new (one byte differs) at its first match at or after from.
		old, new string
		from     int
		want     string
	}{
		{"json case verdict", JSONFile, jsonDoc, `"verdict": "fail"`, `"verdict": "pail"`, 0, "certificate was edited"},
		{"json certificate verdict", JSONFile, jsonDoc, `"verdict": "NOT CERTIFIED"`, `"verdict": "NOT CERTIFIEd"`, 0, "certificate was edited"},
		{"json count", JSONFile, jsonDoc, `"failed": 1`, `"failed": 0`, 0, "certificate was edited"},
		{"page banner", HTMLFile, page, `<h1>NOT CERTIFIED</h1>`, `<h1>NOT CERTIFIEd</h1>`, 0, "page was edited"},
		{"page case badge", HTMLFile, page, `<span class="badge fail">fail</span>`, `<span class="badge fail">pail</span>`, 0, "page was edited"},
		{"embedded verdict", HTMLFile, page, `"verdict":"fail"`, `"verdict":"pail"`, embedStart, "certificate was edited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.old) != len(tt.new) {
				t.Fatal("old and new differ in length")
			}
			i := bytes.Index(tt.doc[tt.from:], []byte(tt.old))
			if i < 0 {
				t.Fatalf("%q not in %s", tt.old, tt.file)
			}
			i += tt.from
			edited := bytes.Clone(tt.doc)
			copy(edited[i:], tt.new)
			if n := diffBytes(tt.doc, edited); n != 1 {
				t.Fatalf("the edit changes %d bytes, want 1", n)
			}
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, edited, 0o644); err != nil {
				t.Fatal(err)
			}
			v, err := Verify(path)
			if err != nil {
				t.Fatal(err)
			}
			if v.Intact {
				t.Fatalf("the edit %q → %q went unnoticed", tt.old, tt.new)
			}
			if !strings.Contains(v.String(), tt.want) || !strings.Contains(v.String(), "EDITED") {
				t.Errorf("report %q lacks %q", v.String(), tt.want)
			}
		})
	}
}

func diffBytes(a, b []byte) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestVerifyNotACertificate(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"a.json": "[1,2]", "b.json": "{not json", "c.html": "<html><body>hi</body></html>", "d.json": `{"a":1} {"b":2}`,
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(body), 0o644)
		if v, err := Verify(path); err == nil {
			t.Errorf("%s: verified %+v", name, v)
		}
	}
	path := filepath.Join(dir, "e.json")
	os.WriteFile(path, []byte(`{"schema":"x","verdict":"CERTIFIED"}`), 0o644)
	v, err := Verify(path)
	if err != nil || v.Intact {
		t.Errorf("a JSON object without digest: %+v, %v", v, err)
	}
}

func TestHTMLStructure(t *testing.T) {
	dir, c := writeSample(t)
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{
		`<h1>NOT CERTIFIED</h1>`, `class="banner fail"`,
		"acme/pos-connector:1.4.2", c.Connector.ImageDigest, "v0.9.0", "pilot", c.Catalog.Version,
		`<tr id="case-C01-sale-tenders"`, `<tr id="case-C06-lost-response"`,
		`href="cases/C01-sale-tenders/report.html"`, `href="cases/C06-lost-response/report.html"`,
		"invariant exactly-once failed", "S001-R01-x-000003", "pos_checkout_duration p(95)&lt;1s",
		"Sales post &lt;exactly&gt; once &amp; right.", c.Digest, "1 of 2 cases passed",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("certificate.html lacks %q", want)
		}
	}
	// Self-contained: nothing fetched, no script that runs.
	for _, bad := range []string{"http://", "https://", "<link", "<img", "src=", "@import"} {
		if strings.Contains(strings.ReplaceAll(s, Schema, ""), bad) {
			t.Errorf("certificate.html contains %q", bad)
		}
	}
	if n := strings.Count(s, "<script"); n != 1 || !strings.Contains(s, jsonScriptOpen) {
		t.Errorf("%d script elements; want only the embedded certificate", n)
	}
	// The embedded certificate is the same as certificate.json.
	embedded, err := extractJSON(page)
	if err != nil {
		t.Fatal(err)
	}
	var a, b Certificate
	if err := json.Unmarshal(embedded, &a); err != nil {
		t.Fatal(err)
	}
	j, _ := os.ReadFile(filepath.Join(dir, JSONFile))
	if err := json.Unmarshal(j, &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("the page embeds another certificate than certificate.json")
	}
	// A certified one is green.
	c2 := sampleCertificate()
	c2.Cases = c2.Cases[:1]
	c2.finish()
	c2.Seal()
	var buf bytes.Buffer
	if err := c2.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<section class="banner pass" id="verdict">`) || !strings.Contains(buf.String(), "<h1>CERTIFIED</h1>") {
		t.Error("a certified page has no green CERTIFIED banner")
	}
}

func TestJUnit(t *testing.T) {
	dir, _ := writeSample(t)
	b, err := os.ReadFile(filepath.Join(dir, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 2 || doc.Failures != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 {
		t.Fatalf("junit: %+v", doc)
	}
	pass, fail := doc.Suites[0].Cases[0], doc.Suites[0].Cases[1]
	if pass.Failure != nil || !strings.HasPrefix(pass.Name, "C01-sale-tenders") {
		t.Errorf("passing case: %+v", pass)
	}
	if fail.Failure == nil || !strings.Contains(fail.Failure.Message, "invariant exactly-once failed") ||
		!strings.Contains(fail.Failure.Text, "S001-R01-x-000003") {
		t.Errorf("failing case: %+v", fail)
	}
}

func TestMarkdown(t *testing.T) {
	dir, _ := writeSample(t)
	b, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"❌ NOT CERTIFIED", "**1 of 2 cases passed**", "| **C06-lost-response** Lost responses | ❌ fail |", "### What failed", "invariant exactly-once failed"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary.md lacks %q:\n%s", want, s)
		}
	}
}

func TestOpenAPIVersion(t *testing.T) {
	doc := "openapi: 3.0.3\ninfo:\n  title: POS\n  version: \"2.1.0\"\npaths:\n  /x:\n    get: {}\n"
	if v := openAPIVersion(doc); v != "2.1.0" {
		t.Errorf("openAPIVersion = %q", v)
	}
	if v := openAPIVersion("openapi: 3.0.3\npaths: {}\n"); v != "" {
		t.Errorf("no info: %q", v)
	}
}
