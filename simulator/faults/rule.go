package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

// Target is the simulator a rule applies to.
type Target string

// The simulators faults can be injected into.
const (
	NetSuite Target = "netsuite"
	Gateway  Target = "gateway"
)

func (t Target) valid() bool { return t == NetSuite || t == Gateway }

// Rule is one fault: which requests it hits, what it does, how often and when.
//
// In a rules file (YAML or JSON, see [ParseRules]):
//
//   - name: slow-suiteql
//     target: netsuite
//     match: {method: POST, path: /services/rest/query/v1/suiteql}
//     effect: {latency: {median: 200ms, sigma: 0.5, max: 2s}}
//     probability: 0.5
//     window: {start: 30s, duration: 1m}
type Rule struct {
	// Name identifies the rule in counts, metrics and events: letters, digits, '.', '_', '-';
	// unique within an engine.
	Name string
	// Target is the simulator the rule is for.
	Target Target
	// Match selects the requests; the zero Match selects every request.
	Match Match
	// Effect is what happens to a request the rule hits.
	Effect Effect
	// Probability that a matching request is hit, in (0, 1]. Zero means 1 (always).
	Probability float64
	// Window limits the rule to a span of time after the engine's clock start; nil means always.
	Window *Window
	// Quiet rules count their hits (Injected, the Prometheus counter) but record no event
	// and log each hit at debug level only: for rules that hit nearly every request,
	// such as a latency profile, whose events would flood the event log.
	Quiet bool
}

// Match selects requests. Empty fields match anything.
type Match struct {
	// Method is an HTTP method, compared case-insensitively.
	Method string `json:"method,omitempty"`
	// Path is a glob over the URL path (query excluded) with path.Match syntax per segment,
	// plus "**" as a whole segment matching zero or more segments:
	// "/services/rest/record/v1/*", "/v1/payment_intents/**".
	Path string `json:"path,omitempty"`
	// RecordType is a NetSuite record type (cashSale, customer, …), taken from
	// /services/rest/record/v1/{type}[/...] and compared case-insensitively. NetSuite only.
	RecordType string `json:"recordType,omitempty"`
}

// Window is a span of time relative to the engine's clock start.
type Window struct {
	// Start is when the window opens.
	Start Duration `json:"start"`
	// Duration is how long it stays open; zero means until the end of the run.
	Duration Duration `json:"duration,omitempty"`
}

// contains reports whether elapsed (time since clock start) falls in the window.
func (w *Window) contains(elapsed time.Duration) bool {
	if w == nil {
		return true
	}
	if elapsed < time.Duration(w.Start) {
		return false
	}
	return w.Duration == 0 || elapsed < time.Duration(w.Start)+time.Duration(w.Duration)
}

// Duration is a time.Duration written as a Go duration string ("200ms", "1.5s") in rules.
type Duration time.Duration

// String returns the duration in Go syntax ("200ms").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// probability returns the effective probability (zero means 1).
func (r *Rule) probability() float64 {
	if r.Probability == 0 {
		return 1
	}
	return r.Probability
}

// MarshalJSON writes the rule in the rules-file schema, the effect as {"<name>": {config}}.
func (r Rule) MarshalJSON() ([]byte, error) {
	var effect map[string]Effect
	if r.Effect != nil {
		effect = map[string]Effect{r.Effect.Name(): r.Effect}
	}
	return json.Marshal(struct {
		Name        string            `json:"name"`
		Target      Target            `json:"target"`
		Match       Match             `json:"match"`
		Effect      map[string]Effect `json:"effect"`
		Probability float64           `json:"probability"`
		Window      *Window           `json:"window,omitempty"`
		Quiet       bool              `json:"quiet,omitempty"`
	}{r.Name, r.Target, r.Match, effect, r.probability(), r.Window, r.Quiet})
}

