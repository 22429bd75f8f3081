package bench

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// processMem is where a t5gwd process's resident memory goes, as the Go
// runtime (runtime.MemStats, from the heap profile's text form) and the
// kernel (/proc/pid/status) see it, right after a forced GC.
type processMem struct {
	rssKB, hwmKB int64 // VmRSS, VmHWM
	heapInuse    int64 // spans with objects, live or not yet swept
	heapFree     int64 // HeapIdle - HeapReleased: free heap the runtime keeps
	stackInuse   int64
	runtimeOther int64 // Sys - HeapSys - StackSys: span and GC metadata, buffers
	nextGC       int64
	goroutines   int64
}

func readProcessMem(b *testing.B, pid int) processMem {
	var m processMem
	stats := map[string]int64{}
	for _, line := range strings.Split(apiGet(b, "/debug/pprof/heap?debug=1"), "\n") {
		// "# HeapInuse = 123", or "# Stack = 123 / 456" (in use / from the OS)
		name, v, ok := strings.Cut(strings.TrimPrefix(line, "# "), " = ")
		inuse, sys, pair := strings.Cut(v, " / ")
		if n, err := strconv.ParseInt(inuse, 10, 64); ok && err == nil {
			stats[name] = n
		}
		if n, err := strconv.ParseInt(sys, 10, 64); ok && pair && err == nil {
			stats[name+"Sys"] = n
		}
	}
	if stats["Sys"] == 0 {
		b.Fatalf("no runtime.MemStats in t5gwd's heap profile: %v", stats)
	}
	m.heapInuse = stats["HeapInuse"]
	m.heapFree = stats["HeapIdle"] - stats["HeapReleased"]
	m.stackInuse = stats["Stack"]
	m.runtimeOther = stats["Sys"] - stats["HeapSys"] - stats["StackSys"]
	m.nextGC = stats["NextGC"]
	first, _, _ := strings.Cut(apiGet(b, "/debug/pprof/goroutine?debug=1"), "\n")
	if _, n, ok := strings.Cut(first, "total "); ok {
		m.goroutines, _ = strconv.ParseInt(strings.TrimSpace(n), 10, 64)
	}
	kb, err := statusKB(pid, "VmRSS", "VmHWM")
	if err != nil {
		b.Fatal(err)
	}
	m.rssKB, m.hwmKB = kb[0], kb[1]
	return m
}

func mb(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/1e6) }

// rssReport says, for each scale and phase, where the resident memory goes,
// what a worker session costs of it, and how much each owner allocated to
// converge (what the collector has to clear, and so its CPU).
func rssReport(scales []scale, got map[scale][]heapPhase) string {
	var s strings.Builder
	s.WriteString("\n## Resident memory around the heap\n\n" +
		"The same moments, as the kernel sees the process (VmRSS now, VmHWM its peak so far) and as Go's runtime " +
		"accounts for it (`runtime.MemStats`). Free heap is what the runtime holds without objects and has not yet " +
		"returned to the kernel; the next GC is the heap size at which the collector runs again (GOGC=100: twice " +
		"what the last one left live).\n\n" +
		"| scale | phase | VmRSS | VmHWM | heap spans | free heap kept | goroutine stacks | goroutines | runtime metadata | next GC |\n" +
		"|---|---|---|---|---|---|---|---|---|---|\n")
	for _, sc := range scales {
		for _, p := range got[sc] {
			m := p.mem
			fmt.Fprintf(&s, "| %d x %d | %s | %s | %s | %s | %s | %s | %d | %s | %s |\n", sc.N, sc.M, p.name,
				mb(m.rssKB*1024), mb(m.hwmKB*1024), mb(m.heapInuse), mb(m.heapFree), mb(m.stackInuse),
				m.goroutines, mb(m.runtimeOther), mb(m.nextGC))
		}
	}
	c, okC := converged(got, scale{10, 10000})
	d, okD := converged(got, scale{1000, 100})
	if okC && okD {
		per := func(f func(heapPhase) int64) string {
			return fmt.Sprintf("%.0f KB", float64(f(d)-f(c))/990/1000)
		}
		fmt.Fprintf(&s, "\nA worker session, from the same difference as above ((1,000 x 100 − 10 x 10,000) / 990), "+
			"at convergence: VmRSS %s, VmHWM %s, heap in use %s, goroutine stacks %s, %.1f goroutines.\n",
			per(func(p heapPhase) int64 { return p.mem.rssKB * 1024 }),
			per(func(p heapPhase) int64 { return p.mem.hwmKB * 1024 }),
			per(func(p heapPhase) int64 { return p.total }),
			per(func(p heapPhase) int64 { return p.mem.stackInuse }),
			float64(d.mem.goroutines-c.mem.goroutines)/990)
	}
	owners := heapOwners()
	s.WriteString("\n## Allocated to converge\n\nBytes allocated from the idle profile to the converged one " +
		"(the profile's alloc_space), per route: what the collector has to clear, and so most of its CPU.\n\n| scale | all |")
	for _, o := range owners {
		fmt.Fprintf(&s, " %s |", o)
	}
	fmt.Fprintf(&s, "\n|---|---|%s\n", strings.Repeat("---|", len(owners)))
	for _, sc := range scales {
		ps := got[sc]
		if len(ps) < 2 {
			continue
		}
		routes := int64(sc.N * sc.M)
		fmt.Fprintf(&s, "| %d x %d | %d B |", sc.N, sc.M, (ps[1].alloc-ps[0].alloc)/routes)
		for _, o := range owners {
			fmt.Fprintf(&s, " %d B |", (ps[1].allocBy[o]-ps[0].allocBy[o])/routes)
		}
		s.WriteString("\n")
	}
	return s.String()
}
