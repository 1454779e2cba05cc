package loadgen

import (
	"math"
	"testing"
	"time"
)

func TestRampingVUsLevel(t *testing.T) {
	stages := []Stage{{10 * time.Second, 10}, {5 * time.Second, 10}, {5 * time.Second, 0}, {0, 3}, {time.Second, 3}}
	tests := []struct {
		at   time.Duration
		want int64
	}{
		{0, 0},                         // start
		{999 * time.Millisecond, 0},    // one VU per second: not yet
		{time.Second, 1},               // first VU
		{5500 * time.Millisecond, 5},   // middle of the ramp up
		{10 * time.Second, 10},         // reached
		{12 * time.Second, 10},         // hold
		{15 * time.Second, 10},         // start of the ramp down
		{15400 * time.Millisecond, 10}, // one VU every 0.5s
		{15500 * time.Millisecond, 9},
		{16 * time.Second, 8}, // 2 VUs per second down
		{19999 * time.Millisecond, 1},
		{20 * time.Second, 3}, // zero-duration stage jumps
		{30 * time.Second, 3}, // after the stages: the last target
	}
	for _, tt := range tests {
		if got := rampingVUsLevel(0, stages, tt.at); got != tt.want {
			t.Errorf("level at %v = %d, want %d", tt.at, got, tt.want)
		}
	}
	// Steps agree with the level function: the level changes exactly at each step.
	steps := rampingVUsSteps(0, stages)
	for i, st := range steps {
		if i+1 < len(steps) && steps[i+1].At == st.At {
			continue // superseded by a zero-duration stage at the same instant
		}
		if got := rampingVUsLevel(0, stages, st.At); got != st.VUs {
			t.Errorf("step at %v to %d, level there %d", st.At, st.VUs, got)
		}
		if st.At > 0 {
			if before := rampingVUsLevel(0, stages, st.At-1); before == st.VUs {
				t.Errorf("step at %v to %d: already %d just before", st.At, st.VUs, before)
			}
		}
	}
	if n := len(steps); n != 10+10+1 {
		t.Errorf("%d steps, want 21", n)
	}
}

func TestConstantArrivals(t *testing.T) {
	a := constantArrivals{rate: 3, timeUnit: time.Second, duration: 2 * time.Second}
	want := []time.Duration{0, 333333333, 666666666, time.Second, 1333333333, 1666666666}
	for k, w := range want {
		got, ok := a.at(int64(k))
		if !ok || got != w {
			t.Errorf("arrival %d at %v (%v), want %v", k, got, ok, w)
		}
	}
	if _, ok := a.at(6); ok {
		t.Error("arrival 6 is past the duration")
	}
	if a.total() != 6 {
		t.Errorf("total %d, want 6", a.total())
	}
	// Rates per minute.
	m := constantArrivals{rate: 90, timeUnit: time.Minute, duration: time.Minute}
	if got, _ := m.at(1); got != 666666666 {
		t.Errorf("90/min: second arrival at %v", got)
	}
}

// The number of arrivals is the integral of the rate; a stage at rate 0 has none; times
// increase.
func TestRampingArrivals(t *testing.T) {
	tests := []struct {
		name   string
		start  int64
		unit   time.Duration
		stages []Stage
		want   int64
	}{
		{"ramp up", 0, time.Second, []Stage{{10 * time.Second, 100}}, 500},
		{"up hold down", 10, time.Second, []Stage{{2 * time.Second, 30}, {3 * time.Second, 30}, {2 * time.Second, 0}}, 40 + 90 + 30},
		{"zero stage", 0, time.Second, []Stage{{5 * time.Second, 0}, {0, 10}, {time.Second, 10}}, 10},
		{"per minute", 60, time.Minute, []Stage{{time.Minute, 120}}, 90},
		{"fractional", 1, time.Second, []Stage{{3 * time.Second, 2}}, 4}, // integral 4.5 → 4
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newRampingArrivals(tt.start, tt.unit, tt.stages)
			if got := a.total(); got != tt.want {
				t.Fatalf("total %d, want %d", got, tt.want)
			}
			var prev time.Duration = -1
			var n int64
			for k := int64(0); ; k++ {
				at, ok := a.at(k)
				if !ok {
					break
				}
				if at < prev {
					t.Fatalf("arrival %d at %v before arrival %d at %v", k, at, k-1, prev)
				}
				prev = at
				n++
			}
			if n != tt.want {
				t.Fatalf("%d arrivals, want %d", n, tt.want)
			}
		})
	}
	// Within a linear ramp, the count before u matches the integral ⌊r·u²/(2d)⌋.
	a := newRampingArrivals(0, time.Second, []Stage{{10 * time.Second, 100}})
	for _, u := range []time.Duration{time.Second, 3 * time.Second, 7500 * time.Millisecond} {
		want := math.Floor(10 * u.Seconds() * u.Seconds() / 2)
		var got float64
		for k := int64(0); ; k++ {
			at, ok := a.at(k)
			if !ok || at > u {
				break
			}
			got++
		}
		if math.Abs(got-want) > 1 {
			t.Errorf("arrivals by %v: %v, want %v", u, got, want)
		}
	}
	// No arrivals while the rate is zero.
	z := newRampingArrivals(0, time.Second, []Stage{{5 * time.Second, 0}, {time.Second, 10}})
	if at, _ := z.at(0); at < 5*time.Second {
		t.Errorf("first arrival at %v during the zero-rate stage", at)
	}
}

func TestMulDiv(t *testing.T) {
	if got := mulDiv(1<<40, 1<<40, 1<<30); got != 1<<50 {
		t.Errorf("mulDiv overflowed: %d", got)
	}
	if got := mulDivCeil(7, 3, 2); got != 11 {
		t.Errorf("mulDivCeil(7,3,2) = %d", got)
	}
}
