package faults

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Middleware returns the gin middleware that applies the engine's rules. Install it after
// recovery and request logging and before authentication and the routes, so faults hit a
// request whatever its credentials. Where it sits relative to a concurrency limit decides what
// a latency means: behind the limit (NetSuite's governance, then faults) the delay holds a
// slot like slow server work, and the excess of concurrent requests gets 429; in front of it
// the delay is network time. Paths under /_sim/ and /metrics are never faulted.
func (e *Engine) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		if exempt(c.Request.URL.Path) {
			c.Next()
			return
		}
		orig := c.Writer
		e.Serve(orig, c.Request, func(w http.ResponseWriter) {
			if w != http.ResponseWriter(orig) {
				c.Writer = newGinWriter(orig, w)
				defer func() { c.Writer = orig }()
			}
			c.Next()
		})
		c.Abort() // the rest of the chain ran inside Serve, or must not run at all
	}
}

// ginWriter lets the gin chain write into an effect's writer (a recorder) while keeping
// gin's bookkeeping, as gin's own writer does: size -1 until the header is written.
type ginWriter struct {
	gin.ResponseWriter // the real writer, for the methods not overridden (Hijack, Pusher…)
	w                  http.ResponseWriter
	status             int
	size               int
}

func newGinWriter(orig gin.ResponseWriter, w http.ResponseWriter) *ginWriter {
	return &ginWriter{ResponseWriter: orig, w: w, status: http.StatusOK, size: -1}
}

func (g *ginWriter) Header() http.Header { return g.w.Header() }

func (g *ginWriter) WriteHeader(code int) {
	if code > 0 && !g.Written() {
		g.status = code
	}
}

func (g *ginWriter) WriteHeaderNow() {
	if !g.Written() {
		g.size = 0
		g.w.WriteHeader(g.status)
	}
}

func (g *ginWriter) Write(p []byte) (int, error) {
	g.WriteHeaderNow()
	n, err := g.w.Write(p)
	g.size += n
	return n, err
}

func (g *ginWriter) WriteString(s string) (int, error) { return g.Write([]byte(s)) }
func (g *ginWriter) Status() int                       { return g.status }
func (g *ginWriter) Size() int                         { return g.size }
func (g *ginWriter) Written() bool                     { return g.size != -1 }

// Flush does nothing: the effect decides when bytes reach the client.
func (g *ginWriter) Flush() {}
