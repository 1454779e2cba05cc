package faults

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// sleep waits for d or until ctx is done; it reports whether the full d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hijack takes the connection away from net/http.
func hijack(w http.ResponseWriter) (net.Conn, error) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("faults: hijack connection: %w", err)
	}
	return conn, nil
}

// resetConn closes the request's TCP connection with an RST (SO_LINGER 0) instead of a FIN,
// so the client reads "connection reset by peer".
func resetConn(w http.ResponseWriter) error {
	conn, err := hijack(w)
	if err != nil {
		return err
	}
	if tc := tcpConn(conn); tc != nil {
		_ = tc.SetLinger(0)
	}
	return conn.Close()
}

// closeConn closes the request's connection normally (FIN) without writing a response.
func closeConn(w http.ResponseWriter) error {
	conn, err := hijack(w)
	if err != nil {
		return err
	}
	return conn.Close()
}

func tcpConn(c net.Conn) *net.TCPConn {
	for range 4 { // unwrap tls.Conn and similar, boundedly
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// recorder is a ResponseWriter that keeps the whole response in memory, so an effect can
// let the handler run (and commit its work) and then decide what reaches the client.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: make(http.Header), status: http.StatusOK} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.wroteHeader || status < 100 || status > 999 {
		return
	}
	if status >= 200 {
		r.wroteHeader = true
	}
	r.status = status
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	return r.body.Write(p)
}

// Flush does nothing: the body is held until the effect decides.
func (r *recorder) Flush() {}

// copyHeader copies the recorded header to w.
func (r *recorder) copyHeader(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = append([]string(nil), v...)
	}
}
