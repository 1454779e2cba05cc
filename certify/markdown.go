package certify

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes summary.md for CI step summaries and pull-request comments: the
// verdict, the connector, one table row per case, then what failed and why.
func (c *Certificate) WriteMarkdown(w io.Writer) error {
	var sb strings.Builder
	icon := "✅"
	if c.Verdict != Certified {
		icon = "❌"
	}
	fmt.Fprintf(&sb, "## %s %s — Doorbuster certification, %s suite\n\n", icon, c.Verdict, c.Suite)
	fmt.Fprintf(&sb, "**%d of %d cases passed** · connector: %s (%s) · Doorbuster %s · seed %d · %s\n\n",
		c.Summary.Passed, c.Summary.Cases, mdEscape(c.Connector.Name()), c.Connector.Mode, c.Doorbuster.Version, c.Seed, fmtMs(c.DurationMs))
	if c.Connector.ImageDigest != "" {
		fmt.Fprintf(&sb, "Image digest `%s`\n\n", c.Connector.ImageDigest)
	}
	sb.WriteString("| case | verdict | duration | invariants | thresholds |\n|---|---|---|---|---|\n")
	for _, r := range c.Cases {
		v := r.Verdict
		switch r.Verdict {
		case CasePass:
			v = "✅ pass"
		case CaseFail:
			v = "❌ fail"
		case CaseError:
			v = "⚠️ error"
		}
		var invPass, invFail, thPass, thFail int
		for _, inv := range r.Invariants {
			switch inv.Verdict {
			case "pass":
				invPass++
			case "fail", "error":
				invFail++
			}
		}
		for _, t := range r.Thresholds {
			if t.OK {
				thPass++
			} else {
				thFail++
			}
		}
		fmt.Fprintf(&sb, "| **%s** %s | %s | %s | %s | %s |\n", r.ID, mdEscape(r.Title), v, fmtMs(r.DurationMs),
			counts(invPass, invFail), counts(thPass, thFail))
	}
	var failed []CaseResult
	for _, r := range c.Cases {
		if !r.Passed() {
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		sb.WriteString("\n### What failed\n\n")
		for _, r := range failed {
			fmt.Fprintf(&sb, "- **%s** (%s)", r.ID, r.Verdict)
			if r.Report != "" {
				fmt.Fprintf(&sb, " — report `%s`", r.Report)
			}
			sb.WriteString("\n")
			for _, reason := range r.Reasons {
				fmt.Fprintf(&sb, "  - %s\n", mdEscape(reason))
			}
		}
	}
	fmt.Fprintf(&sb, "\n<sub>catalog %s · certificate digest %s</sub>\n", c.Catalog.Version, c.Digest)
	_, err := io.WriteString(w, sb.String())
	return err
}

func counts(pass, fail int) string {
	if fail == 0 {
		return fmt.Sprintf("%d ✓", pass)
	}
	return fmt.Sprintf("%d ✓ **%d ✗**", pass, fail)
}

// mdEscape keeps text from breaking a table row.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
