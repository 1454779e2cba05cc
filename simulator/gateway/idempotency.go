package gateway

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Idempotency keys, as Stripe keeps them:
//   - the first response to a POST with an Idempotency-Key (status and body, 5xx included)
//     is saved and replayed for any later request with the key, marked Idempotent-Replayed;
//   - the same key on another endpoint or with other parameters is an idempotency_error (400);
//   - a request while another with the same key is still running gets 409;
//   - a request refused before its endpoint began (malformed or unknown parameters, a key
//     in use) saves nothing, so it can be retried;
//   - keys expire 24 hours (by the simulator clock) after their first use.
//
// Saved responses live in their own SQLite file in a temporary directory, not in the books:
// they are a cache, and exports stay small.
const (
	maxIdempotencyKeyLen = 255
	idempotencyTTL       = 24 * time.Hour
	purgeEvery           = 1000 // saves between purges of expired keys
)

// savedResponse is a response kept under an idempotency key.
type savedResponse struct {
	Method, Path, Fingerprint string
	Status                    int
	ContentType               string
	Body                      []byte
	RequestID                 string
	Created                   time.Time
}

// idempotency is the store of saved responses plus the keys in flight.
type idempotency struct {
	db  *sql.DB
	dir string

	mu       sync.Mutex
	inFlight map[string]struct{}
	saves    int
}

func openIdempotency(ctx context.Context) (*idempotency, error) {
	dir, err := os.MkdirTemp("", "doorbuster-gateway-idem-")
	if err != nil {
		return nil, fmt.Errorf("idempotency store: %w", err)
	}
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: filepath.Join(dir, "idempotency.db"),
		RawQuery: "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)"}).String())
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("idempotency store: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS responses (
  key TEXT PRIMARY KEY, method TEXT NOT NULL, path TEXT NOT NULL, fingerprint TEXT NOT NULL,
  status INTEGER NOT NULL, content_type TEXT NOT NULL, body BLOB NOT NULL, request_id TEXT NOT NULL,
  created_ns INTEGER NOT NULL)`); err != nil {
		_ = db.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("idempotency store: create table: %w", err)
	}
	return &idempotency{db: db, dir: dir, inFlight: map[string]struct{}{}}, nil
}

func (s *idempotency) close() error {
	return errors.Join(s.db.Close(), os.RemoveAll(s.dir))
}

// acquire marks key in flight; it is false when another request holds it.
func (s *idempotency) acquire(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, busy := s.inFlight[key]; busy {
		return false
	}
	s.inFlight[key] = struct{}{}
	return true
}

func (s *idempotency) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.inFlight, key)
}

// lookup returns the response saved under key, unless it expired before now.
func (s *idempotency) lookup(ctx context.Context, key string, now time.Time) (*savedResponse, bool, error) {
	var (
		r  savedResponse
		ns int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT method, path, fingerprint, status, content_type, body, request_id, created_ns
  FROM responses WHERE key = ?`, key).Scan(&r.Method, &r.Path, &r.Fingerprint, &r.Status, &r.ContentType, &r.Body,
		&r.RequestID, &ns)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("idempotency lookup: %w", err)
	}
	r.Created = time.Unix(0, ns)
	if now.Sub(r.Created) >= idempotencyTTL {
		return nil, false, nil
	}
	return &r, true, nil
}

// save keeps r under key (replacing an expired entry) and now and then purges expired keys.
func (s *idempotency) save(ctx context.Context, key string, r *savedResponse) error {
	if _, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO responses (key, method, path, fingerprint, status,
  content_type, body, request_id, created_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, key, r.Method, r.Path, r.Fingerprint,
		r.Status, r.ContentType, r.Body, r.RequestID, r.Created.UnixNano()); err != nil {
		return fmt.Errorf("idempotency save: %w", err)
	}
	s.mu.Lock()
	s.saves++
	purge := s.saves%purgeEvery == 0
	s.mu.Unlock()
	if purge {
		cutoff := r.Created.Add(-idempotencyTTL).UnixNano()
		if _, err := s.db.ExecContext(ctx, `DELETE FROM responses WHERE created_ns <= ?`, cutoff); err != nil {
			return fmt.Errorf("idempotency purge: %w", err)
		}
	}
	return nil
}

func (s *idempotency) reset(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM responses`); err != nil {
		return fmt.Errorf("idempotency reset: %w", err)
	}
	return nil
}
