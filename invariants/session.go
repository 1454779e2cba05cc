package invariants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// Paths of the databases in a run directory.
const (
	journalFile  = "journal.db"
	netsuiteFile = "books/netsuite.db"
	gatewayFile  = "books/gateway.db"
)

// session is one SQLite connection with the journal as main, the NetSuite books as
// ns and the gateway books as gw, all read-only; helper tables live in temp.
type session struct {
	db    *sql.DB
	c     *sql.Conn
	built map[string]bool
	work  *worker            // builds some helpers in parallel; nil: none
	stop  context.CancelFunc // ends the worker early
	// startSource says where inventory-conserved took the start on hand from.
	startSource string
	start       []StockLevel
	jsums       bool         // the journal keeps tx_sums for every transaction
	log         *slog.Logger // statement timings at debug level; nil: none
}

// sqliteURI makes a read-only SQLite URI for path.
func sqliteURI(path string, pragmas ...string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	q.Set("mode", "ro")
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String(), nil
}

// openSession opens journal (main) and attaches the books, read-only. With parallel,
// a worker starts building some helpers: in the process process starts when set, else
// on a second connection.
func openSession(ctx context.Context, journal, netsuite, gateway string, parallel bool, process func(context.Context) *exec.Cmd,
	log *slog.Logger) (*session, error) {
	for _, f := range []struct{ what, path string }{
		{"journal", journal}, {"NetSuite books", netsuite}, {"gateway books", gateway},
	} {
		fi, err := os.Stat(f.path)
		if err != nil {
			return nil, fmt.Errorf("invariants: the %s: %w", f.what, err)
		}
		if fi.IsDir() {
			return nil, fmt.Errorf("invariants: the %s %s is a directory, want an SQLite file", f.what, f.path)
		}
	}
	dsn, err := sqliteURI(journal, "busy_timeout(10000)", "temp_store(MEMORY)", "cache_size(-262144)",
		"mmap_size(4294967296)")
	if err != nil {
		return nil, fmt.Errorf("invariants: %w", err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("invariants: opening %s: %w", journal, err)
	}
	db.SetMaxOpenConns(1)
	c, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("invariants: opening %s: %w", journal, err)
	}
	s := &session{db: db, c: c, built: map[string]bool{}, log: log}
	for _, a := range []struct{ path, name string }{{netsuite, "ns"}, {gateway, "gw"}} {
		u, err := sqliteURI(a.path)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("invariants: %w", err)
		}
		if _, err := c.ExecContext(ctx, "ATTACH DATABASE ? AS "+a.name, u); err != nil {
			s.close()
			return nil, fmt.Errorf("invariants: attaching %s: %w", a.path, err)
		}
		for _, p := range []string{"cache_size = -262144", "mmap_size = 4294967296"} {
			if _, err := c.ExecContext(ctx, "PRAGMA "+a.name+"."+p); err != nil {
				s.close()
				return nil, fmt.Errorf("invariants: %s: %w", a.path, err)
			}
		}
	}
	// Every database must look like what it claims to be.
	for _, want := range []struct{ schema, table, what, path string }{
		{"main", "tx", "journal", journal}, {"main", "line", "journal", journal}, {"main", "tender", "journal", journal},
		{"main", "payment", "journal", journal}, {"main", "stock_probe", "journal", journal},
		{"ns", "transactions", "NetSuite books", netsuite}, {"ns", "gl_lines", "NetSuite books", netsuite},
		{"ns", "inventory", "NetSuite books", netsuite},
		{"gw", "payment_intents", "gateway books", gateway}, {"gw", "refunds", "gateway books", gateway},
	} {
		ok, err := s.hasTable(ctx, want.schema, want.table)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("invariants: reading the %s %s: %w", want.what, want.path, err)
		}
		if !ok {
			s.close()
			return nil, fmt.Errorf("invariants: the %s %s has no table %q", want.what, want.path, want.table)
		}
	}
	if parallel {
		nsURI, err := sqliteURI(netsuite)
		var gwURI string
		if err == nil {
			gwURI, err = sqliteURI(gateway)
		}
		if err == nil {
			err = s.startWorker(ctx, dsn, nsURI, gwURI, process)
		}
		if err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

func (s *session) close() error {
	var errs []error
	if s.work != nil {
		s.stop()
		errs = append(errs, s.work.close())
	}
	if s.c != nil {
		errs = append(errs, s.c.Close())
	}
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}

func (s *session) hasTable(ctx context.Context, schema, table string) (bool, error) {
	var n int
	err := s.c.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+schema+".sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n)
	return n > 0, err
}

// exec runs statements in order.
func (s *session) exec(ctx context.Context, stmts ...string) error {
	for _, q := range stmts {
		began := time.Now()
		if _, err := s.c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w\nin: %s", err, firstLine(q))
		}
		logStmt(ctx, s.log, "session", q, began)
	}
	return nil
}

// logStmt logs a statement's duration at debug level.
func logStmt(ctx context.Context, log *slog.Logger, conn, q string, began time.Time) {
	if log != nil && log.Enabled(ctx, slog.LevelDebug) {
		log.DebugContext(ctx, "invariants: statement", "conn", conn, "ms", ms(time.Since(began)), "sql", firstLine(q))
	}
}

func (s *session) count(ctx context.Context, q string, args ...any) (int64, error) {
	var n sql.NullInt64
	began := time.Now()
	if err := s.c.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%w\nin: %s", err, firstLine(q))
	}
	logStmt(ctx, s.log, "session", q, began)
	return n.Int64, nil
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		return q[:i] + " …"
	}
	return q
}

// need builds the helper tables named (and what they depend on) once per session.
func (s *session) need(ctx context.Context, names ...string) error {
	for _, n := range names {
		if s.built[n] {
			continue
		}
		h, ok := helpers[n]
		if !ok {
			return fmt.Errorf("invariants: no helper table %q", n)
		}
		if h.stage != "" && s.work != nil {
			if err := s.ready(ctx, h.stage); err != nil {
				return err
			}
			s.built[n] = true
			continue
		}
		if err := s.need(ctx, h.needs...); err != nil {
			return err
		}
		if h.unless != "" {
			there, err := s.count(ctx, h.unless)
			if err != nil {
				return fmt.Errorf("invariants: helper %s: %w", n, err)
			}
			if there == 1 {
				s.built[n] = true
				continue
			}
		}
		stmts := h.sql
		if h.build != nil {
			var err error
			if stmts, err = h.build(ctx, s); err != nil {
				return fmt.Errorf("invariants: helper %s: %w", n, err)
			}
		}
		if err := s.exec(ctx, stmts...); err != nil {
			return fmt.Errorf("invariants: helper %s: %w", n, err)
		}
		if err := s.need(ctx, h.late...); err != nil {
			return err
		}
		if err := s.exec(ctx, h.lateSQL...); err != nil {
			return fmt.Errorf("invariants: helper %s: %w", n, err)
		}
		s.built[n] = true
	}
	return nil
}
