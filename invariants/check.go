package invariants

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultSampleLimit is how many violations an invariant keeps as evidence.
const DefaultSampleLimit = 20

// Options tune a check.
type Options struct {
	// Skip lists invariant ids (built-in or custom) not to evaluate; they are reported
	// not applicable ("skipped"). An unknown id is an error.
	Skip []string
	// Custom are the scenario's own invariants (invariants.custom).
	Custom []Custom
	// AllowNegativeStock: the world allows selling below zero on hand
	// (fixtures.World.AllowNegativeStock); no-negative-stock is then not applicable.
	AllowNegativeStock bool
	// SampleLimit bounds the evidence kept per invariant (default 20).
	SampleLimit int
	// StartStock is the on hand at the start of the run per item and location (the
	// world's). When the NetSuite books hold a start snapshot (table inventory_start)
	// that is used instead; with neither, inventory-conserved derives the start from
	// NetSuite's own stock ledger (end on hand − every move it booked) and says so.
	StartStock []StockLevel
	// Logger, when set, gets each SQL statement's duration at debug level (which
	// connection ran it and its first line): how a slow check is profiled.
	Logger *slog.Logger
	// Worker, when set, makes the command of a worker process (one that runs
	// ServeWorker, such as "doorbuster invariants-worker"); the check then builds part
	// of its tables there, in parallel without sharing SQLite's page cache lock (see
	// worker.go). Unset, the worker is a second connection in this process.
	Worker func(ctx context.Context) *exec.Cmd
}

// StockLevel is an on-hand quantity of an item (NetSuite internal id) at a location.
type StockLevel struct {
	ItemID     string  `json:"itemId"`
	LocationID string  `json:"locationId"`
	Quantity   float64 `json:"quantity"`
}

// Check holds the run directory's journal against its books and returns the report.
// An error means the check could not be made (missing or unreadable files, bad
// options, a failing built-in query); violations are in the report.
func Check(ctx context.Context, runDir string, opts Options) (*Report, error) {
	began := time.Now()
	if opts.SampleLimit <= 0 {
		opts.SampleLimit = DefaultSampleLimit
	}
	if err := validateCustomDefs(opts.Custom); err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, id := range opts.Skip {
		known := Statement(id) != "" || slices.ContainsFunc(opts.Custom, func(c Custom) bool { return c.ID == id })
		if !known {
			return nil, fmt.Errorf("invariants: skip %q: no such invariant (built-in: %s)", id, strings.Join(IDs(), ", "))
		}
		skip[id] = true
	}
	s, err := openSession(ctx, filepath.Join(runDir, journalFile), filepath.Join(runDir, netsuiteFile),
		filepath.Join(runDir, gatewayFile), true, opts.Worker, opts.Logger)
	if err != nil {
		return nil, err
	}
	defer s.close()
	s.start = opts.StartStock

	rep := &Report{Version: ReportVersion, RunDir: runDir, CheckedAt: began.UTC()}
	// The journal's helpers first: the worker builds pos_origin meanwhile.
	if err := s.need(ctx, "tx", "jpart", "jtender", "origin", "acc"); err != nil {
		return nil, err
	}
	if rep.Counts, err = counts(ctx, s); err != nil {
		return nil, err
	}
	var ran []rule // rules whose violations table exists
	for _, r := range rules {
		res, created, err := runRule(ctx, s, r, skip[r.id], opts)
		if err != nil {
			return nil, err
		}
		if created {
			ran = append(ran, r)
		}
		rep.Invariants = append(rep.Invariants, res)
	}
	if err := kpis(ctx, s, runDir, ran, rep); err != nil {
		return nil, err
	}
	if len(opts.Custom) > 0 {
		if err := s.need(ctx, helperNames()...); err != nil {
			return nil, err
		}
		if err := s.exec(ctx, "PRAGMA query_only = 1"); err != nil {
			return nil, fmt.Errorf("invariants: %w", err)
		}
		for _, c := range opts.Custom {
			rep.Invariants = append(rep.Invariants, runCustom(ctx, s, c, skip[c.ID], opts.SampleLimit))
		}
	}
	for _, r := range rep.Invariants {
		switch r.Verdict {
		case Pass:
			rep.Summary.Pass++
		case Fail:
			rep.Summary.Fail++
		case NotApplicable:
			rep.Summary.NotApplicable++
		case Error:
			rep.Summary.Error++
		}
	}
	rep.Verdict = Pass
	if rep.Summary.Fail+rep.Summary.Error > 0 {
		rep.Verdict = Fail
	}
	rep.TookMs = ms(time.Since(began))
	return rep, nil
}

