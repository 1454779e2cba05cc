// Package harness runs one Doorbuster run end to end: it loads a scenario file, starts
// (or finds) the simulators and the connector under test, drives the POS traffic through
// the load engine, drains the connector's backlog, and writes the run directory that the
// invariant checker and the reports read (see package rundir).
//
//	scenario.yaml ─▶ world ─▶ simulators (NetSuite, gateway; faults + latency profiles)
//	                              ▲            ▲
//	                              │ HTTP       │ HTTP
//	                          connector ◀──── registers (POS module) ◀── engine (plan)
//	                              │    ▲
//	                              │    └── actions (kill -9, restart, pause, partition, heal)
//	          drain (sync status) ─▶ stock probe ─▶ exports ─▶ run directory
//	          ─▶ invariant check ─▶ pos_sync_latency thresholds ─▶ reports (verdict)
//
// Modes (Config): embedded — the simulators and the reference connector run in this
// process on loopback ports (the connector as a child process when the scenario's
// actions kill or pause it); url — a connector already running against `doorbuster sim`;
// image — containers, through a ContainerStarter (Containers: package compose).
//
// After the drain the run is judged: the invariant checker holds the journal against the
// books (invariants.json), the sync latencies it measured join the engine's metrics as
// pos_sync_latency and the thresholds are evaluated again, and the reports are written;
// Outcome.Summary's verdict is the run's.
//
// Every part the harness starts is torn down in reverse order on every path: success,
// error, and cancellation. Cancelling Run's context is a graceful stop (no new iterations,
// running ones finish within gracefulStop, a short drain, the run directory is still
// written); closing Config.Abort stops at once.
package harness
