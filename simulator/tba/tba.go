// Package tba verifies NetSuite token-based authentication (TBA): OAuth 1.0a
// Authorization headers signed with HMAC-SHA256, checked the way NetSuite's
// REST web services check them.
//
//	Authorization: OAuth realm="1234567", oauth_consumer_key="…", oauth_token="…",
//	    oauth_signature_method="HMAC-SHA256", oauth_timestamp="…", oauth_nonce="…",
//	    oauth_version="1.0", oauth_signature="…"
//
// The signature base string follows RFC 5849 §3.4.1: the method, the base
// URL (scheme and host lower-case, default port dropped, no query) and the
// sorted, percent-encoded parameters from the header (without realm and
// oauth_signature), the query string and an application/x-www-form-urlencoded
// body. The key is consumerSecret&tokenSecret. HMAC-SHA1 is refused, the
// realm must name the token's account, the timestamp must be within the skew
// of the clock and a nonce is accepted once within the nonce window.
package tba

import (
	"bytes"
	"container/heap"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credential is one integration's token: the account (the OAuth realm), the
// integration record's consumer key and secret, and the access token.
type Credential struct {
	AccountID      string // e.g. "1234567" or "1234567_SB1"; the realm, compared case-insensitively
	ConsumerKey    string
	ConsumerSecret string
	TokenID        string
	TokenSecret    string
}

// Reasons a request is refused; Error.Reason holds one of them.
const (
	ReasonMissingHeader   = "missing_header"               // no Authorization header
	ReasonMalformedHeader = "malformed_header"             // not an OAuth header, or a parameter missing or repeated
	ReasonBadMethod       = "unsupported_signature_method" // anything but HMAC-SHA256
	ReasonBadVersion      = "unsupported_version"          // oauth_version other than 1.0
	ReasonUnknownConsumer = "unknown_consumer"             // no integration with that consumer key
	ReasonUnknownToken    = "unknown_token"                // no such token for that consumer
	ReasonWrongRealm      = "wrong_realm"                  // realm missing or not the token's account
	ReasonStaleTimestamp  = "stale_timestamp"              // oauth_timestamp outside the skew, or not a number
	ReasonBadSignature    = "bad_signature"                // signature does not match
	ReasonReplayedNonce   = "replayed_nonce"               // nonce already used within the window
	ReasonBadRequest      = "unreadable_request"           // query or form body cannot be parsed
)

// Defaults of a Verifier.
const (
	DefaultSkew      = 5 * time.Minute
	DefaultMaxNonces = 1 << 20 // remembered nonces; the oldest is forgotten beyond this
	maxFormBody      = 10 << 20
	maxHeaderLen     = 8 << 10
)

// Error says why a request was refused. The HTTP layer answers every Error
// with 401 INVALID_LOGIN; Reason, Detail and BaseString are for the server's
// log, never for the client.
type Error struct {
	Reason     string // one of the Reason constants
	Detail     string // human-readable detail
	Realm      string // the realm the request claimed, if any
	BaseString string // the signature base string the server computed (bad_signature only)
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "tba: " + e.Reason
	}
	return "tba: " + e.Reason + ": " + e.Detail
}

// WWWAuthenticate returns the WWW-Authenticate header value NetSuite sends
// with a 401, e.g.
//
//	OAuth realm="1234567", error="token_rejected", error_description="Invalid login attempt."
func WWWAuthenticate(realm string) string {
	return `OAuth realm="` + strings.ToUpper(realm) + `", error="token_rejected", error_description="Invalid login attempt."`
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithClock sets the clock timestamps are checked against (default
// time.Now; nil keeps the default).
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) {
		if now != nil {
			v.now = now
		}
	}
}

// WithSkew sets how far oauth_timestamp may be from the clock, either way
// (default 5 minutes).
func WithSkew(d time.Duration) Option { return func(v *Verifier) { v.skew = d } }

