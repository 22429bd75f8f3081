package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// apiSocket, when set, is where t5gwd serves its local API (and its profiles).
var apiSocket string

// heapVRFs is the scale BenchmarkHeap runs in 50 VRFs of 5 workers.
var heapVRFs = scale{250, 100}

// heapPhase is one heap profile of t5gwd: in use after a GC, split by whose
// code allocated it.
type heapPhase struct {
	name  string
	total int64
	by    map[string]int64 // owner (t5gw, GoBGP, ...) -> bytes
	sites map[string]int64 // first non-standard-library function -> bytes
	// allocated since t5gwd started, in total and by owner
	alloc      int64
	allocBy    map[string]int64
	allocSites map[string]int64
	mem        processMem // the process around the heap
}

// BenchmarkHeap takes t5gwd's heap profile (in use, right after a forced GC)
// with its fabric session up and no worker, at convergence, and after every
// worker has gone, at 10 x 1,000, 10 x 10,000 and 1,000 x 100, and writes
// docs/heap.md: whose structures hold the memory, and what a worker session
// and a route cost.
func BenchmarkHeap(b *testing.B) {
	lab.Require(b, "ip")
	scales := scalesFromEnv([]scale{{10, 1000}, {10, 10000}, {1000, 100}, heapVRFs})
	sys := systemsFromEnv([]string{sysT5GW})[0] // one build: the report is of one
	bin := t5gwdOf(b, sys)
	got := map[scale][]heapPhase{}
	for _, sc := range scales {
		b.Run(fmt.Sprintf("%s/%dx%d", sys, sc.N, sc.M), func(b *testing.B) {
			apiSocket = filepath.Join(b.TempDir(), "api.sock")
			if sc == heapVRFs { // the same workers, in 50 VRFs of 5
				vrfs, vrfWorkers = 50, 5
			}
			defer func() { apiSocket, vrfs, vrfWorkers = "", 0, 0 }()
			e := setup(b, sys, sc)
			pid := e.sut[0].Pid()
			at := fmt.Sprintf("%s-%dx%d-", sys, sc.N, sc.M)
			got[sc] = append(got[sc], heapProfile(b, at, "idle", pid, bin))
			e.connect(b)
			got[sc] = append(got[sc], heapProfile(b, at, "converged", pid, bin))
			for i, w := range e.workers {
				w.Close()
				e.workers[i] = nil
			}
			if _, ok := e.m.WaitHeld(0, time.Now().Add(10*time.Minute)); !ok {
				b.Fatalf("the monitor still holds %d routes", e.m.Held())
			}
			lab.WaitFor(b, "every worker session gone", time.Minute, func() (bool, string) {
				n := sessionsUp(b)
				return n == 0, fmt.Sprint(n, " sessions up")
			})
			got[sc] = append(got[sc], heapProfile(b, at, "withdrawn", pid, bin))
		})
	}
	if err := os.WriteFile(docPath("heap.md"), []byte(heapReport(scales, got)), 0o644); err != nil {
		b.Fatal(err)
	}
}

// sessionsUp reads how many worker sessions t5gwd has up, from its API.
func sessionsUp(b *testing.B) int {
	body := apiGet(b, "/v1/workers")
	return strings.Count(body, `"state": "established"`)
}

func apiGet(b *testing.B, path string) string {
	c := http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", apiSocket)
		}}}
	resp, err := c.Get("http://t5gwd" + path)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return string(body)
}

// heapProfile takes t5gwd's heap profile after a GC and splits what is in
// use and what was allocated; then reads the runtime's and the kernel's view
// of process pid. The profile is kept in T5GW_BENCH_PROFILES, if set, as
// at+name+".pb", for `go tool pprof`.
func heapProfile(b *testing.B, at, name string, pid int, bin string) heapPhase {
	dir := os.Getenv("T5GW_BENCH_PROFILES")
	if dir == "" {
		dir = b.TempDir()
	}
	f := filepath.Join(dir, at+name+".pb")
	if err := os.WriteFile(f, []byte(apiGet(b, "/debug/pprof/heap?gc=1")), 0o644); err != nil {
		b.Fatal(err)
	}
	raw, err := exec.Command("go", "tool", "pprof", "-raw", bin, f).CombinedOutput()
	if err != nil {
		b.Fatalf("pprof: %v\n%s", err, raw)
	}
	p, err := parseRawHeap(string(raw))
	if err != nil {
		b.Fatal(err)
	}
	p.name = name
	p.mem = readProcessMem(b, pid)
	return p
}

