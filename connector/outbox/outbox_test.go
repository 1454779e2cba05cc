package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 11, 28, 9, 0, 0, 0, time.UTC)

func rec(id, reg string, occ time.Duration, digest string) Record {
	return Record{
		ID: id, Type: "sale", RegisterID: reg, OccurredAt: t0.Add(occ), Digest: digest,
		Body: []byte(`{"id":"` + id + `"}`), Reply: []byte(`{"reply":"` + id + `"}`), AcceptedAt: t0.Add(time.Hour),
	}
}

// stores runs fn against each Store implementation.
func stores(t *testing.T, fn func(t *testing.T, s Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		fn(t, s)
	})
	t.Run("memory", func(t *testing.T) { fn(t, NewMemory()) })
}

func TestAcceptOutcomes(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		res, err := s.Accept(ctx, []Record{rec("a", "R1", 2, "d1"), rec("b", "R1", 1, "d2"), rec("a", "R1", 2, "d1"), rec("b", "R1", 1, "other")})
		if err != nil {
			t.Fatal(err)
		}
		want := []Outcome{Accepted, Accepted, Duplicate, Conflict}
		for i, r := range res {
			if r.Outcome != want[i] {
				t.Errorf("result %d: outcome %v, want %v", i, r.Outcome, want[i])
			}
		}
		if res[2].Existing == nil || string(res[2].Existing.Reply) != `{"reply":"a"}` {
			t.Errorf("duplicate does not carry the first reply: %+v", res[2].Existing)
		}
		// A later resubmission is a duplicate too.
		res, err = s.Accept(ctx, []Record{rec("a", "R1", 2, "d1")})
		if err != nil || res[0].Outcome != Duplicate {
			t.Fatalf("resubmission: %+v, %v", res, err)
		}
		got, err := s.Get(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != Pending || string(got.Body) != `{"id":"a"}` || !got.OccurredAt.Equal(t0.Add(2)) || got.RegisterID != "R1" {
			t.Errorf("get a: %+v", got)
		}
		if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("get unknown: %v", err)
		}
	})
}

func TestOpenOrderAndStates(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		// Arrival order differs from occurredAt order; equal times keep arrival order.
		if _, err := s.Accept(ctx, []Record{rec("late", "R1", 30, "x"), rec("early", "R1", 10, "x"), rec("tie1", "R2", 20, "x"), rec("tie2", "R2", 20, "x")}); err != nil {
			t.Fatal(err)
		}
		open, err := s.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range open {
			ids = append(ids, r.ID)
		}
		if fmt.Sprint(ids) != "[early tie1 tie2 late]" {
			t.Errorf("open order %v", ids)
		}
		posted := t0.Add(2 * time.Hour)
		if err := s.MarkPosted(ctx, "early", "901", posted); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRefund(ctx, "tie1", "re_1"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkDead(ctx, "tie1", "400 INVALID_CONTENT"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkPosted(ctx, "ghost", "1", posted); !errors.Is(err, ErrNotFound) {
			t.Errorf("mark unknown: %v", err)
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending != 2 || st.Posted != 1 || st.DeadLettered != 1 || !st.LastPostedAt.Equal(posted) {
			t.Errorf("stats %+v", st)
		}
		r, _ := s.Get(ctx, "tie1")
		if r.State != DeadLettered || r.Error != "400 INVALID_CONTENT" || r.RefundID != "re_1" {
			t.Errorf("dead record %+v", r)
		}
		r, _ = s.Get(ctx, "early")
		if r.State != Posted || r.NetSuiteID != "901" || !r.PostedAt.Equal(posted) {
			t.Errorf("posted record %+v", r)
		}
		open, _ = s.Open(ctx)
		if len(open) != 2 {
			t.Errorf("open after posting: %d rows", len(open))
		}
	})
}

func TestSQLiteSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(ctx, []Record{rec("a", "R1", 1, "d"), rec("b", "R1", 2, "d")}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPosted(ctx, "a", "7", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(ctx, []Record{rec("c", "R1", 3, "d")}); err == nil {
		t.Error("accept after close succeeded")
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	open, err := s.Open(ctx)
	if err != nil || len(open) != 1 || open[0].ID != "b" {
		t.Fatalf("open after reopen: %+v %v", open, err)
	}
	res, err := s.Accept(ctx, []Record{rec("a", "R1", 1, "d")})
	if err != nil || res[0].Outcome != Duplicate || res[0].Existing.State != Posted {
		t.Fatalf("resubmit after reopen: %+v %v", res, err)
	}
}

// Concurrent writers are group-committed; every one is answered and stored once.
func TestSQLiteConcurrentAccepts(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const writers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Every id is submitted by two writers.
				id := fmt.Sprintf("tx-%d", (w/2)*each+i)
				if _, err := s.Accept(ctx, []Record{rec(id, "R", time.Duration(i), "d")}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != writers/2*each {
		t.Errorf("pending %d, want %d", st.Pending, writers/2*each)
	}
}

// Every connection of the durable outbox is in WAL mode with synchronous=FULL: a
// commit, hence a 202, is on disk.
func TestSQLiteIsWALAndSynchronousFull(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// Hold several connections at once so that each pooled one is asked.
	var conns []*sql.Conn
	for range 4 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		var sync int
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("connection %d: journal_mode %q (%v)", i, mode, err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != syncFull {
			t.Errorf("connection %d: synchronous %d (%v), want FULL", i, sync, err)
		}
		c.Close()
	}
}

// A batch is stored in one SQLite transaction: when one of its records cannot be
// stored, none of them is.
func TestSQLiteBatchIsAtomic(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	bad := rec("b", "R1", 2, "d")
	bad.Body = nil // violates body NOT NULL
	if _, err := s.Accept(ctx, []Record{rec("a", "R1", 1, "d"), bad, rec("c", "R1", 3, "d")}); err == nil {
		t.Fatal("a batch with an unstorable record was accepted")
	}
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of the failed batch is stored (%v)", id, err)
		}
	}
	// A failed batch does not take a concurrent neighbour of the same group commit down.
	if res, err := s.Accept(ctx, []Record{rec("a", "R1", 1, "d")}); err != nil || res[0].Outcome != Accepted {
		t.Fatalf("accept after a failed batch: %+v %v", res, err)
	}
}
