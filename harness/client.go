package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/contract"
	"github.com/doorbuster/doorbuster/harness/rundir"
)

// admin talks to the simulators' /_sim admin API and the connector's status endpoints.
type admin struct {
	hc *http.Client
}

func newAdmin() *admin {
	return &admin{hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second,
	}}}
}

func (a *admin) close() { a.hc.CloseIdleConnections() }

// simBase returns the root of a NetSuite base URL given with or without /services/rest.
func simBase(u string) string {
	u = strings.TrimRight(u, "/")
	return strings.TrimSuffix(u, "/services/rest")
}

// do sends a request and decodes a 2xx JSON answer into out (when not nil). Any other
// status is an error carrying the body's start.
func (a *admin) do(ctx context.Context, method, u string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(b))
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return &statusError{Method: method, URL: u, Status: resp.StatusCode, Msg: fmt.Sprintf("%s: %s", resp.Status, msg)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", method, u, err)
		}
	}
	return nil
}

// statusError is an answer with a status other than 2xx.
type statusError struct {
	Method, URL string
	Status      int
	Msg         string
}

func (e *statusError) Error() string { return e.Method + " " + e.URL + ": " + e.Msg }

// isStatus reports whether err is an answer with status code.
func isStatus(err error, code int) bool {
	var se *statusError
	return errors.As(err, &se) && se.Status == code
}

// simRules is GET /_sim/faults.
type simRules struct {
	Target     string            `json:"target"`
	ClockStart time.Time         `json:"clockStart"`
	Rules      []json.RawMessage `json:"rules"`
}

// putFaults replaces a simulator's fault rules.
func (a *admin) putFaults(ctx context.Context, base string, rules []byte) error {
	return a.do(ctx, http.MethodPut, simBase(base)+"/_sim/faults", rules, nil)
}

// appendFaults adds rules after a simulator's rules.
func (a *admin) appendFaults(ctx context.Context, base string, rules []byte) error {
	return a.do(ctx, http.MethodPost, simBase(base)+"/_sim/faults", rules, nil)
}

// faults reads a simulator's rules with their counts.
func (a *admin) faults(ctx context.Context, base string) (simRules, error) {
	var r simRules
	err := a.do(ctx, http.MethodGet, simBase(base)+"/_sim/faults", nil, &r)
	return r, err
}

// startClock restarts a simulator's fault clock.
func (a *admin) startClock(ctx context.Context, base string) (time.Time, error) {
	var r struct {
		ClockStart time.Time `json:"clockStart"`
	}
	err := a.do(ctx, http.MethodPost, simBase(base)+"/_sim/clock/start", []byte("{}"), &r)
	return r.ClockStart, err
}

// events reads a simulator's fault events after sequence number since.
func (a *admin) events(ctx context.Context, base string, since int64) ([]rundir.FaultEvent, error) {
	var r struct {
		Events []rundir.FaultEvent `json:"events"`
	}
	err := a.do(ctx, http.MethodGet, simBase(base)+"/_sim/events?since="+strconv.FormatInt(since, 10), nil, &r)
	return r.Events, err
}

// reset empties a simulator's books back to the world.
func (a *admin) reset(ctx context.Context, base string) error {
	return a.do(ctx, http.MethodPost, simBase(base)+"/_sim/reset", []byte("{}"), nil)
}

// export downloads a simulator's books snapshot to path.
func (a *admin) export(ctx context.Context, base, path string) (err error) {
	u := simBase(base) + "/_sim/export"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	hc := *a.hc
	hc.Timeout = 0 // a large book takes a while; ctx bounds it
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("export books: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("export books: GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(b)))
	}
	tmp := path + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("export books: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("export books: GET %s: %w", u, err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("export books: %w", err)
	}
	return os.Rename(tmp, path)
}

// syncStatus reads the connector's backlog.
func (a *admin) syncStatus(ctx context.Context, connector string) (contract.SyncStatus, error) {
	var st contract.SyncStatus
	err := a.do(ctx, http.MethodGet, strings.TrimRight(connector, "/")+contract.PathSyncStatus, nil, &st)
	return st, err
}

// connectorVersion reads a version from the connector's health answer, when it gives one.
func (a *admin) connectorVersion(ctx context.Context, connector string) string {
	var h map[string]any
	if err := a.do(ctx, http.MethodGet, strings.TrimRight(connector, "/")+contract.PathHealth, nil, &h); err != nil {
		return ""
	}
	if v, ok := h["version"].(string); ok {
		return v
	}
	return ""
}

// waitReady polls u until it answers 2xx, ctx ends or timeout passes; the error says
// what the last attempt got.
func (a *admin) waitReady(ctx context.Context, what, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 20 * time.Millisecond
	var last error
	for {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		last = a.do(rctx, http.MethodGet, u, nil, nil)
		rcancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s was not ready within %s: %w", what, timeout, last)
			}
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// checkURL checks a base URL given on the command line.
func checkURL(flag, u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%s: want an http(s) base URL like http://127.0.0.1:8088, got %q", flag, u)
	}
	return nil
}

// faultRuleOf reads a rule of GET /_sim/faults: the rule with its counts.
func faultRuleOf(target string, raw json.RawMessage) (rundir.FaultRule, error) {
	var head struct {
		Name     string `json:"name"`
		Matched  int64  `json:"matched"`
		Injected int64  `json:"injected"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return rundir.FaultRule{}, fmt.Errorf("a %s rule: %w", target, err)
	}
	return rundir.FaultRule{Target: target, Name: head.Name, Profile: strings.HasPrefix(head.Name, ProfileRulePrefix),
		Rule: raw, Matched: head.Matched, Injected: head.Injected}, nil
}
