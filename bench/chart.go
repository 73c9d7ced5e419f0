package bench

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// chartBar is one ratio of the chart, next to its target.
type chartBar struct {
	Name   string
	Got    float64
	Target float64
	Met    bool
}

// chartBars are the ratios that have a target, in table order. Times
// and bytes have targets too, but no ratio: they are in the table only.
func (res *Results) chartBars() []chartBar {
	var bars []chartBar
	add := func(name string, t *Target) {
		if t != nil {
			if t.Op == "<=" {
				name += " (at most)"
			}
			bars = append(bars, chartBar{Name: name, Got: t.Got, Target: t.Value, Met: t.Met})
		}
	}
	if g := res.Gateway; g != nil {
		for _, r := range g.Rows {
			add(fmt.Sprintf("%s %s / mac-swap", shortPath(r.Path), r.Tunnel), r.Target)
		}
	}
	if v := res.VXLANPeer; v != nil {
		for _, r := range v.Rows {
			add("vxlan decap xtunnel / kernel", r.Target)
		}
	}
	if t := res.TCP; t != nil {
		for _, r := range t.Rows {
			add("tcp "+r.Setup+" / veth+xdp", r.TargetFair)
			add("tcp "+r.Setup+" / kernel vxlan+xdp", r.TargetKernel)
		}
	}
	if s := res.Scale; s != nil {
		for _, r := range s.Rows {
			add(fmt.Sprintf("decap cost %d peers / 1", r.Peers), r.DecapTarget)
			add(fmt.Sprintf("encap cost %d peers / 1", r.Peers), r.EncapTarget)
		}
	}
	return bars
}

func shortPath(p string) string {
	switch p {
	case "decap→forward":
		return "decap-fwd"
	case "encap→forward":
		return "encap-fwd"
	}
	return p
}

// WritePNG draws the ratios next to their targets as a horizontal grouped
// bar chart: a measured bar (green where the target is met, red where it
// is missed) and a grey target bar per figure.
func (res *Results) WritePNG(path string) error {
	bars := res.chartBars()
	if len(bars) == 0 {
		return fmt.Errorf("no figure with a target to chart")
	}
	// Bars are drawn bottom up: reverse, so the chart reads like the table.
	n := len(bars)
	got := make(plotter.Values, n)
	want := make(plotter.Values, n)
	names := make([]string, n)
	for i, b := range bars {
		j := n - 1 - i
		got[j], want[j], names[j] = b.Got, b.Target, b.Name
	}
	p := plot.New()
	p.Title.Text = "xtunnel make bench: measured ratios and their targets"
	p.X.Label.Text = "ratio (median over rounds)"
	w := vg.Points(7)
	tb, err := plotter.NewBarChart(want, w)
	if err != nil {
		return err
	}
	tb.Horizontal = true
	tb.Color = color.Gray{Y: 170}
	tb.LineStyle.Width = 0
	tb.Offset = -w / 2
	gb, err := plotter.NewBarChart(got, w)
	if err != nil {
		return err
	}
	gb.Horizontal = true
	gb.LineStyle.Width = 0
	gb.Offset = w / 2
	gb.Color = color.RGBA{R: 40, G: 150, B: 70, A: 255}
	p.Add(tb, gb)
	// Missed ones again, in red, over the green.
	missed := make(plotter.Values, n)
	anyMissed := false
	for i, b := range bars {
		if !b.Met {
			missed[n-1-i] = b.Got
			anyMissed = true
		}
	}
	if anyMissed {
		mb, err := plotter.NewBarChart(missed, w)
		if err != nil {
			return err
		}
		mb.Horizontal = true
		mb.LineStyle.Width = 0
		mb.Offset = w / 2
		mb.Color = color.RGBA{R: 200, G: 40, B: 40, A: 255}
		p.Add(mb)
		p.Legend.Add("measured, target missed", mb)
	}
	p.Legend.Add("measured, target met", gb)
	p.Legend.Add("target", tb)
	p.Legend.Top = true
	top := 0.0
	for _, b := range bars {
		top = max(top, b.Got, b.Target)
	}
	p.X.Min, p.X.Max = 0, top*1.35 // room for the legend, top right
	p.Add(plotter.NewGrid())
	p.NominalY(names...)
	return p.Save(8*vg.Inch, vg.Length(n)*0.28*vg.Inch+1.5*vg.Inch, path)
}
