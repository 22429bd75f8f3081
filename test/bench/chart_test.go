package bench

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// systemColor keeps a system's color the same on every chart.
var systemColor = map[string]color.Color{
	sysT5GW: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	sysFRR:  color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
}

// colorOf is sys's color; another build of t5gwd is green.
func colorOf(sys string) color.Color {
	if c, ok := systemColor[sys]; ok {
		return c
	}
	return color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
}

// drawCurve draws one curve's time (converged solid, withdrawn dashed) or
// memory (peak RSS) against its axis, a line per system, to a PNG.
func drawCurve(path string, c curve, what string, got map[string][]curvePoint) error {
	p := plot.New()
	p.Title.Text = c.axis
	p.X.Label.Text = c.axis
	if c.points[len(c.points)-1]/c.points[0] >= 100 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Y.Label.Text = map[string]string{"time": "seconds", "memory": "peak RSS, MB"}[what]
	p.Legend.Top, p.Legend.Left = true, true
	for _, sys := range curveSystems(c) {
		ps := got[sys]
		if len(ps) == 0 {
			continue
		}
		series := []struct {
			name   string
			y      func(r result) float64
			dashed bool
		}{{sys + " converged", func(r result) float64 { return r.Converge.Seconds() }, false},
			{sys + " withdrawn", func(r result) float64 { return r.Withdraw.Seconds() }, true}}
		if what == "memory" {
			series = series[:1]
			series[0].name, series[0].y = sys, func(r result) float64 { return float64(r.Usage.PeakRSSKB) / 1024 }
		}
		for _, s := range series {
			xys := make(plotter.XYs, len(ps))
			for i, pt := range ps {
				xys[i].X, xys[i].Y = float64(pt.x), s.y(pt.r)
			}
			line, points, err := plotter.NewLinePoints(xys)
			if err != nil {
				return err
			}
			line.Color, points.Color = colorOf(sys), colorOf(sys)
			points.Shape = draw.CircleGlyph{}
			if s.dashed {
				line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(line, points)
			p.Legend.Add(s.name, line, points)
		}
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}
