package faults

import (
	"log/slog"
	"math/rand"
	"net/http"
)

// Effect is what a rule does to a request it hits. Each effect is one short file holding its
// configuration (the fields of its entry in a rules file), its behaviour and its decoder.
type Effect interface {
	// Name is the effect's key in a rule: "latency", "reset", …
	Name() string
	// Apply performs the effect on one exchange. To let the simulator answer, it calls x.Next
	// at most once, with x.W or with a writer of its own.
	Apply(x *Exchange)
}

// Optional abilities, found by type assertion.
type (
	// drawer is an effect that makes random draws: draw is called under the engine's lock,
	// in request order, with the engine's seeded source, and returns the effect to apply to
	// this request.
	drawer interface {
		draw(r *rand.Rand) Effect
	}
	// validator is an effect whose configuration can be wrong; validate names each bad field
	// under path (e.g. "rules[0].effect.latency").
	validator interface {
		validate(path string) []FieldError
	}
	// passer is an effect that lets the request go on to the next rule (latency): rules
	// after it may still hit the request. Every other effect ends rule evaluation.
	passer interface {
		passes()
	}
)

// effectNames lists the effect keys in the order the documentation gives them.
var effectNames = []string{
	"latency", "error", "throttle", "timeout", "reset", "lostResponse", "slowBody", "malformed", "outage",
}

// newEffect returns a zero effect for a key of a rule's effect mapping, or nil.
func newEffect(name string) Effect {
	switch name {
	case "latency":
		return &Latency{}
	case "error":
		return &HTTPError{}
	case "throttle":
		return &Throttle{}
	case "timeout":
		return &Timeout{}
	case "reset":
		return &Reset{}
	case "lostResponse":
		return &LostResponse{}
	case "slowBody":
		return &SlowBody{}
	case "malformed":
		return &Malformed{}
	case "outage":
		return &Outage{}
	}
	return nil
}

// Exchange is one request passing through an effect.
type Exchange struct {
	// W is the writer the effect answers on; R is the request.
	W http.ResponseWriter
	R *http.Request
	// Target is the simulator, which decides the shape of error bodies.
	Target Target
	// Rule is the name of the rule whose effect this is.
	Rule string
	// Log is where an effect reports trouble (never nil when the engine calls Apply).
	Log *slog.Logger

	next func(w http.ResponseWriter)
}

// Next runs the rest of the chain (the simulator's handler) writing to w.
func (x *Exchange) Next(w http.ResponseWriter) {
	if x.next != nil {
		x.next(w)
	}
}
