package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// vuStep is a change of a ramping-vus scenario's VU target.
type vuStep struct {
	At  time.Duration // from the scenario's start
	VUs int64
}

// rampingVUsSteps returns every change of the VU target of a ramping-vus scenario, in
// order. Within a stage from a to b over d, the target at u is a + sign(b-a)·⌊|b-a|·u/d⌋
// (it moves one VU at a time and reaches b exactly at the end of the stage); a stage of no
// duration jumps to its target.
func rampingVUsSteps(start int64, stages []Stage) []vuStep {
	var steps []vuStep
	cur := start
	var t time.Duration
	for _, st := range stages {
		delta := st.Target - cur
		if delta != 0 {
			if st.Duration <= 0 {
				steps = append(steps, vuStep{At: t, VUs: st.Target})
			} else {
				n := delta
				sign := int64(1)
				if n < 0 {
					n, sign = -n, -1
				}
				for j := int64(1); j <= n; j++ {
					// u_j = ceil(j·d/n)
					u := mulDivCeil(j, int64(st.Duration), n)
					steps = append(steps, vuStep{At: t + time.Duration(u), VUs: cur + sign*j})
				}
			}
		}
		cur = st.Target
		t += st.Duration
	}
	return steps
}

// rampingVUsLevel is the target of a ramping-vus scenario at u from its start.
func rampingVUsLevel(start int64, stages []Stage, u time.Duration) int64 {
	cur := start
	var t time.Duration
	for _, st := range stages {
		if u < t+st.Duration {
			x := u - t
			delta := st.Target - cur
			n, sign := delta, int64(1)
			if n < 0 {
				n, sign = -n, -1
			}
			return cur + sign*mulDiv(n, int64(x), int64(st.Duration))
		}
		cur = st.Target
		t += st.Duration
	}
	return cur
}

// mulDiv is ⌊a·b/c⌋ for non-negative a, b and positive c, exact through 128 bits.
func mulDiv(a, b, c int64) int64 {
	q, _ := mulDivRem(a, b, c)
	return q
}

// mulDivCeil is ⌈a·b/c⌉.
func mulDivCeil(a, b, c int64) int64 {
	q, r := mulDivRem(a, b, c)
	if r != 0 {
		q++
	}
	return q
}

func mulDivRem(a, b, c int64) (int64, int64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) { // quotient overflows: saturate
		return math.MaxInt64, 0
	}
	q, r := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return math.MaxInt64, 0
	}
	return int64(q), int64(r)
}

// arrivals gives the intended start, from the scenario's start, of arrival k (0-based,
// over the whole scenario, all segments) and whether it happens before the end.
type arrivals interface {
	at(k int64) (time.Duration, bool)
	// rateAt is the rate in iterations per second at u.
	rateAt(u time.Duration) float64
	// total is the number of arrivals of the whole scenario.
	total() int64
}

// constantArrivals: arrival k at k·timeUnit/rate, for k·timeUnit/rate < duration (the first
// at 0, as k6).
type constantArrivals struct {
	rate     int64
	timeUnit time.Duration
	duration time.Duration
}

func (c constantArrivals) at(k int64) (time.Duration, bool) {
	t := time.Duration(mulDiv(k, int64(c.timeUnit), c.rate))
	return t, t < c.duration
}

func (c constantArrivals) rateAt(time.Duration) float64 {
	return float64(c.rate) / c.timeUnit.Seconds()
}

func (c constantArrivals) total() int64 {
	// k < duration·rate/timeUnit
	return mulDivCeil(int64(c.duration), c.rate, int64(c.timeUnit))
}

// rampingArrivals: the rate moves linearly within each stage (from startRate, then each
// stage's target); arrival k happens when the integral of the rate, in iterations, reaches
// k+1. Over the stages there are ⌊∫rate⌋ arrivals, and a stage at rate 0 has none.
type rampingArrivals struct {
	timeUnit time.Duration
	stages   []rampStage
	end      time.Duration
}

type rampStage struct {
	start    time.Duration
	d        time.Duration
	r0, r1   float64 // per timeUnit
	before   float64 // arrivals (integral) before the stage
	integral float64 // arrivals within the stage
}

func newRampingArrivals(startRate int64, timeUnit time.Duration, stages []Stage) rampingArrivals {
	ra := rampingArrivals{timeUnit: timeUnit}
	cur := float64(startRate)
	var t time.Duration
	var before float64
	for _, st := range stages {
		r1 := float64(st.Target)
		if st.Duration > 0 {
			integral := (cur + r1) / 2 * float64(st.Duration) / float64(timeUnit)
			ra.stages = append(ra.stages, rampStage{start: t, d: st.Duration, r0: cur, r1: r1, before: before, integral: integral})
			before += integral
		}
		cur = r1
		t += st.Duration
	}
	ra.end = t
	return ra
}

func (ra rampingArrivals) total() int64 {
	if len(ra.stages) == 0 {
		return 0
	}
	last := ra.stages[len(ra.stages)-1]
	return int64(math.Floor(last.before + last.integral + 1e-9))
}

func (ra rampingArrivals) at(k int64) (time.Duration, bool) {
	target := float64(k + 1)
	for _, st := range ra.stages {
		if target > st.before+st.integral+1e-9 {
			continue
		}
		need := target - st.before // arrivals into the stage, > 0
		if need < 0 {
			need = 0
		}
		d := float64(st.d)
		tu := float64(ra.timeUnit)
		// need = (r0·u + (r1-r0)·u²/(2d)) / tu ; solve for u in [0, d].
		a := (st.r1 - st.r0) / (2 * d * tu)
		b := st.r0 / tu
		var u float64
		if math.Abs(a) < 1e-30 {
			u = need / b
		} else {
			disc := b*b + 4*a*need
			if disc < 0 {
				disc = 0
			}
			u = 2 * need / (b + math.Sqrt(disc))
		}
		u = math.Min(math.Max(u, 0), d)
		return st.start + time.Duration(math.Round(u)), true
	}
	return ra.end, false
}

func (ra rampingArrivals) rateAt(u time.Duration) float64 {
	for _, st := range ra.stages {
		if u < st.start+st.d {
			x := float64(u-st.start) / float64(st.d)
			return (st.r0 + (st.r1-st.r0)*x) / ra.timeUnit.Seconds()
		}
	}
	return 0
}
