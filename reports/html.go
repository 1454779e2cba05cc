package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"
)

//go:embed report.html.tmpl
var htmlTemplate string

// htmlData is what report.html.tmpl renders.
type htmlData struct {
	S       *Summary
	Status  string
	RunLine []string
	KPIs    []kpiTile
	Charts  []Chart
	// Invariants are the results with the failed ones first.
	Invariants []Invariant
	Scenario   string // scenario.yaml as run
}

type kpiTile struct {
	Label, Value string
	Bad          bool
}

// WriteHTML writes report.html: one self-contained page (inline CSS and SVG, no script,
// nothing fetched) with the verdict banner, KPI tiles, thresholds, invariants with
// expandable evidence, charts, and per-scenario, per-store and fault tables.
func WriteHTML(w io.Writer, in *Input, s *Summary) error {
	charts, err := Charts(in, s)
	if err != nil {
		return err
	}
	t, err := template.New("report").Funcs(template.FuncMap{
		"ms":       fmtMs,
		"msp":      fmtMsPtr,
		"nump":     fmtNumPtr,
		"rate":     fmtRate,
		"cents":    fmtCents,
		"latency":  fmtLatency,
		"observed": fmtObserved,
		"plural":   plural,
		"store":    storeLabel,
		"rel":      func(t time.Time) string { return relTime(s, t) },
		"utc":      func(t *time.Time) string { return fmtTime(t) },
		"conn":     connectorText,
		"first":    firstLine,
		"status":   statusText,
		"int64":    func(i int) int64 { return int64(i) },
	}).Parse(htmlTemplate)
	if err != nil {
		return fmt.Errorf("report template: %w", err)
	}
	d := htmlData{S: s, Status: string(s.Verdict.Status), Charts: charts, Scenario: string(in.ScenarioYAML)}
	r := s.Run
	d.RunLine = append(d.RunLine, "seed "+strconv.FormatInt(r.Seed, 10))
	if r.Mode != "" {
		d.RunLine = append(d.RunLine, "mode "+r.Mode)
	}
	if c := connectorText(r.Connector); c != "" {
		d.RunLine = append(d.RunLine, "connector "+c)
	}
	if r.World.Size != "" {
		d.RunLine = append(d.RunLine, "world "+r.World.Size)
	}
	if r.StartedAt != nil {
		d.RunLine = append(d.RunLine, "started "+fmtTime(r.StartedAt))
	}
	if r.TestRunDurationMs != nil {
		d.RunLine = append(d.RunLine, "traffic "+fmtMs(*r.TestRunDurationMs))
	}
	if r.DoorbusterVersion != "" {
		d.RunLine = append(d.RunLine, "doorbuster "+r.DoorbusterVersion)
	}
	for _, kv := range kpiRows(s) {
		d.KPIs = append(d.KPIs, kpiTile{Label: kv[0], Value: kv[1], Bad: kpiBad(s, kv[0])})
	}
	if s.Invariants != nil {
		for _, x := range s.Invariants.Results {
			if x.Failed() {
				d.Invariants = append(d.Invariants, x)
			}
		}
		for _, x := range s.Invariants.Results {
			if !x.Failed() {
				d.Invariants = append(d.Invariants, x)
			}
		}
	}
	return t.Execute(w, d)
}

// kpiBad marks a tile red: a drain that timed out, dropped iterations, accuracy below 100 %.
func kpiBad(s *Summary, label string) bool {
	k := s.KPIs
	switch label {
	case "Drain time":
		return k.DrainTimedOut
	case "Dropped iterations":
		return k.DroppedIterations != nil && *k.DroppedIterations > 0
	case "Posting accuracy":
		return k.PostingAccuracyPct != nil && *k.PostingAccuracyPct < 100
	case "Stock accuracy":
		return k.StockAccuracyPct != nil && *k.StockAccuracyPct < 100
	}
	return false
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 MST")
}