// parseRawHeap reads `go tool pprof -raw` of a heap profile: each sample's
// inuse_space and stack, and each location's function. A sample belongs to
// the first frame, from the leaf up, outside Go's standard library.
func parseRawHeap(raw string) (heapPhase, error) {
	p := heapPhase{by: map[string]int64{}, sites: map[string]int64{}, allocBy: map[string]int64{}, allocSites: map[string]int64{}}
	type sample struct {
		bytes, alloc int64
		locs         []string
	}
	var samples []sample
	funcs := map[string]string{}
	section := ""
	for _, line := range strings.Split(raw, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "Samples:" || trimmed == "Locations" || trimmed == "Mappings":
			section = trimmed
			continue
		case section == "Samples:" && strings.Contains(line, ": "):
			values, stack, _ := strings.Cut(trimmed, ": ")
			f := strings.Fields(values)
			if len(f) != 4 {
				continue
			}
			// alloc_objects alloc_space inuse_objects inuse_space
			alloc, err1 := strconv.ParseInt(f[1], 10, 64)
			n, err := strconv.ParseInt(f[3], 10, 64)
			if err := errors.Join(err1, err); err != nil {
				return p, fmt.Errorf("sample %q: %v", line, err)
			}
			samples = append(samples, sample{n, alloc, strings.Fields(stack)})
		case section == "Locations" && strings.Contains(trimmed, ": 0x"):
			id, rest, _ := strings.Cut(trimmed, ": ")
			f := strings.Fields(rest)
			if len(f) >= 3 {
				funcs[id] = f[2]
			}
		}
	}
	for _, s := range samples {
		site, owner := "(Go runtime and standard library)", "Go runtime and standard library"
		for _, id := range s.locs {
			if fn := funcs[id]; isLibrary(fn) {
				site, owner = fn, ownerOf(fn)
				break
			}
		}
		p.total += s.bytes
		p.by[owner] += s.bytes
		p.alloc += s.alloc
		p.allocBy[owner] += s.alloc
		p.allocSites[site] += s.alloc
		p.sites[site] += s.bytes
	}
	if len(samples) == 0 {
		return p, fmt.Errorf("no samples in the profile:\n%.500s", raw)
	}
	return p, nil
}

// isLibrary tells whether fn is outside Go's standard library: its package
// path has a slash and starts with a domain (fmt.Sprintf has neither).
func isLibrary(fn string) bool {
	first, _, slash := strings.Cut(fn, "/")
	return slash && strings.Contains(first, ".")
}

func ownerOf(fn string) string {
	switch {
	case strings.HasPrefix(fn, "github.com/t5gw/"):
		return "t5gw"
	case strings.HasPrefix(fn, "github.com/osrg/gobgp/"):
		return "GoBGP"
	case strings.HasPrefix(fn, "github.com/eapache/"):
		return "GoBGP (its channels library)"
	}
	first := strings.SplitN(fn, "/", 4)
	if len(first) >= 3 {
		return strings.Join(first[:3], "/")
	}
	return fn
}

// writeSites writes the 15 largest sites of a site -> bytes map as table rows.
func writeSites(s *strings.Builder, m map[string]int64, format func(int64) string) {
	type site struct {
		fn string
		n  int64
	}
	var sites []site
	for fn, n := range m {
		sites = append(sites, site{fn, n})
	}
	slices.SortFunc(sites, func(a, b site) int { return int(b.n - a.n) })
	for _, x := range sites[:min(15, len(sites))] {
		fmt.Fprintf(s, "| `%s` | %s |\n", x.fn, format(x.n))
	}
}

// heapOwners are the owners the reports have a column for, in order.
func heapOwners() []string {
	return []string{"t5gw", "GoBGP", "GoBGP (its channels library)", "Go runtime and standard library"}
}

