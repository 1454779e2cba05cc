package certify

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
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
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }

// WriteJUnit writes junit.xml: one testsuite for the certification, one testcase per
// case. A failed case's failure message names what failed (the invariant, threshold or
// contract check); its text lists every reason with the evidence.
func (c *Certificate) WriteJUnit(w io.Writer) error {
	s := junitSuite{
		Name:      fmt.Sprintf("doorbuster certify %s", c.Suite),
		Tests:     len(c.Cases),
		Failures:  c.Summary.Failed,
		Errors:    c.Summary.Errors,
		Skipped:   c.Summary.NotRun,
		Time:      seconds(c.DurationMs),
		Timestamp: c.StartedAt.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{
			{"verdict", c.Verdict},
			{"connector", c.Connector.Name()},
			{"connector.mode", c.Connector.Mode},
			{"doorbuster.version", c.Doorbuster.Version},
			{"catalog.version", c.Catalog.Version},
			{"seed", fmt.Sprint(c.Seed)},
			{"digest", c.Digest},
		},
	}
	for _, r := range c.Cases {
		jc := junitCase{
			Classname: "doorbuster.certify." + c.Suite,
			Name:      r.ID + ": " + r.Title,
			Time:      seconds(r.DurationMs),
		}
		var out []string
		if r.Report != "" {
			out = append(out, "report: "+r.Report)
		}
		out = append(out, "proves: "+r.Proves)
		for _, inv := range r.Invariants {
			out = append(out, fmt.Sprintf("invariant %s: %s", inv.ID, inv.Verdict))
		}
		for _, t := range r.Thresholds {
			out = append(out, fmt.Sprintf("threshold %s %s: %s", t.Metric, t.Expression, okString(t.OK)))
		}
		for _, ch := range r.Checks {
			out = append(out, fmt.Sprintf("contract check %s: %s", ch.ID, okString(ch.Passed)))
		}
		jc.SystemOut = strings.Join(out, "\n")
		msg := strings.Join(r.Reasons, "; ")
		switch r.Verdict {
		case CaseFail:
			jc.Failure = &junitProblem{Message: msg, Type: "not-certified", Text: failureText(r)}
		case CaseError:
			jc.Error = &junitProblem{Message: msg, Type: "error", Text: failureText(r)}
		case CaseNotRun:
			jc.Skipped = &junitProblem{Message: msg}
		}
		s.Cases = append(s.Cases, jc)
	}
	doc := junitSuites{
		Name: "doorbuster certify", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors,
		Time: s.Time, Suites: []junitSuite{s},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func okString(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

// failureText lists a case's reasons and the evidence of its failed invariants.
func failureText(r CaseResult) string {
	var sb strings.Builder
	for _, reason := range r.Reasons {
		fmt.Fprintf(&sb, "%s\n", reason)
	}
	for _, inv := range r.Invariants {
		if inv.Verdict != "fail" && inv.Verdict != "error" {
			continue
		}
		fmt.Fprintf(&sb, "\n%s — %s (%d violations)\n", inv.ID, inv.Statement, inv.Violations)
		for _, e := range inv.Evidence {
			fmt.Fprintf(&sb, "  %s %s: expected %s, actual %s\n", e.TxID, e.What, e.Expected, e.Actual)
		}
	}
	if r.Report != "" {
		fmt.Fprintf(&sb, "\nreport: %s\n", r.Report)
	}
	return sb.String()
}
