package tba

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dghubble/oauth1"
)

var testCred = Credential{
	AccountID:      "1234567_SB1",
	ConsumerKey:    "ck_0123456789abcdef",
	ConsumerSecret: "cs/with+odd&chars=",
	TokenID:        "tk_fedcba9876543210",
	TokenSecret:    "ts secret~!",
}

// fixedClock is a settable clock for the verifier.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fixedClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// server answers 200 with the body it read after Verify, or 401 with the
// refusal reason in X-Reason.
func server(t *testing.T, v *Verifier) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.Verify(r); err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Errorf("Verify returned %T, want *tba.Error", err)
			}
			w.Header().Set("WWW-Authenticate", WWWAuthenticate(te.Realm))
			w.Header().Set("X-Reason", te.Reason)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, err.Error())
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// roundTripFunc lets a test change a request after it was signed.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// client signs with dghubble/oauth1's HMAC-SHA256 signer; tamper (may be
// nil) sees each signed request before it is sent.
func client(srv *httptest.Server, cred Credential, realm string, signer oauth1.Signer, tamper func(*http.Request)) *http.Client {
	base := srv.Client().Transport
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if tamper != nil {
			tamper(r)
		}
		return base.RoundTrip(r)
	})
	ctx := context.WithValue(context.Background(), oauth1.HTTPClient, &http.Client{Transport: rt})
	if signer == nil {
		signer = &oauth1.HMAC256Signer{ConsumerSecret: cred.ConsumerSecret}
	}
	cfg := &oauth1.Config{ConsumerKey: cred.ConsumerKey, ConsumerSecret: cred.ConsumerSecret, Realm: realm, Signer: signer}
	return cfg.Client(ctx, oauth1.NewToken(cred.TokenID, cred.TokenSecret))
}

type call struct {
	method, path, contentType, body string
}

func (c call) do(t *testing.T, hc *http.Client, srv *httptest.Server) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, resp.Header.Get("X-Reason"), resp.Header
	}
	return resp.StatusCode, string(b), resp.Header
}

var (
	getWithQuery = call{method: "GET", path: "/services/rest/record/v1/cashSale?limit=10&offset=0&q=" + url.QueryEscape(`externalId IS "POS-1 2"`)}
	postJSON     = call{method: "POST", path: "/services/rest/record/v1/cashSale", contentType: "application/json", body: `{"externalId":"POS-1","item":{"items":[]}}`}
	postForm     = call{method: "POST", path: "/services/rest/query/v1/suiteql?limit=5", contentType: "application/x-www-form-urlencoded", body: "a=1&b=two+words&c=%E2%9C%93&d="} // no repeated key: dghubble signs only the first value
	pathEscapes  = call{method: "PATCH", path: "/services/rest/record/v1/customer/eid:A-1%20x", contentType: "application/json", body: `{}`}
)

