package scenarios

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/doorbuster/doorbuster/fixtures"
)

// File is one scenario file, decoded and validated, with the defaults of every omitted
// option filled in (k6's defaults for executor options). Profiles are applied by
// [File.Resolved].
type File struct {
	// Name names the run; defaults to the file name without extension.
	Name string `json:"name"`
	// Description says what the run is for.
	Description string `json:"description,omitempty"`
	// Seed seeds every random draw of the run. Default 1.
	Seed int64 `json:"seed"`
	// Fixtures is the world the run plays in.
	Fixtures Fixtures `json:"fixtures"`
	// NetSuite configures the NetSuite simulator.
	NetSuite NetSuite `json:"netsuite"`
	// Gateway configures the payment gateway simulator.
	Gateway Gateway `json:"gateway"`
	// Connector configures the embedded reference connector; nil when absent.
	Connector *Connector `json:"connector,omitempty"`
	// Faults are the fault rules, in file order.
	Faults []FaultRule `json:"faults,omitempty"`
	// Actions are done to the system under test during the traffic (kill the connector,
	// partition it, …), in time order; see [Action].
	Actions []Action `json:"actions,omitempty"`
	// Scenarios maps scenario name to scenario; see [File.ScenarioNames] for file order.
	Scenarios map[string]*Scenario `json:"scenarios"`
	// Thresholds maps a metric, optionally with tag filters ("http_req_duration{flow:sale}"),
	// to its thresholds.
	Thresholds map[string][]Threshold `json:"thresholds,omitempty"`
	// Invariants adjusts the invariant checker.
	Invariants Invariants `json:"invariants"`
	// Drain configures the wait for the connector's backlog after the traffic.
	Drain Drain `json:"drain"`
	// Certification is the metadata of a certification case; nil for other files.
	Certification *Certification `json:"certification,omitempty"`

	path  string   // file name as given to Load or Parse
	order []string // scenario names in file order
}

// Path returns the file name the file was loaded or parsed as.
func (f *File) Path() string { return f.path }

// ScenarioNames returns the scenario names in the order the file lists them.
func (f *File) ScenarioNames() []string {
	return append([]string(nil), f.order...)
}

// Fixtures selects the fixture world: generated at Size, or read from File.
type Fixtures struct {
	// Size of a generated world; "small" when neither Size nor File is given.
	Size fixtures.Size `json:"size,omitempty"`
	// File is a world file path as written (relative to the scenario file); see
	// [File.FixturesPath].
	File string `json:"file,omitempty"`
}

// Profile names a latency preset of a simulator.
type Profile string

// The latency presets; see [NetSuitePreset] and [GatewayPreset] for their values.
const (
	Fast      Profile = "fast"      // CI: millisecond latencies
	Realistic Profile = "realistic" // production-like lognormal latencies
)

// NetSuite configures the NetSuite simulator as written in the file.
type NetSuite struct {
	// Profile is the latency preset; default "fast".
	Profile Profile `json:"profile"`
	// ConcurrencyLimit is the account's concurrent request limit; 0 = the profile's.
	ConcurrencyLimit int `json:"concurrencyLimit,omitempty"`
	// Latency holds per-operation overrides; nil fields take the profile's.
	Latency NetSuiteLatency `json:"latency,omitzero"`
}

// NetSuiteLatency is a latency per NetSuite operation.
type NetSuiteLatency struct {
	RecordWrite *Latency `json:"recordWrite,omitempty"` // POST/PUT/PATCH/DELETE under /services/rest/record/v1/
	RecordRead  *Latency `json:"recordRead,omitempty"`  // GET under /services/rest/record/v1/
	SuiteQL     *Latency `json:"suiteql,omitempty"`     // POST /services/rest/query/v1/suiteql
}

// Gateway configures the payment gateway simulator as written in the file.
type Gateway struct {
	// Profile is the latency preset; default "fast".
	Profile Profile `json:"profile"`
	// Latency holds per-operation overrides; nil fields take the profile's.
	Latency GatewayLatency `json:"latency,omitzero"`
}

