package test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/t5gw/t5gw/cmd/t5gwd/api"
	"github.com/t5gw/t5gw/evpn/rds"
	"github.com/t5gw/t5gw/test/lab"
)

// faultWorker is one worker of the faults lab: the address its session
// comes from and the prefixes it announces.
type faultWorker struct {
	Name     string // its BIRD protocol, for the hundred of wf
	Addr     string
	Net      string // the /24 its prefixes are in, for wf's export filter
	Prefixes []string
}

// faultLab is the lab of TestFaults: an FRR EVPN peer (fab), t5gwd (gw),
// and on one segment behind a bridge (sw) two steady workers, BIRD (w1) and
// FRR (w2), and a hundred workers in one BIRD (wf), each a session of its
// own from its own address.
type faultLab struct {
	fab, gw, w1, w2, wf *lab.Node
	fabBGPd, w1BIRD     *lab.Proc
	starter             *restartLab // starts t5gwd: restart_test.go's helpers
	run                 *daemonRun  // the t5gwd running now
	socket              string      // its local API

	steady   []faultWorker // w1, w2
	flappers []faultWorker // wf's hundred, f1..f100
	disabled map[string]bool
	surge    []string // what the offender adds in the max-prefixes case
}

// The lab's figures: the range the hundred come from, t5gw's max-prefixes.
const (
	flapperCount = 100
	maxPrefixes  = 10
	holdW1       = 6 * time.Second // w1's hold time, which t5gw takes
	keepaliveW1  = 2 * time.Second
	mpRestart    = 5 * time.Second // max-prefixes-restart
	// surgeRoutes more accepted routes take the offender's 3 over
	// max-prefixes: 15 in all.
	surgeRoutes = 12
)

func faultLabFile(t *testing.T, name string) string { return fileOf(t, "faults-lab", name) }

func faultLabTemplate(t *testing.T, name string, values any) string {
	return templateOf(t, "faults-lab", name, values)
}

func newFaultLab(t *testing.T) *faultLab {
	lab.Require(t, "ip", "sh", "vtysh", "/usr/lib/frr/zebra", "/usr/lib/frr/bgpd", "bird", "birdc", "curl")
	l := lab.New(t)
	f := &faultLab{fab: l.Node("fab"), gw: l.Node("gw"), w1: l.Node("w1"), w2: l.Node("w2"), wf: l.Node("wf"),
		disabled: map[string]bool{}}
	f.steady = []faultWorker{
		{Addr: "192.168.10.11", Prefixes: []string{"10.244.1.0/24", "10.244.11.0/24"}},
		{Addr: "192.168.10.12", Prefixes: []string{"10.244.2.0/24", "10.244.12.0/24"}},
	}
	for n := 1; n <= flapperCount; n++ {
		f.flappers = append(f.flappers, faultWorker{
			Name: fmt.Sprintf("f%d", n), Addr: fmt.Sprintf("192.168.10.%d", 128+n), Net: fmt.Sprintf("10.245.%d.0/24", n),
			Prefixes: []string{fmt.Sprintf("10.245.%d.0/26", n), fmt.Sprintf("10.245.%d.64/26", n), fmt.Sprintf("10.245.%d.128/26", n)},
		})
	}
	offender := f.offender()
	for i := range surgeRoutes {
		f.surge = append(f.surge, fmt.Sprintf("10.245.%d.%d/30", flapperCount, 192+4*i))
	}
	f.checkNoRDCollision(t)

	sw := l.Node("sw")
	l.Link(f.fab, "eth0", f.gw, "eth0")
	f.fab.MustRun("ip", "addr", "add", "10.0.0.1/24", "dev", "eth0")
	f.gw.MustRun("ip", "addr", "add", "10.0.0.3/24", "dev", "eth0")
	sw.MustRun("ip", "link", "add", "br0", "type", "bridge")
	sw.MustRun("ip", "link", "set", "br0", "up")
	for i, n := range []*lab.Node{f.gw, f.w1, f.w2, f.wf} {
		port := fmt.Sprintf("p%d", i)
		l.Link(n, "eth1", sw, port)
		sw.MustRun("ip", "link", "set", port, "master", "br0")
	}
	f.gw.MustRun("ip", "addr", "add", "192.168.10.3/24", "dev", "eth1")
	f.w1.MustRun("ip", "addr", "add", "192.168.10.11/24", "dev", "eth1")
	f.w2.MustRun("ip", "addr", "add", "192.168.10.12/24", "dev", "eth1")
	// BIRD runs one session at a time per neighbor address and interface,
	// whatever the local address: each of the hundred has an interface of
	// its own, a macvlan on wf's link, with its own MAC and address. Only
	// the interface with the address answers ARP for it.
	f.wf.MustRun("sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2")
	for _, w := range f.flappers {
		f.wf.MustRun("ip", "link", "add", w.Name, "link", "eth1", "type", "macvlan", "mode", "bridge")
		f.wf.MustRun("ip", "addr", "add", w.Addr+"/24", "dev", w.Name)
		f.wf.MustRun("ip", "link", "set", w.Name, "up")
	}

	f.fab.FRR(labFile(t, "fab/frr.conf"))
	f.fabBGPd = f.fab.Procs("bgpd")[0]

	f.socket = filepath.Join(f.gw.Dir, "t5gwd.sock")
	f.gw.Write("vrfs.d/blue.yaml", faultLabFile(t, "gw/vrfs.d/blue.yaml"))
	cfg := f.gw.Write("t5gw.yaml", faultLabTemplate(t, "gw/t5gw.yaml.tmpl", map[string]string{"Socket": f.socket}))
	f.starter = &restartLab{gw: f.gw, cfg: cfg}
	f.run = f.starter.startT5gwd(t)

	f.w1BIRD = f.w1.BIRD(faultLabFile(t, "w1/bird.conf"))
	f.w2.FRR(faultLabFile(t, "w2/frr.conf"))
	f.wf.BIRD(faultLabTemplate(t, "wf/bird.conf.tmpl", map[string]any{
		"Workers": f.flappers, "Surge": f.surge, "Offender": offender.Addr}))
	return f
}

