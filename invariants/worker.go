package invariants

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// worker is a second connection that builds some helpers while the session works on
// others, so a check uses two cores. It opens the same files and writes its tables
// into in-memory databases (SQLite's memdb VFS), one per stage: work1 gets pos_origin,
// work2 the helpers that read only the NetSuite books (line, stock move, tender and GL
// sums: the largest tables), work3 the gateway intents, work4 what else reads only
// pos_origin (duplicates, NetSuite's income per store-day). Last it reads the sync latency
// samples. Each stage is signalled when done, and only then does the session attach
// its database: a memdb database being written locks every reader out (even one only
// reading its schema to resolve a name), so the session must never see one the worker
// is still writing.
type worker struct {
	db      *sql.DB
	stages  map[string]*stage
	samples []SyncSample
}

type stage struct {
	done     chan struct{}
	err      error
	schema   string // the database it writes ("" none)
	mem      string // its memdb URI
	attached bool   // the session attached it
}

// The worker's stages, in order, and the database each writes.
var workerStages = []struct{ name, schema string }{{"origin", "work1"}, {"books", "work2"}, {"gateway", "work3"}, {"post", "work4"}, {"sync", ""}}

// inSchema rewrites a helper's statements to build its tables in schema (a worker
// database) instead of temp.
func inSchema(stmts []string, schema string) []string {
	out := make([]string, len(stmts))
	for i, q := range stmts {
		q = strings.Replace(q, "CREATE TEMP TABLE ", "CREATE TABLE "+schema+".", 1)
		out[i] = strings.Replace(q, "CREATE INDEX temp.", "CREATE INDEX "+schema+".", 1)
	}
	return out
}

// startWorker starts the worker on journal, netsuite and gateway (read-only SQLite
// URIs), writing into fresh in-memory databases.
func (s *session) startWorker(ctx context.Context, journal, netsuite, gateway string) error {
	db, err := sql.Open("sqlite", journal)
	if err != nil {
		return fmt.Errorf("invariants: the worker connection: %w", err)
	}
	db.SetMaxOpenConns(1)
	w := &worker{db: db, stages: map[string]*stage{}}
	for _, st := range workerStages {
		w.stages[st.name] = &stage{done: make(chan struct{}), schema: st.schema}
		if st.schema == "" {
			continue
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			db.Close()
			return fmt.Errorf("invariants: %w", err)
		}
		w.stages[st.name].mem = "file:/doorbuster-invariants-" + hex.EncodeToString(b[:]) + "?vfs=memdb"
	}
	wctx, stop := context.WithCancel(ctx)
	s.work, s.stop = w, stop
	go w.run(wctx, netsuite, gateway, s.log)
	return nil
}

// ready waits for the worker's stage name and attaches its database to the session.
func (s *session) ready(ctx context.Context, name string) error {
	st := s.work.stages[name]
	began := time.Now()
	if err := s.work.wait(ctx, name); err != nil {
		return err
	}
	logStmt(ctx, s.log, "session", "(waiting for the worker's stage "+name+")", began)
	if st.schema == "" || st.attached {
		return nil
	}
	if _, err := s.c.ExecContext(ctx, "ATTACH DATABASE ? AS "+st.schema, st.mem); err != nil {
		return fmt.Errorf("invariants: attaching %s: %w", st.schema, err)
	}
	if _, err := s.c.ExecContext(ctx, "PRAGMA "+st.schema+".cache_size = -262144"); err != nil {
		return fmt.Errorf("invariants: %s: %w", st.schema, err)
	}
	st.attached = true
	return nil
}

func (w *worker) run(ctx context.Context, netsuite, gateway string, log *slog.Logger) {
	// Every stage ends, in order, with the first error passed on to the rest.
	var err error
	defer func() {
		for _, st := range workerStages {
			if s := w.stages[st.name]; !isClosed(s.done) {
				s.err = err
				close(s.done)
			}
		}
	}()
	c, err := w.db.Conn(ctx)
	if err != nil {
		err = fmt.Errorf("invariants: worker: %w", err)
		return
	}
	defer c.Close()
	setup := []struct{ q, arg string }{{"ATTACH DATABASE ? AS ns", netsuite}, {"ATTACH DATABASE ? AS gw", gateway},
		{"PRAGMA ns.cache_size = -262144", ""}, {"PRAGMA ns.mmap_size = 4294967296", ""}}
	for _, st := range workerStages {
		if st.schema == "" {
			continue
		}
		setup = append(setup, struct{ q, arg string }{"ATTACH DATABASE ? AS " + st.schema, w.stages[st.name].mem},
			struct{ q, arg string }{"PRAGMA " + st.schema + ".journal_mode = OFF", ""},
			struct{ q, arg string }{"PRAGMA " + st.schema + ".synchronous = OFF", ""})
	}
	for _, x := range setup {
		var args []any
		if x.arg != "" {
			args = append(args, x.arg)
		}
		if _, err = c.ExecContext(ctx, x.q, args...); err != nil {
			err = fmt.Errorf("invariants: worker: %w", err)
			return
		}
	}
	for _, st := range workerStages {
		switch st.name {
		case "sync":
			w.samples, err = syncSamples(ctx, c,
				`(SELECT id, acked_at AS acked FROM main.tx WHERE outcome = 'acknowledged' AND acked_at <> '')`)
		default:
			for _, n := range helperNames() {
				h := helpers[n]
				if h.stage != st.name {
					continue
				}
				if h.unless != "" {
					var there int
					if err = c.QueryRowContext(ctx, h.unless).Scan(&there); err != nil {
						err = fmt.Errorf("invariants: helper %s: %w", n, err)
						break
					}
					if there == 1 {
						continue
					}
				}
				for _, q := range inSchema(h.sql, st.schema) {
					began := time.Now()
					if _, err = c.ExecContext(ctx, q); err != nil {
						err = fmt.Errorf("invariants: helper %s: %w\nin: %s", n, err, firstLine(q))
						break
					}
					logStmt(ctx, log, "worker", q, began)
				}
				if err != nil {
					break
				}
			}
		}
		if err != nil {
			return
		}
		close(w.stages[st.name].done)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// wait blocks until stage name is done and returns its error.
func (w *worker) wait(ctx context.Context, name string) error {
	st := w.stages[name]
	select {
	case <-st.done:
		return st.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close waits for the worker (its context ends it early) and closes its connection.
func (w *worker) close() error {
	for _, st := range workerStages {
		<-w.stages[st.name].done
	}
	return errors.Join(w.db.Close())
}
