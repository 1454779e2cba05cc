// Package scenarios loads and validates Doorbuster scenario files: the YAML that describes
// one run — the fixture world, the simulators' latency profiles, fault rules, k6-style
// traffic scenarios with their executors, thresholds, invariants and the drain.
//
// A file is checked in two passes before anything starts: first against the JSON Schema
// shipped beside the files (scenario.schema.json, also [Schema]), then semantically
// (executor options as k6 checks them, threshold syntax, fault windows, unique ids). Every
// problem names the file, line and column, the key path and what was expected:
//
//	scenarios/smoke.yaml:14:7: scenarios.checkout.rat: unknown key (did you mean "rate"?)
//	scenarios/smoke.yaml:16:17: scenarios.checkout.duration: expected a duration like "30s", got 30
//
// The package has no dependency on the engine or the simulators: it yields plain values
// ([File], [Scenario], [FaultRule], …) that the harness maps into the engine's plan, and
// keeps every fault rule as the JSON the fault engine reads ([FaultRule.Raw]).
//
//	f, err := scenarios.Load("scenarios/smoke.yaml")
//	if err != nil { … } // *scenarios.Error: one Problem per line
//	r := f.Resolved()    // latency profiles with overrides applied
package scenarios
