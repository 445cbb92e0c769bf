package ui

import (
	"math"
	"strconv"
	"strings"

	"github.com/augurhq/augur/internal/web/kernel"
)

// lineChart is a small server-rendered SVG line chart: coordinates in the
// viewBox, and the labels the page shows beside them.
type lineChart struct {
	Width, Height float64
	// Left, Right, Top and Bottom bound the plotting area.
	Left, Right, Top, Bottom float64
	// Line is the polyline's points attribute.
	Line   string
	Points []chartPoint
	YTicks []chartTick
	XTicks []chartTick
}

// chartPoint is one point, with its tooltip.
type chartPoint struct {
	X, Y  float64
	Title string
}

// chartTick is one labelled grid line; Anchor is its label's
// text-anchor, for the X axis, whose end labels must not overhang.
type chartTick struct {
	At     float64
	Label  string
	Anchor string
}

// valueChart draws the value history, or nil with fewer than two days.
// Pixel positions are floats; every label is the decimal itself.
func valueChart(history []valuePoint) *lineChart {
	if len(history) < 2 {
		return nil
	}
	// As wide as a desktop card, at a third of its width high; the style
	// sheet sizes its text in these units for the width it is shown at
	// (app.css, .value-chart), with room at the left and below for text
	// grown on a phone.
	ch := &lineChart{Width: 720, Height: 260, Left: 84, Right: 708, Top: 12, Bottom: 222}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range history {
		v := p.Value.InexactFloat64()
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	ticks, labels := niceTicks(lo, hi, 4)
	lo, hi = ticks[0], ticks[len(ticks)-1]
	y := func(v float64) float64 { return ch.Bottom - (v-lo)/(hi-lo)*(ch.Bottom-ch.Top) }
	x := func(i int) float64 {
		return ch.Left + float64(i)/float64(len(history)-1)*(ch.Right-ch.Left)
	}
	for i, t := range ticks {
		ch.YTicks = append(ch.YTicks, chartTick{At: y(t), Label: labels[i]})
	}
	var line strings.Builder
	for i, p := range history {
		pt := chartPoint{X: x(i), Y: y(p.Value.InexactFloat64()), Title: p.Date.Format("2006-01-02") + ": " + kernel.Money(p.Value)}
		ch.Points = append(ch.Points, pt)
		if i > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(strconv.FormatFloat(pt.X, 'f', 1, 64) + "," + strconv.FormatFloat(pt.Y, 'f', 1, 64))
	}
	ch.Line = line.String()
	for k, i := range []int{0, len(history) / 2, len(history) - 1} {
		ch.XTicks = append(ch.XTicks, chartTick{At: x(i), Label: history[i].Date.Format("Jan 2, 2006"),
			Anchor: [...]string{"start", "middle", "end"}[k]})
	}
	return ch
}

// niceTicks returns about n+1 round values, a step of 1, 2 or 5 × 10^k
// apart, from at or below lo to at or above hi, each with its label in
// the step's precision; a flat series gets a band around its value.
func niceTicks(lo, hi float64, n int) ([]float64, []string) {
	if hi <= lo {
		pad := math.Max(math.Abs(lo)*0.05, 1)
		lo, hi = lo-pad, hi+pad
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	places := max(0, int(-math.Floor(math.Log10(step))))
	var (
		ticks  []float64
		labels []string
	)
	// Counting steps, rather than adding them up, keeps float error from
	// accumulating into the labels.
	for k := math.Floor(lo / step); ; k++ {
		t := k * step
		ticks = append(ticks, t)
		labels = append(labels, strconv.FormatFloat(t, 'f', places, 64))
		if t >= hi-step*1e-9 {
			return ticks, labels
		}
	}
}
