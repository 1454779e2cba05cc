package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// JUnit XML, in the common schema CI systems read (Jenkins, GitLab, GitHub test
// reporters): one testsuite per kind (thresholds, invariants), one testcase per
// threshold and per invariant. A failing threshold or invariant is a <failure> carrying
// the message and the evidence; an invariant that could not be evaluated is an <error>;
// a not-applicable one is <skipped>.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties *junitProps     `xml:"properties,omitempty"`
	Cases      []junitTestCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	// Text is a CDATA section, so the evidence reads as plain lines in the file; it
	// must go through xmlClean (CDATA is not escaped).
	Text string `xml:",cdata"`
}

// xmlClean replaces the characters XML 1.0 does not allow (and invalid UTF-8) with U+FFFD.
func xmlClean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) ||
			(r >= 0x10000 && r <= 0x10FFFF) {
			if r == utf8.RuneError {
				return '\uFFFD'
			}
			return r
		}
		return '\uFFFD'
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

func seconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'f', 3, 64) }

// WriteJUnit writes s as JUnit XML: junit.xml.
func WriteJUnit(w io.Writer, s *Summary) error {
	ts := ""
	if s.Run.StartedAt != nil {
		ts = s.Run.StartedAt.UTC().Format(time.RFC3339)
	}
	props := &junitProps{Props: []junitProp{
		{"name", s.Run.Name}, {"seed", strconv.FormatInt(s.Run.Seed, 10)},
		{"mode", s.Run.Mode}, {"connector", s.Run.Connector.URL},
		{"verdict", string(s.Verdict.Status)},
	}}

	th := junitSuite{Name: "thresholds", Timestamp: ts, Properties: props, Time: seconds(0)}
	if s.Run.TestRunDurationMs != nil {
		th.Time = seconds(*s.Run.TestRunDurationMs)
	}
	for _, t := range s.Thresholds {
		tc := junitTestCase{Name: t.Metric + " " + t.Expression, Classname: "thresholds." + t.Metric, Time: seconds(0)}
		if !t.OK {
			msg := t.Message
			if msg == "" {
				msg = "failed"
			}
			text := fmt.Sprintf("threshold %s on %s failed: %s\nobserved: %s\n", t.Expression, t.Metric, msg, fmtObserved(t))
			if t.Aborted {
				text += "this threshold aborted the run (abortOnFail)\n"
			}
			tc.Failure = &junitProblem{Message: msg, Type: "threshold", Text: xmlClean(text)}
			th.Failures++
		} else {
			tc.SystemOut = "observed: " + fmtObserved(t)
		}
		th.Cases = append(th.Cases, tc)
		th.Tests++
	}

	iv := junitSuite{Name: "invariants", Timestamp: ts, Properties: props, Time: seconds(0)}
	if inv := s.Invariants; inv != nil {
		iv.Timestamp = inv.CheckedAt.UTC().Format(time.RFC3339)
		var took float64
		for _, r := range inv.Results {
			took += r.TookMs
			tc := junitTestCase{Name: r.ID, Classname: "invariants." + r.ID, Time: seconds(r.TookMs)}
			switch r.Verdict {
			case "pass":
				tc.SystemOut = r.Statement
				if r.Note != "" {
					tc.SystemOut += "\nnote: " + r.Note
				}
			case "fail":
				tc.Failure = &junitProblem{Message: fmt.Sprintf("%s: %s", plural(r.Violations, "violation"), r.Statement),
					Type: "invariant", Text: xmlClean(evidenceText(r))}
				iv.Failures++
			case "not-applicable":
				tc.Skipped = &junitSkipped{Message: "not applicable: " + r.Reason}
				iv.Skipped++
			default:
				tc.Error = &junitProblem{Message: "could not be evaluated: " + r.Reason, Type: "invariant-error", Text: xmlClean(evidenceText(r))}
				iv.Errors++
			}
			iv.Cases = append(iv.Cases, tc)
			iv.Tests++
		}
		iv.Time = seconds(took)
	} else {
		// The check did not run: one erroring case says so, so CI does not read silence as a pass.
		iv.Cases = append(iv.Cases, junitTestCase{Name: "invariants.json", Classname: "invariants", Time: seconds(0),
			Error: &junitProblem{Message: "invariants were not checked", Type: "missing",
				Text: "invariants.json is missing or unreadable in the run directory"}})
		iv.Tests, iv.Errors = 1, 1
	}

	all := junitSuites{Name: "doorbuster " + s.Run.Name, Suites: []junitSuite{th, iv}, Time: th.Time}
	for _, su := range all.Suites {
		all.Tests += su.Tests
		all.Failures += su.Failures
		all.Errors += su.Errors
		all.Skipped += su.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
