package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doorbuster/doorbuster/contract"
)

func TestConnectorSetupErrors(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "sim.env")
	os.WriteFile(envFile, []byte(strings.Join([]string{
		"NETSUITE_BASE_URL=http://127.0.0.1:1", "NETSUITE_ACCOUNT_ID=1234567", "NETSUITE_CONSUMER_KEY=ck",
		"NETSUITE_CONSUMER_SECRET=cs", "NETSUITE_TOKEN_ID=tk", "NETSUITE_TOKEN_SECRET=ts", "",
	}, "\n")), 0o644)
	for _, name := range []string{contract.EnvNetSuiteBaseURL, contract.EnvConnectorDataDir, "CONNECTOR_BUGS"} {
		t.Setenv(name, "")
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no environment", []string{"connector"}, "NETSUITE_BASE_URL is not set"},
		{"no data dir", []string{"connector", "--env-file", envFile}, "CONNECTOR_DATA_DIR is not set"},
		{"unknown bug", []string{"connector", "--env-file", envFile, "--data-dir", dir, "--bug", "nope"}, `unknown bug switch "nope"`},
		{"missing env file", []string{"connector", "--env-file", filepath.Join(dir, "none.env")}, "env file"},
		{"bad concurrency", []string{"connector", "--env-file", envFile, "--data-dir", dir, "--concurrency", "-2"}, "--concurrency"},
		{"bad log level", []string{"connector", "--env-file", envFile, "--data-dir", dir, "--log-level", "loud"}, "--log-level"},
	} {
		var out, errOut bytes.Buffer
		code := run(c.args, ioStreams{Out: &out, ErrOut: &errOut})
		if code != exitSetup || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, code, errOut.String(), exitSetup, c.want)
		}
	}
}

func TestConnectorHelpListsBugs(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"connector", "--help"}, ioStreams{Out: &out, ErrOut: &errOut}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"no-upsert", "new-customer-each-time", "--env-file", "CONNECTOR_DATA_DIR"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
