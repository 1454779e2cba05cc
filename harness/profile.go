package harness

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/doorbuster/doorbuster/scenarios"
)

// ProfileRulePrefix starts the names of the latency rules the harness makes from the
// simulators' latency profiles. They are quiet rules (counted, no event per request:
// faults.json's profileEvents are their counts), and a scenario's own rules may not use
// the prefix.
const ProfileRulePrefix = "profile."

// Simulator targets, as the fault engine names them.
const (
	targetNetSuite = "netsuite"
	targetGateway  = "gateway"
)

// Paths the latency profiles apply to.
const (
	nsRecordPath  = "/services/rest/record/v1/**"
	nsSuiteQLPath = "/services/rest/query/v1/suiteql"
)

// profileRule is one latency rule of a profile.
type profileRule struct {
	name, method, path string
	lat                scenarios.Latency
}

// profileRules turns the resolved latency profiles into latency fault rules per target:
// record writes (every non-GET method) and reads under the record API, SuiteQL; gateway
// authorisations (confirm, the terminal's process_payment_intent), captures, refunds.
func profileRules(r scenarios.Resolved) map[string][]profileRule {
	ns := r.NetSuite
	gw := r.Gateway
	out := map[string][]profileRule{}
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		out[targetNetSuite] = append(out[targetNetSuite], profileRule{"recordWrite." + m, m, nsRecordPath, ns.RecordWrite})
	}
	out[targetNetSuite] = append(out[targetNetSuite],
		profileRule{"recordRead", "GET", nsRecordPath, ns.RecordRead},
		profileRule{"suiteql", "POST", nsSuiteQLPath, ns.SuiteQL},
	)
	out[targetGateway] = []profileRule{
		{"authorize.confirm", "POST", "/v1/payment_intents/*/confirm", gw.Authorize},
		{"authorize.terminal", "POST", "/v1/terminal/readers/*/process_payment_intent", gw.Authorize},
		{"capture", "POST", "/v1/payment_intents/*/capture", gw.Capture},
		{"refund", "POST", "/v1/refunds", gw.Refund},
	}
	return out
}

// isZero reports a latency that delays nothing (no rule is made for it).
func isZero(l scenarios.Latency) bool { return l == scenarios.Latency{} }

// allTargets keys the rules of both simulators in faultRules' result.
const allTargets = "all"

// faultRules returns the rules each simulator gets, as the JSON array its
// PUT /_sim/faults takes: the profile's latency rules first (so they add to every
// request they match), then the scenario's rules for that target, in file order; and
// under allTargets, all of them in one list.
func faultRules(f *scenarios.File) (map[string][]byte, error) {
	lists := map[string][]json.RawMessage{targetNetSuite: {}, targetGateway: {}}
	for target, rules := range profileRules(f.Resolved()) {
		for _, pr := range rules {
			if isZero(pr.lat) {
				continue
			}
			raw, err := json.Marshal(map[string]any{
				"name":   ProfileRulePrefix + pr.name,
				"target": target,
				"match":  map[string]string{"method": pr.method, "path": pr.path},
				"effect": map[string]any{"latency": pr.lat},
				"quiet":  true, // counted, not an event per request
			})
			if err != nil {
				return nil, fmt.Errorf("latency profile rule %s: %w", pr.name, err)
			}
			lists[target] = append(lists[target], raw)
		}
	}
	for i, r := range f.Faults {
		if strings.HasPrefix(r.Name, ProfileRulePrefix) {
			return nil, fmt.Errorf("faults[%d]: rule name %q: the prefix %q is reserved for the latency profiles' rules", i, r.Name, ProfileRulePrefix)
		}
		if strings.HasPrefix(r.Name, ActionRulePrefix) {
			return nil, fmt.Errorf("faults[%d]: rule name %q: the prefix %q is reserved for the partitions of the scenario's actions", i, r.Name, ActionRulePrefix)
		}
		if _, ok := lists[r.Target]; !ok {
			return nil, fmt.Errorf("faults[%d] (%s): unknown target %q", i, r.Name, r.Target)
		}
		lists[r.Target] = append(lists[r.Target], r.Raw)
	}
	all := append(append([]json.RawMessage{}, lists[targetNetSuite]...), lists[targetGateway]...)
	out := make(map[string][]byte, len(lists)+1)
	b, err := json.Marshal(all)
	if err != nil {
		return nil, err
	}
	out[allTargets] = b
	for t, l := range lists {
		b, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		out[t] = b
	}
	return out, nil
}
