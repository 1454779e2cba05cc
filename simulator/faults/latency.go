package faults

import (
	"math"
	"math/rand"
	"time"
)

// Latency delays the request before it goes on (to later rules and the simulator). Give
// exactly one distribution:
//
//	latency: {delay: 200ms}                          # fixed
//	latency: {lower: 50ms, upper: 250ms}             # uniform in [lower, upper)
//	latency: {median: 200ms, sigma: 0.5, max: 2s}    # lognormal; draws above max are redrawn
//
// A lognormal draw above Max (default and ceiling 1h) is redrawn up to 10 times, then clamped
// to Max. The delay ends early if the client goes away.
type Latency struct {
	Delay  Duration `json:"delay,omitempty"`
	Lower  Duration `json:"lower,omitempty"`
	Upper  Duration `json:"upper,omitempty"`
	Median Duration `json:"median,omitempty"`
	Sigma  float64  `json:"sigma,omitempty"`
	Max    Duration `json:"max,omitempty"`
}

var (
	_ Effect    = (*Latency)(nil)
	_ drawer    = (*Latency)(nil)
	_ validator = (*Latency)(nil)
	_ passer    = (*Latency)(nil)
)

const (
	maxRedraws = 10                  // redraws of a lognormal delay above Max
	maxDelay   = Duration(time.Hour) // the longest any delay may be; Max when none is given
)

// Name returns "latency".
func (*Latency) Name() string { return "latency" }

func (*Latency) passes() {}

// Apply waits the configured delay without a draw: the fixed delay, the lower bound of a
// uniform one, the median of a lognormal one. The engine applies drawn delays instead.
func (l *Latency) Apply(x *Exchange) {
	d := l.Delay
	switch {
	case l.Upper > 0:
		d = l.Lower
	case l.Median > 0:
		d = l.Median
	}
	delay(d).Apply(x)
}

func (l *Latency) draw(r *rand.Rand) Effect {
	switch {
	case l.Upper > 0:
		span := int64(l.Upper - l.Lower)
		if span <= 0 {
			return delay(l.Lower)
		}
		return delay(l.Lower + Duration(r.Int63n(span)))
	case l.Median > 0:
		limit := l.Max
		if limit <= 0 {
			limit = maxDelay
		}
		for range maxRedraws + 1 {
			// Compare as floats: a wild draw must not overflow the conversion.
			if f := float64(l.Median) * math.Exp(l.Sigma*r.NormFloat64()); f >= 0 && f <= float64(limit) {
				return delay(Duration(f))
			}
		}
		return delay(limit)
	}
	return delay(l.Delay)
}

func (l *Latency) validate(path string) []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Path: path + field, Msg: msg}) }
	fixed := l.Delay != 0
	uniform := l.Lower != 0 || l.Upper != 0
	lognormal := l.Median != 0 || l.Sigma != 0 || l.Max != 0
	n := 0
	for _, b := range []bool{fixed, uniform, lognormal} {
		if b {
			n++
		}
	}
	if n != 1 {
		add("", "give exactly one of delay (fixed), lower/upper (uniform) or median/sigma/max (lognormal)")
		return errs
	}
	for _, f := range []struct {
		name string
		d    Duration
	}{{".delay", l.Delay}, {".lower", l.Lower}, {".upper", l.Upper}, {".median", l.Median}, {".max", l.Max}} {
		if f.d < 0 {
			add(f.name, "must not be negative")
		}
		if f.d > maxDelay {
			add(f.name, "must be at most 1h")
		}
	}
	switch {
	case uniform && l.Upper <= l.Lower:
		add(".upper", "must be greater than lower")
	case lognormal && l.Median <= 0:
		add(".median", "is required and must be positive for a lognormal delay")
	case lognormal && (l.Sigma < 0 || l.Sigma > 10 || math.IsNaN(l.Sigma)):
		add(".sigma", "must be between 0 and 10")
	case lognormal && l.Max != 0 && l.Max < l.Median:
		add(".max", "must be at least the median")
	}
	return errs
}

// delay is one drawn latency.
type delay Duration

func (delay) Name() string { return "latency" }
func (delay) passes()      {}

func (d delay) Apply(x *Exchange) {
	if sleep(x.R.Context(), time.Duration(d)) {
		x.Next(x.W)
	}
}