// WithNonceWindow sets how long a nonce is remembered after its first use
// (default twice the skew, which covers every timestamp still accepted; a
// shorter window lets a request be replayed once it has passed).
func WithNonceWindow(d time.Duration) Option { return func(v *Verifier) { v.window = d } }

// WithMaxNonces bounds how many nonces are remembered (default
// DefaultMaxNonces); beyond it the oldest is forgotten first.
func WithMaxNonces(n int) Option { return func(v *Verifier) { v.maxNonces = n } }

// Verifier checks signed requests against a fixed set of credentials. It is
// safe for concurrent use.
type Verifier struct {
	now       func() time.Time
	skew      time.Duration
	window    time.Duration
	maxNonces int
	creds     map[string]map[string]Credential // consumer key → token id → credential

	mu     sync.Mutex
	nonces map[nonceKey]int64 // → expiry, unix nanoseconds
	expiry nonceHeap
}

// NewVerifier returns a Verifier accepting the given credentials.
func NewVerifier(creds []Credential, opts ...Option) *Verifier {
	v := &Verifier{
		now:       time.Now,
		skew:      DefaultSkew,
		maxNonces: DefaultMaxNonces,
		creds:     make(map[string]map[string]Credential),
		nonces:    make(map[nonceKey]int64),
	}
	for _, o := range opts {
		o(v)
	}
	if v.window <= 0 {
		v.window = 2 * v.skew
	}
	if v.maxNonces <= 0 {
		v.maxNonces = DefaultMaxNonces
	}
	for _, c := range creds {
		if v.creds[c.ConsumerKey] == nil {
			v.creds[c.ConsumerKey] = make(map[string]Credential)
		}
		v.creds[c.ConsumerKey][c.TokenID] = c
	}
	return v
}

// Verify returns nil if r carries a valid TBA signature, else an *Error. If
// the body is form-encoded it is read and put back for the handler.
func (v *Verifier) Verify(r *http.Request) error {
	_, err := v.Authenticate(r)
	return err
}

// Authenticate is Verify returning the credential the request was signed with.
func (v *Verifier) Authenticate(r *http.Request) (Credential, error) {
	hs := r.Header.Values("Authorization")
	if len(hs) == 0 || strings.TrimSpace(hs[0]) == "" {
		return Credential{}, &Error{Reason: ReasonMissingHeader, Detail: "no Authorization header"}
	}
	if len(hs) > 1 {
		return Credential{}, &Error{Reason: ReasonMalformedHeader, Detail: "more than one Authorization header"}
	}
	params, err := ParseAuthorization(hs[0])
	if err != nil {
		return Credential{}, err
	}
	realm := params["realm"]
	fail := func(reason, format string, args ...any) (Credential, error) {
		return Credential{}, &Error{Reason: reason, Detail: fmt.Sprintf(format, args...), Realm: realm}
	}
	for _, name := range []string{"oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp", "oauth_nonce", "oauth_signature"} {
		if params[name] == "" {
			return fail(ReasonMalformedHeader, "%s is missing", name)
		}
	}
	if m := params["oauth_signature_method"]; m != "HMAC-SHA256" {
		return fail(ReasonBadMethod, "oauth_signature_method %q is not accepted, use HMAC-SHA256", m)
	}
	if ver, ok := params["oauth_version"]; ok && ver != "1.0" {
		return fail(ReasonBadVersion, "oauth_version %q is not 1.0", ver)
	}
	tokens, ok := v.creds[params["oauth_consumer_key"]]
	if !ok {
		return fail(ReasonUnknownConsumer, "unknown consumer key %q", params["oauth_consumer_key"])
	}
	cred, ok := tokens[params["oauth_token"]]
	if !ok {
		return fail(ReasonUnknownToken, "unknown token %q for this consumer key", params["oauth_token"])
	}
	if realm == "" {
		return fail(ReasonWrongRealm, "realm is missing, expected %q", strings.ToUpper(cred.AccountID))
	}
	if !strings.EqualFold(realm, cred.AccountID) {
		return fail(ReasonWrongRealm, "realm %q is not the token's account %q", realm, strings.ToUpper(cred.AccountID))
	}
	now := v.now()
	ts, ok := parseTimestamp(params["oauth_timestamp"])
	if !ok {
		return fail(ReasonStaleTimestamp, "oauth_timestamp %q is not a number of seconds", params["oauth_timestamp"])
	}
	if d := time.Unix(ts, 0).Sub(now); d > v.skew || d < -v.skew {
		when := "behind"
		if d > 0 {
			when = "ahead of"
		}
		return fail(ReasonStaleTimestamp, "oauth_timestamp is %s %s the server clock (allowed ±%s)", d.Abs().Truncate(time.Second), when, v.skew)
	}
	base, err := signatureBase(r, params)
	if err != nil {
		return fail(ReasonBadRequest, "%v", err)
	}
	got, err := base64.StdEncoding.DecodeString(params["oauth_signature"])
	if err != nil {
		return fail(ReasonBadSignature, "oauth_signature is not base64")
	}
	mac := hmac.New(sha256.New, []byte(percentEncode(cred.ConsumerSecret)+"&"+percentEncode(cred.TokenSecret)))
	mac.Write([]byte(base))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return Credential{}, &Error{Reason: ReasonBadSignature, Detail: "signature does not match", Realm: realm, BaseString: base}
	}
	if !v.useNonce(cred, params["oauth_nonce"], now) {
		return fail(ReasonReplayedNonce, "nonce %q was already used", params["oauth_nonce"])
	}
	return cred, nil
}

