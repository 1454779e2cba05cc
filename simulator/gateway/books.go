package gateway

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/fixtures"
	_ "modernc.org/sqlite" // the "sqlite" driver
)

// The gateway's books: a SQLite database (WAL) holding every PaymentIntent, every
// authorisation attempt (charge), every capture, cancel and refund, with the simulator
// clock's timestamps and the POS metadata the connector sent. /_sim/export serves a
// consistent copy; the invariant checker joins it with the POS journal.
//
// Conventions: amounts are integers in minor units (cents); currencies are lower-case
// ISO 4217; times are TEXT in UTC, RFC 3339 with milliseconds
// ("2025-11-28T09:00:00.123Z"), NULL when the event never happened; `created` columns
// are Stripe's Unix seconds; metadata is a JSON object of strings.
//
// Tables:
//
//	payment_intents   one row per intent, always its current state
//	  seq INTEGER PK (creation order), id TEXT UNIQUE ("pi_…"), amount, currency, status,
//	  capture_method (automatic|automatic_async|manual), payment_method_types (JSON array),
//	  payment_method ("pm_…" or NULL), amount_capturable (authorised, not yet captured),
//	  amount_received (captured), amount_refunded (sum of refunds), latest_charge ("ch_…"),
//	  reader_id (terminal reader that processed it), description, receipt_email,
//	  cancellation_reason, last_payment_error (JSON error object of the last decline),
//	  metadata (JSON), pos_tx, store, register (copies of metadata[pos_tx], metadata[store],
//	  metadata[register]; indexed: pos_tx), client_secret, created (Unix s), created_at,
//	  authorized_at (first successful authorisation), captured_at, canceled_at, updated_at
//	charges           one row per authorisation attempt, declined ones included
//	  seq, id ("ch_…"), payment_intent, amount, amount_captured, amount_refunded, currency,
//	  status (succeeded|failed), captured (0/1), payment_method, payment_method_type
//	  (card|card_present|interac_present), brand, last4, funding, failure_code,
//	  failure_message, decline_code, reader_id, created (Unix s), created_at, captured_at,
//	  released_at (an uncaptured authorisation released by a cancel)
//	refunds           one row per refund
//	  seq, id ("re_…"), payment_intent, charge, amount, currency, reason, status
//	  (succeeded), metadata (JSON), pos_tx (metadata[pos_tx] of the refund, else NULL),
//	  created (Unix s), created_at
//	payment_methods   cards seen: id ("pm_…"), type, source (pm_card_* name, "card" for
//	  raw card data, "reader" for a card presented to a reader), brand, last4, funding,
//	  exp_month, exp_year, created_at
//	payment_events    append-only ledger of everything that happened to an intent
//	  seq, at, payment_intent, type, amount, status_before, status_after, object_id,
//	  code, idempotency_key, request_id. Types and their amount:
//	    created     the intent's amount
//	    updated     the amount after the update (metadata, description, amount, …)
//	    authorized  the amount authorised (charge in object_id)
//	    declined    the amount attempted; code = decline_code or error code
//	    captured    the amount captured (charge in object_id)
//	    canceled    the authorised amount released (0 if nothing was authorised);
//	                code = cancellation_reason
//	    refunded    the refund's amount (refund in object_id)
//	reader_actions    one row per reader action: seq, reader_id, type
//	  (process_payment_intent), payment_intent, status (in_progress|succeeded|failed),
//	  failure_code, failure_message, started_at, finished_at
//	terminal_readers  the world's readers: id ("tmr_…"), label (register id), register_id,
//	  location_id (fixture location), stripe_location ("tml_" + location id)
//	meta              key/value: world_seed, world_size, currency, opened_at
//
// Per-intent totals for reconciliation are columns of payment_intents: captured =
// amount_received, refunded = amount_refunded, outstanding hold = amount_capturable.
const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payment_intents (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  capture_method TEXT NOT NULL,
  payment_method_types TEXT NOT NULL,
  payment_method TEXT,
  amount_capturable INTEGER NOT NULL DEFAULT 0,
  amount_received INTEGER NOT NULL DEFAULT 0,
  amount_refunded INTEGER NOT NULL DEFAULT 0,
  latest_charge TEXT,
  reader_id TEXT,
  description TEXT,
  receipt_email TEXT,
  cancellation_reason TEXT,
  last_payment_error TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  pos_tx TEXT,
  store TEXT,
  register TEXT,
  client_secret TEXT NOT NULL,
  created INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  authorized_at TEXT,
  captured_at TEXT,
  canceled_at TEXT,
  updated_at TEXT NOT NULL,
  CHECK (amount_received + amount_capturable <= amount),
  CHECK (amount_refunded <= amount_received)
);
CREATE INDEX IF NOT EXISTS payment_intents_pos_tx ON payment_intents(pos_tx);
CREATE INDEX IF NOT EXISTS payment_intents_created ON payment_intents(created);
CREATE TABLE IF NOT EXISTS charges (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  payment_intent TEXT NOT NULL,
  amount INTEGER NOT NULL,
  amount_captured INTEGER NOT NULL DEFAULT 0,
  amount_refunded INTEGER NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  captured INTEGER NOT NULL DEFAULT 0,
  payment_method TEXT,
  payment_method_type TEXT,
  brand TEXT,
  last4 TEXT,
  funding TEXT,
  failure_code TEXT,
  failure_message TEXT,
  decline_code TEXT,
  reader_id TEXT,
  created INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  captured_at TEXT,
  released_at TEXT,
  CHECK (amount_refunded <= amount_captured)
);
CREATE INDEX IF NOT EXISTS charges_payment_intent ON charges(payment_intent);
CREATE TABLE IF NOT EXISTS refunds (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  payment_intent TEXT NOT NULL,
  charge TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  reason TEXT,
  status TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  pos_tx TEXT,
  created INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_payment_intent ON refunds(payment_intent);
CREATE INDEX IF NOT EXISTS refunds_charge ON refunds(charge);
CREATE TABLE IF NOT EXISTS payment_methods (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  number TEXT,
  brand TEXT,
  last4 TEXT,
  funding TEXT,
  exp_month INTEGER,
  exp_year INTEGER,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS payment_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  payment_intent TEXT NOT NULL,
  type TEXT NOT NULL,
  amount INTEGER NOT NULL,
  status_before TEXT,
  status_after TEXT NOT NULL,
  object_id TEXT,
  code TEXT,
  idempotency_key TEXT,
  request_id TEXT
);
CREATE INDEX IF NOT EXISTS payment_events_intent ON payment_events(payment_intent);
CREATE TABLE IF NOT EXISTS reader_actions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  reader_id TEXT NOT NULL,
  type TEXT NOT NULL,
  payment_intent TEXT,
  status TEXT NOT NULL,
  failure_code TEXT,
  failure_message TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS terminal_readers (
  id TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  register_id TEXT NOT NULL,
  location_id TEXT NOT NULL,
  stripe_location TEXT NOT NULL
);
`

// bookTables are the tables /_sim/reset empties (terminal_readers and meta stay).
var bookTables = []string{"payment_intents", "charges", "refunds", "payment_methods", "payment_events", "reader_actions"}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// nullTime is NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func parseTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		return time.Time{}
	}
	return t
}

// books is the SQLite database: one writer connection (changes are serialised by the
// server anyway) and a small pool of read-only connections for GETs and lists.
type books struct {
	path   string
	dsn    string
	w      *sql.DB
	r      *sql.DB
	tmpDir string // removed on close, when the books live in a temporary file
}

// openBooks creates the books at path, replacing any file already there; an empty path
// makes a temporary file.
func openBooks(ctx context.Context, path string, world *fixtures.World, now time.Time) (*books, error) {
	b := &books{path: path}
	if path == "" {
		dir, err := os.MkdirTemp("", "doorbuster-gateway-")
		if err != nil {
			return nil, fmt.Errorf("gateway books: %w", err)
		}
		b.tmpDir = dir
		b.path = filepath.Join(dir, "gateway.db")
	} else {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("gateway books: replace %s: %w", path+suffix, err)
			}
		}
	}
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: b.path,
		RawQuery: "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"}).String()
	b.dsn = dsn
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		b.close()
		return nil, fmt.Errorf("gateway books: open %s: %w", b.path, err)
	}
	w.SetMaxOpenConns(1)
	b.w = w
	if _, err := w.ExecContext(ctx, schema); err != nil {
		b.close()
		return nil, fmt.Errorf("gateway books: create schema in %s: %w", b.path, err)
	}
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		b.close()
		return nil, fmt.Errorf("gateway books: open %s for reading: %w", b.path, err)
	}
	r.SetMaxOpenConns(4)
	b.r = r
	if err := b.seed(ctx, world, now); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// seed writes the world's readers and the meta rows.
func (b *books) seed(ctx context.Context, world *fixtures.World, now time.Time) error {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("gateway books: seed: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for k, v := range map[string]string{
		"world_seed": fmt.Sprint(world.Seed), "world_size": string(world.Size),
		"currency": strings.ToLower(world.Currency), "opened_at": fmtTime(now),
	} {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)`, k, v); err != nil {
			return fmt.Errorf("gateway books: seed meta: %w", err)
		}
	}
	for _, reg := range world.Registers {
		if _, err := tx.ExecContext(ctx,
			`INSERT OR REPLACE INTO terminal_readers(id, label, register_id, location_id, stripe_location) VALUES (?, ?, ?, ?, ?)`,
			reg.ReaderID, reg.ID, reg.ID, reg.LocationID, stripeLocation(reg.LocationID)); err != nil {
			return fmt.Errorf("gateway books: seed reader %s: %w", reg.ReaderID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("gateway books: seed: %w", err)
	}
	return nil
}

func (b *books) close() error {
	var errs []error
	for _, db := range []*sql.DB{b.r, b.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	if b.tmpDir != "" {
		errs = append(errs, os.RemoveAll(b.tmpDir))
	}
	return errors.Join(errs...)
}

// reset empties the books (readers and meta stay).
func (b *books) reset(ctx context.Context) error {
	tx, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("gateway books: reset: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, t := range bookTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("gateway books: reset %s: %w", t, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sqlite_sequence`); err != nil {
		return fmt.Errorf("gateway books: reset sequences: %w", err)
	}
	return tx.Commit()
}

// export writes a consistent snapshot of the books to dst, which must not exist. It runs
// on a connection of its own (the read pool is query-only, which VACUUM INTO refuses), as
// a read transaction: writers carry on meanwhile.
func (b *books) export(ctx context.Context, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("gateway books: export to %s: the file exists", dst)
	}
	db, err := sql.Open("sqlite", b.dsn)
	if err != nil {
		return fmt.Errorf("gateway books: export: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("gateway books: export to %s: %w", dst, err)
	}
	return nil
}

func stripeLocation(locationID string) string { return "tml_" + locationID }

// querier is a *sql.Tx or a *sql.DB.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const intentColumns = `seq, id, amount, currency, status, capture_method, payment_method_types, payment_method,
  amount_capturable, amount_received, amount_refunded, latest_charge, reader_id, description, receipt_email,
  cancellation_reason, last_payment_error, metadata, client_secret, created_at, authorized_at, captured_at,
  canceled_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanIntent(row scanner) (*intent, error) {
	var (
		pi                                               intent
		types, meta                                      string
		pm, charge, reader, desc, email, reason, lastErr sql.NullString
		created, authorized, captured, canceled, updated sql.NullString
	)
	if err := row.Scan(&pi.Seq, &pi.ID, &pi.Amount, &pi.Currency, &pi.Status, &pi.CaptureMethod, &types, &pm,
		&pi.AmountCapturable, &pi.AmountReceived, &pi.AmountRefunded, &charge, &reader, &desc, &email,
		&reason, &lastErr, &meta, &pi.ClientSecret, &created, &authorized, &captured, &canceled, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &pi.PaymentMethodTypes); err != nil {
		return nil, fmt.Errorf("intent %s: payment_method_types: %w", pi.ID, err)
	}
	if err := json.Unmarshal([]byte(meta), &pi.Metadata); err != nil {
		return nil, fmt.Errorf("intent %s: metadata: %w", pi.ID, err)
	}
	if lastErr.Valid {
		pi.LastPaymentError = &apiError{}
		if err := json.Unmarshal([]byte(lastErr.String), pi.LastPaymentError); err != nil {
			return nil, fmt.Errorf("intent %s: last_payment_error: %w", pi.ID, err)
		}
	}
	pi.PaymentMethod, pi.LatestCharge, pi.ReaderID = pm.String, charge.String, reader.String
	pi.Description, pi.ReceiptEmail, pi.CancellationReason = desc.String, email.String, reason.String
	pi.Created, pi.AuthorizedAt, pi.CapturedAt = parseTime(created), parseTime(authorized), parseTime(captured)
	pi.CanceledAt, pi.UpdatedAt = parseTime(canceled), parseTime(updated)
	return &pi, nil
}

// loadIntent reads one intent; ok is false when there is none.
func loadIntent(ctx context.Context, q querier, id string) (*intent, bool, error) {
	pi, err := scanIntent(q.QueryRowContext(ctx, `SELECT `+intentColumns+` FROM payment_intents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load intent %s: %w", id, err)
	}
	return pi, true, nil
}

// saveIntent inserts or updates an intent, and sets pi.Seq for a new one.
func saveIntent(ctx context.Context, q querier, pi *intent) error {
	types, err := json.Marshal(pi.PaymentMethodTypes)
	if err != nil {
		return err
	}
	meta, err := json.Marshal(nonNil(pi.Metadata))
	if err != nil {
		return err
	}
	var lastErr any
	if pi.LastPaymentError != nil {
		b, err := json.Marshal(pi.LastPaymentError)
		if err != nil {
			return err
		}
		lastErr = string(b)
	}
	args := []any{pi.ID, pi.Amount, pi.Currency, pi.Status, pi.CaptureMethod, string(types), nullString(pi.PaymentMethod),
		pi.AmountCapturable, pi.AmountReceived, pi.AmountRefunded, nullString(pi.LatestCharge), nullString(pi.ReaderID),
		nullString(pi.Description), nullString(pi.ReceiptEmail), nullString(pi.CancellationReason), lastErr, string(meta),
		nullString(pi.Metadata["pos_tx"]), nullString(pi.Metadata["store"]), nullString(pi.Metadata["register"]),
		pi.ClientSecret, pi.Created.Unix(), fmtTime(pi.Created), nullTime(pi.AuthorizedAt), nullTime(pi.CapturedAt),
		nullTime(pi.CanceledAt), fmtTime(pi.UpdatedAt)}
	if pi.Seq == 0 {
		res, err := q.ExecContext(ctx, `INSERT INTO payment_intents (id, amount, currency, status, capture_method,
  payment_method_types, payment_method, amount_capturable, amount_received, amount_refunded, latest_charge, reader_id,
  description, receipt_email, cancellation_reason, last_payment_error, metadata, pos_tx, store, register, client_secret,
  created, created_at, authorized_at, captured_at, canceled_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return fmt.Errorf("insert intent %s: %w", pi.ID, err)
		}
		pi.Seq, err = res.LastInsertId()
		return err
	}
	_, err = q.ExecContext(ctx, `UPDATE payment_intents SET amount = ?2, currency = ?3, status = ?4, capture_method = ?5,
  payment_method_types = ?6, payment_method = ?7, amount_capturable = ?8, amount_received = ?9, amount_refunded = ?10,
  latest_charge = ?11, reader_id = ?12, description = ?13, receipt_email = ?14, cancellation_reason = ?15,
  last_payment_error = ?16, metadata = ?17, pos_tx = ?18, store = ?19, register = ?20, client_secret = ?21,
  created = ?22, created_at = ?23, authorized_at = ?24, captured_at = ?25, canceled_at = ?26, updated_at = ?27
  WHERE id = ?1`, args...)
	if err != nil {
		return fmt.Errorf("update intent %s: %w", pi.ID, err)
	}
	return nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

const chargeColumns = `seq, id, payment_intent, amount, amount_captured, amount_refunded, currency, status, captured,
  payment_method, payment_method_type, brand, last4, funding, failure_code, failure_message, decline_code, reader_id,
  created_at, captured_at, released_at`

func scanCharge(row scanner) (*charge, error) {
	var (
		ch                                                        charge
		pm, pmType, brand, last4, funding, fcode, fmsg, dcode, rd sql.NullString
		created, captured, released                               sql.NullString
	)
	if err := row.Scan(&ch.Seq, &ch.ID, &ch.PaymentIntent, &ch.Amount, &ch.AmountCaptured, &ch.AmountRefunded,
		&ch.Currency, &ch.Status, &ch.Captured, &pm, &pmType, &brand, &last4, &funding, &fcode, &fmsg, &dcode, &rd,
		&created, &captured, &released); err != nil {
		return nil, err
	}
	ch.PaymentMethod, ch.PMType, ch.Brand, ch.Last4, ch.Funding = pm.String, pmType.String, brand.String, last4.String, funding.String
	ch.FailureCode, ch.FailureMessage, ch.DeclineCode, ch.ReaderID = fcode.String, fmsg.String, dcode.String, rd.String
	ch.Created, ch.CapturedAt, ch.ReleasedAt = parseTime(created), parseTime(captured), parseTime(released)
	return &ch, nil
}

func loadCharge(ctx context.Context, q querier, id string) (*charge, bool, error) {
	ch, err := scanCharge(q.QueryRowContext(ctx, `SELECT `+chargeColumns+` FROM charges WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load charge %s: %w", id, err)
	}
	return ch, true, nil
}

func saveCharge(ctx context.Context, q querier, ch *charge) error {
	args := []any{ch.ID, ch.PaymentIntent, ch.Amount, ch.AmountCaptured, ch.AmountRefunded, ch.Currency, ch.Status,
		ch.Captured, nullString(ch.PaymentMethod), nullString(ch.PMType), nullString(ch.Brand), nullString(ch.Last4),
		nullString(ch.Funding), nullString(ch.FailureCode), nullString(ch.FailureMessage), nullString(ch.DeclineCode),
		nullString(ch.ReaderID), ch.Created.Unix(), fmtTime(ch.Created), nullTime(ch.CapturedAt), nullTime(ch.ReleasedAt)}
	if ch.Seq == 0 {
		res, err := q.ExecContext(ctx, `INSERT INTO charges (id, payment_intent, amount, amount_captured, amount_refunded,
  currency, status, captured, payment_method, payment_method_type, brand, last4, funding, failure_code, failure_message,
  decline_code, reader_id, created, created_at, captured_at, released_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return fmt.Errorf("insert charge %s: %w", ch.ID, err)
		}
		ch.Seq, err = res.LastInsertId()
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE charges SET payment_intent = ?2, amount = ?3, amount_captured = ?4,
  amount_refunded = ?5, currency = ?6, status = ?7, captured = ?8, payment_method = ?9, payment_method_type = ?10,
  brand = ?11, last4 = ?12, funding = ?13, failure_code = ?14, failure_message = ?15, decline_code = ?16,
  reader_id = ?17, created = ?18, created_at = ?19, captured_at = ?20, released_at = ?21 WHERE id = ?1`, args...)
	if err != nil {
		return fmt.Errorf("update charge %s: %w", ch.ID, err)
	}
	return nil
}

func loadPaymentMethod(ctx context.Context, q querier, id string) (*paymentMethod, bool, error) {
	var (
		pm                                   paymentMethod
		number, brand, last4, funding, creat sql.NullString
		expM, expY                           sql.NullInt64
	)
	err := q.QueryRowContext(ctx, `SELECT id, type, source, number, brand, last4, funding, exp_month, exp_year, created_at
  FROM payment_methods WHERE id = ?`, id).Scan(&pm.ID, &pm.Type, &pm.Source, &number, &brand, &last4, &funding, &expM, &expY, &creat)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load payment method %s: %w", id, err)
	}
	pm.Number, pm.Brand, pm.Last4, pm.Funding = number.String, brand.String, last4.String, funding.String
	pm.ExpMonth, pm.ExpYear, pm.Created = int(expM.Int64), int(expY.Int64), parseTime(creat)
	return &pm, true, nil
}

func insertPaymentMethod(ctx context.Context, q querier, pm *paymentMethod) error {
	_, err := q.ExecContext(ctx, `INSERT INTO payment_methods (id, type, source, number, brand, last4, funding, exp_month,
  exp_year, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, pm.ID, pm.Type, pm.Source, nullString(pm.Number),
		nullString(pm.Brand), nullString(pm.Last4), nullString(pm.Funding), pm.ExpMonth, pm.ExpYear, fmtTime(pm.Created))
	if err != nil {
		return fmt.Errorf("insert payment method %s: %w", pm.ID, err)
	}
	return nil
}

const refundColumns = `seq, id, payment_intent, charge, amount, currency, reason, status, metadata, created_at`

func scanRefund(row scanner) (*refund, error) {
	var (
		re              refund
		reason, created sql.NullString
		meta            string
	)
	if err := row.Scan(&re.Seq, &re.ID, &re.PaymentIntent, &re.Charge, &re.Amount, &re.Currency, &reason, &re.Status,
		&meta, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(meta), &re.Metadata); err != nil {
		return nil, fmt.Errorf("refund %s: metadata: %w", re.ID, err)
	}
	re.Reason, re.Created = reason.String, parseTime(created)
	return &re, nil
}

func loadRefund(ctx context.Context, q querier, id string) (*refund, bool, error) {
	re, err := scanRefund(q.QueryRowContext(ctx, `SELECT `+refundColumns+` FROM refunds WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load refund %s: %w", id, err)
	}
	return re, true, nil
}

func insertRefund(ctx context.Context, q querier, re *refund) error {
	meta, err := json.Marshal(nonNil(re.Metadata))
	if err != nil {
		return err
	}
	res, err := q.ExecContext(ctx, `INSERT INTO refunds (id, payment_intent, charge, amount, currency, reason, status,
  metadata, pos_tx, created, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, re.ID, re.PaymentIntent, re.Charge,
		re.Amount, re.Currency, nullString(re.Reason), re.Status, string(meta), nullString(re.Metadata["pos_tx"]),
		re.Created.Unix(), fmtTime(re.Created))
	if err != nil {
		return fmt.Errorf("insert refund %s: %w", re.ID, err)
	}
	re.Seq, err = res.LastInsertId()
	return err
}

// event is one row of payment_events.
type event struct {
	Intent       string
	Type         string
	Amount       int64
	StatusBefore string
	StatusAfter  string
	ObjectID     string
	Code         string
}

func insertEvent(ctx context.Context, q querier, at time.Time, ev event, idemKey, requestID string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO payment_events (at, payment_intent, type, amount, status_before,
  status_after, object_id, code, idempotency_key, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		fmtTime(at), ev.Intent, ev.Type, ev.Amount, nullString(ev.StatusBefore), ev.StatusAfter, nullString(ev.ObjectID),
		nullString(ev.Code), nullString(idemKey), nullString(requestID))
	if err != nil {
		return fmt.Errorf("insert %s event of %s: %w", ev.Type, ev.Intent, err)
	}
	return nil
}