// converged is the profile of sc at convergence, if taken.
func converged(got map[scale][]heapPhase, sc scale) (heapPhase, bool) {
	if ps := got[sc]; len(ps) >= 2 {
		return ps[1], true
	}
	return heapPhase{}, false
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// heapReport writes the phases of each scale, the cost per session and per
// route they imply, and the largest allocation sites at convergence.
func heapReport(scales []scale, got map[scale][]heapPhase) string {
	var s strings.Builder
	owners := heapOwners()
	fmt.Fprintf(&s, "# Where t5gwd's memory goes\n\nWritten by %s (BenchmarkHeap) on %s. "+
		"Each figure is t5gwd's heap in use right after a forced GC (`/debug/pprof/heap?gc=1` on the API socket, "+
		"with `--memprofilerate 4096`: one sample per 4 KiB allocated rather than Go's 512 KiB), "+
		"split by whose code allocated it: the first frame of each sample's stack, from the allocation up, "+
		"outside Go's standard library. The workload is the benchmark's: N worker sessions from a range, "+
		"M /32s each, one fabric peer.\n", writtenBy("bench"), machine())
	s.WriteString(buildsNote())
	for _, sc := range scales {
		in := ""
		if sc == heapVRFs {
			in = ", in 50 VRFs of 5 workers"
		}
		fmt.Fprintf(&s, "\n## %d workers x %d prefixes%s\n\n| phase | heap in use |", sc.N, sc.M, in)
		for _, o := range owners {
			fmt.Fprintf(&s, " %s |", o)
		}
		fmt.Fprintf(&s, " other |\n|---|---|%s---|\n", strings.Repeat("---|", len(owners)))
		for _, p := range got[sc] {
			fmt.Fprintf(&s, "| %s | %s |", p.name, mib(p.total))
			rest := p.total
			for _, o := range owners {
				fmt.Fprintf(&s, " %s |", mib(p.by[o]))
				rest -= p.by[o]
			}
			fmt.Fprintf(&s, " %s |\n", mib(rest))
		}
	}
	conv := func(sc scale) (heapPhase, bool) { return converged(got, sc) }
	a, okA := conv(scale{10, 1000})
	c, okC := conv(scale{10, 10000})
	d, okD := conv(scale{1000, 100})
	if okA && okC && okD {
		s.WriteString("\n## Per route and per session\n\nPer route: (10 x 10,000 − 10 x 1,000) / 90,000 routes, at convergence. " +
			"Per session: (1,000 x 100 − 10 x 10,000) / 990 sessions, the same 100,000 routes.\n\n| | per route | per session |\n|---|---|---|\n")
		for _, o := range append([]string{"all"}, owners...) {
			get := func(p heapPhase) int64 {
				if o == "all" {
					return p.total
				}
				return p.by[o]
			}
			fmt.Fprintf(&s, "| %s | %d B | %.1f KB |\n", o, (get(c)-get(a))/90000, float64(get(d)-get(c))/990/1024)
		}
	}
	if one, many := got[scale{10, 10000}], got[heapVRFs]; len(one) > 0 && len(many) > 0 {
		s.WriteString("\nPer VRF, before any session: (idle in 50 VRFs − idle in 1) / 49; each VRF has its worker speaker " +
			"(a GoBGP server with its 5 static peers configured) and its pipeline.\n\n| | per VRF |\n|---|---|\n")
		for _, o := range append([]string{"all"}, owners...) {
			get := func(p heapPhase) int64 {
				if o == "all" {
					return p.total
				}
				return p.by[o]
			}
			fmt.Fprintf(&s, "| %s | %.0f KB |\n", o, float64(get(many[0])-get(one[0]))/49/1024)
		}
	}
	s.WriteString(rssReport(scales, got))
	for _, sc := range scales {
		p, ok := conv(sc)
		if !ok {
			continue
		}
		fmt.Fprintf(&s, "\n## Largest allocation sites at convergence, %d x %d\n\n| site | in use |\n|---|---|\n", sc.N, sc.M)
		writeSites(&s, p.sites, func(n int64) string { return mib(n) })
	}
	if ps := got[scale{10, 10000}]; len(ps) >= 2 {
		grown := map[string]int64{}
		for fn, n := range ps[1].allocSites {
			grown[fn] = n - ps[0].allocSites[fn]
		}
		s.WriteString("\n## Largest allocation sites to converge, 10 x 10000\n\nBytes allocated from idle to converged, per route.\n\n| site | allocated |\n|---|---|\n")
		writeSites(&s, grown, func(n int64) string { return fmt.Sprintf("%d B", n/100000) })
	}
	return s.String()
}