// GatewayLatency is a latency per gateway operation.
type GatewayLatency struct {
	Authorize *Latency `json:"authorize,omitempty"` // confirm / terminal process_payment_intent
	Capture   *Latency `json:"capture,omitempty"`   // POST /v1/payment_intents/{id}/capture
	Refund    *Latency `json:"refund,omitempty"`    // POST /v1/refunds
}

// Latency is a latency distribution in the fault engine's form: exactly one of Delay
// (fixed), Lower/Upper (uniform in [Lower, Upper)) or Median/Sigma/Max (lognormal, draws
// above Max redrawn; Max 0 = unbounded).
type Latency struct {
	Delay  Duration `json:"delay,omitempty"`
	Lower  Duration `json:"lower,omitempty"`
	Upper  Duration `json:"upper,omitempty"`
	Median Duration `json:"median,omitempty"`
	Sigma  float64  `json:"sigma,omitempty"`
	Max    Duration `json:"max,omitempty"`
}

// Kind returns "fixed", "uniform" or "lognormal".
func (l Latency) Kind() string {
	switch {
	case l.Lower != 0 || l.Upper != 0:
		return "uniform"
	case l.Median != 0 || l.Sigma != 0 || l.Max != 0:
		return "lognormal"
	}
	return "fixed"
}

// String renders the latency as it is written in a file, e.g. "{median: 400ms, sigma: 0.5, max: 10s}".
func (l Latency) String() string {
	switch l.Kind() {
	case "uniform":
		return fmt.Sprintf("{lower: %s, upper: %s}", l.Lower, l.Upper)
	case "lognormal":
		if l.Max == 0 {
			return fmt.Sprintf("{median: %s, sigma: %g}", l.Median, l.Sigma)
		}
		return fmt.Sprintf("{median: %s, sigma: %g, max: %s}", l.Median, l.Sigma, l.Max)
	}
	return fmt.Sprintf("{delay: %s}", l.Delay)
}

// Connector configures the embedded reference connector.
type Connector struct {
	// Bugs are the bug switches to turn on.
	Bugs []string `json:"bugs,omitempty"`
	// Concurrency is the number of posting workers; 0 = the NetSuite concurrency limit.
	Concurrency int `json:"concurrency,omitempty"`
}

// FaultRule is one fault rule. The typed fields are for the harness's own use (reports
// shade windows, durations are scaled); the fault engine gets Raw unchanged
// (faults.ParseRules), so its format is the fault engine's.
type FaultRule struct {
	Name   string     `json:"name"`
	Target string     `json:"target"` // "netsuite" | "gateway"
	Match  FaultMatch `json:"match"`
	// Effect is the effect's key: latency, error, throttle, timeout, reset, lostResponse,
	// slowBody, malformed or outage.
	Effect string `json:"-"`
	// EffectParams is the effect's configuration as JSON, e.g. {"status":500,"code":"X"}.
	EffectParams json.RawMessage `json:"-"`
	// Probability of hitting a matching request; 1 when omitted.
	Probability float64 `json:"probability"`
	// Window limits the rule to a span after the traffic starts; nil = always.
	Window *Window `json:"window,omitempty"`
	// Quiet counts the rule's hits without an event each (the fault engine's quiet).
	Quiet bool `json:"quiet,omitempty"`

	// Raw is the rule as written in the file, as JSON (durations as strings), updated by
	// [File.ScaleDuration]. Hand it to the fault engine.
	Raw json.RawMessage `json:"-"`
}

// MarshalJSON writes the rule as Raw.
func (r FaultRule) MarshalJSON() ([]byte, error) {
	if len(r.Raw) == 0 {
		return []byte("null"), nil
	}
	return r.Raw, nil
}

// FaultMatch selects the requests a rule hits; empty fields match anything.
type FaultMatch struct {
	Method     string `json:"method,omitempty"`
	Path       string `json:"path,omitempty"`
	RecordType string `json:"recordType,omitempty"`
}

// Window is a span of time relative to the start of the traffic.
type Window struct {
	Start Duration `json:"start"`
	// Duration of the window; 0 = until the end of the run.
	Duration Duration `json:"duration,omitempty"`
}

// Executor names a k6 executor.
type Executor string

