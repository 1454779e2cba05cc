package invariants

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// SyncLatencies reads the sync latency samples of a run directory: for every
// acknowledged transaction that was posted, NetSuite's creation time of its record
// (the later of an exchange's two; the first of duplicates) − the POS acknowledgement
// time, ordered by acknowledgement time. The harness offers them to thresholds as
// pos_sync_latency; reports chart them.
func SyncLatencies(ctx context.Context, runDir string) ([]SyncSample, error) {
	s, err := openSession(ctx, filepath.Join(runDir, journalFile), filepath.Join(runDir, netsuiteFile),
		filepath.Join(runDir, gatewayFile), false, nil, nil)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := s.need(ctx, "origin", "tx"); err != nil {
		return nil, err
	}
	return syncSamples(ctx, s.c, ackedFromTx)
}

// ackedFromTx are the acknowledged transactions (id, acked) of a session.
const ackedFromTx = `(SELECT id, acked FROM pos_tx WHERE ack AND acked <> '')`

// syncSamples reads the samples of the acknowledged transactions in acked (a subquery
// of id and acked) against pos_origin, in acknowledgement order. SQLite turns the times
// into Unix milliseconds (the journal and the books keep milliseconds); a time it cannot
// read is parsed here, for parseTime's error.
func syncSamples(ctx context.Context, c *sql.Conn, acked string) ([]SyncSample, error) {
	// posted: the later of the first cash sale's and the first cash refund's creation
	// (grouped in pos_origin_tx's order). Computed columns are used once each: SQLite
	// copies a subquery's expressions into the query that uses them.
	rows, err := c.QueryContext(ctx, `SELECT j.id, CAST(round(unixepoch(j.acked, 'subsec') * 1000) AS INTEGER) AS a,
			CAST(round(unixepoch(m.posted, 'subsec') * 1000) AS INTEGER) AS p, j.acked, m.posted
		FROM `+acked+` j
		JOIN (SELECT tx_id, MAX(f) AS posted FROM (SELECT tx_id, part, MIN(createddate) AS f FROM pos_origin
				WHERE tx_id IS NOT NULL GROUP BY tx_id, part) GROUP BY tx_id) m ON m.tx_id = j.id`)
	if err != nil {
		return nil, fmt.Errorf("invariants: sync latency: %w", err)
	}
	defer rows.Close()
	var out []SyncSample
	for rows.Next() {
		var (
			id            string
			a, p          sql.NullInt64
			badA, badP    sql.NullString
			acked, posted time.Time
		)
		if err := rows.Scan(&id, &a, &p, &badA, &badP); err != nil {
			return nil, fmt.Errorf("invariants: sync latency: %w", err)
		}
		if acked, err = msTime(a, badA); err != nil {
			return nil, fmt.Errorf("invariants: sync latency: journal tx %s: acked_at %q: %w", id, badA.String, err)
		}
		if posted, err = msTime(p, badP); err != nil {
			return nil, fmt.Errorf("invariants: sync latency: NetSuite record of %s: createddate %q: %w", id, badP.String, err)
		}
		out = append(out, SyncSample{TxID: id, AckedAt: acked, PostedAt: posted, Latency: posted.Sub(acked)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("invariants: sync latency: %w", err)
	}
	slices.SortFunc(out, func(x, y SyncSample) int {
		if c := x.AckedAt.Compare(y.AckedAt); c != 0 {
			return c
		}
		return strings.Compare(x.TxID, y.TxID)
	})
	return out, nil
}

// msTime is a time SQLite read as Unix milliseconds, else the text it could not read
// parsed here (which says what is wrong with it).
func msTime(ms sql.NullInt64, text sql.NullString) (time.Time, error) {
	if ms.Valid {
		return time.UnixMilli(ms.Int64).UTC(), nil
	}
	return parseTime(text.String)
}

// Latencies summarises samples (nil when there are none). Percentiles are nearest-rank.
func Latencies(samples []SyncSample) *LatencyStats {
	if len(samples) == 0 {
		return nil
	}
	d := make([]time.Duration, len(samples))
	for i, s := range samples {
		d[i] = s.Latency
	}
	slices.Sort(d)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return d[max(0, min(i, len(d)-1))]
	}
	return &LatencyStats{Count: len(d), MinMs: ms(d[0]), P50Ms: ms(rank(0.50)), P95Ms: ms(rank(0.95)),
		P99Ms: ms(rank(0.99)), MaxMs: ms(d[len(d)-1])}
}

// runMeta is what the checker reads of run.json.
type runMeta struct {
	TrafficEndedAt *time.Time `json:"trafficEndedAt"`
	DrainedAt      *time.Time `json:"drainedAt"`
	DrainTimedOut  bool       `json:"drainTimedOut"`
}

func kpis(ctx context.Context, s *session, runDir string, ran []rule, rep *Report) error {
	var err error
	if s.work != nil {
		if err := s.work.wait(ctx, "sync"); err != nil {
			return err
		}
		rep.SyncSamples = s.work.samples
	} else if rep.SyncSamples, err = syncSamples(ctx, s.c, ackedFromTx); err != nil {
		return err
	}
	rep.KPIs.SyncLatency = Latencies(rep.SyncSamples)

	var probes, good int64
	err = s.c.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(p.connector_on_hand IS NOT NULL
			AND abs(p.connector_on_hand - COALESCE(v.onhand, 0)) <= 1e-6), 0)
		FROM (SELECT sku, location_id, connector_on_hand, MAX(probed_at) FROM main.stock_probe GROUP BY sku, location_id) p
		LEFT JOIN ns.items i ON i.itemid = p.sku
		LEFT JOIN ns.inventory v ON v.item = i.id AND v.location = CAST(p.location_id AS INTEGER)`).Scan(&probes, &good)
	if err != nil {
		return fmt.Errorf("invariants: stock accuracy: %w", err)
	}
	if probes > 0 {
		rep.KPIs.StockAccuracyPct = pct(good, probes)
	}

	if ack := rep.Counts.Acknowledged; ack > 0 {
		var parts []string
		for _, r := range ran {
			if len(r.accuracy) == 0 {
				continue
			}
			q := "SELECT tx_id FROM " + vtable(r.id) + " WHERE tx_id IS NOT NULL"
			if !slices.Contains(r.accuracy, "*") {
				q += " AND kind IN ('" + strings.Join(r.accuracy, "', '") + "')"
			}
			parts = append(parts, q)
		}
		var bad int64
		if len(parts) > 0 {
			bad, err = s.count(ctx, "SELECT COUNT(*) FROM pos_tx j WHERE j.ack AND j.id IN ("+
				strings.Join(parts, " UNION ")+")")
			if err != nil {
				return fmt.Errorf("invariants: posting accuracy: %w", err)
			}
		}
		rep.KPIs.PostingAccuracyPct = pct(ack-bad, ack)
	}

	b, err := os.ReadFile(filepath.Join(runDir, "run.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("invariants: %w", err)
	default:
		var m runMeta
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("invariants: %s: %w", filepath.Join(runDir, "run.json"), err)
		}
		if m.TrafficEndedAt != nil && m.DrainedAt != nil && !m.TrafficEndedAt.IsZero() && !m.DrainedAt.IsZero() {
			d := ms(m.DrainedAt.Sub(*m.TrafficEndedAt))
			rep.KPIs.DrainTimeMs = &d
		}
		rep.KPIs.DrainTimedOut = m.DrainTimedOut
	}
	return nil
}

func pct(n, of int64) *float64 {
	p := math.Round(float64(n)/float64(of)*1e6) / 1e4
	return &p
}

// parseTime reads the books' and journal's UTC times ("2006-01-02T15:04:05[.fff…]Z")
// without time.Parse's generality (a million of them per check); anything else goes
// to time.Parse (RFC 3339).
func parseTime(v string) (time.Time, error) {
	if len(v) >= 20 && v[len(v)-1] == 'Z' && v[4] == '-' && v[7] == '-' && v[10] == 'T' && v[13] == ':' && v[16] == ':' {
		num := func(s string) (int, bool) {
			n := 0
			for i := 0; i < len(s); i++ {
				c := s[i]
				if c < '0' || c > '9' {
					return 0, false
				}
				n = n*10 + int(c-'0')
			}
			return n, true
		}
		y, ok1 := num(v[0:4])
		mo, ok2 := num(v[5:7])
		d, ok3 := num(v[8:10])
		h, ok4 := num(v[11:13])
		mi, ok5 := num(v[14:16])
		sec, ok6 := num(v[17:19])
		ns, ok7 := 0, true
		if frac := v[19 : len(v)-1]; frac != "" {
			if frac[0] != '.' || len(frac) > 10 || len(frac) < 2 {
				ok7 = false
			} else if ns, ok7 = num(frac[1:]); ok7 {
				for i := len(frac) - 1; i < 9; i++ {
					ns *= 10
				}
			}
		}
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && sec < 60 {
			return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), nil
		}
	}
	return time.Parse(time.RFC3339Nano, v)
}
