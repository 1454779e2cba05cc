// Package faults injects peak-day failures into Doorbuster's simulators.
//
// A fault is a [Rule]: which requests it matches (method, path glob, NetSuite record type),
// what it does to them (an [Effect]), how often (probability) and when (a window relative to
// the engine's clock start). Every hit is counted, and kept as an [Event] and logged, unless
// the rule is quiet (a latency profile hitting every request counts without flooding the
// event log). An [Engine] holds the rules of one simulator (one [Target]) and applies them
// to requests as they arrive:
//
//	client ──▶ Engine.Middleware ──(latency, then at most one response effect)──▶ simulator handler
//
// Every effect is a real behaviour on the wire: a delay, an error body in the simulator's own
// shape, a TCP reset, a connection closed without an answer, an answer lost after the write
// committed, a dribbled or truncated body. Random draws come from one seeded source, taken
// under a lock in request order, so the same seed and the same request order give the same
// faults.
//
// The core (rules, effects, engine) speaks net/http only; the gin middleware and the admin
// HTTP API (/_sim/faults, /_sim/events, /_sim/clock/start) live in middleware.go and admin.go.
package faults
