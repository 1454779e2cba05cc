package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/fixtures"
)

// TestSimServesGateway: the env file carries the gateway's URL and key, and a connector
// configured from it can authorise a card payment.
func TestSimServesGateway(t *testing.T) {
	dir := t.TempDir()
	opts := simOptions{Seed: 5, Size: "small", NetSuiteAddr: "127.0.0.1:0", GatewayAddr: "127.0.0.1:0", ConcurrencyLimit: 5,
		EnvFile: filepath.Join(dir, "sim.env"), GatewayBooks: filepath.Join(dir, "gateway.db"), Quiet: true}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	opts.ready = func([]*simService) { close(ready) }
	var errOut bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- simRun(ctx, ioStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}, opts) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("sim stopped: %v: %s", err, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatal("sim not ready after 30s")
	}

	env := readEnvFile(t, opts.EnvFile)
	world, err := fixtures.Generate(5, fixtures.Small)
	if err != nil {
		t.Fatal(err)
	}
	base, key := env[contract.EnvGatewayBaseURL], env[contract.EnvGatewayAPIKey]
	if !strings.HasPrefix(base, "http://127.0.0.1:") || key != world.Gateway.SecretKey {
		t.Fatalf("gateway env: %s=%q %s=%q", contract.EnvGatewayBaseURL, base, contract.EnvGatewayAPIKey, key)
	}
	post := func(key string) *http.Response {
		form := url.Values{"amount": {"1999"}, "currency": {"usd"}, "payment_method": {"pm_card_visa"}, "confirm": {"true"}}
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/payment_intents", strings.NewReader(form.Encode()))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := post(key)
	var pi struct{ Status string }
	err = json.NewDecoder(resp.Body).Decode(&pi)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || pi.Status != "succeeded" {
		t.Fatalf("payment: %d %+v %v", resp.StatusCode, pi, err)
	}
	if resp := post("sk_test_wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong key: %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sim: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop")
	}
	if !strings.Contains(errOut.String(), "gateway: "+base+" (") {
		t.Errorf("status output lacks the gateway line: %s", errOut.String())
	}
	if _, err := os.Stat(opts.GatewayBooks); err != nil {
		t.Errorf("gateway books file: %v", err)
	}
}

func TestSimGatewayFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"sim", "--netsuite-addr", "127.0.0.1:0", "--gateway-addr", "0.0.0.0:0", "-q"}, ioStreams{Out: &out, ErrOut: &errOut})
	if code != exitSetup || !strings.Contains(errOut.String(), "--gateway-addr") || !strings.Contains(errOut.String(), "loopback") {
		t.Errorf("non-loopback gateway: exit %d: %s", code, errOut.String())
	}
	out.Reset()
	if code := run([]string{"sim", "--help"}, ioStreams{Out: &out, ErrOut: &errOut}); code != exitOK {
		t.Fatalf("help: exit %d", code)
	}
	for _, want := range []string{"--gateway-addr", "--gateway-books", "GATEWAY_BASE_URL", "GATEWAY_API_KEY"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
