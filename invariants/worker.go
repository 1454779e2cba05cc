package invariants

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// worker builds some helpers while the session works on others, so a check uses two
// cores. It opens the same files and writes its tables into databases of its own, one
// per stage: work1 gets pos_origin, work2 the books' sums when the books do not keep
// them, work3 the gateway intents, work4 what reads only those and the files
// (duplicates, NetSuite's income and the gateway's card money per store-day, the
// one-customer-per-identity violations). Last it reads the sync latency samples. Each stage
// is signalled when done, and only then does the session attach its database: a
// database being written locks every reader out (even one only reading its schema to
// resolve a name), so the session must never see one the worker is still writing.
//
// The worker runs in one of two places. In-process, it is a second connection writing
// in-memory databases (SQLite's memdb VFS). In a process of its own (Options.Worker),
// it writes files in a temporary directory and reports each stage on its standard
// output: the SQLite build this module uses keeps one page cache lock for the whole
// process, which two busy connections in one process spend much of their time
// waiting on; two processes do not share it.
type worker struct {
	db      *sql.DB // in-process: the worker's connection
	proc    *exec.Cmd
	tmp     string // a process worker's directory
	stages  map[string]*stage
	samples []SyncSample
	exited  chan struct{} // a process worker's output is read to its end
}

type stage struct {
	done     chan struct{}
	err      error
	schema   string // the database it writes ("" none)
	uri      string // where the worker writes it
	ro       string // where the session reads it
	attached bool   // the session attached it
}

// The worker's stages, in order, and the database each writes.
var workerStages = []struct{ name, schema string }{{"origin", "work1"}, {"books", "work2"}, {"gateway", "work3"}, {"post", "work4"}, {"sync", ""}}

// WorkerEnv is set (to "1") in the environment of a worker process started by
// Options.Worker's command when it is a test binary: its TestMain then serves it.
const WorkerEnv = "DOORBUSTER_INVARIANTS_WORKER"

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

// WorkerCommand returns an Options.Worker that runs argv: a program and its arguments
// that serve ServeWorker, such as doorbuster's "invariants-worker" command. It is nil
// for an empty argv (the worker is then a second connection in this process).
func WorkerCommand(argv []string) func(context.Context) *exec.Cmd {
	if len(argv) == 0 {
		return nil
	}
	argv = slices.Clone(argv)
	return func(ctx context.Context) *exec.Cmd { return exec.CommandContext(ctx, argv[0], argv[1:]...) }
}

// workerSpec is what a worker process is told on its standard input.
type workerSpec struct {
	Journal, NetSuite, Gateway string            // read-only SQLite URIs
	Stages                     map[string]string // stage → the SQLite URI it writes
	Samples                    string            // the file the sync samples go to (see readSamples)
	Debug                      bool              // report each statement's time ("log <text>")
}

// startWorker starts the worker on journal, netsuite and gateway (read-only SQLite
// URIs): in a process of its own when process is set, else (or when that process
// cannot be started) on a second connection.
func (s *session) startWorker(ctx context.Context, journal, netsuite, gateway string, process func(context.Context) *exec.Cmd) error {
	if process != nil {
		err := s.startProcessWorker(ctx, journal, netsuite, gateway, process)
		if err == nil {
			return nil
		}
		if s.log != nil {
			s.log.Warn("invariants: the worker process did not start; the worker runs in this process", "err", err)
		}
	}
	w, err := newWorker("")
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", journal)
	if err != nil {
		return fmt.Errorf("invariants: the worker connection: %w", err)
	}
	db.SetMaxOpenConns(1)
	w.db = db
	wctx, stop := context.WithCancel(ctx)
	s.work, s.stop = w, stop
	uris := map[string]string{}
	for n, st := range w.stages {
		uris[n] = st.uri
	}
	go func() {
		c, err := db.Conn(wctx)
		if err != nil {
			w.finish("origin", nil, fmt.Errorf("invariants: worker: %w", err))
			return
		}
		defer c.Close()
		runStages(wctx, c, netsuite, gateway, uris, s.log, w.finish)
	}()
	return nil
}

func (s *session) startProcessWorker(ctx context.Context, journal, netsuite, gateway string, process func(context.Context) *exec.Cmd) error {
	dir, err := os.MkdirTemp("", "doorbuster-invariants-")
	if err != nil {
		return fmt.Errorf("invariants: the worker's directory: %w", err)
	}
	w, err := newWorker(dir)
	if err == nil {
		wctx, stop := context.WithCancel(ctx)
		if err = w.startProcess(wctx, process, workerSpec{Journal: journal, NetSuite: netsuite, Gateway: gateway,
			Samples: filepath.Join(dir, "samples")}, s.log); err == nil {
			s.work, s.stop = w, stop
			return nil
		}
		stop()
	}
	return errors.Join(err, os.RemoveAll(dir))
}

