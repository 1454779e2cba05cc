package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"
)

// Names of the files Render writes into the run directory.
const (
	SummaryFile   = "summary.json"
	K6SummaryFile = "k6-summary.json"
	JUnitFile     = "junit.xml"
	MarkdownFile  = "summary.md"
	HTMLFile      = "report.html"
)

// Options tune Render. The zero value is ready to use.
type Options struct {
	// Now stamps summary.json's generatedAt [time.Now].
	Now func() time.Time
	// Version is Doorbuster's version, for summary.json's generator ["dev"].
	Version string
	// SyncSamples, when not nil, are the sync latency samples the checker already read
	// (invariants.Report.SyncSamples); nil reads them from journal.db and the books.
	SyncSamples []invariants.SyncSample
	// Logger receives a warning per missing input [discarded].
	Logger *slog.Logger
}

// Render reads the run directory runDir and writes summary.json, k6-summary.json (when
// metrics.json exists), junit.xml, summary.md and report.html into it. It returns the
// summary, whose Outputs name the files written and whose Verdict decides the exit code.
// Missing inputs do not fail it (Summary.Missing lists them); an unreadable directory
// or a failed write does.
func Render(ctx context.Context, runDir string, opts Options) (*Summary, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	in, err := Load(ctx, runDir, opts)
	if err != nil {
		return nil, err
	}
	for _, m := range in.Missing {
		log.Warn("report input missing", "file", m.File, "reason", m.Reason)
	}
	s := Summarize(in, now(), "doorbuster "+version)

	type output struct {
		name  string
		write func(io.Writer) error
	}
	outs := []output{{SummaryFile, func(w io.Writer) error { return WriteJSON(w, s) }}}
	if in.Result != nil {
		outs = append(outs, output{K6SummaryFile, func(w io.Writer) error { return WriteK6Summary(w, in.Result) }})
	}
	outs = append(outs,
		output{JUnitFile, func(w io.Writer) error { return WriteJUnit(w, s) }},
		output{MarkdownFile, func(w io.Writer) error { return WriteMarkdown(w, s) }},
		output{HTMLFile, func(w io.Writer) error { return WriteHTML(w, in, s) }},
	)
	for _, o := range outs {
		s.Outputs = append(s.Outputs, o.name)
	}
	for _, o := range outs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		var buf bytes.Buffer
		if err := o.write(&buf); err != nil {
			return nil, fmt.Errorf("reports: rendering %s: %w", o.name, err)
		}
		if err := rundir.WriteFile(filepath.Join(runDir, o.name), buf.Bytes()); err != nil {
			return nil, fmt.Errorf("reports: writing %s: %w", o.name, err)
		}
	}
	return s, nil
}

// WriteJSON writes s as indented JSON: summary.json.
func WriteJSON(w io.Writer, s *Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteK6Summary writes k6's handleSummary data of res as indented JSON:
// k6-summary.json, which tools that read `k6 run --summary-export` or handleSummary's
// data read.
func WriteK6Summary(w io.Writer, res *loadgen.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res.Summary())
}
