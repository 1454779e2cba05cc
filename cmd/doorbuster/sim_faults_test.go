package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorbuster/doorbuster/simulator/faults"
)

// TestSimFaultsFile: --faults gives each simulator the rules for its target.
func TestSimFaultsFile(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "faults.yaml")
	if err := os.WriteFile(rules, []byte(`
rules:
  - name: netsuite-down
    target: netsuite
    match: {path: "/services/rest/**"}
    effect: {outage: {}}
  - name: gateway-throttled
    target: gateway
    match: {method: POST, path: /v1/payment_intents}
    effect: {throttle: {}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := simOptions{Seed: 5, Size: "small", NetSuiteAddr: "127.0.0.1:0", GatewayAddr: "127.0.0.1:0", ConcurrencyLimit: 5,
		EnvFile: filepath.Join(dir, "sim.env"), Faults: rules, Quiet: true}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan map[string]string, 1)
	opts.ready = func(services []*simService) {
		m := map[string]string{}
		for _, s := range services {
			m[s.Name] = s.URL()
		}
		urls <- m
	}
	var errOut bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- simRun(ctx, ioStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}, opts) }()
	var base map[string]string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatalf("sim stopped: %v: %s", err, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatal("sim not ready after 30s")
	}

	do := func(method, url string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader("amount=100&currency=usd"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := do("GET", base["netsuite"]+"/services/rest/system/v1/governanceLimits"); code != 503 {
		t.Errorf("NetSuite during the outage: %d %s, want 503", code, body)
	}
	if code, body := do("POST", base["gateway"]+"/v1/payment_intents"); code != 429 || !strings.Contains(body, `"rate_limit"`) {
		t.Errorf("gateway: %d %s, want 429 rate_limit", code, body)
	}
	for name, want := range map[string]string{"netsuite": "netsuite-down", "gateway": "gateway-throttled"} {
		code, body := do("GET", base[name]+"/_sim/faults")
		var v struct {
			Rules []struct{ Name string }
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil || code != 200 || len(v.Rules) != 1 || v.Rules[0].Name != want {
			t.Errorf("%s /_sim/faults: %d %s, want only %s", name, code, body, want)
		}
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
}

func TestSimFaultsFileRefused(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "faults.yaml")
	if err := os.WriteFile(rules, []byte("- name: slow\n  target: netsuite\n  effect: {latency: {median: 200}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := simOptions{Seed: 5, Size: "small", NetSuiteAddr: "127.0.0.1:0", GatewayAddr: "127.0.0.1:0", ConcurrencyLimit: 5, Faults: rules, Quiet: true}
	err := simRun(context.Background(), ioStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, opts)
	var ce *exitCodeError
	if !errors.As(err, &ce) || ce.code != exitSetup {
		t.Fatalf("err = %v, want a setup error", err)
	}
	if !strings.Contains(err.Error(), `rules[0].effect.latency.median: must be a duration like "200ms"`) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v, want the bad field and its line", err)
	}
}

// TestSimFaultsFileJSON: a JSON rules file works as the YAML one does, each simulator
// taking the rules of its target.
func TestSimFaultsFileJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faults.json")
	if err := os.WriteFile(path, []byte(`{"rules": [
  {"name": "slow-suiteql", "target": "netsuite", "match": {"method": "POST", "path": "/services/rest/query/v1/suiteql"},
   "effect": {"latency": {"median": "200ms", "sigma": 0.5, "max": "2s"}}, "probability": 0.5},
  {"name": "lost-captures", "target": "gateway", "match": {"path": "/v1/payment_intents/*/capture"},
   "effect": {"lostResponse": {}}, "window": {"start": "30s", "duration": "1m"}}
]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	engines, err := simFaultEngines(simOptions{Seed: 9, Faults: path}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for target, want := range map[faults.Target]string{faults.NetSuite: "slow-suiteql", faults.Gateway: "lost-captures"} {
		rules := engines[target].Rules()
		if len(rules) != 1 || rules[0].Name != want {
			t.Errorf("%s engine rules %+v, want only %s", target, rules, want)
		}
	}
	if w := engines[faults.Gateway].Rules()[0].Window; w == nil || time.Duration(w.Start) != 30*time.Second || time.Duration(w.Duration) != time.Minute {
		t.Errorf("window %+v", w)
	}
}
