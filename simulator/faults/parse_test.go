package faults

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const exampleYAML = `# Black Friday morning
rules:
  - name: slow-suiteql
    target: netsuite
    match: {method: POST, path: /services/rest/query/v1/suiteql}
    effect:
      latency: {median: 200ms, sigma: 0.5, max: 2s}
  - name: lost-cash-sales
    target: netsuite
    match: {method: POST, recordType: cashSale}
    effect: {lostResponse: {}}
    probability: 0.05
  - name: gateway-down
    target: gateway
    match: {path: "/v1/**"}
    effect: {outage: {}}
    window: {start: 2m, duration: 30s}
  - name: declines
    target: gateway
    effect:
      error: {status: 402, type: card_error, code: card_declined, message: Your card was declined.}
    probability: 0.1
  - name: throttled
    target: netsuite
    effect: {throttle: {retryAfter: 1s}}
    probability: 0.01
  - {name: hang, target: gateway, effect: {timeout: {duration: 30s}}, probability: 0.001}
  - {name: rst, target: gateway, effect: {reset: }, probability: 0.001}
  - {name: dribble, target: netsuite, effect: {slowBody: {duration: 5s, chunks: 20}}, probability: 0.01}
  - {name: garbled, target: netsuite, effect: {malformed: {}}, probability: 0.001}
  - {name: fixed, target: gateway, effect: {latency: {delay: 20ms}}}
  - {name: uniform, target: gateway, effect: {latency: {lower: 10ms, upper: 40ms}}}
`

