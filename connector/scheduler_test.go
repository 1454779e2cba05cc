package connector

import (
	"context"
	"testing"
	"time"
)

func nextWithin(t *testing.T, s *scheduler, d time.Duration) *job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	j, err := s.next(ctx)
	if err != nil {
		return nil
	}
	return j
}

// A return whose sale is open waits for it with no deadline, and goes as soon as the
// sale is finished.
func TestSchedulerParksUntilTheOriginalFinishes(t *testing.T) {
	s := newScheduler(time.Now)
	t0 := time.Now()
	s.add(&job{id: "R", register: "B", original: "S", occurred: t0, accepted: t0.Add(-time.Hour)})
	s.add(&job{id: "X", register: "A", occurred: t0.Add(-2 * time.Minute), accepted: t0})
	s.add(&job{id: "S", register: "A", occurred: t0.Add(-time.Minute), accepted: t0})
	var got []string
	x := nextWithin(t, s, time.Second)
	if x == nil || x.id != "X" {
		t.Fatalf("first handed out %+v, want X", x)
	}
	got = append(got, x.id)
	if j := nextWithin(t, s, 50*time.Millisecond); j != nil {
		t.Fatalf("%s handed out while X is in flight and R waits for S", j.id)
	}
	s.finish(x)
	sale := nextWithin(t, s, time.Second)
	if sale == nil || sale.id != "S" {
		t.Fatalf("then %+v, want S", sale)
	}
	if j := nextWithin(t, s, 50*time.Millisecond); j != nil {
		t.Fatalf("%s handed out while its sale is in flight", j.id)
	}
	s.retry(sale, time.Now()) // a failed attempt: still open, R still waits
	if sale = nextWithin(t, s, time.Second); sale == nil || sale.id != "S" {
		t.Fatalf("after a retry %+v, want S again", sale)
	}
	s.finish(sale)
	r := nextWithin(t, s, time.Second)
	if r == nil || r.id != "R" || r.forced {
		t.Fatalf("after the sale %+v, want R, not forced", r)
	}
}

// Heads that wait on each other's later transactions (register clocks far apart) are
// a cycle: one of them is handed out, marked forced, instead of waiting for ever.
func TestSchedulerBreaksWaitCycles(t *testing.T) {
	t0 := time.Now()
	t.Run("two registers", func(t *testing.T) {
		s := newScheduler(time.Now)
		s.add(&job{id: "R1", register: "A", original: "S2", occurred: t0, accepted: t0})
		s.add(&job{id: "S1", register: "A", occurred: t0.Add(2 * time.Minute), accepted: t0})
		s.add(&job{id: "R2", register: "B", original: "S1", occurred: t0.Add(time.Minute), accepted: t0})
		s.add(&job{id: "S2", register: "B", occurred: t0.Add(3 * time.Minute), accepted: t0})
		j := nextWithin(t, s, time.Second)
		if j == nil || !j.forced || (j.id != "R1" && j.id != "R2") {
			t.Fatalf("handed out %+v, want a forced return", j)
		}
	})
	t.Run("one register", func(t *testing.T) {
		s := newScheduler(time.Now)
		s.add(&job{id: "R", register: "A", original: "S", occurred: t0, accepted: t0})
		s.add(&job{id: "S", register: "A", occurred: t0.Add(time.Minute), accepted: t0})
		if j := nextWithin(t, s, time.Second); j == nil || j.id != "R" || !j.forced {
			t.Fatalf("handed out %+v, want R forced", j)
		}
	})
}
