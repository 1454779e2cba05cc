package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthcheck(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusOK)
		case "/created":
			w.WriteHeader(http.StatusCreated)
		case "/moved":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		case "/slow":
			select {
			case <-block:
			case <-r.Context().Done():
			}
		default:
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	defer close(block)

	// A port nobody listens on: take one and give it back.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/healthz"
	ln.Close()

	tests := []struct {
		name    string
		args    []string
		env     string
		code    int
		errWant string // in stderr
	}{
		// 2xx is healthy.
		{"ok", []string{srv.URL + "/healthz"}, "", exitOK, ""},
		{"created is 2xx", []string{srv.URL + "/created"}, "", exitOK, ""},
		// The URL may come from the environment (the image's HEALTHCHECK has no argument).
		{"url from env", nil, srv.URL + "/healthz", exitOK, ""},
		// Several URLs: all must be healthy.
		{"two ok", []string{srv.URL + "/healthz", srv.URL + "/created"}, "", exitOK, ""},
		{"two from env", nil, srv.URL + "/healthz " + srv.URL + "/created", exitOK, ""},
		{"second down", []string{srv.URL + "/healthz", srv.URL + "/down"}, "", exitError, "503"},
		{"second down from env", nil, srv.URL + "/healthz  " + srv.URL + "/down", exitError, "503"},
		// Anything else is exit 1, never 2 (Docker reserves 2).
		{"503", []string{srv.URL + "/down"}, "", exitError, "503"},
		{"redirect not followed", []string{srv.URL + "/moved"}, "", exitError, "302"},
		{"refused", []string{refused}, "", exitError, "connection refused"},
		{"timeout", []string{"--timeout", "200ms", srv.URL + "/slow"}, "", exitError, "no reply within 200ms"},
		{"no url", nil, "", exitError, "no URL"},
		{"not loopback", []string{"http://192.0.2.1/healthz"}, "", exitError, "only loopback"},
		{"bad scheme", []string{"ftp://127.0.0.1/x"}, "", exitError, "http://"},
		{"bad timeout", []string{"--timeout", "0s", srv.URL + "/healthz"}, "", exitError, "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvHealthcheckURL, tt.env)
			var out, errOut bytes.Buffer
			start := time.Now()
			code := run(append([]string{"healthcheck"}, tt.args...), ioStreams{Out: &out, ErrOut: &errOut})
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.errWant) {
				t.Errorf("stderr %q, want it to contain %q", errOut.String(), tt.errWant)
			}
			if code == exitOK && !strings.Contains(out.String(), "20") {
				t.Errorf("stdout %q, want the status", out.String())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
