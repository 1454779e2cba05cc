package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/doorbuster/doorbuster/invariants"
	"github.com/doorbuster/doorbuster/loadgen"
)

// Chart is one chart of report.html: an inline SVG document.
type Chart struct {
	ID    string // throughput | latency | vus | backlog | sync-latency
	Title string
	// Empty: there was no data; the SVG says so.
	Empty bool
	SVG   template.HTML
}

const (
	chartWidth  = 760 * vg.Length(1)
	chartHeight = 250 * vg.Length(1)
	// maxSyncBuckets bounds the sync latency chart's points however long the run.
	maxSyncBuckets = 600
)

// line is one named series of a chart: x in seconds from the start of the traffic.
type line struct {
	name string
	xys  plotter.XYs
}

// timeline is the common time base of a report's charts.
type timeline struct {
	t0   time.Time
	xMax float64 // seconds
	// faults are the fault windows in seconds from t0.
	faults []shade
}

type shade struct {
	rule   string
	x0, x1 float64
}

// Charts draws report.html's charts from the input: throughput, latency percentiles,
// VUs, connector backlog and sync latency over time, fault windows shaded. A chart
// without data says "no data".
func Charts(in *Input, s *Summary) ([]Chart, error) {
	tl := newTimeline(in, s)
	specs := []struct {
		id, title, yLabel string
		lines             []line
	}{
		{"throughput", "Throughput", "per second", throughputLines(in.Result)},
		{"latency", latencyTitle(in.Result), "ms", latencyLines(in.Result)},
		{"vus", "Virtual users", "VUs", vuLines(in.Result)},
		{"backlog", "Connector backlog", "transactions", backlogLines(in, tl)},
		{"sync-latency", "Sync latency (NetSuite created − POS acknowledged)", "ms", syncLines(in.SyncSamples, tl)},
	}
	out := make([]Chart, 0, len(specs))
	for _, sp := range specs {
		svg, empty, err := drawChart(sp.title, sp.yLabel, sp.lines, tl)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", sp.id, err)
		}
		out = append(out, Chart{ID: sp.id, Title: sp.title, Empty: empty, SVG: svg})
	}
	return out, nil
}

func newTimeline(in *Input, s *Summary) timeline {
	var tl timeline
	switch {
	case in.Result != nil:
		tl.t0 = in.Result.Start
		tl.xMax = in.Result.Duration.Seconds()
	case in.Run != nil && in.Run.TrafficStartedAt != nil:
		tl.t0 = *in.Run.TrafficStartedAt
	case in.Run != nil:
		tl.t0 = in.Run.StartedAt
	case len(in.Backlog) > 0:
		tl.t0 = in.Backlog[0].Time
	}
	extend := func(t time.Time) {
		if !t.IsZero() {
			tl.xMax = math.Max(tl.xMax, t.Sub(tl.t0).Seconds())
		}
	}
	if n := len(in.Backlog); n > 0 {
		extend(in.Backlog[n-1].Time)
	}
	if n := len(in.SyncSamples); n > 0 {
		extend(in.SyncSamples[n-1].AckedAt)
	}
	if s.Faults != nil {
		for _, w := range s.Faults.Windows {
			x0, x1 := w.Start.Sub(tl.t0).Seconds(), w.End.Sub(tl.t0).Seconds()
			if x1 <= 0 {
				continue // before the traffic
			}
			tl.faults = append(tl.faults, shade{rule: w.Target + "/" + w.Rule, x0: math.Max(x0, 0), x1: x1})
			tl.xMax = math.Max(tl.xMax, x1)
		}
	}
	if in.Result != nil {
		for _, pts := range in.Result.TimeSeries {
			if n := len(pts); n > 0 {
				tl.xMax = math.Max(tl.xMax, float64(pts[n-1].Second+1))
			}
		}
	}
	return tl
}

// counterLine is a Counter's per-second totals, zero-filled between its first and last
// second.
func counterLine(name, label string, res *loadgen.Result) line {
	l := line{name: label}
	pts := res.TimeSeries[name]
	if len(pts) == 0 {
		return l
	}
	by := map[int64]float64{}
	for _, p := range pts {
		by[p.Second] += p.Sum
	}
	for sec := pts[0].Second; sec <= pts[len(pts)-1].Second; sec++ {
		l.xys = append(l.xys, plotter.XY{X: float64(sec), Y: by[sec]})
	}
	return l
}

func throughputLines(res *loadgen.Result) []line {
	if res == nil {
		return nil
	}
	out := []line{counterLine(loadgen.MetricIterations, "iterations/s", res), counterLine("http_reqs", "http_reqs/s", res)}
	if len(res.TimeSeries["pos_transactions"]) > 0 {
		out = append(out, counterLine("pos_transactions", "pos_transactions/s", res))
	}
	return out
}

