package loadgen

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// MetricType is one of k6's four metric types.
type MetricType int

// The metric types.
const (
	Counter MetricType = iota // sums values: count, rate (count per second of the run)
	Gauge                     // keeps the last value, with min and max
	Rate                      // fraction of non-zero values: rate, passes, fails
	Trend                     // distribution: avg, min, med, max, p(N)
)

var metricTypeNames = [...]string{"counter", "gauge", "rate", "trend"}

// String is k6's name of the type ("counter", "gauge", "rate", "trend").
func (t MetricType) String() string {
	if t < 0 || int(t) >= len(metricTypeNames) {
		return fmt.Sprintf("MetricType(%d)", int(t))
	}
	return metricTypeNames[t]
}

// ParseMetricType is the inverse of String.
func ParseMetricType(s string) (MetricType, error) {
	i := slices.Index(metricTypeNames[:], s)
	if i < 0 {
		return 0, fmt.Errorf("unknown metric type %q (want counter, gauge, rate or trend)", s)
	}
	return MetricType(i), nil
}

// MarshalText implements encoding.TextMarshaler.
func (t MetricType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *MetricType) UnmarshalText(b []byte) error {
	v, err := ParseMetricType(string(b))
	*t = v
	return err
}

// ValueType says what a metric's values are, k6's "contains".
type ValueType int

// The value types.
const (
	Default ValueType = iota // plain numbers
	Time                     // milliseconds
	Data                     // bytes
)

var valueTypeNames = [...]string{"default", "time", "data"}

// String is k6's name ("default", "time", "data").
func (v ValueType) String() string {
	if v < 0 || int(v) >= len(valueTypeNames) {
		return fmt.Sprintf("ValueType(%d)", int(v))
	}
	return valueTypeNames[v]
}

// MarshalText implements encoding.TextMarshaler.
func (v ValueType) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *ValueType) UnmarshalText(b []byte) error {
	i := slices.Index(valueTypeNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("unknown value type %q (want default, time or data)", b)
	}
	*v = ValueType(i)
	return nil
}

// Metric is a named metric of a Registry. Obtain one with Registry.Counter, Gauge, Rate or
// Trend; the same name always returns the same *Metric.
type Metric struct {
	Name     string
	Type     MetricType
	Contains ValueType
	id       int
}

// Names of the built-in metrics (k6's, plus iteration_latency).
const (
	MetricVUs               = "vus"                // Gauge: active VUs, sampled every second
	MetricVUsMax            = "vus_max"            // Gauge: allocated VUs
	MetricIterations        = "iterations"         // Counter: completed iterations
	MetricIterationDuration = "iteration_duration" // Trend (time): service time, from the actual start
	// MetricIterationLatency is a Trend (time) from the iteration's intended start (the
	// arrival time for arrival-rate executors) to its end. When the engine falls behind or
	// the system under test stalls, it grows while iteration_duration may not: coordinated
	// omission cannot hide a stall. For closed-model executors it equals iteration_duration.
	MetricIterationLatency  = "iteration_latency"
	MetricDroppedIterations = "dropped_iterations" // Counter: arrivals with no free VU; iterations cut by maxDuration
	MetricChecks            = "checks"             // Rate: VU.Check outcomes, tagged check
	MetricHTTPReqs          = "http_reqs"          // Counter
	MetricHTTPReqDuration   = "http_req_duration"  // Trend (time): sending + waiting + receiving
	MetricHTTPReqBlocked    = "http_req_blocked"   // Trend (time): waiting for a connection
	MetricHTTPReqConnecting = "http_req_connecting"
	MetricHTTPReqTLS        = "http_req_tls_handshaking"
	MetricHTTPReqSending    = "http_req_sending"
	MetricHTTPReqWaiting    = "http_req_waiting" // time to first byte after the request was written
	MetricHTTPReqReceiving  = "http_req_receiving"
	MetricHTTPReqFailed     = "http_req_failed" // Rate: status >= 400 or transport error
	MetricDataSent          = "data_sent"       // Counter (data)
	MetricDataReceived      = "data_received"   // Counter (data)
)