// offender is the worker that goes over max-prefixes: the last of the hundred.
func (f *faultLab) offender() faultWorker { return f.flappers[len(f.flappers)-1] }

// checkNoRDCollision makes sure every worker of the lab has its preferred
// RD number, so that the test knows each worker's RD (workerRD).
func (f *faultLab) checkNoRDCollision(t *testing.T) {
	t.Helper()
	seen := map[uint16]string{}
	for _, w := range slices.Concat(f.steady, f.flappers) {
		n := rds.Preferred(rds.Owner{VRF: "blue", Worker: netip.MustParseAddr(w.Addr)})
		if other, ok := seen[n]; ok {
			t.Fatalf("workers %s and %s prefer the same RD number %d: pick other addresses", other, w.Addr, n)
		}
		seen[n] = w.Addr
	}
}

// want is what the fabric should hold now, prefix -> gateway IP: every
// prefix of the steady workers and of the hundred not disabled, less the
// prefixes of the workers in except.
func (f *faultLab) want(except ...string) map[string]string {
	out := map[string]string{}
	for _, w := range slices.Concat(f.steady, f.flappers) {
		if f.disabled[w.Name] || slices.Contains(except, w.Addr) {
			continue
		}
		for _, p := range w.Prefixes {
			out[p] = w.Addr
		}
	}
	return out
}

// prefixesOf is every prefix the workers at addrs announce.
func (f *faultLab) prefixesOf(addrs ...string) []string {
	var out []string
	for _, w := range slices.Concat(f.steady, f.flappers) {
		if slices.Contains(addrs, w.Addr) {
			out = append(out, w.Prefixes...)
		}
	}
	return out
}

