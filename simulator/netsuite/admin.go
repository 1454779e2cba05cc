package netsuite

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/gin-gonic/gin"
)

// healthz answers 200 when the books answer a query.
func (s *Server) healthz(c *gin.Context) {
	var n int
	if err := s.st.b.r.QueryRowContext(c.Request.Context(), "SELECT COUNT(*) FROM locations").Scan(&n); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "account": s.world.Credentials.AccountID, "locations": n})
}

// export answers a consistent snapshot of the books as an SQLite file.
func (s *Server) export(c *gin.Context) {
	dir, err := os.MkdirTemp("", "doorbuster-netsuite-export-")
	if err != nil {
		writeError(c.Writer, fmt.Errorf("export: %w", err))
		return
	}
	defer os.RemoveAll(dir)
	dst := filepath.Join(dir, "netsuite-books.db")
	if err := s.st.b.exportTo(c.Request.Context(), dst); err != nil {
		writeError(c.Writer, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="netsuite-books.db"`)
	c.Header("Content-Type", "application/vnd.sqlite3")
	http.ServeFile(c.Writer, c.Request, dst)
}

// reset empties the books and reloads the world; async jobs and idempotency keys
// are forgotten.
func (s *Server) reset(c *gin.Context) {
	s.jobs.reset()
	if err := s.loadWorld(c.Request.Context()); err != nil {
		writeError(c.Writer, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "reset"})
}
