package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// FileName is the outbox database's name inside the connector's data directory.
const FileName = "outbox.db"

const schema = `
CREATE TABLE IF NOT EXISTS outbox (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT    NOT NULL UNIQUE,
	type        TEXT    NOT NULL,
	register_id TEXT    NOT NULL,
	occurred_at INTEGER NOT NULL, -- unix nanoseconds
	original_id TEXT    NOT NULL DEFAULT '',
	digest      TEXT    NOT NULL,
	body        BLOB    NOT NULL,
	reply       BLOB    NOT NULL,
	accepted_at INTEGER NOT NULL,
	state       TEXT    NOT NULL DEFAULT 'pending',
	error       TEXT    NOT NULL DEFAULT '',
	netsuite_id TEXT    NOT NULL DEFAULT '',
	refund_id   TEXT    NOT NULL DEFAULT '',
	posted_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state, occurred_at, seq);
`

// syncFull is PRAGMA synchronous=FULL.
const syncFull = 2

// maxGroup bounds how many queued writes share one commit.
const maxGroup = 256

// SQLite is the durable outbox: one SQLite file, WAL, synchronous=FULL. Writes go
// through one goroutine that commits whatever is queued together.
type SQLite struct {
	db     *sql.DB
	ops    chan *op
	quit   chan struct{}
	done   chan struct{}
	closed sync.Once
}

type op struct {
	fn   func(tx *sql.Tx) error
	done chan error
}

var _ Store = (*SQLite)(nil)

// Open opens (creating if needed) the outbox in dir.
func Open(dir string) (*SQLite, error) {
	path := filepath.Join(dir, FileName)
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}).String())
	if err != nil {
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox: create schema in %s: %w", path, err)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("outbox: %s is not in WAL mode (mode %q, err %v)", path, mode, err)
	}
	// A 202 promises the transaction is on disk: every commit must be fsynced.
	var sync int
	if err := db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != syncFull {
		db.Close()
		return nil, fmt.Errorf("outbox: %s: synchronous is %d, want FULL (%d) (err %v)", path, sync, syncFull, err)
	}
	s := &SQLite{db: db, ops: make(chan *op, maxGroup), quit: make(chan struct{}), done: make(chan struct{})}
	go s.writer()
	return s, nil
}

// writer runs queued writes, committing each group of them in one transaction.
func (s *SQLite) writer() {
	defer close(s.done)
	for {
		var first *op
		select {
		case first = <-s.ops:
		case <-s.quit:
			return
		}
		group := []*op{first}
	gather:
		for len(group) < maxGroup {
			select {
			case o := <-s.ops:
				group = append(group, o)
			default:
				break gather
			}
		}
		if err := s.commit(group); err != nil {
			// One bad write must not fail its neighbours: run them one by one.
			for _, o := range group {
				o.done <- s.commit([]*op{o})
			}
			continue
		}
		for _, o := range group {
			o.done <- nil
		}
	}
}

func (s *SQLite) commit(group []*op) error {
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("outbox: begin: %w", err)
	}
	for _, o := range group {
		if err := o.fn(tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit: %w", err)
	}
	return nil
}

var errClosed = errors.New("outbox: closed")

// write queues fn and waits for its commit.
func (s *SQLite) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	o := &op{fn: fn, done: make(chan error, 1)}
	select {
	case s.ops <- o:
	case <-s.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the write will be committed or fail; wait for it even if ctx ends so
	// that a caller never reports a write it cannot vouch for.
	select {
	case err := <-o.done:
		return err
	case <-s.done:
		select {
		case err := <-o.done:
			return err
		default:
			return errClosed
		}
	}
}

