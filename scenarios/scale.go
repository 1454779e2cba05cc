package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/goccy/go-yaml"
)

// ScaleDuration multiplies the traffic's timeline by factor (for `doorbuster run
// --duration`): every scenario's startTime, duration, maxDuration, stage durations and the
// offlineDuration flow option, every fault window's start and duration (in Raw too), and
// every action's time and duration, so a brown-out or a crash stays at the same point of a
// shorter or longer run. Rates, VU counts,
// iterations, timeUnit, gracefulStop, gracefulRampDown, latencies and the drain are kept.
// Scaled durations are rounded to the millisecond, and one that was positive stays at least
// 1ms. The result is not re-checked against k6's minimums (1s durations).
func (f *File) ScaleDuration(factor float64) error {
	if !(factor > 0) || math.IsInf(factor, 0) {
		return fmt.Errorf("scale durations: factor must be a positive number, got %v", factor)
	}
	if f.TrafficDuration().Seconds()*factor > float64(100*365*24*time.Hour/time.Second) {
		return fmt.Errorf("scale durations: factor %v makes the run longer than a century", factor)
	}
	sc := func(d *Duration) {
		if *d <= 0 {
			return
		}
		v := time.Duration(float64(*d) * factor).Round(time.Millisecond)
		*d = Duration(max(v, time.Millisecond))
	}
	for _, s := range f.Scenarios {
		sc(&s.StartTime)
		sc(&s.Duration)
		sc(&s.MaxDuration)
		for i := range s.Stages {
			sc(&s.Stages[i].Duration)
		}
		if s.Options.OfflineDuration != nil {
			d := *s.Options.OfflineDuration
			sc(&d)
			s.Options.OfflineDuration = &d
		}
	}
	for i := range f.Actions {
		sc(&f.Actions[i].At)
		sc(&f.Actions[i].Duration)
	}
	for i := range f.Faults {
		r := &f.Faults[i]
		if r.Window == nil {
			continue
		}
		w := *r.Window
		sc(&w.Start)
		sc(&w.Duration)
		raw, err := setWindow(r.Raw, w)
		if err != nil {
			return fmt.Errorf("scale durations: fault %q: %w", r.Name, err)
		}
		r.Window, r.Raw = &w, raw
	}
	return nil
}

// setWindow rewrites the window of a raw rule, keeping everything else as it is.
func setWindow(raw json.RawMessage, w Window) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	win, ok := m["window"].(map[string]any)
	if !ok {
		return raw, nil
	}
	win["start"] = w.Start.String()
	if _, ok := win["duration"]; ok {
		win["duration"] = w.Duration.String()
	}
	return json.Marshal(m)
}

// FaultRulesJSON returns the fault rules as a JSON array of their Raw forms, for the fault
// engine's rule parser or its admin API.
func (f *File) FaultRulesJSON() ([]byte, error) {
	raws := make([]json.RawMessage, 0, len(f.Faults))
	for _, r := range f.Faults {
		raws = append(raws, r.Raw)
	}
	return json.Marshal(raws)
}

// Canonical returns the file as YAML with every default filled in, for the run directory's
// "scenario as run". It loads again (Parse) to an equal File.
func (f *File) Canonical() ([]byte, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode scenario: %w", err)
	}
	out, err := yaml.JSONToYAML(b)
	if err != nil {
		return nil, fmt.Errorf("encode scenario: %w", err)
	}
	return out, nil
}
