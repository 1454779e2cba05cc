// Package certify is Doorbuster's certification suite: a catalog of named cases (the
// scenario files of scenarios/certification/, each with its traffic, faults, thresholds
// and invariants), a runner that plays a suite of them against one connector, and the
// certificate it issues — the yes/no with evidence that QA attaches to a go-live
// sign-off and that a CI gate acts on.
//
//	catalog (LoadCatalog) ─▶ Select(suite, ids) ─▶ Run ─▶ per case: [contract conformance]
//	                                                       harness run ─▶ invariants ─▶ reports
//	                                                  ─▶ Certificate ─▶ certificate.json / .html,
//	                                                                    junit.xml, summary.md
//
// A case passes when its run went to the end, the connector drained, every threshold
// and every invariant it asserts held (and, for the contract case, every conformance
// check). The certificate says CERTIFIED only when every case passed.
//
// The certificate carries a digest: SHA-256 over its canonical JSON without the digest
// (Canonical). certificate.html embeds the same JSON and a digest of the page itself,
// so Verify can tell whether either file was edited after it was issued.
package certify
