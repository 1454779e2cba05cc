package harness

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the journal is SQLite

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"
)

// MetricSyncLatency is the Trend (time) of the connector's sync latency: NetSuite's
// creation time of a transaction's record − the registers' acknowledgement, for every
// acknowledged transaction that was posted (invariants.SyncLatencies). It exists only
// once the backlog has drained, so the harness adds it to the engine's Result after the
// invariant check — tagged scenario, flow, type and store (the location id) as the POS
// module's own samples, timed at the acknowledgement — and evaluates its thresholds
// then. abortOnFail does not apply to it.
const MetricSyncLatency = "pos_sync_latency"

// thresholdMetric returns the metric name of a thresholds key ("name{tag:value}").
func thresholdMetric(key string) string {
	name, _, _ := strings.Cut(key, "{")
	return strings.TrimSpace(name)
}

// addSyncLatency adds the sync latency samples to res as MetricSyncLatency (when there
// are samples, or a threshold asks for the metric) and evaluates the thresholds again.
func (r *run) addSyncLatency(ctx context.Context, res *loadgen.Result, samples []invariants.SyncSample) error {
	wanted := false
	for key := range res.ThresholdSpecs {
		wanted = wanted || thresholdMetric(key) == MetricSyncLatency
	}
	if len(samples) == 0 && !wanted {
		return nil
	}
	tags, err := journalTags(ctx, filepath.Join(r.dir, rundir.JournalFile))
	if err != nil {
		return err
	}
	vs := make([]loadgen.TaggedValue, len(samples))
	for i, s := range samples {
		vs[i] = loadgen.TaggedValue{Value: float64(s.Latency.Microseconds()) / 1000, Tags: tags[s.TxID], Time: s.AckedAt}
	}
	if err := res.AddTrend(MetricSyncLatency, true, vs); err != nil {
		return err
	}
	res.EvaluateThresholds()
	return nil
}

// journalTags reads the tags of the journal's acknowledged transactions by id: scenario,
// flow, type and store (the location id).
func journalTags(ctx context.Context, path string) (map[string][]loadgen.Tag, error) {
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: "mode=ro"}).String())
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT id, COALESCE(scenario, ''), COALESCE(flow, ''), type, location_id FROM tx WHERE outcome = 'acknowledged'`)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	out := map[string][]loadgen.Tag{}
	shared := map[[4]string][]loadgen.Tag{} // few distinct tag sets among many transactions
	for rows.Next() {
		var id string
		var k [4]string // scenario, flow, type, store
		if err := rows.Scan(&id, &k[0], &k[1], &k[2], &k[3]); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		tags, ok := shared[k]
		if !ok {
			for i, key := range []string{"scenario", "flow", "type", "store"} {
				if k[i] != "" {
					tags = append(tags, loadgen.Tag{Key: key, Value: k[i]})
				}
			}
			shared[k] = tags
		}
		out[id] = tags
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return out, nil
}
