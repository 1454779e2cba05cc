package outbox

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Memory is a volatile outbox: everything in it is lost when the process dies. It
// exists for the memory-outbox bug switch, which re-creates a connector that answers
// "accepted" for work it has not made durable.
type Memory struct {
	mu   sync.Mutex
	seq  int64
	recs map[string]*Record
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty volatile outbox.
func NewMemory() *Memory { return &Memory{recs: make(map[string]*Record)} }

// Accept implements Store.
func (m *Memory) Accept(ctx context.Context, recs []Record) ([]Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Result, len(recs))
	for i, r := range recs {
		if ex, ok := m.recs[r.ID]; ok {
			cp := *ex
			cp.Body = nil
			o := Duplicate
			if ex.Digest != r.Digest {
				o = Conflict
			}
			out[i] = Result{Outcome: o, Existing: &cp}
			continue
		}
		m.seq++
		r.Seq = m.seq
		r.State = Pending
		r.Error, r.NetSuiteID, r.RefundID, r.PostedAt = "", "", "", time.Time{}
		m.recs[r.ID] = &r
		out[i] = Result{Outcome: Accepted}
	}
	return out, nil
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, id string) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	if !ok {
		return Record{}, ErrNotFound
	}
	return *r, nil
}

// Open implements Store.
func (m *Memory) Open(ctx context.Context) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, r := range m.recs {
		if r.State == Pending {
			cp := *r
			cp.Body = nil
			out = append(out, cp)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].OccurredAt.Equal(out[j].OccurredAt) {
			return out[i].OccurredAt.Before(out[j].OccurredAt)
		}
		return out[i].Seq < out[j].Seq
	})
	return out, nil
}

// Stats implements Store.
func (m *Memory) Stats(ctx context.Context) (Stats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var st Stats
	for _, r := range m.recs {
		switch r.State {
		case Pending:
			st.Pending++
		case Posted:
			st.Posted++
			if r.PostedAt.After(st.LastPostedAt) {
				st.LastPostedAt = r.PostedAt
			}
		case DeadLettered:
			st.DeadLettered++
		}
	}
	return st, nil
}

func (m *Memory) update(id string, fn func(r *Record)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	if !ok {
		return fmt.Errorf("update %s: %w", id, ErrNotFound)
	}
	fn(r)
	return nil
}

// SetRefund implements Store.
func (m *Memory) SetRefund(ctx context.Context, id, refundID string) error {
	return m.update(id, func(r *Record) { r.RefundID = refundID })
}

// MarkPosted implements Store.
func (m *Memory) MarkPosted(ctx context.Context, id, netsuiteID string, at time.Time) error {
	return m.update(id, func(r *Record) {
		r.State, r.NetSuiteID, r.PostedAt, r.Error = Posted, netsuiteID, at.UTC(), ""
	})
}

// MarkDead implements Store.
func (m *Memory) MarkDead(ctx context.Context, id, reason string) error {
	return m.update(id, func(r *Record) { r.State, r.Error = DeadLettered, reason })
}

// Close implements Store; the contents are gone.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = make(map[string]*Record)
	return nil
}