var ruleName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// validate checks a rule and returns every problem found, each naming its field under prefix
// (e.g. "rules[0]").
func (r *Rule) validate(prefix string) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Path: prefix + field, Msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case r.Name == "":
		add(".name", "is required")
	case !ruleName.MatchString(r.Name):
		add(".name", "must be 1-128 letters, digits, '.', '_' or '-'")
	}
	switch {
	case r.Target == "":
		add(".target", "is required (netsuite or gateway)")
	case !r.Target.valid():
		add(".target", "must be netsuite or gateway, not %q", r.Target)
	}
	if m := r.Match.Method; m != "" && !validMethod(m) {
		add(".match.method", "must be an HTTP method like GET or POST, not %q", m)
	}
	if p := r.Match.Path; p != "" {
		if err := checkGlob(p); err != nil {
			add(".match.path", "%v", err)
		}
	}
	if r.Match.RecordType != "" {
		if r.Target == Gateway {
			add(".match.recordType", "only applies to target netsuite")
		} else if !validRecordType(r.Match.RecordType) {
			add(".match.recordType", "must be a record type name like cashSale, not %q", r.Match.RecordType)
		}
	}
	if r.Probability < 0 || r.Probability > 1 || r.Probability != r.Probability {
		add(".probability", "must be greater than 0 and at most 1")
	}
	if w := r.Window; w != nil {
		if w.Start < 0 {
			add(".window.start", "must not be negative")
		}
		if w.Duration < 0 {
			add(".window.duration", "must not be negative")
		}
	}
	if r.Effect == nil {
		add(".effect", "is required: one of %s", strings.Join(effectNames, ", "))
	} else {
		if v, ok := r.Effect.(validator); ok {
			errs = append(errs, v.validate(prefix+".effect."+r.Effect.Name())...)
		}
		if _, ok := r.Effect.(*Outage); ok && r.Probability != 0 && r.Probability != 1 {
			add(".probability", "an outage hits every matching request in its window; leave probability out")
		}
	}
	return errs
}

func validMethod(m string) bool {
	if len(m) > 32 {
		return false
	}
	for _, c := range m {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

var recordTypeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)

func validRecordType(t string) bool { return recordTypeName.MatchString(t) }

// matches reports whether the request matches (window and probability aside).
func (m *Match) matches(r *http.Request) bool {
	if m.Method != "" && !strings.EqualFold(m.Method, r.Method) {
		return false
	}
	if m.Path != "" && !globMatch(m.Path, r.URL.Path) {
		return false
	}
	if m.RecordType != "" && !strings.EqualFold(m.RecordType, RecordType(r.URL.Path)) {
		return false
	}
	return true
}

const recordPrefix = "/services/rest/record/v1/"

// RecordType returns the NetSuite record type of a record API path
// (/services/rest/record/v1/{type}[/...]), or "" for any other path.
func RecordType(urlPath string) string {
	rest, ok := strings.CutPrefix(urlPath, recordPrefix)
	if !ok {
		return ""
	}
	t, _, _ := strings.Cut(rest, "/")
	return t
}

const maxGlobSegments = 64

// checkGlob reports whether pattern is a valid path glob.
func checkGlob(pattern string) error {
	if !strings.HasPrefix(pattern, "/") {
		return fmt.Errorf("must start with /, not %q", pattern)
	}
	segs := strings.Split(pattern, "/")
	if len(segs) > maxGlobSegments {
		return fmt.Errorf("has more than %d segments", maxGlobSegments)
	}
	for _, s := range segs {
		if s == "**" {
			continue
		}
		if strings.Contains(s, "**") {
			return fmt.Errorf("** must be a whole path segment in %q", pattern)
		}
		if _, err := path.Match(s, ""); err != nil {
			return fmt.Errorf("bad glob segment %q in %q", s, pattern)
		}
	}
	return nil
}

// globMatch matches a path against a glob: path.Match per segment, "**" matching zero or
// more whole segments. A malformed pattern matches nothing.
func globMatch(pattern, urlPath string) bool {
	ps := strings.Split(pattern, "/")
	ss := strings.Split(urlPath, "/")
	if len(ps) > maxGlobSegments {
		return false
	}
	// Classic two-pointer wildcard matching over segments with backtracking to the last
	// "**": O(len(ps)·len(ss)) at worst.
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(ss) {
		switch {
		case pi < len(ps) && ps[pi] == "**":
			starP, starS = pi, si
			pi++
		case pi < len(ps) && segMatch(ps[pi], ss[si]):
			pi++
			si++
		case starP >= 0:
			starS++
			pi, si = starP+1, starS
		default:
			return false
		}
	}
	for pi < len(ps) && ps[pi] == "**" {
		pi++
	}
	return pi == len(ps)
}

func segMatch(pattern, seg string) bool {
	ok, err := path.Match(pattern, seg)
	return ok && err == nil
}

// ForTarget returns the rules whose target is t, in order: a rules file holds rules for both
// simulators, and each engine takes its own.
func ForTarget(rules []Rule, t Target) []Rule {
	var out []Rule
	for _, r := range rules {
		if r.Target == t {
			out = append(out, r)
		}
	}
	return out
}
