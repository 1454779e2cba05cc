package reports

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteMarkdown writes s as GitHub-flavoured Markdown: summary.md, for CI step summaries
// ($GITHUB_STEP_SUMMARY) and pull-request comments. The verdict comes first, then the
// KPIs, then what failed with its evidence, then everything else.
func WriteMarkdown(w io.Writer, s *Summary) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	p("# %s Doorbuster: %s — %s\n\n", statusIcon(s.Verdict.Status), statusText(s.Verdict.Status), mdText(s.Run.Name))
	p("%s\n\n", mdRunLine(s))
	if len(s.Verdict.Reasons) > 0 {
		for _, r := range s.Verdict.Reasons {
			p("- %s\n", mdText(r))
		}
		p("\n")
	}

	p("| KPI | Value |\n|---|---|\n")
	for _, kv := range kpiRows(s) {
		p("| %s | %s |\n", kv[0], mdCell(kv[1]))
	}
	p("\n")

	var failedInv []Invariant
	if s.Invariants != nil {
		for _, r := range s.Invariants.Results {
			if r.Failed() {
				failedInv = append(failedInv, r)
			}
		}
	}
	if len(failedInv) > 0 {
		p("## Failed invariants\n\n")
		for _, r := range failedInv {
			if r.Verdict == "error" {
				p("### ✗ `%s` — could not be evaluated\n\n%s\n\n> %s\n\n", r.ID, mdText(r.Statement), mdText(r.Reason))
				continue
			}
			p("### ✗ `%s` — %s\n\n%s\n\n", r.ID, plural(r.Violations, "violation"), mdText(r.Statement))
			if r.Note != "" {
				p("> %s\n\n", mdText(r.Note))
			}
			if len(r.Evidence) > 0 {
				if int64(len(r.Evidence)) < r.Violations {
					p("The first %d:\n\n", len(r.Evidence))
				}
				p("| Transaction | What | Expected | Actual | Detail |\n|---|---|---|---|---|\n")
				for _, e := range r.Evidence {
					p("| %s | %s | %s | %s | %s |\n", mdCode(e.TxID), mdCell(e.What), mdCell(e.Expected), mdCell(e.Actual), mdCell(e.Detail))
				}
				p("\n")
			}
		}
	}
	var failedTh []Threshold
	for _, t := range s.Thresholds {
		if !t.OK {
			failedTh = append(failedTh, t)
		}
	}
	if len(failedTh) > 0 {
		p("## Failed thresholds\n\n| Metric | Threshold | Observed | Why |\n|---|---|---|---|\n")
		for _, t := range failedTh {
			why := t.Message
			if t.Aborted {
				why += " (aborted the run)"
			}
			p("| %s | %s | %s | %s |\n", mdCode(t.Metric), mdCode(t.Expression), mdCell(fmtObserved(t)), mdCell(why))
		}
		p("\n")
	}

	if len(s.Thresholds) > 0 {
		p("## Thresholds\n\n| | Metric | Threshold | Observed |\n|---|---|---|---|\n")
		for _, t := range s.Thresholds {
			p("| %s | %s | %s | %s |\n", mark(t.OK), mdCode(t.Metric), mdCode(t.Expression), mdCell(fmtObserved(t)))
		}
		p("\n")
	}
	if inv := s.Invariants; inv != nil {
		p("## Invariants\n\n%d passed, %d failed, %d not applicable, %s.\n\n", inv.Pass, inv.Fail, inv.NotApplicable, plural(int64(inv.Error), "error"))
		p("| | Invariant | Violations | Statement |\n|---|---|---|---|\n")
		for _, r := range inv.Results {
			st := r.Statement
			if r.Verdict == "not-applicable" || r.Verdict == "error" {
				st += " — " + r.Verdict + ": " + r.Reason
			}
			p("| %s | %s | %d | %s |\n", verdictMark(r.Verdict), mdCode(r.ID), r.Violations, mdCell(st))
		}
		p("\n")
	}
	if len(s.Scenarios) > 0 {
		p("## Scenarios\n\n| Scenario | Executor | Iterations | Interrupted | Dropped | Errors | Max VUs | Transactions | HTTP p95 | HTTP failed | Checkout p95 |\n")
		p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, sc := range s.Scenarios {
			p("| %s | %s | %d | %d | %d | %d | %d | %s | %s | %s | %s |\n", mdCode(sc.Name), sc.Executor, sc.Iterations,
				sc.Interrupted, sc.Dropped, sc.Errors, sc.MaxVUs, fmtNumPtr(sc.Transactions), fmtMsPtr(sc.HTTPReqDurationP95Ms),
				fmtRate(sc.HTTPReqFailedRate), fmtMsPtr(sc.CheckoutP95Ms))
		}
		p("\n")
		errs := false
		for _, sc := range s.Scenarios {
			if sc.FirstError != "" {
				p("- `%s` first error: %s\n", sc.Name, mdText(firstLine(sc.FirstError)))
				errs = true
			}
		}
		if errs {
			p("\n")
		}
	}
	if len(s.Stores) > 0 {
		p("<details><summary>Stores (%d)</summary>\n\n", len(s.Stores))
		p("| Store | Transactions | Acknowledged | Rejected | Unacknowledged | Offline | Revenue | Sync p50 / p95 / p99 / max |\n")
		p("|---|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, st := range s.Stores {
			p("| %s | %d | %d | %d | %d | %d | %s | %s |\n", mdCell(storeLabel(st)), st.Transactions, st.Acknowledged, st.Rejected,
				st.Unacknowledged, st.Offline, fmtCents(st.RevenueCents), fmtLatency(st.SyncLatency))
		}
		p("\n</details>\n\n")
	}
	if f := s.Faults; f != nil && len(f.Windows) > 0 {
		p("<details><summary>Fault windows (%d)</summary>\n\n| Rule | Target | Effect | From | To | Events |\n|---|---|---|---|---|--:|\n", len(f.Windows))
		for _, fw := range f.Windows {
			p("| %s | %s | %s | %s | %s | %d |\n", mdCode(fw.Rule), fw.Target, mdCell(fw.Effect),
				relTime(s, fw.Start), relTime(s, fw.End), fw.Events)
		}
		p("\n</details>\n\n")
	}
	if len(s.Missing) > 0 {
		p("## Missing inputs\n\n")
		for _, m := range s.Missing {
			p("- `%s`: %s\n", m.File, mdText(m.Reason))
		}
		p("\n")
	}
	p("<sub>%s · summary.json schema %d</sub>\n", mdText(s.Generator), s.SchemaVersion)
	return b.Flush()
}

