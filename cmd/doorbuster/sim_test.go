package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dghubble/oauth1"

	"github.com/doorbuster/doorbuster/contract"
)

func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			t.Fatalf("env line %q is not KEY=value", sc.Text())
		}
		env[k] = v
	}
	return env
}

func TestSimServesAndWritesEnv(t *testing.T) {
	dir := t.TempDir()
	opts := simOptions{Seed: 3, Size: "small", NetSuiteAddr: "127.0.0.1:0", ConcurrencyLimit: 7,
		EnvFile: filepath.Join(dir, "sim.env"), Books: filepath.Join(dir, "books.db"), Quiet: true}
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
	for _, k := range []string{contract.EnvNetSuiteBaseURL, contract.EnvNetSuiteAccountID, contract.EnvNetSuiteConsumerKey,
		contract.EnvNetSuiteConsumerSecret, contract.EnvNetSuiteTokenID, contract.EnvNetSuiteTokenSecret} {
		if env[k] == "" {
			t.Errorf("env file lacks %s: %v", k, env)
		}
	}
	// A connector configured from the env file gets in.
	cfg := &oauth1.Config{ConsumerKey: env[contract.EnvNetSuiteConsumerKey], ConsumerSecret: env[contract.EnvNetSuiteConsumerSecret],
		Realm: env[contract.EnvNetSuiteAccountID], Signer: &oauth1.HMAC256Signer{ConsumerSecret: env[contract.EnvNetSuiteConsumerSecret]}}
	c := cfg.Client(ctx, oauth1.NewToken(env[contract.EnvNetSuiteTokenID], env[contract.EnvNetSuiteTokenSecret]))
	resp, err := c.Get(env[contract.EnvNetSuiteBaseURL] + "/services/rest/system/v1/governanceLimits")
	if err != nil {
		t.Fatal(err)
	}
	var limits map[string]any
	err = json.NewDecoder(resp.Body).Decode(&limits)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || limits["accountConcurrencyLimit"] != 7.0 {
		t.Fatalf("governanceLimits: %d %v %v", resp.StatusCode, limits, err)
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
	if _, err := os.Stat(opts.Books); err != nil {
		t.Errorf("books file: %v", err)
	}
}

func TestSimRefusesNonLoopback(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"sim", "--netsuite-addr", "0.0.0.0:0", "-q"}, ioStreams{Out: &out, ErrOut: &errOut})
	if code != exitSetup || !strings.Contains(errOut.String(), "loopback") {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}

func TestSimBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"sim", "--size", "huge"},
		{"sim", "--world", "/nonexistent/world.json"},
		{"sim", "--concurrency-limit", "0", "--netsuite-addr", "127.0.0.1:0"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, ioStreams{Out: &out, ErrOut: &errOut}); code != exitSetup {
			t.Errorf("%v: exit %d: %s", args, code, errOut.String())
		}
	}
}

func TestSimHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"sim", "--help"}, ioStreams{Out: &out, ErrOut: &errOut}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--netsuite-addr", "--env-file", "--concurrency-limit", "--books", "Examples:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
