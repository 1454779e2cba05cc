package harness

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/doorbuster/doorbuster/fixtures"
	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/reports"
	"github.com/doorbuster/doorbuster/scenarios"
)

// invariantOptions are the checker's options for a run of f in world w: the scenario's
// skips and custom invariants, the world's negative-stock preference, and the world's
// stock as the start on hand when the books started from the world (not in url mode
// with KeepBooks, where they hold whatever they held).
func invariantOptions(f *scenarios.File, w *fixtures.World, booksFromWorld bool) invariants.Options {
	o := invariants.Options{Skip: f.Invariants.Skip, Custom: customInvariants(f), AllowNegativeStock: w.AllowNegativeStock}
	if booksFromWorld {
		for _, it := range w.Items {
			for _, s := range it.OnHand {
				o.StartStock = append(o.StartStock, invariants.StockLevel{ItemID: it.ID, LocationID: s.LocationID, Quantity: s.Quantity})
			}
		}
	}
	return o
}

// customInvariants are the scenario's invariants.custom in the checker's type.
func customInvariants(f *scenarios.File) []invariants.Custom {
	var out []invariants.Custom
	for _, c := range f.Invariants.Custom {
		out = append(out, invariants.Custom{ID: c.ID, Statement: c.Statement, SQL: c.SQL})
	}
	return out
}

// check runs the invariant checker on the run directory and writes invariants.json.
// It returns the report (nil when the check could not be made) and the sync latency
// samples (from the report, or read on their own when the check failed).
func (r *run) check(ctx context.Context, out *Outcome) (*invariants.Report, []invariants.SyncSample) {
	r.phase.Store("checking invariants")
	r.note("checking the invariants")
	opts := invariantOptions(r.file, r.world, r.cfg.Mode() != rundir.ModeURL || !r.cfg.KeepBooks)
	opts.Worker = invariants.WorkerCommand(r.cfg.InvariantsWorker)
	opts.Logger = r.log.With("component", "invariants")
	rep, err := invariants.Check(ctx, r.dir, opts)
	if err == nil {
		err = rep.WriteJSON(filepath.Join(r.dir, invariants.FileName))
	}
	if err != nil {
		out.CheckErr = fmt.Errorf("the invariant check: %w", err)
		r.log.Warn("the invariant check could not be made", "err", err)
		samples, serr := invariants.SyncLatencies(ctx, r.dir)
		if serr != nil {
			r.log.Warn("reading the sync latencies", "err", serr)
		}
		return nil, samples
	}
	v := &InvariantsVerdict{Passed: !rep.Failed()}
	for _, res := range rep.Invariants {
		if res.Verdict == invariants.Fail || res.Verdict == invariants.Error {
			v.Failed = append(v.Failed, res.ID)
		}
	}
	out.Invariants = v
	r.note("invariants: %d pass, %d fail, %d not applicable, %d could not be evaluated",
		rep.Summary.Pass, rep.Summary.Fail, rep.Summary.NotApplicable, rep.Summary.Error)
	return rep, rep.SyncSamples
}

// render writes the reports (summary.json, k6-summary.json, junit.xml, summary.md,
// report.html) and keeps their summary, whose verdict decides the exit code.
func (r *run) render(ctx context.Context, out *Outcome, samples []invariants.SyncSample) {
	r.phase.Store("writing the reports")
	if samples == nil {
		samples = []invariants.SyncSample{} // read already: do not read again
	}
	s, err := reports.Render(ctx, r.dir, reports.Options{Version: r.cfg.Version, SyncSamples: samples, Logger: r.log})
	if err != nil {
		out.ReportErr = fmt.Errorf("the reports: %w", err)
		r.log.Warn("the reports could not be written", "err", err)
		return
	}
	out.Summary = s
	r.note("wrote the reports")
}
