package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// curve is one dimension t5gw grows along, with the runs at each point.
type curve struct {
	name, axis string
	points     []int
	at         func(x int) (sc scale, vrfCount int)
	systems    []string
	why        string // what the curve leaves out, and why
}

// curvePoint is one run at one point of a curve.
type curvePoint struct {
	x int
	r result
}

var curves = []curve{
	{name: "routes", axis: "routes (100 workers)", points: []int{10000, 100000, 250000, 500000, 1000000},
		at: func(x int) (scale, int) { return scale{100, x / 100}, 0 }, systems: []string{sysT5GW, sysFRR}},
	{name: "workers", axis: "worker sessions (20 prefixes each)", points: []int{10, 100, 500, 1000, 2500, 5000},
		at: func(x int) (scale, int) { return scale{x, 20}, 0 }, systems: []string{sysT5GW, sysFRR}},
	{name: "vrfs", axis: "VRFs (5 workers x 100 prefixes each)", points: []int{1, 10, 50, 100, 200},
		at: func(x int) (scale, int) { return scale{5 * x, 100}, x }, systems: []string{sysT5GW},
		why: "FRR is left out: a BGP VRF in FRR needs a Linux VRF device, which this machine's kernel lacks, " +
			"and the VM that has them emulates its CPU, which would measure the emulator."},
}

// curveSystems is c's systems, or T5GW_BENCH_SYSTEMS's less those c leaves
// out (FRR from the VRFs curve).
func curveSystems(c curve) []string {
	var out []string
	for _, sys := range systemsFromEnv(c.systems) {
		if isT5GW(sys) || slices.Contains(c.systems, sys) {
			out = append(out, sys)
		}
	}
	return out
}

// BenchmarkCurves runs t5gw and FRR, one after the other at each point, along
// three curves (routes to 1,000,000; workers to 5,000; VRFs to 200) and
// writes docs/curves.md and a chart of each to docs/curves/. One run per
// point and system (about 25 minutes); a withdrawal is given up after 3
// minutes (FRR with 5,000 workers) and the table says so. T5GW_CURVES=routes,workers picks
// curves; T5GW_CURVE_MAX=N stops each at N.
func BenchmarkCurves(b *testing.B) {
	lab.Require(b, "ip", "/usr/lib/frr/bgpd")
	picked := curves
	if s := os.Getenv("T5GW_CURVES"); s != "" {
		picked = nil
		for _, c := range curves {
			if slices.Contains(strings.Split(s, ","), c.name) {
				picked = append(picked, c)
			}
		}
	}
	limit, _ := strconv.Atoi(os.Getenv("T5GW_CURVE_MAX"))
	withdrawCap, tolerateCap = 3*time.Minute, true // FRR takes minutes to withdraw thousands of sessions
	defer func() { withdrawCap, tolerateCap = 10*time.Minute, false }()
	got := map[string]map[string][]curvePoint{}
	for _, c := range picked {
		got[c.name] = map[string][]curvePoint{}
		for _, x := range c.points {
			if limit > 0 && x > limit {
				break
			}
			sc, n := c.at(x)
			for _, sys := range curveSystems(c) { // interleaved: both systems at a point, then the next point
				b.Run(fmt.Sprintf("%s/%d/%s", c.name, x, sys), func(b *testing.B) {
					vrfs, vrfWorkers = n, 5
					defer func() { vrfs, vrfWorkers = 0, 0 }()
					got[c.name][sys] = append(got[c.name][sys], curvePoint{x, run(b, sys, sc, 0)})
				})
			}
		}
	}
	dir := docPath("")
	if err := os.MkdirAll(filepath.Join(dir, "curves"), 0o755); err != nil {
		b.Fatal(err)
	}
	var doc strings.Builder
	fmt.Fprintf(&doc, "# Scale curves: t5gw and FRR side by side\n\nWritten by %s (BenchmarkCurves) on %s. "+
		"The benchmark's workload (docs/benchmarks.md) at each point, one run per system, t5gw and FRR one after "+
		"the other; no single-change probes. Per route, per session and per VRF are the peak RSS divided by "+
		"that count; the slope is the growth from the first point to the last.\n%s", writtenBy("curves"), machine(), buildsNote())
	for _, c := range picked {
		writeCurve(&doc, c, got[c.name])
		for _, chart := range []struct{ what, file string }{{"time", c.name + "-time.png"}, {"memory", c.name + "-memory.png"}} {
			if err := drawCurve(filepath.Join(dir, "curves", chart.file), c, chart.what, got[c.name]); err != nil {
				b.Fatal(err)
			}
			fmt.Fprintf(&doc, "\n![%s: %s](curves/%s)\n", c.name, chart.what, chart.file)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "curves.md"), []byte(doc.String()), 0o644); err != nil {
		b.Fatal(err)
	}
}

func writeCurve(doc *strings.Builder, c curve, got map[string][]curvePoint) {
	fmt.Fprintf(doc, "\n## %s\n\n", c.axis)
	if c.why != "" {
		fmt.Fprintf(doc, "%s\n\n", c.why)
	}
	unit := map[string]string{"routes": "route", "workers": "session", "vrfs": "VRF"}[c.name]
	fmt.Fprintf(doc, "| %s | system | sessions up | converged | withdrawn | CPU s | peak RSS | per %s |\n|---|---|---|---|---|---|---|---|\n", c.name, unit)
	for _, x := range c.points {
		for _, sys := range curveSystems(c) {
			for _, p := range got[sys] {
				if p.x != x {
					continue
				}
				withdrawn := short(p.r.Withdraw)
				if p.r.Left > 0 {
					withdrawn = fmt.Sprintf("not done in %s: %d routes left", short(p.r.Withdraw), p.r.Left)
				}
				fmt.Fprintf(doc, "| %d | %s | %s | %s | %s | %.1f | %.0f MB | %s |\n", x, sys, short(p.r.Up), short(p.r.Converge),
					withdrawn, p.r.Usage.CPUSeconds, float64(p.r.Usage.PeakRSSKB)/1024, perUnit(p.r.Usage.PeakRSSKB, x))
			}
		}
	}
	for _, sys := range curveSystems(c) {
		ps := got[sys]
		if len(ps) < 2 {
			continue
		}
		first, last := ps[0], ps[len(ps)-1]
		slope := float64(last.r.Usage.PeakRSSKB-first.r.Usage.PeakRSSKB) / float64(last.x-first.x)
		fmt.Fprintf(doc, "\n%s grows by %s per %s from %d to %d.", sys, kb(slope), unit, first.x, last.x)
	}
	doc.WriteString("\n")
}

func short(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func perUnit(rssKB, n int) string { return kb(float64(rssKB) / float64(n)) }

func kb(v float64) string {
	if v >= 1024 {
		return fmt.Sprintf("%.1f MB", v/1024)
	}
	return fmt.Sprintf("%.1f KB", v)
}
