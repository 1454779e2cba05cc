package loadgen

import (
	"context"
	"testing"
	"time"
)

func TestParseSegment(t *testing.T) {
	tests := []struct {
		in      string
		want    Segment
		wantErr bool
	}{
		{"", Segment{}, false},            // whole plan
		{"1/1", Segment{1, 1}, false},     // one of one
		{"2/4", Segment{2, 4}, false},     // typical
		{" 3 / 3 ", Segment{3, 3}, false}, // spaces tolerated
		{"0/4", Segment{}, true},          // 1-based
		{"5/4", Segment{}, true},          // index beyond count
		{"1/0", Segment{}, true},          // no slices
		{"a/4", Segment{}, true},          // not a number
		{"1-4", Segment{}, true},          // wrong separator
		{"1/2/3", Segment{}, true},        // junk
	}
	for _, tt := range tests {
		got, err := ParseSegment(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSegment(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// The n slices of any total add up exactly to it, and Share agrees with Owns.
func TestSegmentShareAddsUp(t *testing.T) {
	for n := 1; n <= 13; n++ {
		for offset := 0; offset < 4; offset++ {
			for total := int64(0); total <= 300; total++ {
				var sum int64
				for i := 1; i <= n; i++ {
					seg := Segment{Index: i, Count: n}
					share := seg.Share(total, offset)
					var owned int64
					for j := int64(0); j < total; j++ {
						if seg.Owns(j, offset) {
							owned++
						}
					}
					if owned != share {
						t.Fatalf("n=%d offset=%d total=%d seg %d: Share=%d but owns %d", n, offset, total, i, share, owned)
					}
					if share < total/int64(n) || share > total/int64(n)+1 {
						t.Fatalf("n=%d total=%d seg %d: share %d is not an equal slice", n, total, i, share)
					}
					sum += share
				}
				if sum != total {
					t.Fatalf("n=%d offset=%d total=%d: slices sum to %d", n, offset, total, sum)
				}
			}
		}
	}
	// Large totals too.
	for _, total := range []int64{1 << 40, 999_999_999_937} {
		var sum int64
		for i := 1; i <= 7; i++ {
			sum += Segment{Index: i, Count: 7}.Share(total, 3)
		}
		if sum != total {
			t.Errorf("total %d: slices sum to %d", total, sum)
		}
	}
}

// Every scenario option that counts work is split so the slices add up to the whole, and
// the arrivals of an arrival-rate scenario are partitioned.
func TestSegmentScenarioSplit(t *testing.T) {
	exec := func(context.Context, *VU) error { return nil }
	scenarios := []Scenario{
		{Name: "shared", Executor: SharedIterations, VUs: 7, Iterations: 101, Exec: exec},
		{Name: "pervu", Executor: PerVUIterations, VUs: 5, Iterations: 3, Exec: exec},
		{Name: "const", Executor: ConstantVUs, VUs: 11, Duration: time.Second, Exec: exec},
		{Name: "ramp", Executor: RampingVUs, StartVUs: Ptr(2), Stages: []Stage{{time.Second, 9}, {time.Second, 4}}, Exec: exec},
		{Name: "car", Executor: ConstantArrivalRate, Rate: 37, TimeUnit: time.Second, Duration: 3 * time.Second, PreAllocatedVUs: 10, MaxVUs: 13, Exec: exec},
		{Name: "rar", Executor: RampingArrivalRate, StartRate: 5, Stages: []Stage{{2 * time.Second, 41}, {time.Second, 0}}, PreAllocatedVUs: 9, Exec: exec},
	}
	for _, n := range []int{1, 2, 3, 4} {
		type sums struct{ vus, iters, total, pre, max int64 }
		got := make([]sums, len(scenarios))
		owners := make([]map[int64]int, len(scenarios))
		for i := 1; i <= n; i++ {
			r := &run{plan: Plan{Segment: Segment{Index: i, Count: n}}}
			for idx, s := range scenarios {
				s, err := s.withDefaults()
				if err != nil {
					t.Fatal(err)
				}
				sr, err := newScenarioRun(r, s, idx)
				if err != nil {
					t.Fatalf("n=%d seg %d %s: %v", n, i, s.Name, err)
				}
				g := &got[idx]
				g.vus += int64(sr.vus)
				g.iters += sr.iterations
				g.total += sr.iterations * int64(sr.vus)
				g.pre += int64(sr.preAlloc)
				g.max += int64(sr.maxVUs)
				if sr.arrivals != nil {
					if owners[idx] == nil {
						owners[idx] = map[int64]int{}
					}
					for k := int64(0); ; k++ {
						if _, ok := sr.arrivals.at(k); !ok {
							break
						}
						if r.plan.Segment.Owns(k, idx) {
							owners[idx][k]++
						}
					}
				}
			}
		}
		check := func(name string, got, want int64) {
			t.Helper()
			if got != want {
				t.Errorf("n=%d %s: slices sum to %d, want %d", n, name, got, want)
			}
		}
		check("shared vus", got[0].vus, 7)
		check("shared iterations", got[0].iters, 101)
		check("per-vu vus", got[1].vus, 5)
		check("per-vu total iterations", got[1].total, 15)
		check("constant vus", got[2].vus, 11)
		check("ramping max vus", got[3].vus, 9)
		check("car preAllocated", got[4].pre, 10)
		check("car maxVUs", got[4].max, 13)
		check("rar preAllocated", got[5].pre, 9)
		for _, idx := range []int{4, 5} {
			total := scenarios[idx]
			s, _ := total.withDefaults()
			sr, _ := newScenarioRun(&run{}, s, idx)
			want := sr.arrivals.total()
			if int64(len(owners[idx])) != want {
				t.Errorf("n=%d %s: %d arrivals owned, want %d", n, s.Name, len(owners[idx]), want)
			}
			for k, c := range owners[idx] {
				if c != 1 {
					t.Errorf("n=%d %s: arrival %d owned by %d slices", n, s.Name, k, c)
				}
			}
		}
		// Ramping VUs: at every instant the slices add up to the target.
		s, _ := scenarios[3].withDefaults()
		for u := time.Duration(0); u <= 2*time.Second; u += 50 * time.Millisecond {
			level := rampingVUsLevel(2, s.Stages, u)
			var sum int64
			for i := 1; i <= n; i++ {
				sum += Segment{Index: i, Count: n}.Share(level, 3)
			}
			check("ramping level at "+u.String(), sum, level)
		}
	}
}

// A slice that would get iterations but no VU is an error naming the problem.
func TestSegmentTooThin(t *testing.T) {
	s, err := Scenario{Name: "x", Executor: SharedIterations, VUs: 1, Iterations: 10,
		Exec: func(context.Context, *VU) error { return nil }}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	_, err = newScenarioRun(&run{plan: Plan{Segment: Segment{2, 2}}}, s, 0)
	if err == nil {
		t.Fatal("want an error for a slice with iterations and no VU")
	}
}
