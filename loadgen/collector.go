package loadgen

import (
	"math"
	"slices"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: values are stored ×1000 (time Trends in µs, other Trends in
// thousandths), from 1 to 3.6e9 (1 µs to 1 h), 3 significant digits.
const (
	histScale   = 1000.0
	histLowest  = 1
	histHighest = 3_600_000_000
	histDigits  = 3
)

func newPacked() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(histLowest, histHighest, histDigits)
}

func newDense() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// histValue converts a sample to its histogram value, clamped to the geometry.
func histValue(v float64) int64 {
	x := math.Round(v * histScale)
	switch {
	case x < 0 || math.IsNaN(x):
		return 0
	case x > histHighest:
		return histHighest
	}
	return int64(x)
}

// sample is one measurement; t is nanoseconds since the start of the run.
type sample struct {
	m    *Metric
	tags *TagSet
	v    float64
	t    int64
}

// batchPool recycles sample buffers between VUs and the collector.
type batchPool struct{ p sync.Pool }

const batchCap = 128

func (b *batchPool) get() []sample {
	if s, ok := b.p.Get().(*[]sample); ok {
		return (*s)[:0]
	}
	return make([]sample, 0, batchCap)
}

func (b *batchPool) put(s []sample) {
	clear(s) // drop references
	s = s[:0]
	b.p.Put(&s)
}

// series is the aggregate of one (metric, tag set).
type series struct {
	m    *Metric
	tags *TagSet
	next *series // hash collision chain

	count   int64
	sum     float64
	min     float64
	max     float64
	last    float64
	lastT   int64
	nonZero int64
	hist    *hdrhistogram.PackedHistogram // Trends only
}

func (s *series) add(v float64, t int64) {
	if s.count == 0 || v < s.min {
		s.min = v
	}
	if s.count == 0 || v > s.max {
		s.max = v
	}
	s.count++
	s.sum += v
	if t >= s.lastT {
		s.last, s.lastT = v, t
	}
	if v != 0 {
		s.nonZero++
	}
	if s.hist != nil {
		_ = s.hist.RecordValue(histValue(v)) // clamped into range: cannot fail
	}
}

// openSecond is a second of a timeline still accepting samples.
type openSecond struct {
	sec   int64
	used  bool
	p     Point
	lastT int64
	hist  *hdrhistogram.Histogram
}

// timeline is a metric's per-second series. Three seconds stay open for samples that
// arrive late (VUs flush their buffers at the end of each iteration); a sample for an
// older second still counts in its point's count, sum, min and max, not its percentiles.
type timeline struct {
	trend  bool
	points []Point
	open   [3]openSecond
}

func (tl *timeline) add(v float64, t int64) {
	sec := t / int64(time.Second)
	if sec < 0 {
		sec = 0
	}
	slot := &tl.open[sec%int64(len(tl.open))]
	if slot.used && slot.sec != sec {
		if slot.sec > sec { // late: the second was closed
			tl.addLate(sec, v)
			return
		}
		tl.close(slot)
	}
	if !slot.used {
		slot.used, slot.sec = true, sec
		slot.p = Point{Second: sec, Min: v, Max: v}
		slot.lastT = -1
	}
	p := &slot.p
	p.Count++
	p.Sum += v
	p.Min = min(p.Min, v)
	p.Max = max(p.Max, v)
	if t >= slot.lastT {
		p.Last, slot.lastT = v, t
	}
	if tl.trend {
		if slot.hist == nil {
			slot.hist = newDense()
		}
		_ = slot.hist.RecordValue(histValue(v))
	}
}

// closeBefore closes the open seconds before sec.
func (tl *timeline) closeBefore(sec int64) {
	for i := range tl.open {
		if s := &tl.open[i]; s.used && s.sec < sec {
			tl.close(s)
		}
	}
}

func (tl *timeline) close(s *openSecond) {
	if s.hist != nil && s.hist.TotalCount() > 0 {
		q := s.hist.ValueAtPercentilesSlice([]float64{50, 90, 95, 99})
		clamp := func(x int64) float64 { return math.Min(math.Max(float64(x)/histScale, s.p.Min), s.p.Max) }
		s.p.P50, s.p.P90, s.p.P95, s.p.P99 = clamp(q[0]), clamp(q[1]), clamp(q[2]), clamp(q[3])
		s.hist.Reset()
	}
	tl.insert(s.p)
	s.used = false
}

func (tl *timeline) insert(p Point) {
	i, found := slices.BinarySearchFunc(tl.points, p.Second, func(x Point, sec int64) int {
		switch {
		case x.Second < sec:
			return -1
		case x.Second > sec:
			return 1
		}
		return 0
	})
	if found {
		mergePoint(&tl.points[i], p)
		return
	}
	tl.points = slices.Insert(tl.points, i, p)
}

func (tl *timeline) addLate(sec int64, v float64) {
	tl.insert(Point{Second: sec, Count: 1, Sum: v, Min: v, Max: v, Last: v})
}

// mergePoint adds b into a. Percentiles are combined as count-weighted means: exact
// per-second percentiles are not kept (only the run's totals are exact).
func mergePoint(a *Point, b Point) {
	if b.Count == 0 {
		return
	}
	if a.Count == 0 {
		*a = b
		return
	}
	n := float64(a.Count + b.Count)
	wa, wb := float64(a.Count)/n, float64(b.Count)/n
	if b.P50 != 0 || a.P50 != 0 {
		a.P50 = a.P50*wa + b.P50*wb
		a.P90 = a.P90*wa + b.P90*wb
		a.P95 = a.P95*wa + b.P95*wb
		a.P99 = a.P99*wa + b.P99*wb
	}
	a.Count += b.Count
	a.Sum += b.Sum
	a.Min = min(a.Min, b.Min)
	a.Max = max(a.Max, b.Max)
	a.Last = b.Last
}

// collector owns every series and timeline of a run; only its goroutine touches them.
// VUs send it batches on in (never closed); finish makes it drain in and return.
type collector struct {
	in      chan []sample
	pool    *batchPool
	series  map[uint64]*series
	nseries int
	lines   map[*Metric]*timeline
	// requests run a function on the collector's goroutine (threshold evaluation, ticks).
	requests chan func(*collector)
	// maxSeries bounds the series: beyond it, samples with new tag sets go to one series
	// per metric and scenario tagged overflow:true, so a high-cardinality tag (an id in a
	// URL path) cannot exhaust memory.
	maxSeries  int
	overflow   map[string]*TagSet
	overflowed bool
	finish     chan struct{}
	done       chan struct{}
}

func newCollector(pool *batchPool) *collector {
	return &collector{
		in:        make(chan []sample, 1024),
		pool:      pool,
		series:    map[uint64]*series{},
		lines:     map[*Metric]*timeline{},
		requests:  make(chan func(*collector)),
		maxSeries: DefaultMaxSeries,
		overflow:  map[string]*TagSet{},
		finish:    make(chan struct{}),
		done:      make(chan struct{}),
	}
}

// loop runs until finish is closed, then drains what was already sent.
func (c *collector) loop() {
	defer close(c.done)
	for {
		select {
		case b := <-c.in:
			c.addBatch(b)
		case f := <-c.requests:
			f(c)
		case <-c.finish:
			for {
				select {
				case b := <-c.in:
					c.addBatch(b)
				default:
					return
				}
			}
		}
	}
}

// send hands a batch to the collector; after it is done the batch is dropped.
func (c *collector) send(b []sample) {
	select {
	case c.in <- b:
	case <-c.done:
	}
}

// do runs f on the collector goroutine and waits for it; false if the collector is done.
func (c *collector) do(f func(*collector)) bool {
	ran := make(chan struct{})
	select {
	case c.requests <- func(c *collector) { f(c); close(ran) }:
		<-ran
		return true
	case <-c.done:
		return false
	}
}

func (c *collector) addBatch(b []sample) {
	for i := range b {
		c.add(&b[i])
	}
	c.pool.put(b)
}

func (c *collector) add(s *sample) {
	key := s.tags.hash ^ (uint64(s.m.id+1) * 0x9E3779B97F4A7C15)
	sr := c.series[key]
	for sr != nil && (sr.m != s.m || !sameTags(sr.tags, s.tags)) {
		sr = sr.next
	}
	if sr == nil && c.nseries >= c.maxSeries {
		c.overflowed = true
		sc, _ := s.tags.Get("scenario")
		ot := c.overflow[sc]
		if ot == nil {
			tags := []Tag{{Key: "overflow", Value: "true"}}
			if sc != "" {
				tags = append(tags, Tag{Key: "scenario", Value: sc})
			}
			ot = NewTagSet(tags...)
			c.overflow[sc] = ot
		}
		s = &sample{m: s.m, tags: ot, v: s.v, t: s.t}
		key = s.tags.hash ^ (uint64(s.m.id+1) * 0x9E3779B97F4A7C15)
		sr = c.series[key]
		for sr != nil && (sr.m != s.m || !sameTags(sr.tags, s.tags)) {
			sr = sr.next
		}
	}
	if sr == nil {
		sr = &series{m: s.m, tags: s.tags, next: c.series[key]}
		if s.m.Type == Trend {
			sr.hist = newPacked()
		}
		c.series[key] = sr
		c.nseries++
	}
	sr.add(s.v, s.t)
	tl := c.lines[s.m]
	if tl == nil {
		tl = &timeline{trend: s.m.Type == Trend}
		c.lines[s.m] = tl
	}
	tl.add(s.v, s.t)
}

func sameTags(a, b *TagSet) bool {
	if a == b {
		return true
	}
	if a.Len() != b.Len() || a.hash != b.hash {
		return false
	}
	for i := range a.tags {
		if a.tags[i] != b.tags[i] {
			return false
		}
	}
	return true
}

// tick closes the seconds of every timeline older than now-2s.
func (c *collector) tick(now int64) {
	sec := now/int64(time.Second) - 2
	for _, tl := range c.lines {
		tl.closeBefore(sec)
	}
}

// all returns every series (unordered).
func (c *collector) all() []*series {
	out := make([]*series, 0, c.nseries)
	for _, s := range c.series {
		for ; s != nil; s = s.next {
			out = append(out, s)
		}
	}
	return out
}
