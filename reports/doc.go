// Package reports turns a run directory into the files people and CI read: a versioned
// summary.json, k6's handleSummary data (k6-summary.json), JUnit XML, a Markdown summary
// for CI step summaries and pull-request comments, and one self-contained report.html
// with SVG charts.
//
//	run directory ─▶ Load ─▶ Input ─▶ Summarize ─▶ Summary ─┬▶ summary.json
//	(run.json, metrics.json,                                ├▶ k6-summary.json (from the engine's Result)
//	 invariants.json, backlog.json,                         ├▶ junit.xml
//	 faults.json, journal.db, books)                        ├▶ summary.md
//	                                                        └▶ report.html (+ charts from Input)
//
// Render does all of it. Missing optional inputs are tolerated: what exists is
// rendered, and Summary.Missing says what was not there. The verdict (Summary.Verdict)
// is what the command maps to its exit code: pass, error, interrupted, invariants-failed,
// thresholds-failed or incomplete. The summary.json schema is documented in SCHEMA.md.
package reports
