package scenarios

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Option adjusts how a file is checked.
type Option func(*options)

type options struct {
	checkThreshold func(metric, expr string) error
}

// WithThresholdCheck adds a check of every threshold expression beyond this package's
// grammar check, such as the engine's full parser; its error is reported at the
// threshold's line and column. metric is the thresholds key ("http_req_duration{flow:sale}").
func WithThresholdCheck(check func(metric, expr string) error) Option {
	return func(o *options) { o.checkThreshold = check }
}

// Load reads and checks a scenario file. A file that is not valid gives an *Error listing
// its problems with line and column.
func Load(path string, opts ...Option) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario file: %w", err)
	}
	return Parse(path, data, opts...)
}

// Parse checks a scenario file's content; name is the file name used in problems and for
// resolving relative paths (fixtures.file). A file that is not valid gives an *Error.
func Parse(name string, data []byte, opts ...Option) (*File, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	ps := &problems{file: name}
	t, syntax := parseTree(data)
	if syntax != nil {
		syntax.File = name
		ps.list = append(ps.list, *syntax)
		return nil, ps.err()
	}
	ps.t = t
	c, err := compiledSchema()
	if err != nil {
		return nil, err
	}
	c.validate(t, ps)
	if len(ps.list) > 0 {
		return nil, ps.err()
	}
	f, err := decode(t)
	if err != nil {
		ps.add(nil, false, "%v", err)
		return nil, ps.err()
	}
	f.path = name
	applyDefaults(f, t, name)
	check(f, t, ps, &o)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// decode maps a schema-valid tree into a File.
func decode(t *tree) (*File, error) {
	data, err := json.Marshal(t.root)
	if err != nil {
		return nil, fmt.Errorf("internal: encode tree: %w", err)
	}
	var f File
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("internal: decode a schema-valid file: %w", err)
	}
	return &f, nil
}

// UnmarshalJSON reads a fault rule, keeping its JSON as Raw.
func (r *FaultRule) UnmarshalJSON(b []byte) error {
	var w struct {
		Name        string                     `json:"name"`
		Target      string                     `json:"target"`
		Match       FaultMatch                 `json:"match"`
		Effect      map[string]json.RawMessage `json:"effect"`
		Probability *float64                   `json:"probability"`
		Window      *Window                    `json:"window"`
		Quiet       bool                       `json:"quiet"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = FaultRule{Name: w.Name, Target: w.Target, Match: w.Match, Probability: 1, Window: w.Window, Quiet: w.Quiet}
	if w.Probability != nil {
		r.Probability = *w.Probability
	}
	for k, v := range w.Effect {
		r.Effect, r.EffectParams = k, v
	}
	r.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Defaults of the file's own keys.
const (
	DefaultSeed             = 1
	DefaultDrainTimeout     = 5 * time.Minute
	DefaultDrainPoll        = time.Second
	defaultGracefulStop     = 30 * time.Second
	defaultGracefulRampDown = 30 * time.Second
	defaultMaxDuration      = 10 * time.Minute
	defaultTimeUnit         = time.Second
)

// applyDefaults fills every omitted value with its default.
func applyDefaults(f *File, t *tree, name string) {
	has := func(tokens ...string) bool { _, ok := t.lookup(tokens...); return ok }
	if f.Name == "" {
		base := filepath.Base(name)
		f.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if !has("seed") {
		f.Seed = DefaultSeed
	}
	if f.Fixtures.Size == "" && f.Fixtures.File == "" {
		f.Fixtures.Size = "small"
	}
	if f.NetSuite.Profile == "" {
		f.NetSuite.Profile = Fast
	}
	if f.Gateway.Profile == "" {
		f.Gateway.Profile = Fast
	}
	if f.Drain.Timeout == 0 && !has("drain", "timeout") {
		f.Drain.Timeout = Duration(DefaultDrainTimeout)
	}
	if f.Drain.PollInterval == 0 && !has("drain", "pollInterval") {
		f.Drain.PollInterval = Duration(DefaultDrainPoll)
	}
	if f.Certification != nil && len(f.Certification.Suites) == 0 {
		f.Certification.Suites = []string{"full"}
	}
	f.order = t.order[pointer("scenarios")]
	for name, s := range f.Scenarios {
		s.Name = name
		set := func(opt string) bool { return has("scenarios", name, opt) }
		if !set("gracefulStop") {
			s.GracefulStop = Duration(defaultGracefulStop)
		}
		switch s.Executor {
		case SharedIterations, PerVUIterations:
			if !set("vus") {
				s.VUs = 1
			}
			if !set("iterations") {
				s.Iterations = 1
			}
			if !set("maxDuration") {
				s.MaxDuration = Duration(defaultMaxDuration)
			}
		case ConstantVUs:
			if !set("vus") {
				s.VUs = 1
			}
		case RampingVUs:
			if !set("startVUs") {
				s.StartVUs = 1
			}
			if !set("gracefulRampDown") {
				s.GracefulRampDown = Duration(defaultGracefulRampDown)
			}
		case ConstantArrivalRate, RampingArrivalRate:
			if !set("timeUnit") {
				s.TimeUnit = Duration(defaultTimeUnit)
			}
			if !set("maxVUs") {
				s.MaxVUs = s.PreAllocatedVUs
			}
		}
	}
}

// FixturesPath returns the world file to load, resolved against the scenario file's
// directory, or "" when the world is generated (Fixtures.Size).
func (f *File) FixturesPath() string {
	if f.Fixtures.File == "" {
		return ""
	}
	if filepath.IsAbs(f.Fixtures.File) {
		return f.Fixtures.File
	}
	return filepath.Join(filepath.Dir(f.path), f.Fixtures.File)
}
