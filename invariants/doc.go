// Package invariants holds a run's journal (what the virtual registers believe
// happened) against its books (what the NetSuite and gateway simulators hold) and
// says, invariant by invariant, whether the system under test kept the books right.
//
// Check opens a run directory's journal.db with books/netsuite.db (as ns) and
// books/gateway.db (as gw) attached in one read-only SQLite session. Each invariant
// is set-based SQL that collects its violations into a temporary table; Go formats
// the first ones as evidence (transaction id, what, expected, actual). Beside the
// verdicts the report carries KPIs: sync latency, stock and posting accuracy, drain
// time. Scenarios add their own invariants as SQL (Custom), checked before a run by
// ValidateCustom.
//
// The checker reads the books as plain SQLite files: it does not import the
// simulators. The schemas it expects are in schema.go.
package invariants