// newWorker makes a worker's stages, writing files in dir (a process worker) or, with
// dir "", in-memory databases.
func newWorker(dir string) (*worker, error) {
	w := &worker{stages: map[string]*stage{}, tmp: dir}
	for _, st := range workerStages {
		x := &stage{done: make(chan struct{}), schema: st.schema}
		w.stages[st.name] = x
		if st.schema == "" {
			continue
		}
		if dir != "" {
			p := filepath.Join(dir, st.schema+".db")
			ro, err := sqliteURI(p)
			if err != nil {
				return nil, fmt.Errorf("invariants: %w", err)
			}
			x.uri, x.ro = (&url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(p)}).String(), ro
			continue
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("invariants: %w", err)
		}
		x.uri = "file:/doorbuster-invariants-" + hex.EncodeToString(b[:]) + "?vfs=memdb"
		x.ro = x.uri
	}
	return w, nil
}

// finish ends stage name (and, on an error, every later one with it).
func (w *worker) finish(name string, samples []SyncSample, err error) {
	if err == nil {
		if name == "sync" {
			w.samples = samples
		}
		if st := w.stages[name]; !isClosed(st.done) {
			close(st.done)
		}
		return
	}
	later := false
	for _, st := range workerStages {
		later = later || st.name == name
		if s := w.stages[st.name]; later && !isClosed(s.done) {
			s.err = err
			close(s.done)
		}
	}
}

// startProcess starts a worker process and follows its reports.
func (w *worker) startProcess(ctx context.Context, process func(context.Context) *exec.Cmd, spec workerSpec, log *slog.Logger) error {
	spec.Debug = log != nil && log.Enabled(ctx, slog.LevelDebug)
	spec.Stages = map[string]string{}
	for n, st := range w.stages {
		spec.Stages[n] = st.uri
	}
	in, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("invariants: %w", err)
	}
	cmd := process(ctx)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer // read only after cmd.Wait, which waits for its copy to end
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("invariants: the worker process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("invariants: starting the worker process %s: %w", cmd.Path, err)
	}
	w.proc, w.exited = cmd, make(chan struct{})
	go func() {
		defer close(w.exited)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			verb, rest, _ := strings.Cut(sc.Text(), " ")
			if verb == "log" && log != nil {
				log.Debug("invariants: worker process: " + rest)
				continue
			}
			name, msg, _ := strings.Cut(rest, " ")
			if _, ok := w.stages[name]; !ok {
				continue // not a report (a stray line)
			}
			switch verb {
			case "done":
				var samples []SyncSample
				var err error
				if name == "sync" {
					samples, err = readSamples(spec.Samples)
				}
				w.finish(name, samples, err)
			case "fail":
				w.finish(name, nil, errors.New(msg))
			}
		}
		werr := cmd.Wait()
		if ctx.Err() == nil {
			w.finish("origin", nil, fmt.Errorf("invariants: the worker process ended before its work was done (%v): %s",
				werr, strings.TrimSpace(stderr.String())))
		} else {
			w.finish("origin", nil, ctx.Err())
		}
	}()
	if log != nil {
		log.Debug("invariants: worker process started", "pid", cmd.Process.Pid, "dir", w.tmp)
	}
	return nil
}

// The sync samples travel from a worker process in a file: a count, then per sample
// the transaction id (length, bytes) and the acknowledgement and posting times (Unix
// nanoseconds), all varints.
func readSamples(path string) ([]SyncSample, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("invariants: the worker's sync samples: %w", err)
	}
	bad := errors.New("invariants: the worker's sync samples are cut short")
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, bad
	}
	b = b[k:]
	out := make([]SyncSample, 0, n)
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return nil, bad
		}
		id := string(b[k : k+int(l)])
		b = b[k+int(l):]
		a, k1 := binary.Varint(b)
		if k1 <= 0 {
			return nil, bad
		}
		p, k2 := binary.Varint(b[k1:])
		if k2 <= 0 {
			return nil, bad
		}
		b = b[k1+k2:]
		at, pt := time.Unix(0, a).UTC(), time.Unix(0, p).UTC()
		out = append(out, SyncSample{TxID: id, AckedAt: at, PostedAt: pt, Latency: pt.Sub(at)})
	}
	return out, nil
}

