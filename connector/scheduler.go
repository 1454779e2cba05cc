package connector

import (
	"container/heap"
	"context"
	"slices"
	"sort"
	"sync"
	"time"
)

// job is an open (pending or in-flight) transaction as the scheduler sees it.
type job struct {
	id         string
	register   string
	original   string // the sale a return or exchange depends on
	occurred   time.Time
	seq        int64
	accepted   time.Time
	attempts   int          // failed attempts so far (this process)
	stock      []stockDelta // what accepting it did to the local stock view
	authErrors int
	// forced: handed out while its original is still open, to break a wait cycle.
	forced bool
}

// regQueue is one register's open transactions in posting order.
type regQueue struct {
	name      string
	jobs      []*job // (occurred, seq) order; when busy, jobs[0] is the one being posted
	busy      bool
	notBefore time.Time // backoff of the head
	gen       uint64    // heap entries of another generation are stale
}

type entry struct {
	at  time.Time
	reg *regQueue
	gen uint64
}

type entryHeap []entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h entryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *entryHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// scheduler hands out one transaction per register at a time, in occurredAt order, to
// whichever worker asks; a register's next transaction waits until the previous one is
// posted or dead-lettered. A transaction whose original is still open (pending or in
// flight here) waits for it to be posted or dead-lettered, however long that takes —
// NetSuite would refuse a refund of a sale it does not have yet — unless the wait would
// be a cycle (registers whose heads wait on each other's later transactions, possible
// only with register clocks far apart), which is broken by handing the head out.
// Different registers run in parallel.
type scheduler struct {
	mu       sync.Mutex
	now      func() time.Time
	regs     map[string]*regQueue
	open     map[string]*job
	heap     entryHeap
	waiters  map[string][]*regQueue // original id → registers whose head waits for it
	inFlight int
	changed  chan struct{} // closed (and replaced) whenever the heap changes
	idle     chan struct{} // signalled when the last open transaction finishes
}

func newScheduler(now func() time.Time) *scheduler {
	return &scheduler{
		now:  now,
		regs: map[string]*regQueue{}, open: map[string]*job{}, waiters: map[string][]*regQueue{},
		changed: make(chan struct{}), idle: make(chan struct{}, 1),
	}
}

// less orders jobs for posting within a register.
func less(a, b *job) bool {
	if !a.occurred.Equal(b.occurred) {
		return a.occurred.Before(b.occurred)
	}
	return a.seq < b.seq
}

// schedule (mu held) puts reg on the heap at time at (not before its backoff).
func (s *scheduler) schedule(reg *regQueue, at time.Time) {
	if at.Before(reg.notBefore) {
		at = reg.notBefore
	}
	reg.gen++
	heap.Push(&s.heap, entry{at: at, reg: reg, gen: reg.gen})
	close(s.changed)
	s.changed = make(chan struct{})
}

// add queues an accepted transaction. Adding an id that is already open does nothing.
func (s *scheduler) add(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.open[j.id]; ok {
		return
	}
	s.open[j.id] = j
	reg := s.regs[j.register]
	if reg == nil {
		reg = &regQueue{name: j.register}
		s.regs[j.register] = reg
	}
	i := sort.Search(len(reg.jobs), func(i int) bool { return less(j, reg.jobs[i]) })
	if reg.busy && i == 0 {
		i = 1 // never ahead of the one being posted
	}
	reg.jobs = append(reg.jobs, nil)
	copy(reg.jobs[i+1:], reg.jobs[i:])
	reg.jobs[i] = j
	if !reg.busy {
		s.schedule(reg, s.now())
	}
}

// isOpen reports whether id is pending or in flight.
func (s *scheduler) isOpen(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.open[id]
	return ok
}

// next blocks until a transaction may be posted and hands it out.
func (s *scheduler) next(ctx context.Context) (*job, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.mu.Lock()
		var wait time.Duration = -1
		for s.heap.Len() > 0 {
			top := s.heap[0]
			if top.gen != top.reg.gen || top.reg.busy || len(top.reg.jobs) == 0 {
				heap.Pop(&s.heap)
				continue
			}
			now := s.now()
			if top.at.After(now) {
				wait = top.at.Sub(now)
				break
			}
			heap.Pop(&s.heap)
			reg := top.reg
			head := reg.jobs[0]
			head.forced = false
			if orig, waiting := s.open[head.original]; waiting && head.original != head.id {
				if !s.cycle(reg, orig) {
					// Parked until the original finishes (finish reschedules the register).
					if !slices.Contains(s.waiters[head.original], reg) {
						s.waiters[head.original] = append(s.waiters[head.original], reg)
					}
					reg.gen++
					continue
				}
				head.forced = true
			}
			reg.busy = true
			s.inFlight++
			s.mu.Unlock()
			return head, nil
		}
		changed := s.changed
		s.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil, ctx.Err()
		case <-changed:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// cycle (mu held) reports whether reg's head waiting for the open transaction o would
// wait, through the heads of other registers, for reg itself. It follows what blocks o:
// the head of o's register, and that head's own original, and so on.
func (s *scheduler) cycle(reg *regQueue, o *job) bool {
	for range len(s.regs) + 1 {
		r := s.regs[o.register]
		switch {
		case r == nil || len(r.jobs) == 0:
			return false
		case r == reg:
			return true // o is behind reg's head
		case r.busy || r.jobs[0] == o:
			return false // o's register is making progress, or o is next
		}
		h := r.jobs[0]
		next, ok := s.open[h.original]
		if !ok || h.original == h.id {
			return false // that head does not wait: it will be posted
		}
		o = next
	}
	return false
}

// finish ends a handed-out transaction for good (posted or dead-lettered).
func (s *scheduler) finish(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg := s.regs[j.register]
	delete(s.open, j.id)
	if reg.busy && len(reg.jobs) > 0 && reg.jobs[0] == j {
		reg.busy = false
		s.inFlight--
		reg.jobs = reg.jobs[1:]
	}
	reg.notBefore = time.Time{}
	now := s.now()
	if len(reg.jobs) > 0 {
		s.schedule(reg, now)
	} else {
		delete(s.regs, j.register)
	}
	for _, w := range s.waiters[j.id] {
		if !w.busy && len(w.jobs) > 0 {
			s.schedule(w, now)
		}
	}
	delete(s.waiters, j.id)
	if len(s.open) == 0 {
		select {
		case s.idle <- struct{}{}:
		default:
		}
	}
}

// retry gives a handed-out transaction back, to be tried again at (not before) at.
func (s *scheduler) retry(j *job, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg := s.regs[j.register]
	if reg.busy && len(reg.jobs) > 0 && reg.jobs[0] == j {
		reg.busy = false
		s.inFlight--
	}
	reg.notBefore = at
	s.schedule(reg, at)
}

// counts returns the open and in-flight numbers.
func (s *scheduler) counts() (open, inFlight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open), s.inFlight
}

// openJobs returns the open transactions (for re-applying local stock deltas).
func (s *scheduler) openStock() []stockDelta {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stockDelta
	for _, j := range s.open {
		out = append(out, j.stock...)
	}
	return out
}

// inFlightNow reports whether id is being posted right now.
func (s *scheduler) inFlightNow(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.open[id]
	if j == nil {
		return false
	}
	reg := s.regs[j.register]
	return reg != nil && reg.busy && len(reg.jobs) > 0 && reg.jobs[0] == j
}
