package scenarios

import (
	"fmt"
	"time"
)

// NetSuiteSettings are the NetSuite simulator's settings after the profile and the file's
// overrides are applied.
type NetSuiteSettings struct {
	Profile          Profile
	ConcurrencyLimit int
	RecordWrite      Latency // POST/PUT/PATCH/DELETE under /services/rest/record/v1/
	RecordRead       Latency // GET under /services/rest/record/v1/
	SuiteQL          Latency // POST /services/rest/query/v1/suiteql
}

// GatewaySettings are the gateway simulator's settings after the profile and the file's
// overrides are applied.
type GatewaySettings struct {
	Profile   Profile
	Authorize Latency // payment intent confirm, terminal process_payment_intent
	Capture   Latency // POST /v1/payment_intents/{id}/capture
	Refund    Latency // POST /v1/refunds
}

// Resolved holds the values of a file that come from presets: the simulators' profiles with
// the file's explicit fields applied over them.
type Resolved struct {
	NetSuite NetSuiteSettings
	Gateway  GatewaySettings
}

// Resolved applies the profiles and the file's overrides: an explicit latency replaces the
// profile's for that operation; an explicit concurrencyLimit replaces the profile's.
func (f *File) Resolved() Resolved {
	ns, err := NetSuitePreset(f.NetSuite.Profile)
	if err != nil { // only for a File not built by Load or Parse
		ns, _ = NetSuitePreset(Fast)
	}
	if f.NetSuite.ConcurrencyLimit > 0 {
		ns.ConcurrencyLimit = f.NetSuite.ConcurrencyLimit
	}
	override(&ns.RecordWrite, f.NetSuite.Latency.RecordWrite)
	override(&ns.RecordRead, f.NetSuite.Latency.RecordRead)
	override(&ns.SuiteQL, f.NetSuite.Latency.SuiteQL)

	gw, err := GatewayPreset(f.Gateway.Profile)
	if err != nil {
		gw, _ = GatewayPreset(Fast)
	}
	override(&gw.Authorize, f.Gateway.Latency.Authorize)
	override(&gw.Capture, f.Gateway.Latency.Capture)
	override(&gw.Refund, f.Gateway.Latency.Refund)
	return Resolved{NetSuite: ns, Gateway: gw}
}

func override(dst *Latency, l *Latency) {
	if l != nil {
		*dst = *l
	}
}

func uniform(lower, upper time.Duration) Latency {
	return Latency{Lower: Duration(lower), Upper: Duration(upper)}
}

func lognormal(median time.Duration, sigma float64, max time.Duration) Latency {
	return Latency{Median: Duration(median), Sigma: sigma, Max: Duration(max)}
}

// DefaultConcurrencyLimit is NetSuite's tier-1 account concurrency limit, both profiles'
// default.
const DefaultConcurrencyLimit = 15

// NetSuitePreset returns a NetSuite profile's values (the schema's profile description
// lists the same):
//
//	fast:      recordWrite {lower: 2ms, upper: 8ms}, recordRead {lower: 1ms, upper: 4ms},
//	           suiteql {lower: 1ms, upper: 3ms}; concurrencyLimit 15
//	realistic: recordWrite {median: 400ms, sigma: 0.5, max: 10s},
//	           recordRead {median: 150ms, sigma: 0.4, max: 5s},
//	           suiteql {median: 80ms, sigma: 0.4, max: 3s}; concurrencyLimit 15
func NetSuitePreset(p Profile) (NetSuiteSettings, error) {
	switch p {
	case Fast, "":
		return NetSuiteSettings{
			Profile:          Fast,
			ConcurrencyLimit: DefaultConcurrencyLimit,
			RecordWrite:      uniform(2*time.Millisecond, 8*time.Millisecond),
			RecordRead:       uniform(1*time.Millisecond, 4*time.Millisecond),
			SuiteQL:          uniform(1*time.Millisecond, 3*time.Millisecond),
		}, nil
	case Realistic:
		return NetSuiteSettings{
			Profile:          Realistic,
			ConcurrencyLimit: DefaultConcurrencyLimit,
			RecordWrite:      lognormal(400*time.Millisecond, 0.5, 10*time.Second),
			RecordRead:       lognormal(150*time.Millisecond, 0.4, 5*time.Second),
			SuiteQL:          lognormal(80*time.Millisecond, 0.4, 3*time.Second),
		}, nil
	}
	return NetSuiteSettings{}, fmt.Errorf("unknown NetSuite profile %q (want fast or realistic)", p)
}

// GatewayPreset returns a gateway profile's values (the schema's profile description lists
// the same):
//
//	fast:      authorize {lower: 2ms, upper: 6ms}, capture {lower: 1ms, upper: 4ms},
//	           refund {lower: 1ms, upper: 4ms}
//	realistic: authorize {median: 1s, sigma: 0.35, max: 15s},
//	           capture {median: 300ms, sigma: 0.4, max: 5s},
//	           refund {median: 300ms, sigma: 0.4, max: 5s}
func GatewayPreset(p Profile) (GatewaySettings, error) {
	switch p {
	case Fast, "":
		return GatewaySettings{
			Profile:   Fast,
			Authorize: uniform(2*time.Millisecond, 6*time.Millisecond),
			Capture:   uniform(1*time.Millisecond, 4*time.Millisecond),
			Refund:    uniform(1*time.Millisecond, 4*time.Millisecond),
		}, nil
	case Realistic:
		return GatewaySettings{
			Profile:   Realistic,
			Authorize: lognormal(time.Second, 0.35, 15*time.Second),
			Capture:   lognormal(300*time.Millisecond, 0.4, 5*time.Second),
			Refund:    lognormal(300*time.Millisecond, 0.4, 5*time.Second),
		}, nil
	}
	return GatewaySettings{}, fmt.Errorf("unknown gateway profile %q (want fast or realistic)", p)
}