// Registry holds the metrics of an Engine. It is safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	byName  map[string]*Metric
	ordered []*Metric
}

// NewRegistry returns a registry holding the built-in metrics.
func NewRegistry() *Registry {
	r := &Registry{byName: map[string]*Metric{}}
	r.mustAdd(MetricVUs, Gauge, Default)
	r.mustAdd(MetricVUsMax, Gauge, Default)
	r.mustAdd(MetricIterations, Counter, Default)
	r.mustAdd(MetricIterationDuration, Trend, Time)
	r.mustAdd(MetricIterationLatency, Trend, Time)
	r.mustAdd(MetricDroppedIterations, Counter, Default)
	r.mustAdd(MetricChecks, Rate, Default)
	r.mustAdd(MetricHTTPReqs, Counter, Default)
	for _, n := range []string{MetricHTTPReqDuration, MetricHTTPReqBlocked, MetricHTTPReqConnecting, MetricHTTPReqTLS,
		MetricHTTPReqSending, MetricHTTPReqWaiting, MetricHTTPReqReceiving} {
		r.mustAdd(n, Trend, Time)
	}
	r.mustAdd(MetricHTTPReqFailed, Rate, Default)
	r.mustAdd(MetricDataSent, Counter, Data)
	r.mustAdd(MetricDataReceived, Counter, Data)
	return r
}

func (r *Registry) mustAdd(name string, t MetricType, c ValueType) *Metric {
	m, err := r.New(name, t, c)
	if err != nil {
		panic(err) // built-in names are valid and unique
	}
	return m
}

// New registers a metric, or returns the existing one of that name if it has the same type
// and value type. Names are k6's: letters, digits and underscores, starting with a letter,
// at most 128 characters.
func (r *Registry) New(name string, t MetricType, contains ValueType) (*Metric, error) {
	if err := validMetricName(name); err != nil {
		return nil, err
	}
	if t < Counter || t > Trend {
		return nil, fmt.Errorf("metric %q: invalid type %d", name, int(t))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.byName[name]; ok {
		if m.Type != t || m.Contains != contains {
			return nil, fmt.Errorf("metric %q already registered as a %s of %s values, not a %s of %s values",
				name, m.Type, m.Contains, t, contains)
		}
		return m, nil
	}
	m := &Metric{Name: name, Type: t, Contains: contains, id: len(r.ordered)}
	r.byName[name] = m
	r.ordered = append(r.ordered, m)
	return m, nil
}

func validMetricName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("metric name %q: must be 1 to 128 characters", name)
	}
	for i, c := range name {
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return fmt.Errorf("metric name %q: invalid character %q at position %d (letters, digits and _ only, starting with a letter or _)", name, c, i)
		}
	}
	return nil
}

func (r *Registry) must(name string, t MetricType, c ValueType) *Metric {
	m, err := r.New(name, t, c)
	if err != nil {
		panic("loadgen: " + err.Error())
	}
	return m
}

// Counter returns the Counter called name, registering it if needed. It panics if name is
// invalid or registered with another type; use New to get an error instead.
func (r *Registry) Counter(name string) *Metric { return r.must(name, Counter, Default) }

// Gauge returns the Gauge called name (see Counter).
func (r *Registry) Gauge(name string) *Metric { return r.must(name, Gauge, Default) }

// Rate returns the Rate called name (see Counter).
func (r *Registry) Rate(name string) *Metric { return r.must(name, Rate, Default) }

// Trend returns the Trend called name (see Counter). A time Trend's values are
// milliseconds (VU.EmitDuration converts).
func (r *Registry) Trend(name string, isTime bool) *Metric {
	c := Default
	if isTime {
		c = Time
	}
	return r.must(name, Trend, c)
}

// Get returns the metric called name, or nil.
func (r *Registry) Get(name string) *Metric {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byName[name]
}

// All returns every registered metric, sorted by name.
func (r *Registry) All() []*Metric {
	r.mu.RLock()
	out := slices.Clone(r.ordered)
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Metric) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (r *Registry) count() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.ordered)
}
