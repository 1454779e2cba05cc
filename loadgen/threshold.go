package loadgen

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ThresholdSpec is one threshold as written in a plan: k6's string form, or its object form
// {threshold, abortOnFail, delayAbortEval}. It unmarshals from either JSON form.
type ThresholdSpec struct {
	Threshold string `json:"threshold"` // "<aggregation> <op> <number>", e.g. "p(95)<500"
	// AbortOnFail stops the run as soon as the threshold fails (evaluated every second or
	// so during the run), after DelayAbortEval has passed since the start.
	AbortOnFail    bool          `json:"abortOnFail,omitempty"`
	DelayAbortEval time.Duration `json:"delayAbortEval,omitempty"`
}

// UnmarshalJSON accepts "p(95)<500" or {"threshold": "p(95)<500", "abortOnFail": true,
// "delayAbortEval": "10s"} (delayAbortEval a Go/k6 duration string or nanoseconds).
func (s *ThresholdSpec) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = ThresholdSpec{Threshold: str}
		return nil
	}
	var obj struct {
		Threshold      *string         `json:"threshold"`
		AbortOnFail    bool            `json:"abortOnFail"`
		DelayAbortEval json.RawMessage `json:"delayAbortEval"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&obj); err != nil {
		return fmt.Errorf("threshold: want a string or {threshold, abortOnFail, delayAbortEval}: %w", err)
	}
	if obj.Threshold == nil {
		return fmt.Errorf("threshold object %s: missing \"threshold\"", b)
	}
	*s = ThresholdSpec{Threshold: *obj.Threshold, AbortOnFail: obj.AbortOnFail}
	if len(obj.DelayAbortEval) > 0 && string(obj.DelayAbortEval) != "null" {
		var ds string
		if err := json.Unmarshal(obj.DelayAbortEval, &ds); err == nil {
			d, err := time.ParseDuration(ds)
			if err != nil {
				return fmt.Errorf("threshold %q: delayAbortEval: %w", *obj.Threshold, err)
			}
			s.DelayAbortEval = d
		} else {
			var n int64
			if err := json.Unmarshal(obj.DelayAbortEval, &n); err != nil {
				return fmt.Errorf("threshold %q: delayAbortEval %s: want a duration such as \"10s\"", *obj.Threshold, obj.DelayAbortEval)
			}
			s.DelayAbortEval = time.Duration(n)
		}
	}
	if s.DelayAbortEval < 0 {
		return fmt.Errorf("threshold %q: delayAbortEval is negative", s.Threshold)
	}
	return nil
}

// MarshalJSON writes the string form when only Threshold is set, else the object form.
func (s ThresholdSpec) MarshalJSON() ([]byte, error) {
	if !s.AbortOnFail && s.DelayAbortEval == 0 {
		return json.Marshal(s.Threshold)
	}
	return json.Marshal(struct {
		Threshold      string `json:"threshold"`
		AbortOnFail    bool   `json:"abortOnFail"`
		DelayAbortEval string `json:"delayAbortEval,omitempty"`
	}{s.Threshold, s.AbortOnFail, durString(s.DelayAbortEval)})
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// Threshold is a parsed threshold.
type Threshold struct {
	Key            string  // the plan's key, "http_req_duration{flow:sale}"
	Metric         string  // "http_req_duration"
	Filter         []Tag   // sorted by key; nil for the whole metric
	Source         string  // "p(95)<500"
	Agg            string  // avg, min, med, max, count, rate, value, or p(N)
	Percentile     float64 // N of p(N)
	Op             string  // <, <=, >, >=, ==, !=
	Value          float64 // in milliseconds for time Trends, after any unit is applied
	Unit           string  // the duration unit written after the number, "" for k6's plain form
	AbortOnFail    bool
	DelayAbortEval time.Duration
}

// ThresholdError is a threshold that does not parse.
type ThresholdError struct {
	Key    string // the metric key
	Source string // the expression ("" when the key is wrong)
	Pos    int    // 0-based byte offset in Source (or Key) where it went wrong
	Msg    string
}

func (e *ThresholdError) Error() string {
	if e.Source == "" {
		return fmt.Sprintf("threshold key %q: at position %d: %s", e.Key, e.Pos, e.Msg)
	}
	return fmt.Sprintf("threshold %q on %s: at position %d: %s", e.Source, e.Key, e.Pos, e.Msg)
}

// ParseThresholds parses a plan's thresholds, sorted by key then order of appearance.
func ParseThresholds(m map[string][]ThresholdSpec) ([]*Threshold, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []*Threshold
	for _, k := range keys {
		if len(m[k]) == 0 {
			return nil, &ThresholdError{Key: k, Msg: "no thresholds listed"}
		}
		for _, s := range m[k] {
			t, err := ParseThreshold(k, s)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// ParseThreshold parses one threshold on the metric key.
func ParseThreshold(key string, spec ThresholdSpec) (*Threshold, error) {
	name, filter, err := ParseMetricKey(key)
	if err != nil {
		return nil, err
	}
	t := &Threshold{Key: key, Metric: name, Filter: filter, Source: spec.Threshold,
		AbortOnFail: spec.AbortOnFail, DelayAbortEval: spec.DelayAbortEval}
	if spec.DelayAbortEval < 0 {
		return nil, &ThresholdError{Key: key, Source: spec.Threshold, Msg: "delayAbortEval is negative"}
	}
	src := spec.Threshold
	fail := func(pos int, format string, args ...any) (*Threshold, error) {
		return nil, &ThresholdError{Key: key, Source: src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
	i := skipSpace(src, 0)
	start := i
	for i < len(src) && src[i] >= 'a' && src[i] <= 'z' {
		i++
	}
	t.Agg = src[start:i]
	switch t.Agg {
	case "avg", "min", "med", "max", "count", "rate", "value":
	case "p":
		if i >= len(src) || src[i] != '(' {
			return fail(i, `want "(" after p, as in p(95)`)
		}
		j := strings.IndexByte(src[i:], ')')
		if j < 0 {
			return fail(i, `unclosed "(" in p(N)`)
		}
		nstr := strings.TrimSpace(src[i+1 : i+j])
		p, err := strconv.ParseFloat(nstr, 64)
		if err != nil || math.IsNaN(p) || p < 0 || p > 100 {
			return fail(i+1, "percentile %q: want a number from 0 to 100", nstr)
		}
		t.Percentile = p
		t.Agg = "p(" + strconv.FormatFloat(p, 'f', -1, 64) + ")"
		i += j + 1
	case "":
		return fail(i, "want an aggregation (avg, min, med, max, p(N), count, rate, value)")
	default:
		return fail(start, "unknown aggregation %q (want avg, min, med, max, p(N), count, rate or value)", t.Agg)
	}
	i = skipSpace(src, i)
	opStart := i
	for i < len(src) && strings.IndexByte("<>=!", src[i]) >= 0 {
		i++
	}
	t.Op = src[opStart:i]
	switch t.Op {
	case "<", "<=", ">", ">=", "==", "!=":
	case "":
		return fail(opStart, "want an operator (<, <=, >, >=, ==, !=)")
	default:
		return fail(opStart, "unknown operator %q (want <, <=, >, >=, ==, !=)", t.Op)
	}
	i = skipSpace(src, i)
	numStart := i
	for i < len(src) && strings.IndexByte("+-.0123456789eE", src[i]) >= 0 {
		i++
	}
	if numStart == i {
		return fail(numStart, "want a number after %q", t.Op)
	}
	v, err := strconv.ParseFloat(src[numStart:i], 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return fail(numStart, "%q is not a number", src[numStart:i])
	}
	t.Value = v
	// Doorbuster extension over k6: a duration unit right after the number ("p(95)<2s",
	// "avg<300ms") is converted to milliseconds, the unit time Trends are compared in.
	if i < len(src) && isLetter(src[i]) || strings.HasPrefix(src[i:], "µ") {
		unitStart := i
		for i < len(src) && (isLetter(src[i]) || src[i] >= 0x80) {
			i++
		}
		ms, ok := unitMillis(src[unitStart:i])
		if !ok {
			return fail(unitStart, "unknown unit %q after the number: write plain milliseconds as k6 does (p(95)<2000) or a unit of ns, us, ms, s, m, h", src[unitStart:i])
		}
		t.Value = v * ms
		t.Unit = src[unitStart:i]
	}
	end := skipSpace(src, i)
	if end < len(src) {
		return fail(end, "unexpected %q after the expression", src[end:])
	}
	return t, nil
}

// unitMillis is how many milliseconds one of the duration units a threshold may carry is.
func unitMillis(unit string) (float64, bool) {
	switch unit {
	case "ns":
		return 1e-6, true
	case "us", "µs":
		return 1e-3, true
	case "ms":
		return 1, true
	case "s":
		return 1e3, true
	case "m":
		return 60e3, true
	case "h":
		return 3600e3, true
	}
	return 0, false
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// ParseMetricKey splits "name{k:v,k2:v2}" into the name and its filter (sorted by key).
// Values may be quoted ('v' or "v") to hold commas or braces.
func ParseMetricKey(key string) (string, []Tag, error) {
	fail := func(pos int, format string, args ...any) (string, []Tag, error) {
		return "", nil, &ThresholdError{Key: key, Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
	brace := strings.IndexByte(key, '{')
	name := strings.TrimSpace(key)
	if brace >= 0 {
		name = strings.TrimSpace(key[:brace])
	}
	if err := validMetricName(name); err != nil {
		return fail(0, "%v", err)
	}
	if brace < 0 {
		return name, nil, nil
	}
	if !strings.HasSuffix(strings.TrimSpace(key), "}") {
		return fail(len(key), `missing "}"`)
	}
	body := strings.TrimSpace(key)
	body = body[brace+1 : len(body)-1]
	var tags []Tag
	pos := brace + 1
	for {
		i := skipSpace(body, 0)
		colon := strings.IndexByte(body, ':')
		if colon < 0 {
			return fail(pos+i, "want tag:value in %q", strings.TrimSpace(body))
		}
		k := strings.TrimSpace(body[:colon])
		if k == "" || strings.ContainsAny(k, "{},\"'") {
			return fail(pos+i, "bad tag name %q", k)
		}
		rest := body[colon+1:]
		restPos := pos + colon + 1
		j := skipSpace(rest, 0)
		var v string
		var next int
		if j < len(rest) && (rest[j] == '"' || rest[j] == '\'') {
			q := rest[j]
			e := strings.IndexByte(rest[j+1:], q)
			if e < 0 {
				return fail(restPos+j, "unclosed quote")
			}
			v = rest[j+1 : j+1+e]
			next = skipSpace(rest, j+2+e)
			if next < len(rest) && rest[next] != ',' {
				return fail(restPos+next, "want , or } after the quoted value")
			}
		} else {
			e := strings.IndexByte(rest, ',')
			if e < 0 {
				e = len(rest)
			}
			v = strings.TrimSpace(rest[:e])
			if strings.ContainsAny(v, "{}:") {
				return fail(restPos+j, "bad tag value %q (quote it)", v)
			}
			next = e
		}
		if slices.ContainsFunc(tags, func(t Tag) bool { return t.Key == k }) {
			return fail(pos+i, "tag %q given twice", k)
		}
		tags = append(tags, Tag{Key: k, Value: v})
		if next >= len(rest) {
			break
		}
		body = rest[next+1:]
		pos = restPos + next + 1
	}
	slices.SortFunc(tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return name, tags, nil
}

// validFor reports whether the aggregation applies to the metric type (k6's table).
func (t *Threshold) validFor(mt MetricType) error {
	ok := false
	switch mt {
	case Counter:
		ok = t.Agg == "count" || t.Agg == "rate"
	case Gauge:
		ok = t.Agg == "value"
	case Rate:
		ok = t.Agg == "rate"
	case Trend:
		ok = t.Agg == "avg" || t.Agg == "min" || t.Agg == "med" || t.Agg == "max" || t.Percentile > 0 || strings.HasPrefix(t.Agg, "p(")
	}
	if !ok {
		want := map[MetricType]string{Counter: "count or rate", Gauge: "value", Rate: "rate", Trend: "avg, min, med, max or p(N)"}[mt]
		return fmt.Errorf("threshold %q on %s: %s does not apply to a %s (want %s)", t.Source, t.Key, t.Agg, mt, want)
	}
	return nil
}

func (t *Threshold) compare(v float64) bool {
	switch t.Op {
	case "<":
		return v < t.Value
	case "<=":
		return v <= t.Value
	case ">":
		return v > t.Value
	case ">=":
		return v >= t.Value
	case "==":
		return v == t.Value
	default:
		return v != t.Value
	}
}

// ThresholdResult is the outcome of one threshold.
type ThresholdResult struct {
	Key        string  `json:"key"`        // "http_req_duration{flow:sale}"
	Expression string  `json:"expression"` // "p(95)<500"
	OK         bool    `json:"ok"`
	Observed   float64 `json:"observed"` // the aggregation's value (ms for time Trends); 0 with NoData
	NoData     bool    `json:"noData"`   // the (sub-)metric received no samples: a failure
	// Message explains a failure, e.g. "p(95)=812.3 is not < 500" or "no samples".
	Message     string `json:"message,omitempty"`
	AbortOnFail bool   `json:"abortOnFail,omitempty"`
	// Aborted: this threshold's failure stopped the run.
	Aborted bool `json:"aborted,omitempty"`
}
