package bench

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// Systems under test: the same workload through each.
const (
	sysT5GW  = "t5gw"
	sysFRR   = "frr"
	sysFloor = "floor" // the injector straight to the monitor
)

// result is one run's figures.
type result struct {
	Up, Converge, Withdraw time.Duration
	P50, P99               time.Duration
	Usage                  Usage
	Routes                 int
	// UpdatesUp and UpdatesDown are the UPDATE messages the monitor received
	// until convergence and during the withdrawal: how each system batches.
	UpdatesUp, UpdatesDown int
	// Left is how many routes the monitor still held when the withdrawal
	// was given up (withdrawCap); 0 when it finished.
	Left int
	// ConvergedRSSKB is the system's peak resident set when the monitor
	// first held every route; Usage.PeakRSSKB is its peak over the run,
	// single changes and the withdrawal included.
	ConvergedRSSKB int
}

// withdrawCap bounds how long a withdrawal may take: a run that exceeds it
// fails, unless a curve tolerates it (then Left says how far it got).
var withdrawCap, tolerateCap = 10 * time.Minute, false

type scale struct{ N, M int }

var (
	resMu   sync.Mutex
	results = map[string]map[scale][]result{} // system -> scale -> runs
	t5gwd   string
)

func record(sys string, sc scale, r result) {
	resMu.Lock()
	defer resMu.Unlock()
	if results[sys] == nil {
		results[sys] = map[scale][]result{}
	}
	results[sys][sc] = append(results[sys][sc], r)
}

// BenchmarkGateway runs each scale through t5gw, FRR doing the same job, and
// the floor, three times each. Run it with `make bench`; it writes
// docs/benchmarks.md.
func BenchmarkGateway(b *testing.B) {
	lab.Require(b, "ip", "/usr/lib/frr/bgpd")
	scales := scalesFromEnv([]scale{{10, 1000}, {100, 1000}, {1000, 100}, {10, 10000}})
	systems := systemsFromEnv([]string{sysFloor, sysT5GW, sysFRR})
	for _, sc := range scales {
		for run := 1; run <= 3; run++ { // interleaved: a slow minute of the machine hits every system
			for _, sys := range systems {
				b.Run(fmt.Sprintf("%s/%dx%d/run%d", sys, sc.N, sc.M, run), func(b *testing.B) {
					r := runOnce(b, sys, sc)
					record(sys, sc, r)
					b.ReportMetric(r.Converge.Seconds(), "converge-s")
					b.ReportMetric(r.Withdraw.Seconds(), "withdraw-s")
					b.ReportMetric(float64(r.P99.Microseconds())/1000, "p99-ms")
				})
			}
		}
	}
	if err := writeReport(docPath("benchmarks.md"), scales, systems); err != nil {
		b.Fatal(err)
	}
}

// env is one lab with the system under test running and the injector ready.
type env struct {
	sc      scale
	m       *Monitor
	sut     []*lab.Proc
	inj     *lab.Node
	remote  netip.AddrPort
	updates [][]byte
	workers []*Worker
	before  Usage
}

// setup builds a fresh lab for sys: injector, monitor and the system between
// them, and pre-encodes every worker's UPDATEs.
func setup(b *testing.B, sys string, sc scale) *env {
	l := lab.New(b)
	inj, mon := l.Node("inj"), l.Node("mon")
	e := &env{sc: sc, inj: inj, remote: netip.MustParseAddrPort("192.168.0.1:179")}
	var err error
	switch sys {
	case sysFloor:
		l.Link(inj, "eth0", mon, "eth0")
		mon.MustRun("ip", "addr", "add", "192.168.0.1/16", "dev", "eth0")
		e.m, err = Listen(mon.NS, e.remote, 65000)
	default:
		gw := l.Node("gw")
		l.Link(inj, "eth0", gw, "eth0")
		l.Link(gw, "eth1", mon, "eth0")
		gw.MustRun("ip", "addr", "add", "192.168.0.1/16", "dev", "eth0")
		gw.MustRun("ip", "addr", "add", "10.255.0.3/24", "dev", "eth1")
		mon.MustRun("ip", "addr", "add", "10.255.0.1/24", "dev", "eth0")
		e.m, err = Listen(mon.NS, netip.MustParseAddrPort("10.255.0.1:179"), 65000)
		if err == nil {
			if helperRestart > 0 {
				e.m.HelpRestart(helperRestart)
			}
			e.sut = startSystem(b, sys, gw)
		}
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.m.Close)
	if sys != sysFloor {
		lab.WaitFor(b, "fabric session up", 60*time.Second, func() (bool, string) {
			return e.m.Sessions() == 1, fmt.Sprint(e.m.Sessions())
		})
	}
	var addrs, neighs strings.Builder
	mac := strings.TrimSpace(inj.MustRun("cat", "/sys/class/net/eth0/address"))
	for i := range sc.N {
		fmt.Fprintf(&addrs, "addr add %s/16 dev eth0\n", WorkerAddr(i))
		fmt.Fprintf(&neighs, "neigh replace %s lladdr %s dev eth0 nud permanent\n", WorkerAddr(i), mac)
	}
	inj.MustRun("ip", "-batch", inj.Write("addrs.batch", addrs.String()))
	// Permanent entries: the neighbour table's limits are global sysctls, which
	// a benchmark should not change; permanent entries are never collected.
	facing := mon
	if sys != sysFloor {
		facing = l.Nodes("gw")
	}
	facing.MustRun("ip", "-batch", facing.Write("neighs.batch", neighs.String()))

	// Pre-encode every worker's UPDATEs so the injector only writes.
	e.updates = make([][]byte, sc.N)
	for i := range sc.N {
		e.updates[i] = Updates(WorkerAddr(i), 65011, workerPrefixes(i, sc.M, sc.M), false)
	}
	e.before, _ = UsageOf(pids(e.sut)...)
	b.Cleanup(func() {
		for _, w := range e.workers {
			if w != nil {
				w.Close()
			}
		}
	})
	return e
}