// fabricDiff compares what fab holds with want, route by route: one route
// per prefix, with the gateway IP of its worker, that worker's RD, t5gw's
// next hop and VNI, valid. It returns "" when they agree.
func fabricDiff(fab *lab.Node, want map[string]string) (diff, last string) {
	all, last := frrType5All(fab)
	if all == nil {
		return "fab answered nothing", last
	}
	got := map[string]string{}
	var wrong []string
	for p, rs := range all {
		r := rs[0]
		got[p] = r.GatewayIP
		if len(rs) != 1 {
			wrong = append(wrong, fmt.Sprintf("%s: %d routes", p, len(rs)))
		}
		if !r.Valid || r.RD != workerRD(r.GatewayIP) || r.VNI != "4001" || r.NextHop != "10.0.0.3" {
			wrong = append(wrong, describe(map[string]type5{p: r}))
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		wrong = append(wrong, "(-want +got):\n"+d)
	}
	if len(wrong) > 0 {
		sort.Strings(wrong)
		return strings.Join(wrong, "\n"), last
	}
	return "", last
}

// expectExact waits until fab holds exactly want, route by route.
func (f *faultLab) expectExact(t *testing.T, what string, want map[string]string) time.Duration {
	t.Helper()
	start := time.Now()
	lab.WaitFor(t, what, wait, func() (bool, string) {
		diff, _ := fabricDiff(f.fab, want)
		return diff == "", fmt.Sprintf("%d routes wanted; what differs:\n%s", len(want), diff)
	})
	return time.Since(start)
}

// metrics scrapes the running t5gwd.
func (f *faultLab) metrics() map[string]float64 { return metricsOf(f.gw, "127.0.0.1:9179") }

// Series of t5gwd's that the faults test reads.
const (
	mSessionsUp   = `t5gw_vrf_worker_sessions_up{vrf="blue"}`
	mSessionDowns = `t5gw_vrf_worker_session_downs_total{vrf="blue"}`
	mAdvertised   = `t5gw_vrf_routes_advertised{vrf="blue"}`
	mWithdrawals  = `t5gw_vrf_fabric_updates_total{op="withdraw",vrf="blue"}`
	mCutoffs      = `t5gw_vrf_max_prefix_cutoffs_total{vrf="blue"}`
	mFabricUp     = `t5gw_fabric_sessions_up`
)

// expectSessions waits until t5gwd counts up sessions, advertises
// advertised routes and has its fabric session.
func (f *faultLab) expectSessions(t *testing.T, what string, up, advertised int) {
	t.Helper()
	lab.WaitFor(t, what, wait, func() (bool, string) {
		m := f.metrics()
		return m[mSessionsUp] == float64(up) && m[mAdvertised] == float64(advertised) && m[mFabricUp] == 1,
			fmt.Sprintf("sessions up %v (want %d), advertised %v (want %d), fabric %v",
				m[mSessionsUp], up, m[mAdvertised], advertised, m[mFabricUp])
	})
}

// sessions is every worker session at once, as t5gwd and the workers
// themselves see them: the measure of "no other session reset".
type sessions struct {
	t5gw map[string]api.Worker  // by address, from t5gwctl workers
	bird map[string]birdSession // by BIRD protocol: w1's t5gw, wf's f<n>
	frr  frrNeighbor            // w2's session with t5gw
}

type frrNeighbor struct {
	State                string `json:"bgpState"`
	Established, Dropped int
}

// birdSession is a BGP protocol as `birdc show protocols` shows it: its
// state, since when, and what it says of the session.
type birdSession struct {
	State, Info string
	Since       time.Time
}

// birdProtocols reads `birdc show protocols` of a BIRD node, by protocol
// name with prefix before it.
func birdProtocols(n *lab.Node, prefix string) (map[string]birdSession, error) {
	out, err := n.Birdc("show", "protocols")
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	m := map[string]birdSession{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[1] != "BGP" {
			continue
		}
		since, err := time.Parse("15:04:05.000", f[4])
		if err != nil {
			return nil, fmt.Errorf("%s: since %q: %v", f[0], f[4], err)
		}
		m[prefix+f[0]] = birdSession{State: f[3], Since: since, Info: strings.Join(f[5:], " ")}
	}
	return m, nil
}

// birdSinceJitter is how far apart two readings of an unchanged protocol's
// "since" may be: BIRD prints it from its monotonic clock, a millisecond or
// so apart from one reading to the next. A session that went down and came
// back moves it by seconds (error wait time, connect retry).
const birdSinceJitter = 500 * time.Millisecond

func (f *faultLab) sessions(t *testing.T) sessions {
	t.Helper()
	var s sessions
	lab.WaitFor(t, "every session's state", wait, func() (bool, string) {
		out, err := f.gw.Output(t5gwctl, "--socket", f.socket, "--json", "workers")
		var ws []api.Worker
		if err != nil || json.Unmarshal([]byte(out), &ws) != nil {
			return false, fmt.Sprintf("t5gwctl: %v\n%s", err, out)
		}
		s.t5gw = map[string]api.Worker{}
		for _, w := range ws {
			s.t5gw[w.Address] = w
		}
		w1, err := birdProtocols(f.w1, "w1/")
		if err != nil {
			return false, "w1: " + err.Error()
		}
		wf, err := birdProtocols(f.wf, "wf/")
		if err != nil {
			return false, "wf: " + err.Error()
		}
		s.bird = w1
		for k, v := range wf {
			s.bird[k] = v
		}
		out, err = f.w2.Vtysh("show bgp neighbors 192.168.10.3 json")
		var nb map[string]struct {
			State       string `json:"bgpState"`
			Established int    `json:"connectionsEstablished"`
			Dropped     int    `json:"connectionsDropped"`
		}
		if err != nil || json.Unmarshal([]byte(out), &nb) != nil {
			return false, fmt.Sprintf("w2: %v\n%s", err, out)
		}
		n := nb["192.168.10.3"]
		s.frr = frrNeighbor{State: n.State, Established: n.Established, Dropped: n.Dropped}
		return true, ""
	})
	return s
}

// birdName is the BIRD protocol of the worker at addr, as sessions keys it.
func (f *faultLab) birdName(addr string) string {
	if addr == "192.168.10.11" {
		return "w1/t5gw"
	}
	for _, w := range f.flappers {
		if w.Addr == addr {
			return "wf/" + w.Name
		}
	}
	return ""
}

// resets compares two views of the sessions and lists every session that
// went down or changed between them, leaving out the workers in except: as
// t5gwd counts it (its flaps, or a new "since"), as BIRD shows it (a new
// state or "since") and as FRR counts it (connections dropped).
func (f *faultLab) resets(before, after sessions, except ...string) []string {
	var out []string
	skip := map[string]bool{}
	for _, a := range except {
		skip[a] = true
		skip[f.birdName(a)] = true
	}
	for addr, b := range before.t5gw {
		if skip[addr] {
			continue
		}
		a, ok := after.t5gw[addr]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("t5gw: %s gone", addr))
		case a.State != "established" || a.Flaps != b.Flaps || !a.Since.Equal(*b.Since):
			out = append(out, fmt.Sprintf("t5gw: %s %s flaps %d since %v, was %s flaps %d since %v",
				addr, a.State, a.Flaps, a.Since, b.State, b.Flaps, b.Since))
		}
	}
	for name, b := range before.bird {
		if skip[name] {
			continue
		}
		if a := after.bird[name]; a.State != b.State || a.Info != b.Info || a.Since.Sub(b.Since).Abs() > birdSinceJitter {
			out = append(out, fmt.Sprintf("BIRD %s: %s since %s %s, was %s since %s %s", name,
				a.State, a.Since.Format("15:04:05.000"), a.Info, b.State, b.Since.Format("15:04:05.000"), b.Info))
		}
	}
	if !skip["192.168.10.12"] && (after.frr.Dropped != before.frr.Dropped || after.frr.State != "Established") {
		out = append(out, fmt.Sprintf("FRR w2: %s, %d connections dropped, was %d", after.frr.State, after.frr.Dropped, before.frr.Dropped))
	}
	sort.Strings(out)
	return out
}

