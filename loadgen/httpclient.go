package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// countingConn counts the bytes through a connection, for data_sent and data_received.
type countingConn struct {
	net.Conn
	sent, recv atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.recv.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.sent.Add(int64(n))
	return n, err
}

// newCountingTransport is the default transport: HTTP/1.1 keep-alive with many idle
// connections, over connections that count their bytes.
func newCountingTransport() *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: c}, nil
		},
		MaxIdleConns:          10000,
		MaxIdleConnsPerHost:   10000,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

func unwrapCounting(c net.Conn) *countingConn {
	for range 4 {
		switch x := c.(type) {
		case *countingConn:
			return x
		case *tls.Conn:
			c = x.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// vuTransport instruments the requests of one VU.
type vuTransport struct {
	vu   *VU
	base http.RoundTripper
}

// reqTrace collects the timings of one request; httptrace calls it from the transport's
// goroutines.
type reqTrace struct {
	mu                                           sync.Mutex
	start, getConn, gotConn, connStart, connDone time.Time
	tlsStart, tlsDone                            time.Time
	wrote, firstByte                             time.Time
	conn                                         *countingConn
	sent0, recv0                                 int64
	reused                                       bool
}

func (t *reqTrace) set(f func()) {
	t.mu.Lock()
	f()
	t.mu.Unlock()
}

func (t *reqTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) { t.set(func() { t.getConn = time.Now() }) },
		GotConn: func(info httptrace.GotConnInfo) {
			t.set(func() {
				t.gotConn = time.Now()
				t.reused = info.Reused
				if c := unwrapCounting(info.Conn); c != nil {
					t.conn, t.sent0, t.recv0 = c, c.sent.Load(), c.recv.Load()
				}
			})
		},
		ConnectStart: func(string, string) {
			t.set(func() {
				if t.connStart.IsZero() {
					t.connStart = time.Now()
				}
			})
		},
		ConnectDone:          func(string, string, error) { t.set(func() { t.connDone = time.Now() }) },
		TLSHandshakeStart:    func() { t.set(func() { t.tlsStart = time.Now() }) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { t.set(func() { t.tlsDone = time.Now() }) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { t.set(func() { t.wrote = time.Now() }) },
		GotFirstResponseByte: func() { t.set(func() { t.firstByte = time.Now() }) },
	}
}

// RoundTrip implements http.RoundTripper.
func (t *vuTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tr := &reqTrace{start: time.Now()}
	ctx := httptrace.WithClientTrace(req.Context(), tr.clientTrace())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		t.record(req, nil, tr, err, 0, time.Now())
		return nil, err
	}
	resp.Body = &tracedBody{rc: resp.Body, t: t, req: req, resp: resp, tr: tr}
	return resp, nil
}

// tracedBody records the request's samples at EOF, on a read error, or on Close.
type tracedBody struct {
	rc   io.ReadCloser
	t    *vuTransport
	req  *http.Request
	resp *http.Response
	tr   *reqTrace
	n    int64
	once sync.Once
}

func (b *tracedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if err != nil {
		var rerr error
		if !errors.Is(err, io.EOF) {
			rerr = err
		}
		b.done(rerr)
	}
	return n, err
}

// Close drains up to 256 KiB of an unread body first, as k6 reads every body, so that the
// connection can be reused.
func (b *tracedBody) Close() error {
	n, _ := io.CopyN(io.Discard, b.rc, 256<<10)
	b.n += n
	err := b.rc.Close()
	b.done(nil)
	return err
}

func (b *tracedBody) done(err error) {
	b.once.Do(func() { b.t.record(b.req, b.resp, b.tr, err, b.n, time.Now()) })
}

// record emits the request's samples.
func (t *vuTransport) record(req *http.Request, resp *http.Response, tr *reqTrace, err error, bodyRead int64, end time.Time) {
	vu := t.vu
	b := vu.run.builtin
	tr.mu.Lock()
	defer tr.mu.Unlock()

	status := "0"
	failed := 1.0
	if resp != nil && err == nil {
		status = strconv.Itoa(resp.StatusCode)
		if expectedStatus(req.Context(), resp.StatusCode) {
			failed = 0
		}
	}
	base := vu.tagsFor(req.Context())
	extra := []Tag{{Key: "method", Value: req.Method}, {Key: "status", Value: status},
		{Key: "expected_response", Value: strconv.FormatBool(failed == 0)}}
	if _, ok := base.Get("name"); !ok {
		path := req.URL.Path
		if path == "" {
			path = "/"
		}
		extra = append(extra, Tag{Key: "name", Value: path})
	}
	tags := mergeTags(base, extra)

	// Phases, as k6: blocked until a connection (or its dial) starts; connecting the dial;
	// sending until the request is written; waiting until the first byte; receiving the
	// body.
	getConn := orTime(tr.getConn, tr.start)
	blockedEnd := orTime(tr.connStart, tr.gotConn)
	var blocked, connecting, tlsHandshake, sending, waiting, receiving time.Duration
	if !blockedEnd.IsZero() {
		blocked = blockedEnd.Sub(getConn)
	}
	if !tr.connStart.IsZero() && !tr.connDone.IsZero() {
		connecting = tr.connDone.Sub(tr.connStart)
	}
	if !tr.tlsStart.IsZero() && !tr.tlsDone.IsZero() {
		tlsHandshake = tr.tlsDone.Sub(tr.tlsStart)
	}
	sendStart := orTime(tr.gotConn, getConn)
	if !tr.wrote.IsZero() {
		sending = tr.wrote.Sub(sendStart)
	}
	if !tr.firstByte.IsZero() && !tr.wrote.IsZero() {
		waiting = tr.firstByte.Sub(tr.wrote)
		receiving = end.Sub(tr.firstByte)
	}
	duration := sending + waiting + receiving
	if resp == nil || tr.firstByte.IsZero() {
		duration = end.Sub(sendStart) // failed: the time spent on it
	}

	var sent, recv int64
	if tr.conn != nil {
		sent = tr.conn.sent.Load() - tr.sent0
		recv = tr.conn.recv.Load() - tr.recv0
	} else {
		sent = estimateRequestSize(req)
		if resp != nil {
			recv = estimateHeaderSize(resp.Header) + bodyRead + int64(len(resp.Status)) + 11
		}
	}

	vu.emit(b.httpReqs, tags, 1, end)
	vu.emit(b.httpDuration, tags, ms(max(duration, 0)), end)
	vu.emit(b.httpBlocked, tags, ms(max(blocked, 0)), end)
	vu.emit(b.httpConnecting, tags, ms(max(connecting, 0)), end)
	vu.emit(b.httpTLS, tags, ms(max(tlsHandshake, 0)), end)
	vu.emit(b.httpSending, tags, ms(max(sending, 0)), end)
	vu.emit(b.httpWaiting, tags, ms(max(waiting, 0)), end)
	vu.emit(b.httpReceiving, tags, ms(max(receiving, 0)), end)
	vu.emit(b.httpFailed, tags, failed, end)
	if sent > 0 {
		vu.emit(b.dataSent, tags, float64(sent), end)
	}
	if recv > 0 {
		vu.emit(b.dataReceived, tags, float64(recv), end)
	}
}

func orTime(a, b time.Time) time.Time {
	if a.IsZero() {
		return b
	}
	return a
}

func estimateRequestSize(req *http.Request) int64 {
	n := int64(len(req.Method)+len(req.URL.RequestURI())+len(req.Host)) + 20
	n += estimateHeaderSize(req.Header)
	if req.ContentLength > 0 {
		n += req.ContentLength
	}
	return n
}

func estimateHeaderSize(h http.Header) int64 {
	var n int64
	for k, vs := range h {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 4)
		}
	}
	return n + 2
}
