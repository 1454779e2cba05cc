package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/certify"
)

const testCatalog = "../../" + certify.DefaultCatalogDir

func TestCertifyList(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"certify", "--list", "--catalog", testCatalog}, ioStreams{Out: &out, ErrOut: &errOut})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"ID", "SUITES", "DURATION", "TITLE", "C00-contract", "C14-peak", "proves:", "suite pilot", "suite full", "catalog sha256:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--list lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCertifySetupErrors(t *testing.T) {
	for _, args := range [][]string{
		{"certify", "--catalog", testCatalog, "--case", "C99"},
		{"certify", "--catalog", testCatalog, "--suite", "nightly"},
		{"certify", "--catalog", testCatalog, "--bug", "no-such-bug"},
		{"certify", "--catalog", testCatalog, "--connector-url", "http://127.0.0.1:1", "--bug", "no-upsert"},
		{"certify", "--catalog", filepath.Join(t.TempDir(), "none")},
		{"certify", "verify", filepath.Join(t.TempDir(), "missing.json")},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, ioStreams{Out: &out, ErrOut: &errOut}); code != exitSetup {
			t.Errorf("%v: exit %d, want %d; stderr %s", args, code, exitSetup, errOut.String())
		}
	}
}

func TestCertifyVerifyExitCodes(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2025, 11, 28, 6, 0, 0, 0, time.UTC)
	c := &certify.Certificate{
		Schema: certify.Schema, SchemaVersion: certify.SchemaVersion, Verdict: certify.Certified,
		Summary:   certify.Tally{Cases: 1, Passed: 1},
		Connector: certify.ConnectorInfo{Mode: "embedded", Reference: true, Version: "test"},
		Suite:     certify.SuitePilot, StartedAt: at, FinishedAt: at.Add(time.Minute),
		Cases: []certify.CaseResult{{ID: "C01-sale-tenders", Title: "Sales", Verdict: certify.CasePass,
			Invariants: []certify.InvariantResult{{ID: "exactly-once", Verdict: "pass"}}, Thresholds: []certify.ThresholdResult{}}},
	}
	if err := c.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{certify.JSONFile, certify.HTMLFile} {
		path := filepath.Join(dir, name)
		var out, errOut bytes.Buffer
		if code := run([]string{"certify", "verify", path}, ioStreams{Out: &out, ErrOut: &errOut}); code != exitOK {
			t.Errorf("verify %s: exit %d: %s%s", name, code, out.String(), errOut.String())
		}
		if !strings.Contains(out.String(), "intact") {
			t.Errorf("verify %s: %q", name, out.String())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		edited := bytes.Replace(b, []byte(`"verdict": "pass"`), []byte(`"verdict": "fail"`), 1)
		if name == certify.HTMLFile {
			edited = bytes.Replace(b, []byte(">pass</span>"), []byte(">PASS</span>"), 1)
		}
		if bytes.Equal(edited, b) {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		os.WriteFile(path, edited, 0o644)
		out.Reset()
		if code := run([]string{"certify", "verify", path}, ioStreams{Out: &out, ErrOut: &errOut}); code != exitCertificateFails {
			t.Errorf("verify edited %s: exit %d, want %d: %s", name, code, exitCertificateFails, out.String())
		}
		if !strings.Contains(out.String(), "EDITED") {
			t.Errorf("verify edited %s: %q", name, out.String())
		}
	}
}