// The executors, with k6's names.
const (
	SharedIterations    Executor = "shared-iterations"
	PerVUIterations     Executor = "per-vu-iterations"
	ConstantVUs         Executor = "constant-vus"
	RampingVUs          Executor = "ramping-vus"
	ConstantArrivalRate Executor = "constant-arrival-rate"
	RampingArrivalRate  Executor = "ramping-arrival-rate"
)

// Flow names a POS flow, the scenario's exec.
type Flow string

// The POS flows a scenario can exec.
const (
	FlowSale            Flow = "sale"
	FlowReturn          Flow = "return"
	FlowExchange        Flow = "exchange"
	FlowVoid            Flow = "void"
	FlowOfflineResync   Flow = "offline-resync"
	FlowPeripheralStorm Flow = "peripheral-storm"
	FlowBOPISPickup     Flow = "bopis-pickup"
	FlowTransfer        Flow = "transfer"
	FlowShiftClose      Flow = "shift-close"
)

// Scenario is one traffic scenario with k6's option names. After loading, every option of
// its executor holds its value or k6's default; options of other executors are zero.
type Scenario struct {
	// Name is the scenario's key in the file.
	Name     string   `json:"-"`
	Executor Executor `json:"executor"`
	Exec     Flow     `json:"exec"`

	// Common to all executors.
	StartTime    Duration          `json:"startTime"`    // default 0s
	GracefulStop Duration          `json:"gracefulStop"` // default 30s
	Env          map[string]string `json:"env,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`

	// shared-iterations, per-vu-iterations, constant-vus.
	VUs int `json:"vus"` // default 1
	// shared-iterations (total), per-vu-iterations (per VU).
	Iterations int `json:"iterations"` // default 1
	// shared-iterations, per-vu-iterations.
	MaxDuration Duration `json:"maxDuration"` // default 10m
	// constant-vus, constant-arrival-rate (required).
	Duration Duration `json:"duration"`
	// ramping-vus.
	StartVUs         int      `json:"startVUs"`         // default 1
	GracefulRampDown Duration `json:"gracefulRampDown"` // default 30s
	// ramping-vus, ramping-arrival-rate (required, non-empty).
	Stages []Stage `json:"stages"`
	// constant-arrival-rate (required).
	Rate int `json:"rate"`
	// ramping-arrival-rate.
	StartRate int `json:"startRate"` // default 0
	// constant-arrival-rate, ramping-arrival-rate.
	TimeUnit        Duration `json:"timeUnit"`        // default 1s
	PreAllocatedVUs int      `json:"preAllocatedVUs"` // required
	MaxVUs          int      `json:"maxVUs"`          // default preAllocatedVUs

	// Options are the flow's options.
	Options FlowOptions `json:"options,omitzero"`
}

// Stage is one step of a ramping executor.
type Stage struct {
	Duration Duration `json:"duration"`
	Target   int      `json:"target"`
}

// FlowOptions are the POS flow's options. Nil fields were not set; the POS module applies
// its own defaults to them.
type FlowOptions struct {
	BasketSize        *BasketSize `json:"basketSize,omitempty"`
	Tenders           *Tenders    `json:"tenders,omitempty"`
	KnownCustomerRate *float64    `json:"knownCustomerRate,omitempty"`
	NewCustomerRate   *float64    `json:"newCustomerRate,omitempty"`
	DiscountRate      *float64    `json:"discountRate,omitempty"`
	MisreadRate       *float64    `json:"misreadRate,omitempty"`
	DeclineRate       *float64    `json:"declineRate,omitempty"`
	HotItems          *HotItems   `json:"hotItems,omitempty"`
	ReturnPartialRate *float64    `json:"returnPartialRate,omitempty"`
	RestockRate       *float64    `json:"restockRate,omitempty"`
	OfflineDuration   *Duration   `json:"offlineDuration,omitempty"`
	OfflineRegisters  *float64    `json:"offlineRegisters,omitempty"`
	ScansPerIteration *int        `json:"scansPerIteration,omitempty"`
	CompletionRate    *float64    `json:"completionRate,omitempty"`
	ThinkTime         *Duration   `json:"thinkTime,omitempty"`

	InsufficientFundsRate *float64  `json:"insufficientFundsRate,omitempty"`
	AbandonOnDeclineRate  *float64  `json:"abandonOnDeclineRate,omitempty"`
	TerminalTimeoutRate   *float64  `json:"terminalTimeoutRate,omitempty"`
	SharedNewCustomers    *int      `json:"sharedNewCustomers,omitempty"`
	ZipfExponent          *float64  `json:"zipfExponent,omitempty"`
	SingleItemSKU         *string   `json:"singleItemSKU,omitempty"`
	ClockStart            *string   `json:"clockStart,omitempty"`
	Stores                any       `json:"stores,omitempty"` // a count (int) or a list of location ids or names
	SubmitRetryFor        *Duration `json:"submitRetryFor,omitempty"`
	RequestTimeout        *Duration `json:"requestTimeout,omitempty"`
	BatchSize             *int      `json:"batchSize,omitempty"`
}