// latencyMetric is the Trend the latency chart shows: the checkout duration when the
// run has it, else the HTTP request duration.
func latencyMetric(res *loadgen.Result) string {
	if res != nil && len(res.TimeSeries["pos_checkout_duration"]) > 0 {
		return "pos_checkout_duration"
	}
	return "http_req_duration"
}

func latencyTitle(res *loadgen.Result) string {
	return "Latency percentiles (" + latencyMetric(res) + ")"
}

func latencyLines(res *loadgen.Result) []line {
	if res == nil {
		return nil
	}
	pts := res.TimeSeries[latencyMetric(res)]
	p50, p95, p99 := line{name: "p50"}, line{name: "p95"}, line{name: "p99"}
	for _, p := range pts {
		if p.Count == 0 {
			continue
		}
		x := float64(p.Second)
		p50.xys = append(p50.xys, plotter.XY{X: x, Y: p.P50})
		p95.xys = append(p95.xys, plotter.XY{X: x, Y: p.P95})
		p99.xys = append(p99.xys, plotter.XY{X: x, Y: p.P99})
	}
	return []line{p50, p95, p99}
}

func gaugeLine(name string, res *loadgen.Result) line {
	l := line{name: name}
	for _, p := range res.TimeSeries[name] {
		if p.Count > 0 {
			l.xys = append(l.xys, plotter.XY{X: float64(p.Second), Y: p.Last})
		}
	}
	return l
}

func vuLines(res *loadgen.Result) []line {
	if res == nil {
		return nil
	}
	return []line{gaugeLine(loadgen.MetricVUs, res), gaugeLine("vus_max", res)}
}

// backlogLines are backlog.json's readings, or the connector_backlog Gauge without it.
func backlogLines(in *Input, tl timeline) []line {
	if len(in.Backlog) > 0 {
		pending, inFlight, dead := line{name: "pending"}, line{name: "in flight"}, line{name: "dead-lettered"}
		for _, b := range in.Backlog {
			if b.Error != "" {
				continue
			}
			x := b.Time.Sub(tl.t0).Seconds()
			pending.xys = append(pending.xys, plotter.XY{X: x, Y: float64(b.Pending)})
			inFlight.xys = append(inFlight.xys, plotter.XY{X: x, Y: float64(b.InFlight)})
			dead.xys = append(dead.xys, plotter.XY{X: x, Y: float64(b.DeadLettered)})
		}
		return []line{pending, inFlight, dead}
	}
	if in.Result != nil {
		l := gaugeLine("connector_backlog", in.Result)
		l.name = "pending + in flight"
		return []line{l}
	}
	return nil
}