func TestDghubbleSignedRequestsAccepted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		call  call
		realm string
	}{
		{"GET with query parameters", getWithQuery, "1234567_SB1"},
		{"POST JSON body (not signed)", postJSON, "1234567_SB1"},
		{"POST form body (signed)", postForm, "1234567_SB1"},
		{"PATCH with escaped path", pathEscapes, "1234567_SB1"},
		{"realm in lower case", getWithQuery, "1234567_sb1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := server(t, NewVerifier([]Credential{testCred}))
			status, body, _ := tc.call.do(t, client(srv, testCred, tc.realm, nil, nil), srv)
			if status != http.StatusOK {
				t.Fatalf("status %d reason %q, want 200", status, body)
			}
			if body != tc.call.body {
				t.Errorf("handler read body %q, want %q (body not restored)", body, tc.call.body)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	other := testCred
	other.TokenID = "tk_other"
	other.TokenSecret = "other secret"
	wrongSecret := testCred
	wrongSecret.TokenSecret = "guessed"
	unknownConsumer := testCred
	unknownConsumer.ConsumerKey = "ck_nobody"
	unknownToken := testCred
	unknownToken.TokenID = "tk_nobody"

	setQuery := func(q string) func(*http.Request) { return func(r *http.Request) { r.URL.RawQuery = q } }
	for _, tc := range []struct {
		name   string
		call   call
		cred   Credential
		realm  string
		signer oauth1.Signer
		tamper func(*http.Request)
		reason string
	}{
		{name: "query value changed", call: getWithQuery, tamper: setQuery("limit=1000&offset=0"), reason: ReasonBadSignature},
		{name: "query parameter added", call: getWithQuery, tamper: func(r *http.Request) { r.URL.RawQuery += "&expandSubResources=true" }, reason: ReasonBadSignature},
		{name: "path changed", call: postJSON, tamper: func(r *http.Request) { r.URL.Path = "/services/rest/record/v1/cashRefund" }, reason: ReasonBadSignature},
		{name: "method changed", call: postJSON, tamper: func(r *http.Request) { r.Method = "PUT" }, reason: ReasonBadSignature},
		{name: "form body changed", call: postForm, tamper: func(r *http.Request) {
			b := "a=1&b=two+words&c=%E2%9C%93&d=9"
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(b)), int64(len(b))
		}, reason: ReasonBadSignature},
		{name: "host changed", call: getWithQuery, tamper: func(r *http.Request) { r.Host = "evil.example" }, reason: ReasonBadSignature},
		{name: "signature garbled", call: getWithQuery, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), `oauth_signature="`, `oauth_signature="!!`, 1))
		}, reason: ReasonBadSignature},
		{name: "wrong token secret", call: getWithQuery, cred: wrongSecret, reason: ReasonBadSignature},
		{name: "token of another consumer's secret", call: getWithQuery, cred: other, reason: ReasonUnknownToken},
		{name: "unknown consumer key", call: getWithQuery, cred: unknownConsumer, reason: ReasonUnknownConsumer},
		{name: "unknown token", call: getWithQuery, cred: unknownToken, reason: ReasonUnknownToken},
		{name: "wrong realm", call: getWithQuery, realm: "7654321", reason: ReasonWrongRealm},
		{name: "realm missing", call: getWithQuery, realm: "-", reason: ReasonWrongRealm},
		{name: "HMAC-SHA1", call: getWithQuery, signer: &oauth1.HMACSigner{ConsumerSecret: testCred.ConsumerSecret}, reason: ReasonBadMethod},
		{name: "no Authorization header", call: getWithQuery, tamper: func(r *http.Request) { r.Header.Del("Authorization") }, reason: ReasonMissingHeader},
		{name: "bearer token", call: getWithQuery, tamper: func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, reason: ReasonMalformedHeader},
		{name: "nonce missing", call: getWithQuery, tamper: func(r *http.Request) {
			h := r.Header.Get("Authorization")
			i := strings.Index(h, "oauth_nonce=")
			j := strings.Index(h[i:], ", ")
			r.Header.Set("Authorization", h[:i]+h[i+j+2:])
		}, reason: ReasonMalformedHeader},
		{name: "version 2.0", call: getWithQuery, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), `oauth_version="1.0"`, `oauth_version="2.0"`, 1))
		}, reason: ReasonBadVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cred, realm := tc.cred, tc.realm
			if cred.ConsumerKey == "" {
				cred = testCred
			}
			switch realm {
			case "":
				realm = testCred.AccountID
			case "-":
				realm = ""
			}
			srv := server(t, NewVerifier([]Credential{testCred, {AccountID: "1234567_SB1", ConsumerKey: "ck_2", ConsumerSecret: "x", TokenID: "tk_other", TokenSecret: "y"}}))
			status, reason, hdr := tc.call.do(t, client(srv, cred, realm, tc.signer, tc.tamper), srv)
			if status != http.StatusUnauthorized || reason != tc.reason {
				t.Fatalf("got %d %q, want 401 %q", status, reason, tc.reason)
			}
			if realm != "" && tc.reason != ReasonMissingHeader && tc.reason != ReasonMalformedHeader && hdr.Get("WWW-Authenticate") != WWWAuthenticate(realm) {
				t.Errorf("WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestTimestampSkewAndNonceReplay(t *testing.T) {
	clock := &fixedClock{t: time.Now()}
	srv := server(t, NewVerifier([]Credential{testCred}, WithClock(clock.Now), WithSkew(5*time.Minute)))

	var signed http.Header
	capture := func(r *http.Request) { signed = r.Header.Clone() }
	send := func() (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+getWithQuery.path, nil)
		req.Header = signed.Clone()
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Reason")
	}
	if status, reason, _ := getWithQuery.do(t, client(srv, testCred, testCred.AccountID, nil, capture), srv); status != 200 {
		t.Fatalf("first use: %d %s", status, reason)
	}
	signedAt := clock.Now()

	steps := []struct {
		name   string
		clock  time.Duration // server clock relative to signing time
		status int
		reason string
	}{
		{"replayed at once", 0, 401, ReasonReplayedNonce},
		{"replayed 4 minutes later", 4 * time.Minute, 401, ReasonReplayedNonce},
		{"replayed after the skew: stale", 6 * time.Minute, 401, ReasonStaleTimestamp},
		{"client clock 6 minutes ahead: future", -6 * time.Minute, 401, ReasonStaleTimestamp},
	}
	for _, s := range steps {
		clock.Set(signedAt.Add(s.clock))
		if status, reason := send(); status != s.status || reason != s.reason {
			t.Errorf("%s: got %d %q, want %d %q", s.name, status, reason, s.status, s.reason)
		}
	}

	// A fresh request signed 4 minutes "in the past" and 4 in the future of the server clock is fine.
	for _, off := range []time.Duration{4 * time.Minute, -4 * time.Minute} {
		clock.Set(time.Now().Add(off))
		if status, reason, _ := getWithQuery.do(t, client(srv, testCred, testCred.AccountID, nil, nil), srv); status != 200 {
			t.Errorf("clock offset %s: %d %s", off, status, reason)
		}
	}
}