func statusIcon(st Status) string {
	switch st {
	case StatusPass:
		return "✅"
	case StatusInterrupted, StatusIncomplete:
		return "⚠️"
	}
	return "❌"
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func verdictMark(v string) string {
	switch v {
	case "pass":
		return "✓"
	case "not-applicable":
		return "–"
	}
	return "✗"
}

// mdRunLine is the one-line identity of the run.
func mdRunLine(s *Summary) string {
	r := s.Run
	parts := []string{"seed `" + strconv.FormatInt(r.Seed, 10) + "`"}
	if r.Mode != "" {
		parts = append(parts, "mode `"+r.Mode+"`")
	}
	if c := connectorText(r.Connector); c != "" {
		parts = append(parts, "connector "+mdText(c))
	}
	if r.World.Size != "" {
		parts = append(parts, "world `"+r.World.Size+"`")
	}
	if r.StartedAt != nil {
		parts = append(parts, "started "+r.StartedAt.UTC().Format("2006-01-02 15:04:05 MST"))
	}
	if r.TestRunDurationMs != nil {
		parts = append(parts, "traffic "+fmtMs(*r.TestRunDurationMs))
	}
	return strings.Join(parts, " · ")
}

func connectorText(c Connector) string {
	var parts []string
	switch {
	case c.Image != "":
		parts = append(parts, c.Image)
	case c.URL != "":
		parts = append(parts, c.URL)
	}
	if c.Version != "" {
		parts = append(parts, c.Version)
	}
	if c.Reference {
		parts = append(parts, "(reference)")
	}
	if len(c.Bugs) > 0 {
		parts = append(parts, "bugs: "+strings.Join(c.Bugs, ", "))
	}
	return strings.Join(parts, " ")
}

// kpiRows are the KPIs as label and value, in display order; absent ones are left out.
func kpiRows(s *Summary) [][2]string {
	k := s.KPIs
	var rows [][2]string
	add := func(label, value string) {
		if value != "" && value != "—" {
			rows = append(rows, [2]string{label, value})
		}
	}
	if k.Transactions != nil {
		v := fmtNum(*k.Transactions)
		if k.TransactionsPerSecond != nil {
			v += " (" + strconv.FormatFloat(*k.TransactionsPerSecond, 'f', 2, 64) + "/s)"
		}
		add("POS transactions", v)
	} else {
		add("Iterations", fmtNumPtr(k.Iterations))
	}
	add("Checkout p95", fmtMsPtr(k.CheckoutP95Ms))
	add("HTTP request p95", fmtMsPtr(k.HTTPReqDurationP95Ms))
	add("HTTP requests failed", fmtRate(k.HTTPReqFailedRate))
	add("Checks passed", fmtRate(k.ChecksRate))
	add("Sync latency p50 / p95 / p99 / max", fmtLatency(k.SyncLatency))
	add("Posting accuracy", fmtPct(k.PostingAccuracyPct))
	add("Stock accuracy", fmtPct(k.StockAccuracyPct))
	if k.DrainTimeMs != nil || k.DrainTimedOut {
		add("Drain time", fmtDrain(k))
	}
	add("Dropped iterations", fmtNumPtr(k.DroppedIterations))
	add("Peak VUs", fmtNumPtr(k.MaxVUs))
	if k.FaultsInjected != nil {
		add("Faults injected", strconv.FormatInt(*k.FaultsInjected, 10))
	}
	return rows
}

func storeLabel(st Store) string {
	if st.Name != "" {
		return st.Name + " (" + st.LocationID + ")"
	}
	return st.LocationID
}

// relTime is t as an offset from the start of the traffic ("+12s"), or UTC clock time.
func relTime(s *Summary, t time.Time) string {
	start := s.Run.TrafficStartedAt
	if start == nil {
		start = s.Run.StartedAt
	}
	if start == nil {
		return t.UTC().Format("15:04:05")
	}
	return "+" + fmtMs(ms(t.Sub(*start)))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// mdEscape escapes Markdown's punctuation and HTML in s, and puts nl for line breaks,
// so that text from a run (evidence, messages) renders as itself: no emphasis, link,
// tag or broken table.
func mdEscape(s, nl string) string {
	return strings.NewReplacer(
		`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "~", `\~`, "|", `\|`,
		"<", "&lt;", ">", "&gt;", "&", "&amp;", "\r\n", nl, "\n", nl, "\r", nl,
	).Replace(s)
}

// mdCell makes s safe in a table cell: escaped, newlines as <br>.
func mdCell(s string) string { return mdEscape(s, "<br>") }

// mdText makes s safe as Markdown text outside tables: escaped, on one line.
func mdText(s string) string { return mdEscape(s, " ") }

// mdCode renders s as inline code, safe in a table cell; "" stays empty. Text a code
// span cannot hold in a table (a backslash, a backtick, a line break) is escaped text.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	if strings.ContainsAny(s, "\\`\r\n") {
		return mdCell(s)
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}