// Accept implements Store.
func (s *SQLite) Accept(ctx context.Context, recs []Record) ([]Result, error) {
	results := make([]Result, len(recs))
	err := s.write(ctx, func(tx *sql.Tx) error {
		ins, err := tx.Prepare(`INSERT INTO outbox (id, type, register_id, occurred_at, original_id, digest, body, reply, accepted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`)
		if err != nil {
			return fmt.Errorf("outbox: prepare insert: %w", err)
		}
		defer ins.Close()
		for i, r := range recs {
			res, err := ins.Exec(r.ID, r.Type, r.RegisterID, r.OccurredAt.UnixNano(), r.OriginalID, r.Digest, r.Body, r.Reply, r.AcceptedAt.UnixNano())
			if err != nil {
				return fmt.Errorf("outbox: insert %s: %w", r.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				results[i] = Result{Outcome: Accepted}
				continue
			}
			ex, err := scanRecord(tx.QueryRow(`SELECT `+headCols+` FROM outbox WHERE id = ?`, r.ID), false)
			if err != nil {
				return fmt.Errorf("outbox: read existing %s: %w", r.ID, err)
			}
			out := Duplicate
			if ex.Digest != r.Digest {
				out = Conflict
			}
			results[i] = Result{Outcome: out, Existing: &ex}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

const headCols = `seq, id, type, register_id, occurred_at, original_id, digest, reply, accepted_at, state, error, netsuite_id, refund_id, posted_at`

type scanner interface{ Scan(dest ...any) error }

func scanRecord(row scanner, withBody bool) (Record, error) {
	var r Record
	var occ, acc, posted int64
	var state string
	dest := []any{&r.Seq, &r.ID, &r.Type, &r.RegisterID, &occ, &r.OriginalID, &r.Digest, &r.Reply, &acc, &state, &r.Error, &r.NetSuiteID, &r.RefundID, &posted}
	if withBody {
		dest = append(dest, &r.Body)
	}
	if err := row.Scan(dest...); err != nil {
		return Record{}, err
	}
	r.State = State(state)
	r.OccurredAt = time.Unix(0, occ).UTC()
	r.AcceptedAt = time.Unix(0, acc).UTC()
	if posted != 0 {
		r.PostedAt = time.Unix(0, posted).UTC()
	}
	return r, nil
}

// Get implements Store.
func (s *SQLite) Get(ctx context.Context, id string) (Record, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, `SELECT `+headCols+`, body FROM outbox WHERE id = ?`, id), true)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("outbox: get %s: %w", id, err)
	}
	return r, nil
}

// Open implements Store.
func (s *SQLite) Open(ctx context.Context) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+headCols+` FROM outbox WHERE state = 'pending' ORDER BY occurred_at, seq`)
	if err != nil {
		return nil, fmt.Errorf("outbox: list pending: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows, false)
		if err != nil {
			return nil, fmt.Errorf("outbox: list pending: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: list pending: %w", err)
	}
	return out, nil
}

// Stats implements Store.
func (s *SQLite) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	rows, err := s.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return st, fmt.Errorf("outbox: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return st, fmt.Errorf("outbox: stats: %w", err)
		}
		switch State(state) {
		case Pending:
			st.Pending = n
		case Posted:
			st.Posted = n
		case DeadLettered:
			st.DeadLettered = n
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("outbox: stats: %w", err)
	}
	var last sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(posted_at) FROM outbox WHERE state = 'posted'`).Scan(&last); err != nil {
		return st, fmt.Errorf("outbox: stats: %w", err)
	}
	if last.Valid && last.Int64 != 0 {
		st.LastPostedAt = time.Unix(0, last.Int64).UTC()
	}
	return st, nil
}

// SetRefund implements Store.
func (s *SQLite) SetRefund(ctx context.Context, id, refundID string) error {
	return s.update(ctx, id, `UPDATE outbox SET refund_id = ? WHERE id = ?`, refundID, id)
}

// MarkPosted implements Store.
func (s *SQLite) MarkPosted(ctx context.Context, id, netsuiteID string, at time.Time) error {
	return s.update(ctx, id, `UPDATE outbox SET state = 'posted', netsuite_id = ?, posted_at = ?, error = '' WHERE id = ?`, netsuiteID, at.UnixNano(), id)
}

// MarkDead implements Store.
func (s *SQLite) MarkDead(ctx context.Context, id, reason string) error {
	return s.update(ctx, id, `UPDATE outbox SET state = 'deadLettered', error = ? WHERE id = ?`, reason, id)
}

func (s *SQLite) update(ctx context.Context, id, query string, args ...any) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(query, args...)
		if err != nil {
			return fmt.Errorf("outbox: update %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("update %s: %w", id, ErrNotFound)
		}
		return nil
	})
}

// Close stops the writer and closes the database. Queued writes not yet committed fail.
func (s *SQLite) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.quit)
		<-s.done
		// Fail whatever was queued after the writer stopped.
		for {
			select {
			case o := <-s.ops:
				o.done <- errClosed
				continue
			default:
			}
			break
		}
		err = s.db.Close()
	})
	return err
}