func parseTimestamp(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ParseAuthorization parses an `OAuth k="v", …` header value into its
// percent-decoded parameters. Errors are *Error with ReasonMalformedHeader.
func ParseAuthorization(h string) (map[string]string, error) {
	bad := func(format string, args ...any) (map[string]string, error) {
		return nil, &Error{Reason: ReasonMalformedHeader, Detail: fmt.Sprintf(format, args...)}
	}
	if len(h) > maxHeaderLen {
		return bad("Authorization header is longer than %d bytes", maxHeaderLen)
	}
	s := strings.TrimLeft(h, " \t")
	scheme, rest, _ := strings.Cut(s, " ")
	if !strings.EqualFold(scheme, "OAuth") {
		return bad("Authorization scheme is not OAuth")
	}
	params := make(map[string]string)
	i := 0
	for {
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == ',') {
			i++
		}
		if i >= len(rest) {
			break
		}
		start := i
		for i < len(rest) && rest[i] != '=' && rest[i] != ',' && rest[i] != ' ' && rest[i] != '\t' {
			i++
		}
		rawKey := rest[start:i]
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
			i++
		}
		if i >= len(rest) || rest[i] != '=' {
			return bad("parameter %q has no value", rawKey)
		}
		i++
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
			i++
		}
		var rawVal string
		if i < len(rest) && rest[i] == '"' {
			end := strings.IndexByte(rest[i+1:], '"')
			if end < 0 {
				return bad("parameter %q has an unterminated quoted value", rawKey)
			}
			rawVal = rest[i+1 : i+1+end]
			i += end + 2
		} else {
			start := i
			for i < len(rest) && rest[i] != ',' && rest[i] != ' ' && rest[i] != '\t' {
				i++
			}
			rawVal = rest[start:i]
		}
		if i < len(rest) && rest[i] != ',' && rest[i] != ' ' && rest[i] != '\t' {
			return bad("unexpected %q after parameter %q", rest[i], rawKey)
		}
		key, err := url.PathUnescape(rawKey)
		if err != nil || key == "" {
			return bad("parameter name %q is not valid", rawKey)
		}
		val, err := url.PathUnescape(rawVal)
		if err != nil {
			return bad("parameter %q has a badly percent-encoded value", key)
		}
		if _, dup := params[key]; dup {
			return bad("parameter %q is repeated", key)
		}
		params[key] = val
	}
	return params, nil
}

