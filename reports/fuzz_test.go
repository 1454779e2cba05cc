package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"
)

// gfmCells splits a GitHub-flavoured Markdown table row into its cells as GitHub does: a
// backslash escapes the next character, an unescaped pipe separates cells.
func gfmCells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch c := row[i]; {
		case c == '\\' && i+1 < len(row):
			cur.WriteByte(c)
			cur.WriteByte(row[i+1])
			i++
		case c == '|':
			cells = append(cells, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if s := cur.String(); strings.TrimSpace(s) != "" {
		cells = append(cells, s)
	}
	return cells
}

// xmlSafe reports whether s has only characters XML 1.0 allows.
func xmlSafe(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !(r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
			(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)) {
			return false
		}
	}
	return true
}

// FuzzTextOutputs feeds text from a run (evidence, statements, threshold keys and
// messages) through the Markdown and JUnit writers: the JUnit file always parses and
// keeps the evidence, and every Markdown table row keeps its number of cells.
func FuzzTextOutputs(f *testing.F) {
	f.Add("T-1", "posted twice | dup <x>", "1", "2", "a\nb", "http_req_duration{scenario:a|b}", "p(95)<300", "msg & <b>")
	f.Add("", "back\\|slash", "`code`", "*bold*", "[link](http://x)", "m`x", "rate<0.01", "\r\n")
	f.Add("\x00", "\xff\xfe", "]]>", "&amp;", "~~", "a\\", "x\\|y", "|||")
	f.Fuzz(func(t *testing.T, tx, what, expected, actual, detail, metric, expr, msg string) {
		s := &Summary{
			SchemaVersion: SchemaVersion, Run: RunInfo{Name: msg},
			Verdict:    Verdict{Status: StatusInvariantsFailed, Reasons: []string{msg, what}},
			Thresholds: []Threshold{{Metric: metric, Expression: expr, Message: msg, Contains: "time", Type: "trend"}},
			Invariants: &Invariants{Verdict: "fail", Fail: 1, Results: []Invariant{{
				ID: metric, Statement: detail, Verdict: "fail", Violations: 3, Note: msg,
				Evidence: []Evidence{{TxID: tx, What: what, Expected: expected, Actual: actual, Detail: detail}},
			}}},
			Scenarios: []Scenario{{Name: metric, Executor: expr, FirstError: msg}},
			Stores:    []Store{{LocationID: tx, Name: what}},
		}
		var md bytes.Buffer
		if err := WriteMarkdown(&md, s); err != nil {
			t.Fatal(err)
		}
		header := 0
		for _, line := range strings.Split(md.String(), "\n") {
			if !strings.HasPrefix(line, "|") {
				header = 0
				continue
			}
			n := len(gfmCells(line))
			if header == 0 {
				header = n
			} else if n != header {
				t.Fatalf("table row has %d cells, its header %d:\n%s\n%s", n, header, line, md.String())
			}
		}
		var ju bytes.Buffer
		if err := WriteJUnit(&ju, s); err != nil {
			t.Fatal(err)
		}
		var back junitSuites
		if err := xml.Unmarshal(ju.Bytes(), &back); err != nil {
			t.Fatalf("junit.xml does not parse: %v\n%s", err, ju.String())
		}
		f := back.Suites[1].Cases[0].Failure
		if f == nil {
			t.Fatal("the failing invariant has no <failure>")
		}
		if w := strings.TrimSpace(what); w != "" && xmlSafe(what) && !strings.Contains(what, "\r") && !strings.Contains(f.Text, w) {
			t.Errorf("the failure text lost the evidence %q:\n%s", what, f.Text)
		}
	})
}
