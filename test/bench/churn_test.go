package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// churnResult is one churn run's figures.
type churnResult struct {
	Flaps    int           // prefixes withdrawn and announced again
	P50, P99 time.Duration // new-prefix latency during the churn
	Settle   time.Duration // from a last round of flaps until the last UPDATE it caused reached the monitor
	Updates  int           // the UPDATEs that round caused
	Usage    Usage
}

// BenchmarkChurn: 100 workers x 1,000 prefixes up, then for 60 s 10% of the
// prefixes flap: every second each worker withdraws and re-announces a tenth
// of its prefixes. Ten times a second a new prefix is announced and timed.
// Writes docs/churn.md.
func BenchmarkChurn(b *testing.B) {
	sc := scale{100, 1000}
	length := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("T5GW_CHURN")); err == nil {
		length = d
	}
	results := map[string][]churnResult{}
	systems := systemsFromEnv([]string{sysFloor, sysT5GW, sysFRR})
	for run := 1; run <= 3; run++ { // interleaved, as BenchmarkGateway
		for _, sys := range systems {
			b.Run(fmt.Sprintf("%s/run%d", sys, run), func(b *testing.B) {
				results[sys] = append(results[sys], churn(b, sys, sc, length))
			})
		}
	}
	var doc strings.Builder
	fmt.Fprintf(&doc, "# Churn\n\nWritten by %s (BenchmarkChurn) on %s.\n\n"+
		"%d workers x %d prefixes up; then for %s, every second, each worker withdraws and re-announces "+
		"a tenth of its prefixes (10%% of all, %d flaps a second). Ten times a second a new prefix is announced "+
		"and timed to the monitor. After the churn, one more round of flaps is sent with nothing else in flight, "+
		"and timed to the last UPDATE it causes at the monitor (a second without one ends it); a system that sends none "+
		"for it (the withdrawals and announcements cancel out before it sends) shows no time. Median of 3 runs (min–max).\n%s\n"+
		"| | flaps sent | new-prefix p50 | new-prefix p99 | last round: its last UPDATE | last round: UPDATEs | CPU s | peak RSS |\n|---|---|---|---|---|---|---|---|\n",
		writtenBy("bench"), machine(), sc.N, sc.M, length, sc.N*sc.M/10, buildsNote())
	for _, sys := range systems {
		rs := results[sys]
		if len(rs) == 0 {
			continue
		}
		asResults := make([]result, len(rs))
		for i, r := range rs {
			asResults[i] = result{P50: r.P50, P99: r.P99, Converge: r.Settle, Usage: r.Usage, Routes: r.Flaps, UpdatesUp: r.Updates}
		}
		usage := "- | -"
		if rss := median(asResults, func(r result) float64 { return float64(r.Usage.PeakRSSKB) }); rss > 0 {
			usage = fmt.Sprintf("%.1f | %.0f MB", median(asResults, func(r result) float64 { return r.Usage.CPUSeconds }), rss/1024)
		}
		updates := median(asResults, func(r result) float64 { return float64(r.UpdatesUp) })
		settle := "no UPDATE"
		if updates > 0 {
			settle = durations(asResults, func(r result) time.Duration { return r.Converge })
		}
		fmt.Fprintf(&doc, "| %s | %.0f | %s | %s | %s | %.0f | %s |\n", sys,
			median(asResults, func(r result) float64 { return float64(r.Routes) }),
			durations(asResults, func(r result) time.Duration { return r.P50 }),
			durations(asResults, func(r result) time.Duration { return r.P99 }),
			settle, updates, usage)
	}
	if err := os.WriteFile(docPath("churn.md"), []byte(doc.String()), 0o644); err != nil {
		b.Fatal(err)
	}
}

func churn(b *testing.B, sys string, sc scale, length time.Duration) churnResult {
	e := setup(b, sys, sc)
	e.connect(b)
	tenth := sc.M / 10
	flaps := make([][]byte, sc.N) // each worker's tenth withdrawn, then announced again
	for i := range sc.N {
		ps := workerPrefixes(i, tenth, sc.M)
		flaps[i] = append(Updates(WorkerAddr(i), 65011, ps, true), Updates(WorkerAddr(i), 65011, ps, false)...)
	}
	var r churnResult
	flapRound := func() {
		for i, w := range e.workers {
			if err := w.Write(flaps[i]); err != nil {
				b.Fatal(err)
			}
			r.Flaps += tenth
		}
	}
	var lats []time.Duration
	start := time.Now()
	probes := time.NewTicker(100 * time.Millisecond)
	defer probes.Stop()
	next := start
	for k := 0; time.Since(start) < length; {
		if time.Now().After(next) { // one round of flaps a second
			flapRound()
			next = next.Add(time.Second)
		}
		<-probes.C
		lats = append(lats, e.probe(b, k, e.workers[k%sc.N]))
		k++
	}
	// Settled: one last round of flaps, with nothing else in flight, until
	// the monitor holds everything and has had no UPDATE for a second; the
	// last UPDATE it had is when that round's work was done. (Holding
	// everything alone is true before the round's withdrawals even arrive.)
	want := sc.N*sc.M + len(lats)
	if _, ok := e.m.WaitQuiet(want, 500*time.Millisecond, time.Now().Add(5*time.Minute)); !ok {
		b.Fatalf("after the churn the monitor holds %d of %d routes", e.m.Held(), want)
	}
	before, _ := e.m.Updates()
	last := time.Now()
	flapRound()
	at, ok := e.m.WaitQuiet(want, time.Second, last.Add(5*time.Minute))
	if !ok {
		b.Fatalf("after the churn the monitor holds %d of %d routes", e.m.Held(), want)
	}
	all, _ := e.m.Updates()
	if r.Updates = all - before; r.Updates > 0 {
		r.Settle = at.Sub(last)
	}
	r.P50, r.P99 = percentiles(lats)
	after, _ := UsageOf(pids(e.sut)...)
	r.Usage = Usage{CPUSeconds: after.CPUSeconds - e.before.CPUSeconds, PeakRSSKB: after.PeakRSSKB}
	return r
}
