// Package netsuite is a small NetSuite REST web services client, the one the reference
// connector posts with: record upserts by external id and creates, SuiteQL queries with
// paging, and the account's governance limits. Every request is signed with token-based
// authentication (OAuth 1.0a, HMAC-SHA256, realm = account id).
//
// It is a plain HTTP client like any connector's: it knows NetSuite's wire format, not
// Doorbuster's simulator.
package netsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/dghubble/oauth1"
)

// Credentials are the token-based-authentication keys of an integration.
type Credentials struct {
	AccountID      string // also the OAuth realm, e.g. "1234567" or "1234567_SB1"
	ConsumerKey    string
	ConsumerSecret string
	TokenID        string
	TokenSecret    string
}

// Client talks to one NetSuite account. It is safe for concurrent use.
type Client struct {
	base *url.URL // …/services/rest
	http *http.Client
}

// maxBody bounds how much of a reply is read.
const maxBody = 64 << 20

// New returns a client for the REST API at baseURL (the account's
// "https://<account>.suitetalk.api.netsuite.com" root, with or without
// "/services/rest"), signing with creds. hc supplies the transport and timeout; nil
// means http.DefaultClient.
func New(baseURL string, creds Credentials, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("netsuite: base URL %q is not an absolute URL", baseURL)
	}
	if !strings.HasSuffix(u.Path, "/services/rest") {
		u.Path += "/services/rest"
	}
	for name, v := range map[string]string{"account id": creds.AccountID, "consumer key": creds.ConsumerKey,
		"consumer secret": creds.ConsumerSecret, "token id": creds.TokenID, "token secret": creds.TokenSecret} {
		if v == "" {
			return nil, fmt.Errorf("netsuite: the %s is empty", name)
		}
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	cfg := &oauth1.Config{
		ConsumerKey:    creds.ConsumerKey,
		ConsumerSecret: creds.ConsumerSecret,
		Realm:          creds.AccountID,
		Signer:         &oauth1.HMAC256Signer{ConsumerSecret: creds.ConsumerSecret},
		Noncer:         oauth1.HexNoncer{},
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	signed := oauth1.NewClient(context.WithValue(context.Background(), oauth1.HTTPClient, &http.Client{Transport: base}),
		cfg, oauth1.NewToken(creds.TokenID, creds.TokenSecret))
	signed.Timeout = hc.Timeout
	signed.CheckRedirect = hc.CheckRedirect
	return &Client{base: u, http: signed}, nil
}

// Error is a reply outside 2xx, in NetSuite's error shape when the server sent one.
type Error struct {
	Method, URL string
	Status      int
	Code        string // the first o:errorCode, e.g. "CONCURRENCY_LIMIT_EXCEEDED"
	Detail      string // the first detail
	ErrorPath   string // the first o:errorPath
	Body        []byte // the reply as received
	RetryAfter  time.Duration
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("netsuite: %s %s: %d", e.Method, e.URL, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.ErrorPath != "" {
		msg += " (at " + e.ErrorPath + ")"
	}
	if e.Code == "" && e.Detail == "" && len(e.Body) > 0 {
		msg += ": " + truncate(string(e.Body), 300)
	}
	return msg
}

// MalformedError is a 2xx reply whose body could not be read as expected.
type MalformedError struct {
	Method, URL string
	Err         error
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("netsuite: %s %s: malformed reply: %v", e.Method, e.URL, e.Err)
}
func (e *MalformedError) Unwrap() error { return e.Err }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type errorBody struct {
	Title   string `json:"title"`
	Status  int    `json:"status"`
	Details []struct {
		Detail    string `json:"detail"`
		Code      string `json:"o:errorCode"`
		ErrorPath string `json:"o:errorPath"`
	} `json:"o:errorDetails"`
}

// do sends one request and returns the reply for a 2xx; anything else is an *Error.
func (c *Client) do(ctx context.Context, method, rel string, query url.Values, body any, hdr http.Header) (*http.Response, []byte, error) {
	u := *c.base
	u.Path = path.Join(c.base.Path, rel)
	// Keep "eid:" literal: the colon is allowed in a path segment.
	u.RawPath = ""
	if query != nil {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, fmt.Errorf("netsuite: encode %s %s: %w", method, rel, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, nil, fmt.Errorf("netsuite: %s %s: %w", method, rel, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("netsuite: %s %s: %w", method, u.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("netsuite: %s %s: read reply: %w", method, u.Path, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, b, nil
	}
	e := &Error{Method: method, URL: u.Path, Status: resp.StatusCode, Body: b, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var eb errorBody
	if json.Unmarshal(b, &eb) == nil && len(eb.Details) > 0 {
		e.Code, e.Detail, e.ErrorPath = eb.Details[0].Code, eb.Details[0].Detail, eb.Details[0].ErrorPath
	}
	return nil, nil, e
}

// retryAfter reads a Retry-After header: seconds or an HTTP date. Zero when absent.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// ValidExternalID reports whether s can be used as a NetSuite external id in a URL
// (letters, digits, '_' and '-').
func ValidExternalID(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Upsert creates or updates the record of recordType with the external id (PUT
// record/v1/{type}/eid:{externalID}) and returns its internal id as read from the
// Location header ("" when the server sent none).
func (c *Client) Upsert(ctx context.Context, recordType, externalID string, body any) (string, error) {
	if !ValidExternalID(externalID) {
		return "", fmt.Errorf("netsuite: %q is not a valid external id", externalID)
	}
	resp, _, err := c.do(ctx, http.MethodPut, "record/v1/"+recordType+"/eid:"+externalID, nil, body, nil)
	if err != nil {
		return "", err
	}
	return idFromLocation(resp.Header.Get("Location")), nil
}

// Create creates a record (POST record/v1/{type}) and returns its internal id from the
// Location header.
func (c *Client) Create(ctx context.Context, recordType string, body any) (string, error) {
	resp, _, err := c.do(ctx, http.MethodPost, "record/v1/"+recordType, nil, body, nil)
	if err != nil {
		return "", err
	}
	id := idFromLocation(resp.Header.Get("Location"))
	if id == "" {
		return "", &MalformedError{Method: http.MethodPost, URL: "record/v1/" + recordType, Err: errors.New("no Location header")}
	}
	return id, nil
}

// idFromLocation returns the last path segment of a record URL.
func idFromLocation(loc string) string {
	if loc == "" {
		return ""
	}
	if u, err := url.Parse(loc); err == nil {
		loc = u.Path
	}
	return path.Base(strings.TrimRight(loc, "/"))
}

// Limits is the reply of system/v1/governanceLimits.
type Limits struct {
	AccountConcurrencyLimit            int    `json:"accountConcurrencyLimit"`
	AccountUnallocatedConcurrencyLimit int    `json:"accountUnallocatedConcurrencyLimit"`
	IntegrationConcurrencyLimit        int    `json:"integrationConcurrencyLimit"`
	IntegrationLimitType               string `json:"integrationLimitType"`
}

// GovernanceLimits reads the account's concurrency limits.
func (c *Client) GovernanceLimits(ctx context.Context) (Limits, error) {
	var l Limits
	_, b, err := c.do(ctx, http.MethodGet, "system/v1/governanceLimits", nil, nil, nil)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, &MalformedError{Method: http.MethodGet, URL: "system/v1/governanceLimits", Err: err}
	}
	return l, nil
}

// Page is one page of SuiteQL results.
type Page struct {
	Items        []map[string]any `json:"items"`
	HasMore      bool             `json:"hasMore"`
	Count        int              `json:"count"`
	Offset       int              `json:"offset"`
	TotalResults int              `json:"totalResults"`
}

// MaxPage is the largest SuiteQL page NetSuite serves.
const MaxPage = 1000

// SuiteQL runs one page of a query.
func (c *Client) SuiteQL(ctx context.Context, q string, limit, offset int) (*Page, error) {
	query := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	_, b, err := c.do(ctx, http.MethodPost, "query/v1/suiteql", query, map[string]string{"q": q}, http.Header{"Prefer": {"transient"}})
	if err != nil {
		return nil, err
	}
	var p Page
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&p); err != nil {
		return nil, &MalformedError{Method: http.MethodPost, URL: "query/v1/suiteql", Err: err}
	}
	if p.Items == nil {
		return nil, &MalformedError{Method: http.MethodPost, URL: "query/v1/suiteql", Err: errors.New("no items in the reply")}
	}
	return &p, nil
}

// maxPages bounds one query's paging (NetSuite serves at most 100,000 results).
const maxPages = 100

// QueryAll runs q page by page (MaxPage rows each), calling fn for every row. The
// page function is given the chance to retry: each page is fetched with getPage, which
// callers can wrap with their own retry policy; nil fetches directly.
func (c *Client) QueryAll(ctx context.Context, q string, getPage func(ctx context.Context, q string, limit, offset int) (*Page, error), fn func(row Row) error) error {
	if getPage == nil {
		getPage = c.SuiteQL
	}
	for i, offset := 0, 0; i < maxPages; i++ {
		p, err := getPage(ctx, q, MaxPage, offset)
		if err != nil {
			return err
		}
		for _, it := range p.Items {
			if err := fn(Row(it)); err != nil {
				return err
			}
		}
		if !p.HasMore || len(p.Items) == 0 {
			return nil
		}
		offset += len(p.Items)
	}
	return fmt.Errorf("netsuite: query returned more than %d pages: %s", maxPages, truncate(q, 120))
}

// Row is one SuiteQL result row; keys are lower-case column names.
type Row map[string]any

// String returns column k as a string ("" when null or absent).
func (r Row) String(k string) string {
	switch v := r[k].(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	default:
		return fmt.Sprint(v)
	}
}

// Float returns column k as a number (0 when null, absent or not numeric).
func (r Row) Float(k string) float64 {
	s := r.String(k)
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// Bool returns column k as NetSuite writes booleans in SuiteQL ("T"/"F") or JSON ones.
func (r Row) Bool(k string) bool {
	switch strings.ToUpper(r.String(k)) {
	case "T", "TRUE", "1", "Y", "YES":
		return true
	}
	return false
}