// BasketSize is the distribution of lines per basket; zero fields were not set.
type BasketSize struct {
	Mean         float64 `json:"mean,omitempty"`
	Max          int     `json:"max,omitempty"`
	Distribution string  `json:"distribution,omitempty"` // poisson | geometric | fixed
}

// Tenders is the tender mix: fractions adding up to 1 (unset = 0).
type Tenders struct {
	Card     float64 `json:"card,omitempty"`
	Cash     float64 `json:"cash,omitempty"`
	GiftCard float64 `json:"gift_card,omitempty"`
	Split    float64 `json:"split,omitempty"`
}

// HotItems are the doorbuster items.
type HotItems struct {
	Count int     `json:"count"`
	Share float64 `json:"share"`
}

// Threshold is one k6 threshold of a metric.
type Threshold struct {
	// Expr is the expression, e.g. "p(95)<2s".
	Expr           string   `json:"threshold"`
	AbortOnFail    bool     `json:"abortOnFail,omitempty"`
	DelayAbortEval Duration `json:"delayAbortEval,omitempty"`
}

// UnmarshalJSON accepts the string form and the object form.
func (t *Threshold) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = Threshold{Expr: s}
		return nil
	}
	type plain Threshold
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = Threshold(p)
	return nil
}

// MarshalJSON writes the string form when the threshold has no other settings.
func (t Threshold) MarshalJSON() ([]byte, error) {
	if !t.AbortOnFail && t.DelayAbortEval == 0 {
		return json.Marshal(t.Expr)
	}
	type plain Threshold
	return json.Marshal(plain(t))
}

// Invariants adjusts the invariant checker.
type Invariants struct {
	// Skip lists built-in invariant ids not to check.
	Skip []string `json:"skip,omitempty"`
	// Custom are SQL invariants added by the file.
	Custom []CustomInvariant `json:"custom,omitempty"`
}

// CustomInvariant is an invariant written as SQL: every row the query returns is a violation.
type CustomInvariant struct {
	ID        string `json:"id"`
	Statement string `json:"statement"`
	SQL       string `json:"sql"`
}

// BuiltinInvariants returns the ids of the checker's built-in invariants, which
// invariants.skip may name and custom ids may not reuse.
func BuiltinInvariants() []string {
	return []string{
		"exactly-once", "amounts", "gl-balanced", "revenue-by-store-day", "payments-reconcile",
		"inventory-conserved", "no-negative-stock", "sale-location", "offline-trandate",
		"one-customer-per-identity", "stock-view-converges", "returns-bounded",
	}
}

// Drain configures the wait for the connector's backlog after the traffic.
type Drain struct {
	Timeout      Duration `json:"timeout"`      // default 5m
	PollInterval Duration `json:"pollInterval"` // default 1s
}

// Certification is the metadata of a certification case.
type Certification struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Proves   string   `json:"proves"`
	Duration Duration `json:"duration,omitempty"`
	// Suites the case belongs to; default ["full"].
	Suites []string `json:"suites,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("30s", "1h30m").
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration, without zero trailing units ("1h30m", "2m", "30s").
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("expected a duration like \"30s\": %w", err)
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// parseDuration parses a non-negative duration string.
func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("expected a duration like \"30s\", got %q", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("expected a non-negative duration, got %q", s)
	}
	return v, nil
}