// helperNames lists every helper table, sorted.
func helperNames() []string {
	out := make([]string, 0, len(helpers))
	for n := range helpers {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// runRule evaluates one built-in invariant. created says whether its violations
// table was made (the rule applied and ran).
func runRule(ctx context.Context, s *session, r rule, skipped bool, opts Options) (res Result, created bool, err error) {
	began := time.Now()
	res = Result{ID: r.id, Statement: r.statement}
	defer func() { res.TookMs = ms(time.Since(began)) }()
	if skipped {
		res.Verdict, res.Reason = NotApplicable, "skipped by the scenario"
		return res, false, nil
	}
	if r.id == NoNegativeStock && opts.AllowNegativeStock {
		res.Verdict, res.Reason = NotApplicable, "the world allows selling below zero on hand"
		return res, false, nil
	}
	if err := s.need(ctx, r.needs...); err != nil {
		return res, false, err
	}
	for _, c := range r.applies {
		n, err := s.count(ctx, c.sql)
		if err != nil {
			return res, false, fmt.Errorf("invariants: %s: %w", r.id, err)
		}
		if n == 0 {
			res.Verdict, res.Reason = NotApplicable, c.reason
			return res, false, nil
		}
	}
	table := vtable(r.id)
	if r.stage != "" && s.work != nil {
		if err := s.ready(ctx, r.stage); err != nil {
			return res, false, err
		}
	} else if err := s.exec(ctx, ruleStmts(r, s)...); err != nil {
		return res, false, fmt.Errorf("invariants: %s: %w", r.id, err)
	}
	n, err := s.count(ctx, "SELECT COUNT(*) FROM "+table)
	if err != nil {
		return res, true, fmt.Errorf("invariants: %s: %w", r.id, err)
	}
	res.Violations = n
	res.Verdict = Pass
	if n > 0 {
		res.Verdict = Fail
		if res.Evidence, err = sample(ctx, s, r, table, opts.SampleLimit); err != nil {
			return res, true, fmt.Errorf("invariants: %s: %w", r.id, err)
		}
	}
	if r.id == InventoryConserved {
		res.Note = startNote(s.startSource)
	}
	return res, true, nil
}

// ruleStmts make a rule's violations table; its extra statements need the session
// (s nil, as on the worker: none).
func ruleStmts(r rule, s *session) []string {
	stmts := append([]string{"CREATE TEMP TABLE " + vtable(r.id) + " (tx_id TEXT, kind TEXT, ref TEXT, exp, act, extra TEXT)"}, r.build...)
	if r.extra != nil && s != nil {
		stmts = append(stmts, r.extra(s)...)
	}
	return stmts
}

func startNote(src string) string {
	switch src {
	case startBooks:
		return "start on hand: the NetSuite books' start snapshot (inventory_start); the ledger start + moves = end is checked per location and item"
	case startOptions:
		return "start on hand: the world's stock (Options.StartStock); the ledger start + moves = end is checked per location and item"
	default:
		return "the books keep no start snapshot, so the opening balance is not checked: every POS record's stock moves are held " +
			"against its lines (item, quantity, location), with missing, duplicate and unexplained moves"
	}
}

// sample reads the first violations of a rule, in a stable order, and formats them.
func sample(ctx context.Context, s *session, r rule, table string, limit int) ([]Evidence, error) {
	rows, err := s.c.QueryContext(ctx, "SELECT tx_id, kind, ref, exp, act, extra FROM "+table+
		" ORDER BY kind, tx_id, ref LIMIT ?", limit)
	if err != nil {
		return nil, err
	}
	var vs []violation
	for rows.Next() {
		var (
			tx, kind, ref, extra sql.NullString
			v                    violation
		)
		if err := rows.Scan(&tx, &kind, &ref, &v.exp, &v.act, &extra); err != nil {
			rows.Close()
			return nil, err
		}
		v.tx, v.kind, v.ref, v.extra = tx.String, kind.String, ref.String, extra.String
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Evidence, 0, len(vs))
	for _, v := range vs {
		e := r.format(v)
		if r.detail != nil {
			if err := r.detail(ctx, s, v, &e); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func counts(ctx context.Context, s *session) (Counts, error) {
	var c Counts
	err := s.c.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(outcome = 'acknowledged'), 0), COALESCE(SUM(outcome = 'rejected'), 0),
		COALESCE(SUM(outcome = 'unacknowledged'), 0), COALESCE(SUM(offline = 1), 0) FROM pos_tx`).Scan(
		&c.JournalTransactions, &c.Acknowledged, &c.Rejected, &c.Unacknowledged, &c.Offline)
	if err != nil {
		return c, fmt.Errorf("invariants: counting: %w", err)
	}
	err = s.c.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(tx_id IS NOT NULL), 0) FROM pos_origin`).Scan(
		&c.NetSuitePOSRecords, &c.NetSuiteMatched)
	if err != nil {
		return c, fmt.Errorf("invariants: counting: %w", err)
	}
	for _, q := range []struct {
		dst *int64
		sql string
	}{
		{&c.Payments, "SELECT COUNT(*) FROM main.payment"},
		{&c.StockProbes, "SELECT COUNT(*) FROM main.stock_probe"},
		{&c.GatewayIntents, "SELECT COUNT(*) FROM gw.payment_intents"},
		{&c.GatewayRefunds, "SELECT COUNT(*) FROM gw.refunds"},
	} {
		n, err := s.count(ctx, q.sql)
		if err != nil {
			return c, fmt.Errorf("invariants: counting: %w", err)
		}
		*q.dst = n
	}
	return c, nil
}
