package loadgen

import (
	"fmt"
	"strconv"
	"strings"
)

// Segment selects the Index-th (1-based) of Count equal slices of a plan's work, for a run
// spread over Count processes (--segment i/n). The zero Segment is the whole plan.
//
// Work is striped: of the units (VUs, iterations, arrivals) numbered 0, 1, 2, … of a
// scenario, the slice i of n owns unit j when (j + offset) mod n == i-1, where offset is the
// scenario's position in the plan (so that many one-VU scenarios do not all land on slice
// 1). The n slices of any count therefore add up exactly to it, at every instant of a ramp,
// and the arrivals of an arrival-rate scenario keep their spacing in every slice.
type Segment struct {
	Index int `json:"index"` // 1..Count
	Count int `json:"count"`
}

// ParseSegment parses "i/n" with 1 <= i <= n. The empty string is the whole plan.
func ParseSegment(s string) (Segment, error) {
	if strings.TrimSpace(s) == "" {
		return Segment{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return Segment{}, fmt.Errorf("segment %q: want i/n, for example 1/4", s)
	}
	i, err := strconv.Atoi(strings.TrimSpace(a))
	if err != nil {
		return Segment{}, fmt.Errorf("segment %q: index %q is not an integer", s, a)
	}
	n, err := strconv.Atoi(strings.TrimSpace(b))
	if err != nil {
		return Segment{}, fmt.Errorf("segment %q: count %q is not an integer", s, b)
	}
	if n < 1 || n > 1_000_000 {
		return Segment{}, fmt.Errorf("segment %q: count must be between 1 and 1000000", s)
	}
	if i < 1 || i > n {
		return Segment{}, fmt.Errorf("segment %q: index must be between 1 and %d", s, n)
	}
	return Segment{Index: i, Count: n}, nil
}

// String is "i/n" ("1/1" for the whole plan).
func (s Segment) String() string {
	s = s.norm()
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Whole reports whether s is the whole plan.
func (s Segment) Whole() bool { return s.norm().Count == 1 }

func (s Segment) norm() Segment {
	if s.Count <= 0 {
		return Segment{Index: 1, Count: 1}
	}
	return s
}

func (s Segment) validate() error {
	if s.Count == 0 && s.Index == 0 {
		return nil
	}
	if s.Count < 1 || s.Index < 1 || s.Index > s.Count {
		return fmt.Errorf("segment %d/%d: want 1 <= index <= count", s.Index, s.Count)
	}
	return nil
}

// Owns reports whether unit j (0-based) of a scenario at plan position offset is in s.
func (s Segment) Owns(j int64, offset int) bool {
	s = s.norm()
	n := int64(s.Count)
	return (j+int64(offset))%n == int64(s.Index-1)
}

// Share returns how many of units 0..total-1 of a scenario at plan position offset are in
// s. Summed over the Count slices it is exactly total.
func (s Segment) Share(total int64, offset int) int64 {
	s = s.norm()
	if total <= 0 {
		return 0
	}
	n := int64(s.Count)
	// The slice owns j when j ≡ r (mod n), r = (Index-1-offset) mod n.
	r := (int64(s.Index-1) - int64(offset)%n + n) % n
	if r >= total {
		return 0
	}
	return (total-1-r)/n + 1
}