func TestNonceMemoryIsBounded(t *testing.T) {
	clock := &fixedClock{t: time.Unix(1_700_000_000, 0)}
	v := NewVerifier(nil, WithClock(clock.Now), WithNonceWindow(time.Minute), WithMaxNonces(100))
	for i := range 1000 {
		if !v.useNonce(testCred, strings.Repeat("n", i%7)+string(rune('a'+i%26))+time.Duration(i).String(), clock.Now()) {
			t.Fatalf("nonce %d reported as replayed", i)
		}
		if len(v.nonces) > 100 || len(v.expiry) > 100 {
			t.Fatalf("after %d nonces: %d remembered, want ≤ 100", i+1, len(v.nonces))
		}
	}
	if !v.useNonce(testCred, "x", clock.Now()) || v.useNonce(testCred, "x", clock.Now()) {
		t.Fatal("fresh nonce refused or replay accepted")
	}
	clock.Set(clock.Now().Add(time.Minute + time.Second))
	if !v.useNonce(testCred, "y", clock.Now()) {
		t.Fatal("nonce refused")
	}
	if len(v.nonces) != 1 {
		t.Errorf("after the window: %d nonces remembered, want 1 (expired ones forgotten)", len(v.nonces))
	}
	if !v.useNonce(testCred, "x", clock.Now()) {
		t.Error("nonce remembered past its window")
	}
}

// TestProxyScheme: a client signs https://host/...; a TLS-terminating proxy
// forwards plain HTTP with X-Forwarded-Proto.
func TestProxyScheme(t *testing.T) {
	srv := server(t, NewVerifier([]Credential{testCred}))
	plain := srv.URL
	for _, tc := range []struct {
		name   string
		header string
		status int
	}{
		{"forwarded proto https", "https", 200},
		{"no forwarded proto", "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := func(r *http.Request) {
				u, _ := url.Parse(plain)
				r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, "acct.suitetalk.example:443"
				if tc.header != "" {
					r.Header.Set("X-Forwarded-Proto", tc.header)
				}
			}
			hc := client(srv, testCred, testCred.AccountID, nil, proxy)
			resp, err := hc.Get("https://ACCT.suitetalk.example/services/rest/record/v1/item?limit=1")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d (%s), want %d", resp.StatusCode, resp.Header.Get("X-Reason"), tc.status)
			}
		})
	}
}

