package reports

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"

	_ "modernc.org/sqlite" // the journal and the books are SQLite
)

// ErrNotRunDirectory is wrapped by the error of Load and Render when the directory does
// not exist, is not a directory, or holds none of run.json, metrics.json and
// invariants.json.
var ErrNotRunDirectory = errors.New("not a run directory")

// Input is everything read from a run directory. A nil field's file was missing or
// unreadable; Missing says which and why.
type Input struct {
	Dir        string
	Run        *rundir.Run
	Result     *loadgen.Result
	Invariants *invariants.Report
	Faults     *rundir.Faults
	// Actions is actions.json: nil when the run had no actions.
	Actions *rundir.Actions
	Backlog []rundir.BacklogSample
	// Stores are the per-location tallies of journal.db (nil without a journal).
	Stores []Store
	// SyncSamples are the sync latency samples (Options.SyncSamples, or read from
	// journal.db and books/netsuite.db), ordered by acknowledgement time.
	SyncSamples []invariants.SyncSample
	// ScenarioYAML is scenario.yaml as run.
	ScenarioYAML []byte
	Missing      []Missing
}

// Load reads the run directory dir. It fails only when dir is not a readable directory
// or holds none of a run's files; every other absent or unreadable input is recorded in
// Input.Missing and its field left nil.
func Load(ctx context.Context, dir string, opts Options) (*Input, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reports: %w: %w", ErrNotRunDirectory, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("reports: %s is a file: %w", dir, ErrNotRunDirectory)
	}
	in := &Input{Dir: dir}
	missing := func(file string, err error) {
		reason := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			reason = "not found"
		}
		in.Missing = append(in.Missing, Missing{File: file, Reason: reason})
	}

	if r, err := rundir.LoadRun(dir); err != nil {
		missing(rundir.RunFile, err)
	} else {
		in.Run = r
	}
	if r, err := rundir.LoadMetrics(dir); err != nil {
		missing(rundir.MetricsFile, err)
	} else {
		in.Result = r
	}
	if r, err := invariants.ReadJSON(filepath.Join(dir, invariants.FileName)); err != nil {
		missing(invariants.FileName, err)
	} else {
		in.Invariants = r
	}
	if f, err := rundir.LoadFaults(dir); err != nil {
		missing(rundir.FaultsFile, err)
	} else {
		in.Faults = f
	}
	if a, err := rundir.LoadActions(dir); err == nil {
		in.Actions = a
	} else if !errors.Is(err, fs.ErrNotExist) {
		missing(rundir.ActionsFile, err)
	}
	if b, err := rundir.LoadBacklog(dir); err != nil {
		missing(rundir.BacklogFile, err)
	} else {
		in.Backlog = b
	}
	if b, err := os.ReadFile(filepath.Join(dir, rundir.ScenarioFile)); err != nil {
		missing(rundir.ScenarioFile, err)
	} else {
		in.ScenarioYAML = b
	}
	if in.Run == nil && in.Result == nil && in.Invariants == nil {
		return nil, fmt.Errorf("reports: %s: %w: it has no %s, %s or %s",
			dir, ErrNotRunDirectory, rundir.RunFile, rundir.MetricsFile, invariants.FileName)
	}

	journal := filepath.Join(dir, rundir.JournalFile)
	books := filepath.Join(dir, rundir.NetSuiteBooksFile)
	haveJournal, haveBooks := isFile(journal), isFile(books)
	switch {
	case opts.SyncSamples != nil:
		in.SyncSamples = opts.SyncSamples
	case haveJournal && haveBooks:
		s, err := invariants.SyncLatencies(ctx, dir)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("reports: %w", ctx.Err())
			}
			missing("sync latency samples", err)
		} else {
			in.SyncSamples = s
		}
	}
	if !haveJournal {
		missing(rundir.JournalFile, fs.ErrNotExist)
	} else {
		stores, err := storeStats(ctx, journal, books, in.SyncSamples)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("reports: %w", ctx.Err())
			}
			missing(rundir.JournalFile, err)
		} else {
			in.Stores = stores
		}
	}
	if !haveBooks {
		missing(rundir.NetSuiteBooksFile, fs.ErrNotExist)
	}
	return in, nil
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// openRO opens an SQLite file read-only.
func openRO(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(5000)")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// storeStats tallies journal.db per location, names the locations from the NetSuite
// books when they are there, and summarises the sync latency samples per location.
func storeStats(ctx context.Context, journal, books string, samples []invariants.SyncSample) ([]Store, error) {
	db, err := openRO(journal)
	if err != nil {
		return nil, fmt.Errorf("opening the journal: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT location_id, COUNT(*),
			COALESCE(SUM(outcome = 'acknowledged'), 0), COALESCE(SUM(outcome = 'rejected'), 0),
			COALESCE(SUM(outcome = 'unacknowledged'), 0), COALESCE(SUM(offline <> 0), 0),
			COALESCE(SUM(CASE WHEN outcome = 'acknowledged' THEN total_cents ELSE 0 END), 0)
		FROM tx GROUP BY location_id`)
	if err != nil {
		return nil, fmt.Errorf("journal per store: %w", err)
	}
	var stores []Store
	for rows.Next() {
		var s Store
		if err := rows.Scan(&s.LocationID, &s.Transactions, &s.Acknowledged, &s.Rejected,
			&s.Unacknowledged, &s.Offline, &s.RevenueCents); err != nil {
			rows.Close()
			return nil, fmt.Errorf("journal per store: %w", err)
		}
		stores = append(stores, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal per store: %w", err)
	}
	slices.SortFunc(stores, func(a, b Store) int { return compareIDs(a.LocationID, b.LocationID) })

	if len(samples) > 0 {
		byLoc, err := latencyByLocation(ctx, db, samples)
		if err != nil {
			return nil, err
		}
		for i := range stores {
			stores[i].SyncLatency = latencyStats(byLoc[stores[i].LocationID])
		}
	}
	if isFile(books) {
		names, err := locationNames(ctx, books)
		if err != nil {
			return nil, err
		}
		for i := range stores {
			stores[i].Name = names[stores[i].LocationID]
		}
	}
	return stores, nil
}

// latencyByLocation joins the samples with the journal's locations: the samples sorted
// by transaction id against the journal read in id order, so memory stays with the
// samples however big the journal.
func latencyByLocation(ctx context.Context, db *sql.DB, samples []invariants.SyncSample) (map[string][]invariants.SyncSample, error) {
	sorted := slices.Clone(samples)
	slices.SortFunc(sorted, func(a, b invariants.SyncSample) int { return strings.Compare(a.TxID, b.TxID) })
	rows, err := db.QueryContext(ctx, `SELECT id, location_id FROM tx ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("journal locations: %w", err)
	}
	defer rows.Close()
	out := map[string][]invariants.SyncSample{}
	i := 0
	for rows.Next() && i < len(sorted) {
		var id, loc string
		if err := rows.Scan(&id, &loc); err != nil {
			return nil, fmt.Errorf("journal locations: %w", err)
		}
		for i < len(sorted) && sorted[i].TxID < id {
			i++ // a sample whose transaction is not in the journal
		}
		for i < len(sorted) && sorted[i].TxID == id {
			out[loc] = append(out[loc], sorted[i])
			i++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal locations: %w", err)
	}
	return out, nil
}

// locationNames reads the locations' names from the NetSuite books.
func locationNames(ctx context.Context, books string) (map[string]string, error) {
	db, err := openRO(books)
	if err != nil {
		return nil, fmt.Errorf("opening the NetSuite books: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT CAST(id AS TEXT), name FROM locations`)
	if err != nil {
		return nil, fmt.Errorf("NetSuite books locations: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("NetSuite books locations: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}

// compareIDs orders NetSuite-style decimal ids numerically, other ids as strings.
func compareIDs(a, b string) int {
	if len(a) != len(b) && isDigits(a) && isDigits(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// latencyStats summarises samples as the checker does (nil without samples).
func latencyStats(samples []invariants.SyncSample) *LatencyStats {
	l := invariants.Latencies(samples)
	if l == nil {
		return nil
	}
	return &LatencyStats{Count: l.Count, MinMs: l.MinMs, P50Ms: l.P50Ms, P95Ms: l.P95Ms, P99Ms: l.P99Ms, MaxMs: l.MaxMs}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
