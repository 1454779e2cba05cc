package harness

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/doorbuster/doorbuster/harness/rundir"
	"github.com/doorbuster/doorbuster/loadgen"
)

// progressSource is what the progress display shows: the engine's scenarios, and the
// connector's backlog with the injected fault count.
type progressSource struct {
	scenarios func() []loadgen.ScenarioProgress
	status    func() (rundir.BacklogSample, int64)
	phase     func() string
}

// progress is the live display of a run on stderr: mpb bars on a terminal, plain lines
// every few seconds otherwise (CI logs). Logs written through Writer appear above the
// bars instead of breaking them.
type progress struct {
	w        io.Writer
	bars     bool
	interval time.Duration
	src      progressSource

	wmu sync.Mutex // serialises writes to w in plain mode

	mu     sync.Mutex
	p      *mpb.Progress // bars mode, while running
	last   []loadgen.ScenarioProgress
	status rundir.BacklogSample
	faults int64
	phase  string
	// printed is when plain lines were last written.
	printed time.Time

	stop chan struct{}
	done chan struct{}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func newProgress(w io.Writer, bars bool, interval time.Duration, src progressSource) *progress {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	return &progress{w: w, bars: bars, interval: interval, src: src}
}

// Write writes log output: above the bars while they run, else straight through.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	mp := p.p
	p.mu.Unlock()
	if mp != nil {
		if n, err := mp.Write(b); err == nil {
			return n, nil
		}
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.w.Write(b)
}

// start begins the display for the plan's scenarios.
func (p *progress) start(names []string) {
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	if p.bars {
		p.startBars(names)
		return
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.refresh()
				p.printLines()
			}
		}
	}()
}

// finish ends the display; plain mode prints a last line. It may be called on a nil
// progress and more than once.
func (p *progress) finish() {
	if p == nil || p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.stop = nil
	if !p.bars && time.Since(p.printed) > p.interval/2 {
		p.refresh()
		p.printLines()
	}
}

// refresh takes a snapshot of the sources.
func (p *progress) refresh() {
	sc := p.src.scenarios()
	st, n := p.src.status()
	ph := p.src.phase()
	p.mu.Lock()
	if sc != nil {
		p.last = sc
	}
	p.status, p.faults, p.phase = st, n, ph
	p.mu.Unlock()
}

func (p *progress) statusLine() string {
	p.mu.Lock()
	st, n, ph := p.status, p.faults, p.phase
	p.mu.Unlock()
	s := fmt.Sprintf("%s · connector backlog %d (pending %d, in flight %d) · posted %d · dead-lettered %d · faults injected %d",
		ph, st.Backlog(), st.Pending, st.InFlight, st.Posted, st.DeadLettered, n)
	if st.Error != "" {
		s += " · status: " + st.Error
	}
	return s
}

func scenarioLine(s loadgen.ScenarioProgress) string {
	state := "running"
	switch {
	case s.Done:
		state = "done"
	case !s.Started:
		state = "waiting"
	}
	rate := fmt.Sprintf("%.1f it/s", s.Rate)
	if s.TargetRate > 0 {
		rate += fmt.Sprintf(" (target %.1f)", s.TargetRate)
	}
	return fmt.Sprintf("%s [%s] %s/%s %s · vus %d/%d · %d iterations, %d dropped, %d interrupted, %d errors",
		s.Name, state, roundDur(s.Elapsed), roundDur(s.Duration), rate, s.ActiveVUs, s.AllocatedVUs,
		s.Iterations, s.Dropped, s.Interrupted, s.Errors)
}

func roundDur(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// printLines writes the plain progress: one line per scenario and the status line.
func (p *progress) printLines() {
	p.mu.Lock()
	sc := append([]loadgen.ScenarioProgress(nil), p.last...)
	p.mu.Unlock()
	var b strings.Builder
	ts := time.Now().UTC().Format("15:04:05")
	for _, s := range sc {
		fmt.Fprintf(&b, "%s %s\n", ts, scenarioLine(s))
	}
	fmt.Fprintf(&b, "%s %s\n", ts, p.statusLine())
	p.wmu.Lock()
	io.WriteString(p.w, b.String())
	p.wmu.Unlock()
	p.printed = time.Now()
}

// startBars shows one bar per scenario (elapsed of its planned duration, rate, VUs) and
// a status line, refreshed a few times a second.
func (p *progress) startBars(names []string) {
	tty := isTerminal(p.w)
	// Not a terminal (bars forced): a wide fixed width; a terminal gives its own.
	mp := mpb.New(mpb.WithOutput(p.w), mpb.WithRefreshRate(200*time.Millisecond),
		mpb.ContainerOptional(mpb.ForceTTY(), !tty), mpb.ContainerOptional(mpb.WithAutoRefresh(), !tty),
		mpb.ContainerOptional(mpb.WithWidth(200), !tty))
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	get := func(i int) (loadgen.ScenarioProgress, bool) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if i < len(p.last) {
			return p.last[i], true
		}
		return loadgen.ScenarioProgress{}, false
	}
	bars := make([]*mpb.Bar, len(names))
	for i, name := range names {
		// Total 0: the bar completes only when told (SetTotal(-1, true)), not when current
		// first reaches the total set so far.
		bars[i] = mp.AddBar(0, mpb.BarWidth(30),
			mpb.PrependDecorators(decor.Name(name, decor.WC{W: width + 1, C: decor.DindentRight})),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				s, ok := get(i)
				if !ok {
					return ""
				}
				rate := fmt.Sprintf("%.1f/s", s.Rate)
				if s.TargetRate > 0 {
					rate = fmt.Sprintf("%.1f/%.0f it/s", s.Rate, s.TargetRate)
				}
				return fmt.Sprintf(" %s/%s  %s  vus %d/%d  it %d  dropped %d",
					roundDur(s.Elapsed), roundDur(s.Duration), rate, s.ActiveVUs, s.AllocatedVUs, s.Iterations, s.Dropped)
			})),
		)
	}
	statusBar := mp.New(0, mpb.NopStyle(), mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
		return p.statusLine()
	})))
	p.mu.Lock()
	p.p = mp
	p.mu.Unlock()
	go func() {
		defer close(p.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			p.refresh()
			for i, b := range bars {
				s, ok := get(i)
				if !ok || b.Completed() {
					continue
				}
				total := max(s.Duration.Milliseconds(), 1)
				b.SetTotal(total, false)
				b.SetCurrent(min(s.Elapsed.Milliseconds(), total))
				if s.Done {
					b.SetTotal(-1, true)
				}
			}
			select {
			case <-p.stop:
				for _, b := range bars {
					if !b.Completed() {
						b.SetTotal(-1, true)
					}
				}
				statusBar.SetTotal(-1, true)
				p.mu.Lock()
				p.p = nil
				p.mu.Unlock()
				mp.Wait()
				return
			case <-t.C:
			}
		}
	}()
}