// syncLines are the sync latency samples in buckets of acknowledgement time (one second,
// or wider to keep at most maxSyncBuckets): p50, p95 and max per bucket.
func syncLines(samples []invariants.SyncSample, tl timeline) []line {
	if len(samples) == 0 {
		return nil
	}
	width := 1.0
	if tl.xMax > maxSyncBuckets {
		width = math.Ceil(tl.xMax / maxSyncBuckets)
	}
	buckets := map[int64][]invariants.SyncSample{}
	for _, s := range samples {
		b := int64(math.Floor(s.AckedAt.Sub(tl.t0).Seconds() / width))
		buckets[b] = append(buckets[b], s)
	}
	keys := make([]int64, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	p50, p95, mx := line{name: "p50"}, line{name: "p95"}, line{name: "max"}
	for _, k := range keys {
		st := invariants.Latencies(buckets[k])
		if st == nil {
			continue
		}
		x := float64(k) * width
		p50.xys = append(p50.xys, plotter.XY{X: x, Y: st.P50Ms})
		p95.xys = append(p95.xys, plotter.XY{X: x, Y: st.P95Ms})
		mx.xys = append(mx.xys, plotter.XY{X: x, Y: st.MaxMs})
	}
	return []line{p50, p95, mx}
}

// lineColor is the colour of a chart's i-th line.
func lineColor(i int) color.Color {
	c := [...]color.NRGBA{{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0x94, 0x67, 0xbd, 0xff}}
	return c[i%len(c)]
}

// shadeColor is the translucent colour of the i-th fault rule's windows.
func shadeColor(i int) color.Color {
	c := [...]color.NRGBA{{0xd6, 0x27, 0x28, 0x38}, {0xbc, 0xbd, 0x22, 0x48}, {0x8c, 0x56, 0x4b, 0x38},
		{0x17, 0xbe, 0xcf, 0x38}, {0xe3, 0x77, 0xc2, 0x38}}
	return c[i%len(c)]
}

// drawChart draws one chart as an SVG element (no XML prolog), ready to inline.
func drawChart(title, yLabel string, lines []line, tl timeline) (template.HTML, bool, error) {
	p := plot.New()
	sans := func(size vg.Length) font.Font {
		return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	}
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(12)
	p.Title.Padding = 6
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = sans(10)
		ax.Tick.Label.Font = sans(9)
	}
	p.Legend.TextStyle.Font = sans(9)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = 6
	p.Legend.ThumbnailWidth = 14
	p.Legend.Padding = 1

	empty := true
	for _, l := range lines {
		if len(l.xys) > 0 {
			empty = false
		}
	}
	if empty {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		p.HideAxes()
		lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: 0.5, Y: 0.5}}, Labels: []string{"no data"}})
		if err != nil {
			return "", true, err
		}
		lbl.TextStyle[0].Font = sans(14)
		lbl.TextStyle[0].Color = color.Gray{0x80}
		lbl.TextStyle[0].XAlign = draw.XCenter
		lbl.TextStyle[0].YAlign = draw.YCenter
		p.Add(lbl)
		svg, err := toSVG(p)
		return svg, true, err
	}

	p.X.Label.Text = "time since the start of the traffic"
	p.X.Tick.Marker = durationTicks{}
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	if len(tl.faults) > 0 {
		fs := &faultShades{}
		colors := map[string]color.Color{}
		for _, f := range tl.faults {
			c, ok := colors[f.rule]
			if !ok {
				c = shadeColor(len(colors))
				colors[f.rule] = c
				p.Legend.Add("fault "+f.rule, swatch{c})
			}
			fs.rects = append(fs.rects, shadeRect{x0: f.x0, x1: f.x1, c: c})
		}
		p.Add(fs)
	}
	for i, l := range lines {
		if len(l.xys) == 0 {
			continue
		}
		pl, err := plotter.NewLine(l.xys)
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", l.name, err)
		}
		pl.Color = lineColor(i)
		pl.Width = vg.Points(1.25)
		if i >= 2 { // dashed, so that a line on top of another still shows
			pl.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(pl)
		p.Legend.Add(l.name, pl)
	}
	p.X.Min = 0
	p.X.Max = math.Max(p.X.Max, tl.xMax)
	if p.X.Max <= p.X.Min {
		p.X.Max = p.X.Min + 1
	}
	p.Y.Min = math.Min(0, p.Y.Min)
	if p.Y.Max <= 0 {
		p.Y.Max = 1
	}
	p.Y.Max *= 1.3 // headroom for the legend
	svg, err := toSVG(p)
	return svg, false, err
}

func toSVG(p *plot.Plot) (template.HTML, error) {
	c := vgsvg.New(chartWidth, chartHeight)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", err
	}
	svg := buf.String()
	i := strings.Index(svg, "<svg")
	if i < 0 {
		return "", fmt.Errorf("the SVG canvas wrote no <svg> element")
	}
	return template.HTML(svg[i:]), nil // #nosec: generated by vgsvg from numbers and our labels
}

// faultShades draws fault windows as translucent rectangles the height of the plot.
type faultShades struct{ rects []shadeRect }

type shadeRect struct {
	x0, x1 float64
	c      color.Color
}

var _ plot.Plotter = (*faultShades)(nil)

// Plot implements plot.Plotter.
func (f *faultShades) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, r := range f.rects {
		x0, x1 := trX(r.x0), trX(r.x1)
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1-x0 < 1 {
			x1 = x0 + 1 // at least a hairline
		}
		c.FillPolygon(r.c, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
	}
}

// swatch is a legend thumbnail of a fault window's colour.
type swatch struct{ c color.Color }

var _ plot.Thumbnailer = swatch{}

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
}

// durationTicks marks a seconds axis at round durations (at most 8 steps) and labels
// every mark: 0s, 30s, 1m, 1m30s.
type durationTicks struct{}

var _ plot.Ticker = durationTicks{}

// Ticks implements plot.Ticker.
func (durationTicks) Ticks(lo, hi float64) []plot.Tick {
	steps := [...]float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400}
	step := steps[len(steps)-1]
	for _, st := range steps {
		if (hi-lo)/st <= 8 {
			step = st
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+1e-9 && len(ticks) < 100; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmtSeconds(v)})
	}
	return ticks
}

func fmtSeconds(v float64) string {
	if v != math.Trunc(v) {
		return trimZeros(fmt.Sprintf("%.2f", v)) + "s"
	}
	s := (time.Duration(v) * time.Second).String() // 30s, 1m0s, 1h0m0s
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