// ServeWorker is a worker process: it reads its work from in (what Check's session
// sends), does it, and reports each stage on out ("done <stage>" or "fail <stage>
// <error>"). A program offers it under a command of its own (doorbuster's is
// "doorbuster invariants-worker"), which Options.Worker then runs.
func ServeWorker(ctx context.Context, in io.Reader, out io.Writer) error {
	var spec workerSpec
	if err := json.NewDecoder(in).Decode(&spec); err != nil {
		return fmt.Errorf("invariants worker: reading the work: %w", err)
	}
	db, err := sql.Open("sqlite", spec.Journal)
	if err != nil {
		return fmt.Errorf("invariants worker: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	c, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("invariants worker: %w", err)
	}
	defer c.Close()
	var (
		failed error
		log    *slog.Logger
		mu     sync.Mutex // out is written by the logger and the reports
	)
	if spec.Debug {
		log = slog.New(slog.NewTextHandler(lineWriter{w: out, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	runStages(ctx, c, spec.NetSuite, spec.Gateway, spec.Stages, log, func(name string, samples []SyncSample, err error) {
		if err == nil && name == "sync" {
			err = writeSamples(spec.Samples, samples)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed = err
			fmt.Fprintf(out, "fail %s %s\n", name, strings.ReplaceAll(err.Error(), "\n", " "))
			return
		}
		fmt.Fprintf(out, "done %s\n", name)
	})
	return failed
}

// lineWriter writes a log record as one "log <record>" line.
type lineWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := fmt.Fprintf(l.w, "log %s\n", strings.TrimRight(strings.ReplaceAll(string(p), "\n", " "), " ")); err != nil {
		return 0, err
	}
	return len(p), nil
}

func writeSamples(path string, samples []SyncSample) error {
	b := binary.AppendUvarint(make([]byte, 0, 32*len(samples)+10), uint64(len(samples)))
	for _, s := range samples {
		b = binary.AppendUvarint(b, uint64(len(s.TxID)))
		b = append(b, s.TxID...)
		b = binary.AppendVarint(b, s.AckedAt.UnixNano())
		b = binary.AppendVarint(b, s.PostedAt.UnixNano())
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("invariants worker: the sync samples: %w", err)
	}
	return nil
}

// runStages runs the worker's stages on c (the journal as main), writing each stage's
// tables into the database at uris[stage]; done is called as each stage ends, or
// with the error of the first that fails (and no later stage runs).
func runStages(ctx context.Context, c *sql.Conn, netsuite, gateway string, uris map[string]string, log *slog.Logger,
	done func(stage string, samples []SyncSample, err error)) {
	fail := func(name string, err error) { done(name, nil, err) }
	setup := []struct{ q, arg string }{{"ATTACH DATABASE ? AS ns", netsuite}, {"ATTACH DATABASE ? AS gw", gateway},
		{"PRAGMA ns.cache_size = -262144", ""}, {"PRAGMA ns.mmap_size = 4294967296", ""}}
	for _, st := range workerStages {
		if st.schema == "" {
			continue
		}
		setup = append(setup, struct{ q, arg string }{"ATTACH DATABASE ? AS " + st.schema, uris[st.name]},
			struct{ q, arg string }{"PRAGMA " + st.schema + ".journal_mode = OFF", ""},
			struct{ q, arg string }{"PRAGMA " + st.schema + ".synchronous = OFF", ""})
	}
	for _, x := range setup {
		var args []any
		if x.arg != "" {
			args = append(args, x.arg)
		}
		if _, err := c.ExecContext(ctx, x.q, args...); err != nil {
			fail("origin", fmt.Errorf("invariants: worker: %w", err))
			return
		}
	}
	for _, st := range workerStages {
		if st.name == "sync" {
			began := time.Now()
			samples, err := syncSamples(ctx, c,
				`(SELECT id, acked_at AS acked FROM main.tx WHERE outcome = 'acknowledged' AND acked_at <> '')`)
			logStmt(ctx, log, "worker", "(sync latency samples)", began)
			if err != nil {
				fail(st.name, err)
				return
			}
			done(st.name, samples, nil)
			continue
		}
		if err := runStage(ctx, c, st.name, st.schema, log); err != nil {
			fail(st.name, err)
			return
		}
		done(st.name, nil, nil)
	}
}

// runStage builds the helpers of one worker stage into schema.
func runStage(ctx context.Context, c *sql.Conn, name, schema string, log *slog.Logger) error {
	for _, n := range helperNames() {
		h := helpers[n]
		if h.stage != name {
			continue
		}
		if h.unless != "" {
			var there int
			if err := c.QueryRowContext(ctx, h.unless).Scan(&there); err != nil {
				return fmt.Errorf("invariants: helper %s: %w", n, err)
			}
			if there == 1 {
				continue
			}
		}
		for _, q := range inSchema(h.sql, schema) {
			began := time.Now()
			if _, err := c.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("invariants: helper %s: %w\nin: %s", n, err, firstLine(q))
			}
			logStmt(ctx, log, "worker", q, began)
		}
	}
	// Then the violations of the rules built here (extra needs the session: none has it).
	for _, r := range rules {
		if r.stage != name {
			continue
		}
		for _, q := range inSchema(ruleStmts(r, nil), schema) {
			began := time.Now()
			if _, err := c.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("invariants: %s: %w\nin: %s", r.id, err, firstLine(q))
			}
			logStmt(ctx, log, "worker", q, began)
		}
	}
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
	if _, err := s.c.ExecContext(ctx, "ATTACH DATABASE ? AS "+st.schema, st.ro); err != nil {
		return fmt.Errorf("invariants: attaching %s: %w", st.schema, err)
	}
	if _, err := s.c.ExecContext(ctx, "PRAGMA "+st.schema+".cache_size = -262144"); err != nil {
		return fmt.Errorf("invariants: %s: %w", st.schema, err)
	}
	st.attached = true
	return nil
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

// close ends the worker (the session's stop cancels it early), waits for it and frees
// what it held.
func (w *worker) close() error {
	if w.proc != nil {
		<-w.exited
		return os.RemoveAll(w.tmp)
	}
	for _, st := range workerStages {
		<-w.stages[st.name].done
	}
	return w.db.Close()
}
