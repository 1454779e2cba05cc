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

// --bug is repeatable (and takes comma lists), CONNECTOR_BUGS adds to it, and the
// environment contract, the env file and flags are layered: flags win over the file,
// the file over the environment.
func TestConnectorConfigLayers(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "sim.env")
	os.WriteFile(envFile, []byte(strings.Join([]string{
		"NETSUITE_BASE_URL=http://127.0.0.1:1", "NETSUITE_ACCOUNT_ID=1234567", "NETSUITE_CONSUMER_KEY=ck",
		"NETSUITE_CONSUMER_SECRET=cs", "NETSUITE_TOKEN_ID=tk", "NETSUITE_TOKEN_SECRET=ts",
		"GATEWAY_BASE_URL=http://127.0.0.1:2", "GATEWAY_API_KEY=sk_test_x", "CONNECTOR_LISTEN=127.0.0.1:7001", "",
	}, "\n")), 0o644)
	env := map[string]string{
		"NETSUITE_ACCOUNT_ID": "from-environment", "CONNECTOR_DATA_DIR": dir, "CONNECTOR_LISTEN": "127.0.0.1:7000",
		"CONNECTOR_BUGS": "sync-date,no-upsert",
	}
	cmd := newConnectorCmd(ioStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	args := []string{"--env-file", envFile, "--bug", "tax-on-total", "--bug", "no-upsert,full-refund", "--concurrency", "3"}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	var opts connectorOptions
	opts.envFile, _ = cmd.Flags().GetString("env-file")
	opts.bugs, _ = cmd.Flags().GetStringArray("bug")
	opts.concurrency, _ = cmd.Flags().GetInt("concurrency")
	cfg, err := opts.config(cmd, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var bugs []string
	for _, b := range cfg.Bugs {
		bugs = append(bugs, string(b))
	}
	if got := strings.Join(bugs, ","); got != "sync-date,no-upsert,tax-on-total,full-refund" {
		t.Errorf("bugs %s, want CONNECTOR_BUGS then each --bug once", got)
	}
	for _, c := range []struct{ what, got, want string }{
		{"account (the file wins over the environment)", cfg.NetSuite.AccountID, "1234567"},
		{"listen (the file wins over the environment)", cfg.Listen, "127.0.0.1:7001"},
		{"data dir (from the environment)", cfg.DataDir, dir},
		{"gateway", cfg.GatewayURL, "http://127.0.0.1:2"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	if cfg.Concurrency != 3 {
		t.Errorf("concurrency %d, want the flag's 3", cfg.Concurrency)
	}
	// A flag wins over both.
	opts.listen = "127.0.0.1:7002"
	if cfg, err := opts.config(cmd, func(k string) string { return env[k] }); err != nil || cfg.Listen != "127.0.0.1:7002" {
		t.Errorf("--listen: %q (%v), want the flag's", cfg.Listen, err)
	}
}