// fabWatcher polls the fabric peer's Type-5 routes in the background and
// notes each poll in which some watched prefix is missing or has another
// gateway IP than want says: the outage the fabric saw.
type fabWatcher struct {
	stop, stopped chan struct{}

	mu        sync.Mutex
	polls     int
	badPolls  int       // polls that lacked a watched route
	bad       []string  // the first 20 of them, one line each
	firstBad  time.Time // the first of them
	lastBad   time.Time // the last of them
	healedAt  time.Time // the first good poll after the last bad one
	maxMissed int       // the most watched routes one poll lacked
}

func watchFabric(fab *lab.Node, want map[string]string, watched []string) *fabWatcher {
	w := &fabWatcher{stop: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(w.stopped)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			routes, _ := frrType5(fab)
			at := time.Now()
			var lacks []string
			for _, p := range watched {
				if r, ok := routes[p]; !ok || r.GatewayIP != want[p] {
					lacks = append(lacks, p)
				}
			}
			w.mu.Lock()
			w.polls++
			if len(lacks) > 0 {
				if w.firstBad.IsZero() {
					w.firstBad = at
				}
				w.lastBad, w.healedAt = at, time.Time{}
				w.maxMissed = max(w.maxMissed, len(lacks))
				w.badPolls++
				if len(w.bad) < 20 {
					w.bad = append(w.bad, fmt.Sprintf("%s: lacks %d: %v", at.Format(time.StampMilli), len(lacks), lacks[:min(len(lacks), 5)]))
				}
			} else if !w.lastBad.IsZero() && w.healedAt.IsZero() {
				w.healedAt = at
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// watchResult is what a fabWatcher saw.
type watchResult struct {
	polls, badPolls, maxMissed int
	firstBad, healedAt         time.Time
	bad                        []string
}

// outage is how long the fabric lacked watched routes: from the first poll
// that lacked one to the first that had them all again.
func (r watchResult) outage() time.Duration {
	if r.firstBad.IsZero() {
		return 0
	}
	return r.healedAt.Sub(r.firstBad).Round(time.Millisecond)
}

func (w *fabWatcher) end() watchResult {
	close(w.stop)
	<-w.stopped
	w.mu.Lock()
	defer w.mu.Unlock()
	return watchResult{polls: w.polls, badPolls: w.badPolls, maxMissed: w.maxMissed,
		firstBad: w.firstBad, healedAt: w.healedAt, bad: w.bad}
}

// memSample is t5gwd's memory at one moment: the Go heap in use and
// allocated (from /metrics), its resident set from /proc/<pid>/status,
// and its goroutines.
type memSample struct {
	heapInuse, heapAlloc, vmRSS, goroutines float64
}

func (m memSample) String() string {
	return fmt.Sprintf("heap in use %.1f MiB, heap alloc %.1f MiB, VmRSS %.1f MiB, %v goroutines",
		m.heapInuse/(1<<20), m.heapAlloc/(1<<20), m.vmRSS/(1<<20), m.goroutines)
}

var reVmRSS = regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB$`)

func (f *faultLab) memory() (memSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", f.run.pid))
	if err != nil {
		return memSample{}, err
	}
	m := reVmRSS.FindSubmatch(b)
	if m == nil {
		return memSample{}, fmt.Errorf("no VmRSS in /proc/%d/status", f.run.pid)
	}
	rss, _ := strconv.ParseFloat(string(m[1]), 64)
	s := f.metrics()
	if s["go_memstats_heap_inuse_bytes"] == 0 {
		return memSample{}, fmt.Errorf("no go_memstats_heap_inuse_bytes from /metrics")
	}
	return memSample{heapInuse: s["go_memstats_heap_inuse_bytes"], heapAlloc: s["go_memstats_heap_alloc_bytes"],
		vmRSS: rss * 1024, goroutines: s["go_goroutines"]}, nil
}

// birdc runs a birdc command on n and fails the test when BIRD refuses it.
func birdc(t *testing.T, n *lab.Node, args ...string) string {
	t.Helper()
	out, err := n.Birdc(args...)
	if err != nil {
		t.Fatalf("%s: birdc %v: %v\n%s", n.Name, args, err, out)
	}
	return out
}

// expectAlive fails the test if t5gwd has ended or logged a panic.
func (f *faultLab) expectAlive(t *testing.T) {
	t.Helper()
	log := f.run.log()
	if strings.Contains(log, "panic:") || strings.Contains(log, "fatal error:") || reStatus.MatchString(log) {
		t.Fatalf("t5gwd crashed or ended:\n%s", f.run.proc.Tail(40))
	}
}