// TestBaseString pins the base string for a hand-built request, including a
// repeated query parameter (sorted by value) and the default port dropped.
func TestBaseString(t *testing.T) {
	r := httptest.NewRequest("POST", "http://Example.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b", strings.NewReader("c2&a3=2+q"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	got, err := signatureBase(r, map[string]string{
		"realm": "Example", "oauth_consumer_key": "9djdj82h48djs9d2", "oauth_token": "kkk9d7dh3k39sjv7",
		"oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": "137131201", "oauth_nonce": "7d8f3e4a",
		"oauth_signature": "ignored",
	})
	if err != nil {
		t.Fatal(err)
	}
	// RFC 5849 §3.4.1.1's example, with HMAC-SHA256 as the method.
	want := "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
	if got != want {
		t.Errorf("base string\n got %s\nwant %s", got, want)
	}
	if b, _ := io.ReadAll(r.Body); !bytes.Equal(b, []byte("c2&a3=2+q")) {
		t.Errorf("body not restored: %q", b)
	}
}

func TestParseAuthorization(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want map[string]string // nil: error
	}{
		{"typical", `OAuth realm="123", oauth_nonce="a%2Bb", oauth_signature="x%3D"`, map[string]string{"realm": "123", "oauth_nonce": "a+b", "oauth_signature": "x="}},
		{"scheme case and no spaces", `oauth a="1",b="2"`, map[string]string{"a": "1", "b": "2"}},
		{"unquoted and spaced", `OAuth  a = 1 , b="" `, map[string]string{"a": "1", "b": ""}},
		{"no parameters", `OAuth`, map[string]string{}},
		{"other scheme", `Basic abc`, nil},
		{"repeated parameter", `OAuth a="1", a="2"`, nil},
		{"unterminated quote", `OAuth a="1`, nil},
		{"no value", `OAuth a, b="1"`, nil},
		{"junk after value", `OAuth a="1"x`, nil},
		{"bad escape", `OAuth a="%zz"`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAuthorization(tc.in)
			if tc.want == nil {
				var te *Error
				if !errors.As(err, &te) || te.Reason != ReasonMalformedHeader {
					t.Fatalf("err = %v, want malformed_header", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestNilClockKeepsDefault(t *testing.T) {
	srv := server(t, NewVerifier([]Credential{testCred}, WithClock(nil)))
	if status, reason, _ := getWithQuery.do(t, client(srv, testCred, testCred.AccountID, nil, nil), srv); status != 200 {
		t.Fatalf("%d %s", status, reason)
	}
}

func TestWWWAuthenticate(t *testing.T) {
	want := `OAuth realm="1234567_SB1", error="token_rejected", error_description="Invalid login attempt."`
	if got := WWWAuthenticate("1234567_sb1"); got != want {
		t.Errorf("got %s", got)
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		`OAuth realm="123", oauth_consumer_key="k", oauth_nonce="n", oauth_signature="s%3D"`,
		`OAuth a=1,b="2"`, `OAuth a="`, `oauth`, `Bearer x`, `OAuth ,,, a = "%E2%9C%93"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		params, err := ParseAuthorization(h)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || te.Reason != ReasonMalformedHeader {
				t.Fatalf("error %v is not a malformed_header *Error", err)
			}
			return
		}
		for k := range params {
			if k == "" {
				t.Fatal("empty parameter name accepted")
			}
		}
		// A request carrying it never panics the verifier either.
		r := httptest.NewRequest("GET", "/x?y=1", nil)
		r.Header.Set("Authorization", h)
		if err := NewVerifier([]Credential{testCred}).Verify(r); err == nil {
			t.Fatal("fuzzed header accepted")
		}
	})
}

// TestConcurrentRequests: many clients at once are all accepted once, and
// every replay is refused (run with -race).
func TestConcurrentRequests(t *testing.T) {
	v := NewVerifier([]Credential{testCred})
	srv := server(t, v)
	const workers, each = 8, 10
	var (
		mu      sync.Mutex
		headers []http.Header
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := client(srv, testCred, testCred.AccountID, nil, func(r *http.Request) {
				mu.Lock()
				headers = append(headers, r.Header.Clone())
				mu.Unlock()
			})
			for range each {
				resp, err := hc.Get(srv.URL + "/services/rest/record/v1/item?limit=1")
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status %d (%s)", resp.StatusCode, resp.Header.Get("X-Reason"))
				}
			}
		}()
	}
	wg.Wait()
	if len(headers) != workers*each {
		t.Fatalf("%d requests signed, want %d", len(headers), workers*each)
	}
	for _, h := range headers {
		req, _ := http.NewRequest("GET", srv.URL+"/services/rest/record/v1/item?limit=1", nil)
		req.Header = h
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Reason") != ReasonReplayedNonce {
			t.Fatalf("replay: status %d reason %q", resp.StatusCode, resp.Header.Get("X-Reason"))
		}
	}
}
