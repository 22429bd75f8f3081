package bench

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// spread is a median with its min and max, over runs.
func spread[T any](runs []result, get func(result) T, less func(a, b T) int, format func(T) string) string {
	vs := make([]T, len(runs))
	for i, r := range runs {
		vs[i] = get(r)
	}
	slices.SortFunc(vs, less)
	if len(vs) == 0 {
		return "-"
	}
	med := vs[len(vs)/2]
	if len(vs) == 1 {
		return format(med)
	}
	return fmt.Sprintf("%s (%s–%s)", format(med), format(vs[0]), format(vs[len(vs)-1]))
}

func durations(runs []result, get func(result) time.Duration) string {
	return spread(runs, get, func(a, b time.Duration) int { return int(a - b) }, func(d time.Duration) string {
		if d < time.Second {
			return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
		}
		return fmt.Sprintf("%.2f s", d.Seconds())
	})
}

func median(runs []result, get func(result) float64) float64 {
	vs := make([]float64, len(runs))
	for i, r := range runs {
		vs[i] = get(r)
	}
	slices.Sort(vs)
	if len(vs) == 0 {
		return 0
	}
	return vs[len(vs)/2]
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s, %s", runtime.NumCPU(), model, runtime.Version(), time.Now().Format("2006-01-02"))
}

// writeReport writes the figures of every system and scale as Markdown.
func writeReport(path string, scales []scale, systems []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by %s (`go test -run XXX -bench BenchmarkGateway -benchtime 1x ./test/bench/`) on %s.\n", writtenBy("bench"), machine())
	b.WriteString(buildsNote())
	b.WriteString(benchMethod)
	for _, sc := range scales {
		fmt.Fprintf(&b, "\n## %d workers x %d prefixes (%d routes)\n\n", sc.N, sc.M, sc.N*sc.M)
		b.WriteString("| | sessions up | converged | UPDATEs up | withdrawn | UPDATEs down | change p50 | change p99 | CPU s | peak RSS: converged | peak RSS: run | RSS per route |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, sys := range systems {
			runs := results[sys][sc]
			if len(runs) == 0 {
				continue
			}
			rss := median(runs, func(r result) float64 { return float64(r.Usage.PeakRSSKB) })
			usage := "- | - | - | -"
			if rss > 0 {
				usage = fmt.Sprintf("%.1f | %.0f MB | %.0f MB | %.1f KB", median(runs, func(r result) float64 { return r.Usage.CPUSeconds }),
					median(runs, func(r result) float64 { return float64(r.ConvergedRSSKB) })/1024,
					rss/1024, rss/float64(sc.N*sc.M))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %s | %.0f | %s | %s | %s |\n", sys,
				durations(runs, func(r result) time.Duration { return r.Up }),
				durations(runs, func(r result) time.Duration { return r.Converge }),
				median(runs, func(r result) float64 { return float64(r.UpdatesUp) }),
				durations(runs, func(r result) time.Duration { return r.Withdraw }),
				median(runs, func(r result) float64 { return float64(r.UpdatesDown) }),
				durations(runs, func(r result) time.Duration { return r.P50 }),
				durations(runs, func(r result) time.Duration { return r.P99 }), usage)
		}
		conv := func(sys string) float64 {
			return median(results[sys][sc], func(r result) float64 { return r.Converge.Seconds() })
		}
		if conv(sysT5GW) > 0 && conv(sysFRR) > 0 && conv(sysFloor) > 0 {
			fmt.Fprintf(&b, "\nConvergence t5gw/FRR %.2f, t5gw/floor %.2f.\n", conv(sysT5GW)/conv(sysFRR), conv(sysT5GW)/conv(sysFloor))
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

const benchMethod = `
Each row is the median of 3 runs, with min–max; the systems' runs are
interleaved (floor, t5gw, FRR, then again), so that a slow stretch of this
shared machine does not fall on one system. A run builds fresh network
namespaces: an injector with N worker sessions from N addresses (raw sessions
sending pre-encoded UPDATEs, M distinct /32s each), the system under test
with one VRF accepting them, and a monitor fabric peer (a lean receiver that
decodes UPDATEs with GoBGP's packet library and counts prefixes, no RIB).

- **sessions up**: from the first dial until all N sessions are established
  and have sent their UPDATEs.
- **converged**: from the first dial until the monitor holds all N x M routes.
- **change p50/p99**: with all sessions up, 1,000 single new prefixes, one at
  a time, from sending the UPDATE to the monitor decoding its route.
- **UPDATEs up**, **UPDATEs down**: UPDATE messages the monitor received
  until convergence, and during the withdrawal: how each system batches.
- **withdrawn**: from closing every worker connection at once until the
  monitor holds nothing.
- Both systems run the same timers: keepalive 3 s, hold 9 s, towards the
  workers and the monitor (t5gw's defaults, FRR's datacenter defaults, both
  written out in the configs).
- FRR's single-change latency, about 50 ms at every scale, is its update
  processing hold timer (the delay bgpd waits to batch route processing),
  not a cost per route: it does not grow with the table.
- **CPU s**, **peak RSS**: the system's processes (t5gwd; FRR's zebra and
  bgpd), CPU over the run; peak resident set (VmHWM) read when the monitor
  first holds every route (**converged**) and at the end of the run, single
  changes and the withdrawal included (**run**). **RSS per route** is the
  run's peak over the routes.
- **floor**: the injector's routes straight to the monitor, as IPv4 unicast:
  what injector and monitor cost alone.
`