// workerPrefixes is the first k of worker i's m prefixes.
func workerPrefixes(i, k, m int) []netip.Prefix {
	ps := make([]netip.Prefix, k)
	for j := range k {
		ps[j] = WorkerPrefix(i, j, m)
	}
	return ps
}

// connect brings up every worker session, each sending its UPDATEs as soon
// as it is established, and waits for the monitor to hold every route. It
// returns when all sessions were up and when the monitor held everything,
// both from the first dial.
func (e *env) connect(b *testing.B) (up, converged time.Duration) {
	start := time.Now()
	e.workers = make([]*Worker, e.sc.N)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 128)
	var dialErr error
	var emu sync.Mutex
	for i := range e.sc.N {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			remote := e.remote
			if vrfs > 0 {
				remote = netip.AddrPortFrom(vrfListen(i/(e.sc.N/vrfs)), 179)
			}
			w, err := DialWorker(e.inj.NS, WorkerAddr(i), remote, 65011)
			if err == nil {
				err = w.Write(e.updates[i])
			}
			if err != nil {
				emu.Lock()
				dialErr = err
				emu.Unlock()
				return
			}
			e.workers[i] = w
		}()
	}
	wg.Wait()
	up = time.Since(start)
	if dialErr != nil {
		b.Fatalf("worker sessions: %v", dialErr)
	}
	at, ok := e.m.WaitHeld(e.sc.N*e.sc.M, start.Add(10*time.Minute))
	if !ok {
		b.Fatalf("monitor holds %d of %d routes; decode errors %v", e.m.Held(), e.sc.N*e.sc.M, e.m.Errors())
	}
	return up, at.Sub(start)
}

// probe announces one new prefix from worker w and returns how long it took
// to reach the monitor.
func (e *env) probe(b *testing.B, k int, w *Worker) time.Duration {
	p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 200, byte(k >> 8), byte(k)}), 32)
	ch := e.m.Watch(p)
	msg := Updates(w.Addr, 65011, []netip.Prefix{p}, false)
	sent := time.Now()
	if err := w.Write(msg); err != nil {
		b.Fatal(err)
	}
	select {
	case got := <-ch:
		return got.Sub(sent)
	case <-time.After(10 * time.Second):
		b.Fatalf("change %d (%s) did not arrive in 10 s", k, p)
	}
	return 0
}

func percentiles(lats []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(lats)
	return lats[len(lats)/2], lats[len(lats)*99/100]
}

// runOnce builds a fresh lab, brings up n worker sessions announcing m /32s
// each through sys, and measures.
func runOnce(b *testing.B, sys string, sc scale) result { return run(b, sys, sc, 1000) }

// run is runOnce with probes single changes timed (none: no latency figures).
func run(b *testing.B, sys string, sc scale, probes int) result {
	e := setup(b, sys, sc)
	var r result
	r.Up, r.Converge = e.connect(b)
	r.UpdatesUp, _ = e.m.Updates()
	if u, err := UsageOf(pids(e.sut)...); err == nil {
		r.ConvergedRSSKB = u.PeakRSSKB
	}

	// Single-change latency with every session up: one new prefix at a time.
	if probes > 0 {
		var lats []time.Duration
		for k := range probes {
			lats = append(lats, e.probe(b, k, e.workers[k%sc.N]))
		}
		r.P50, r.P99 = percentiles(lats)
	}
	r.withdrawAll(b, e)
	return r
}

// withdrawAll closes every worker connection at once, as when their host is
// cut off, and measures until the monitor holds nothing.
func (r *result) withdrawAll(b *testing.B, e *env) {
	before, _ := e.m.Updates()
	gone := time.Now()
	for i, w := range e.workers {
		w.Close()
		e.workers[i] = nil
	}
	at, ok := e.m.WaitHeld(0, gone.Add(withdrawCap))
	switch {
	case !ok && !tolerateCap:
		b.Fatalf("after the workers went down the monitor still holds %d routes", e.m.Held())
	case !ok:
		r.Withdraw, r.Left = withdrawCap, e.m.Held()
	default:
		r.Withdraw = at.Sub(gone)
	}
	all, _ := e.m.Updates()
	r.UpdatesDown = all - before
	after, _ := UsageOf(pids(e.sut)...)
	r.Usage = Usage{CPUSeconds: after.CPUSeconds - e.before.CPUSeconds, PeakRSSKB: after.PeakRSSKB}
	r.Routes = e.sc.N * e.sc.M
}

func pids(ps []*lab.Proc) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.Pid())
	}
	return out
}
