package reports

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/loadgen"
	"github.com/doorbuster/doorbuster/money"
)

// fmtMs renders milliseconds as k6 does: 812µs, 12.34ms, 1.23s, 1m2s.
func fmtMs(v float64) string {
	switch a := math.Abs(v); {
	case a < 1:
		return trimZeros(strconv.FormatFloat(v*1000, 'f', 2, 64)) + "µs"
	case a < 1000:
		return trimZeros(strconv.FormatFloat(v, 'f', 2, 64)) + "ms"
	case a < 60_000:
		return trimZeros(strconv.FormatFloat(v/1000, 'f', 2, 64)) + "s"
	}
	return time.Duration(v * float64(time.Millisecond)).Round(time.Second).String()
}

func fmtMsPtr(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmtMs(*v)
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// fmtNum renders an integer-valued number without decimals, others with two.
func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func fmtNumPtr(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmtNum(*v)
}

// fmtRate renders a 0..1 fraction as a percentage.
func fmtRate(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(100**v, 'f', 2, 64) + "%"
}

// fmtPct renders a percentage.
func fmtPct(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64) + "%"
}

func fmtBytes(v float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + units[i]
	}
	return trimZeros(strconv.FormatFloat(v, 'f', 1, 64)) + " " + units[i]
}

// fmtObserved renders a threshold's observed value in its metric's unit.
func fmtObserved(t Threshold) string {
	if t.Observed == nil {
		return "no data"
	}
	v := *t.Observed
	aggregation := "value"
	if th, err := loadgen.ParseThreshold(t.Metric, loadgen.ThresholdSpec{Threshold: t.Expression}); err == nil {
		aggregation = th.Agg
	}
	switch {
	case aggregation == "rate" && t.Type == "rate":
		return aggregation + "=" + fmtRate(&v)
	case aggregation == "count" || aggregation == "rate" || aggregation == "passes" || aggregation == "fails":
		return aggregation + "=" + fmtNum(v)
	case t.Contains == "time":
		return aggregation + "=" + fmtMs(v)
	case t.Contains == "data":
		return aggregation + "=" + fmtBytes(v)
	}
	return aggregation + "=" + fmtNum(v)
}

func fmtCents(c int64) string { return money.FromCents(c).String() }

func fmtDrain(k KPIs) string {
	if k.DrainTimedOut {
		if k.DrainTimeMs != nil {
			return fmtMs(*k.DrainTimeMs) + " (timed out)"
		}
		return "timed out"
	}
	return fmtMsPtr(k.DrainTimeMs)
}

func fmtLatency(l *LatencyStats) string {
	if l == nil {
		return "—"
	}
	return fmtMs(l.P50Ms) + " / " + fmtMs(l.P95Ms) + " / " + fmtMs(l.P99Ms) + " / " + fmtMs(l.MaxMs)
}

// statusText is the verdict in words.
func statusText(st Status) string {
	switch st {
	case StatusPass:
		return "passed"
	case StatusInvariantsFailed:
		return "invariants failed"
	case StatusThresholdsFailed:
		return "thresholds failed"
	case StatusInterrupted:
		return "interrupted"
	case StatusError:
		return "run failed"
	case StatusIncomplete:
		return "incomplete"
	}
	return string(st)
}

// evidenceText is an invariant's evidence as plain text lines (JUnit failures).
func evidenceText(inv Invariant) string {
	var b strings.Builder
	b.WriteString(inv.Statement)
	b.WriteString("\n")
	if inv.Reason != "" {
		b.WriteString("reason: " + inv.Reason + "\n")
	}
	if inv.Note != "" {
		b.WriteString("note: " + inv.Note + "\n")
	}
	b.WriteString(plural(inv.Violations, "violation"))
	if n := len(inv.Evidence); n > 0 && int64(n) < inv.Violations {
		b.WriteString(", the first " + strconv.Itoa(n))
	}
	b.WriteString(":\n")
	for _, e := range inv.Evidence {
		b.WriteString("- ")
		if e.TxID != "" {
			b.WriteString(e.TxID + ": ")
		}
		b.WriteString(e.What)
		if e.Expected != "" || e.Actual != "" {
			b.WriteString(" (expected " + orDash(e.Expected) + ", actual " + orDash(e.Actual) + ")")
		}
		if e.Detail != "" {
			b.WriteString(" [" + e.Detail + "]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