func TestParseRulesExample(t *testing.T) {
	rules, err := ParseRules([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 11 {
		t.Fatalf("got %d rules, want 11", len(rules))
	}
	want := Rule{Name: "slow-suiteql", Target: NetSuite, Match: Match{Method: "POST", Path: "/services/rest/query/v1/suiteql"},
		Effect: &Latency{Median: dur("200ms"), Sigma: 0.5, Max: dur("2s")}}
	if !reflect.DeepEqual(rules[0], want) {
		t.Errorf("rules[0] = %+v, want %+v", rules[0], want)
	}
	if r := rules[2]; r.Window == nil || *r.Window != (Window{Start: dur("2m"), Duration: dur("30s")}) {
		t.Errorf("rules[2].window = %+v", r.Window)
	}
	if r := rules[3]; !reflect.DeepEqual(r.Effect, &HTTPError{Status: 402, Type: "card_error", Code: "card_declined", Message: "Your card was declined."}) || r.Probability != 0.1 {
		t.Errorf("rules[3] = %+v", r)
	}
	if got := ForTarget(rules, Gateway); len(got) != 6 {
		t.Errorf("ForTarget(gateway) = %d rules, want 6", len(got))
	}
	// What GET /_sim/faults shows parses back to the same rules, as JSON.
	b, err := json.Marshal(rules)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseRules(b)
	if err != nil {
		t.Fatalf("re-parsing %s: %v", b, err)
	}
	for i := range rules {
		if rules[i].Probability == 0 {
			rules[i].Probability = 1 // marshalled as its effective value
		}
	}
	if !reflect.DeepEqual(again, rules) {
		t.Errorf("round trip changed the rules:\n%s", b)
	}
}

func TestParseRulesForms(t *testing.T) {
	tests := []struct {
		name string
		text string
		n    int
	}{
		{"empty", "", 0},
		{"comment only", "# nothing yet\n", 0},
		{"empty list", "[]", 0},
		{"empty rules", "rules: []", 0},
		{"bare list", "- {name: a, target: gateway, effect: {reset: {}}}", 1},
		{"json list", `[{"name":"a","target":"gateway","effect":{"reset":{}}}]`, 1},
		{"json object", `{"rules":[{"name":"a","target":"netsuite","effect":{"latency":{"delay":"5ms"}},"probability":1}]}`, 1},
		{"anchor", "- &r {name: a, target: gateway, effect: {reset: {}}}", 1},
		{"null window", "- {name: a, target: gateway, effect: {reset: {}}, window: null}", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := ParseRules([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if len(rules) != tt.n {
				t.Errorf("got %d rules, want %d", len(rules), tt.n)
			}
		})
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // a substring of the error
	}{
		{"number as duration", "- name: a\n  target: netsuite\n  effect:\n    latency: {median: 200, sigma: 1}\n",
			`rules[0].effect.latency.median: must be a duration like "200ms", not a number (line 4, column 23)`},
		{"bad duration string", "- {name: a, target: netsuite, effect: {timeout: {duration: soon}}}",
			`rules[0].effect.timeout.duration: must be a duration like "200ms", not "soon"`},
		{"unknown rule field", "- name: a\n  target: netsuite\n  effect: {reset: {}}\n  probabilty: 0.5\n",
			"rules[0].probabilty: unknown field; a rule has name, target, match, effect, probability, window, quiet (line 4, column 3)"},
		{"unknown effect field", "- {name: a, target: netsuite, effect: {latency: {mean: 1s}}}",
			"rules[0].effect.latency.mean: unknown field; known: delay, lower, upper, median, sigma, max"},
		{"settings on a bare effect", "- {name: a, target: netsuite, effect: {reset: {hard: yes}}}",
			"rules[0].effect.reset.hard: unknown field; this takes no settings"},
		{"unknown match field", "- {name: a, target: netsuite, match: {verb: GET}, effect: {reset: {}}}",
			"rules[0].match.verb: unknown field"},
		{"unknown effect", "- {name: a, target: netsuite, effect: {explode: {}}}",
			"rules[0].effect.explode: unknown effect; use one of latency, error"},
		{"two effects", "- {name: a, target: netsuite, effect: {reset: {}, malformed: {}}}",
			"rules[0].effect: must name exactly one effect"},
		{"no effect", "- {name: a, target: netsuite}", "rules[0].effect: is required"},
		{"no name", "- {target: netsuite, effect: {reset: {}}}", "rules[0].name: is required"},
		{"bad target", "- {name: a, target: stripe, effect: {reset: {}}}", `rules[0].target: must be netsuite or gateway, not "stripe" (line 1, column 21)`},
		{"record type on gateway", "- {name: a, target: gateway, match: {recordType: cashSale}, effect: {reset: {}}}",
			"rules[0].match.recordType: only applies to target netsuite"},
		{"bad glob", "- {name: a, target: gateway, match: {path: '/v1/[a'}, effect: {reset: {}}}", "rules[0].match.path: bad glob segment"},
		{"partial double star", "- {name: a, target: gateway, match: {path: '/v1/a**'}, effect: {reset: {}}}", "rules[0].match.path: ** must be a whole path segment"},
		{"relative path", "- {name: a, target: gateway, match: {path: 'v1/*'}, effect: {reset: {}}}", "rules[0].match.path: must start with /"},
		{"probability zero", "- {name: a, target: gateway, effect: {reset: {}}, probability: 0}", "rules[0].probability: must be greater than 0"},
		{"probability above one", "- {name: a, target: gateway, effect: {reset: {}}, probability: 1.5}", "rules[0].probability: must be greater than 0 and at most 1"},
		{"probability as string", `- {name: a, target: gateway, effect: {reset: {}}, probability: "0.5"}`, `rules[0].probability: must be a number, not the string "0.5"`},
		{"outage with probability", "- {name: a, target: gateway, effect: {outage: {}}, probability: 0.5}", "rules[0].probability: an outage hits every matching request"},
		{"error without status", "- {name: a, target: gateway, effect: {error: {code: x}}}", "rules[0].effect.error.status: is required"},
		{"status not an error", "- {name: a, target: gateway, effect: {error: {status: 200}}}", "rules[0].effect.error.status: must be an HTTP error status from 400 to 599, not 200"},
		{"status as float", "- {name: a, target: gateway, effect: {error: {status: 500.5}}}", "rules[0].effect.error.status: must be a whole number"},
		{"uniform upside down", "- {name: a, target: gateway, effect: {latency: {lower: 2s, upper: 1s}}}", "rules[0].effect.latency.upper: must be greater than lower"},
		{"mixed distributions", "- {name: a, target: gateway, effect: {latency: {delay: 1s, median: 1s}}}", "rules[0].effect.latency: give exactly one of"},
		{"negative window", "- {name: a, target: gateway, effect: {reset: {}}, window: {start: -1s}}", "rules[0].window.start: must not be negative"},
		{"duplicate key", "- {name: a, name: b, target: gateway, effect: {reset: {}}}", "name"},
		{"alias", "- &r {name: a, target: gateway, effect: {reset: {}}}\n- *r\n", "rules[1]: YAML aliases are not supported"},
		{"scalar top level", "hello", "must be a list of rules or {rules: [...]}, not a string"},
		{"unknown top key", "rulez: []", "rulez: unknown field"},
		{"rules not a list", "rules: {name: a}", "rules: must be a list of rules, not a mapping"},
		{"rule not a mapping", "- 5", "rules[0]: must be a mapping, not a number"},
		{"syntax error", "- {name: a, target: gateway\n", "line 1"},
		{"two documents", "- {name: a, target: gateway, effect: {reset: {}}}\n---\n- {name: b, target: gateway, effect: {reset: {}}}\n", "expected one YAML document"},
		{"duplicate rule names", "- {name: a, target: gateway, effect: {reset: {}}}\n- {name: a, target: netsuite, effect: {reset: {}}}\n- {name: a, target: gateway, effect: {reset: {}}}\n",
			`rules[2].name: "a" is already used by another gateway rule (line 3, column 10)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tt.text))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			var re *RulesError
			if !errors.As(err, &re) {
				t.Errorf("error %T, want *RulesError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n  %v\nwant it to contain:\n  %s", err, tt.want)
			}
		})
	}
}

func TestParseRulesTooLarge(t *testing.T) {
	big := make([]byte, MaxRulesBytes+1)
	if _, err := ParseRules(big); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("err = %v, want a size limit error", err)
	}
}

// FuzzParseRules checks that no text crashes the decoder and that whatever it accepts is
// valid and survives a JSON round trip.
func FuzzParseRules(f *testing.F) {
	f.Add([]byte(exampleYAML))
	f.Add([]byte(`[{"name":"a","target":"gateway","effect":{"latency":{"lower":"1ms","upper":"2ms"}}}]`))
	f.Add([]byte("rules:\n  - name: a\n    target: netsuite\n    effect: {error: {status: 500}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseRules(data)
		if err != nil {
			var re *RulesError
			if !errors.As(err, &re) || len(re.Fields) == 0 {
				t.Fatalf("error %v is not a *RulesError with fields", err)
			}
			return
		}
		for i := range rules {
			if errs := rules[i].validate("r"); len(errs) > 0 {
				t.Fatalf("accepted an invalid rule: %v", errs)
			}
		}
		b, err := json.Marshal(rules)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := ParseRules(b)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
		if len(again) != len(rules) {
			t.Fatalf("round trip: %d rules, then %d", len(rules), len(again))
		}
	})
}