// signatureBase builds the RFC 5849 §3.4.1 signature base string of r. A
// form-encoded body is read and restored.
func signatureBase(r *http.Request, oauth map[string]string) (string, error) {
	type pair struct{ k, v string }
	var pairs []pair
	add := func(k, v string) {
		if k == "oauth_signature" {
			return
		}
		pairs = append(pairs, pair{percentEncode(k), percentEncode(v)})
	}
	for k, v := range oauth {
		if k != "realm" {
			add(k, v)
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", fmt.Errorf("query string: %w", err)
	}
	for k, vs := range q {
		for _, v := range vs {
			add(k, v)
		}
	}
	if r.Body != nil && r.Body != http.NoBody {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "application/x-www-form-urlencoded" {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody+1))
			r.Body = io.NopCloser(bytes.NewReader(b))
			if err != nil {
				return "", fmt.Errorf("reading form body: %w", err)
			}
			if len(b) > maxFormBody {
				return "", fmt.Errorf("form body is larger than %d bytes", maxFormBody)
			}
			form, err := url.ParseQuery(string(b))
			if err != nil {
				return "", fmt.Errorf("form body: %w", err)
			}
			for k, vs := range form {
				for _, v := range vs {
					add(k, v)
				}
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var norm strings.Builder
	for i, p := range pairs {
		if i > 0 {
			norm.WriteByte('&')
		}
		norm.WriteString(p.k)
		norm.WriteByte('=')
		norm.WriteString(p.v)
	}
	return strings.ToUpper(r.Method) + "&" + percentEncode(baseURL(r)) + "&" + percentEncode(norm.String()), nil
}

// baseURL is the base string URI (RFC 5849 §3.4.1.2) of the URL the client
// addressed: scheme from TLS or X-Forwarded-Proto, host from the Host header.
func baseURL(r *http.Request) string {
	scheme := "http"
	switch {
	case r.TLS != nil:
		scheme = "https"
	case r.Header.Get("X-Forwarded-Proto") != "":
		p, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
		if p = strings.ToLower(strings.TrimSpace(p)); p == "https" || p == "http" {
			scheme = p
		}
	case r.URL.Scheme != "":
		scheme = strings.ToLower(r.URL.Scheme)
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	host = strings.ToLower(host)
	if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	} else if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	}
	path := ""
	if uri := r.RequestURI; strings.HasPrefix(uri, "/") {
		path, _, _ = strings.Cut(uri, "?")
	} else {
		path = r.URL.EscapedPath()
	}
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// percentEncode encodes s as RFC 5849 §3.6 asks: every byte but the RFC 3986
// unreserved characters as %XX with upper-case hex digits.
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// nonceKey identifies a nonce of one token without keeping the strings.
type nonceKey [16]byte

type nonceEntry struct {
	key nonceKey
	exp int64
}

// nonceHeap orders remembered nonces by expiry, soonest first.
type nonceHeap []nonceEntry

func (h nonceHeap) Len() int           { return len(h) }
func (h nonceHeap) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h nonceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nonceHeap) Push(x any)        { *h = append(*h, x.(nonceEntry)) }
func (h *nonceHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// useNonce records the nonce and reports whether it was fresh. Expired
// nonces are forgotten first; beyond maxNonces the soonest to expire goes.
func (v *Verifier) useNonce(c Credential, nonce string, now time.Time) bool {
	sum := sha256.Sum256([]byte(c.ConsumerKey + "\x00" + c.TokenID + "\x00" + nonce))
	var key nonceKey
	copy(key[:], sum[:])
	t := now.UnixNano()

	v.mu.Lock()
	defer v.mu.Unlock()
	for len(v.expiry) > 0 && (v.expiry[0].exp <= t || len(v.expiry) >= v.maxNonces) {
		e := heap.Pop(&v.expiry).(nonceEntry)
		if v.nonces[e.key] == e.exp {
			delete(v.nonces, e.key)
		}
	}
	if exp, seen := v.nonces[key]; seen && exp > t {
		return false
	}
	exp := t + int64(v.window)
	v.nonces[key] = exp
	heap.Push(&v.expiry, nonceEntry{key: key, exp: exp})
	return true
}
