package test

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// failLab is an FRR EVPN peer (fab), t5gwd (gw) and two single-hop workers
// on one segment: w1 runs BIRD as Calico does (graceful restart, and BFD when
// asked), w2 runs FRR as MetalLB does (graceful restart with preserved
// forwarding state, bfdd).
type failLab struct {
	lab       *lab.Lab
	fab, gw   *lab.Node
	w1, w2    *lab.Node
	daemon    *lab.Proc
	bird, frr *lab.Proc
	fabRoutes []string // the prefixes the workers announce
}

const failGlobal = `router-id: 10.0.0.3
asn: 65000
fabric:
  neighbors: [{address: 10.0.0.1, asn: 65000}]
metrics: 127.0.0.1:9179
state-dir: state
`

const failVRF = `name: blue
l3vni: 4001
workers:
  listen: [192.168.10.3]
  peers:
    - {address: 192.168.10.11, asn: 65011, bfd: %v}
    - {address: 192.168.10.12, asn: 65012}
  accept: ["10.244.0.0/16 le 32"]
`

// failBIRD is w1: Calico's BIRD template has graceful restart; bfd is on or off.
const failBIRD = `log stderr all;
router id 192.168.10.11;
protocol device {}
protocol static pods4 { ipv4; route 10.244.1.0/24 blackhole; }
protocol bfd { interface "eth1" { interval 300 ms; multiplier 3; }; }
protocol bgp t5gw {
  local 192.168.10.11 as 65011;
  neighbor 192.168.10.3 as 65000;
  hold time 9; keepalive time 3;
  graceful restart on;
  bfd %s;
  error wait time 1, 10;
  connect retry time 2;
  ipv4 { import none; export where proto = "pods4"; };
}
`

// failFRR is w2: MetalLB's FRR with enableGracefulRestart. Its BFD profile
// is there but unused: GoBGP v4.8.0 loses its first session with FRR's bfdd
// (see bgp/bfd.go).
// Each daemon reads the whole file and skips what is not its own: bfdd's
// block comes last, so that bgpd's parser never leaves the config node.
const failFRR = `frr defaults traditional
hostname w2
log stdout
router bgp 65012
 bgp router-id 192.168.10.12
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 bgp graceful-restart preserve-fw-state
 neighbor 192.168.10.3 remote-as 65000
 neighbor 192.168.10.3 timers 3 9
 neighbor 192.168.10.3 timers connect 2
 address-family ipv4 unicast
  network 10.244.2.0/24
 exit-address-family
bfd
 profile metallb
  receive-interval 300
  transmit-interval 300
  detect-multiplier 3
`

func newFailLab(t *testing.T, withBFD bool) *failLab {
	lab.Require(t, "ip", "vtysh", "/usr/lib/frr/bgpd", "/usr/lib/frr/bfdd", "bird", "birdc", "curl")
	l := lab.New(t)
	f := &failLab{lab: l, fab: l.Node("fab"), gw: l.Node("gw"), w1: l.Node("w1"), w2: l.Node("w2"),
		fabRoutes: []string{"10.244.1.0/24", "10.244.2.0/24"}}
	sw := l.Node("sw")
	l.Link(f.fab, "eth0", f.gw, "eth0")
	f.fab.MustRun("ip", "addr", "add", "10.0.0.1/24", "dev", "eth0")
	f.gw.MustRun("ip", "addr", "add", "10.0.0.3/24", "dev", "eth0")
	sw.MustRun("ip", "link", "add", "br0", "type", "bridge")
	sw.MustRun("ip", "link", "set", "br0", "up")
	for i, n := range []*lab.Node{f.gw, f.w1, f.w2} {
		port := fmt.Sprintf("p%d", i)
		l.Link(n, "eth1", sw, port)
		sw.MustRun("ip", "link", "set", port, "master", "br0")
	}
	for n, host := range map[*lab.Node]string{f.gw: "3", f.w1: "11", f.w2: "12"} {
		n.MustRun("ip", "addr", "add", "192.168.10."+host+"/24", "dev", "eth1")
	}
	f.fab.FRR(labFile(t, "fab/frr.conf"))
	f.gw.Write("vrfs.d/blue.yaml", fmt.Sprintf(failVRF, withBFD))
	f.daemon = f.gw.Start("t5gwd", t5gwd, "--config", f.gw.Write("t5gw.yaml", failGlobal))
	bfd := "off"
	if withBFD {
		bfd = "on"
	}
	f.bird = f.w1.BIRD(fmt.Sprintf(failBIRD, bfd))
	f.w2.FRRWith(failFRR, []string{"bfdd"})
	f.frr = f.w2.Procs("bgpd")[0]
	f.expectAtFab(t, "both workers' routes at the fabric peer", f.fabRoutes...)
	expectReady(t, f.gw, f.daemon)
	return f
}

// expectAtFab waits until the fabric peer holds exactly prefixes.
func (f *failLab) expectAtFab(t *testing.T, what string, prefixes ...string) {
	t.Helper()
	lab.WaitFor(t, what, wait, func() (bool, string) {
		routes, last := frrType5(f.fab)
		if len(routes) != len(prefixes) {
			return false, last
		}
		for _, p := range prefixes {
			if _, ok := routes[p]; !ok {
				return false, last
			}
		}
		return true, last
	})
}

// fabWatch polls the fabric peer's Type-5 routes every 50 ms and records
// each poll where one of prefixes is missing.
type fabWatch struct {
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	polls   int
	missing []string
}

func (f *failLab) watchFab(prefixes ...string) *fabWatch {
	w := &fabWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			routes, _ := frrType5(f.fab)
			w.mu.Lock()
			w.polls++
			for _, p := range prefixes {
				if _, ok := routes[p]; !ok {
					w.missing = append(w.missing, fmt.Sprintf("%s %s", time.Now().Format("15:04:05.000"), p))
				}
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *fabWatch) end() (polls int, missing []string) {
	close(w.stop)
	<-w.done
	return w.polls, w.missing
}

func (f *failLab) counter(name string) float64 { return metricsOf(f.gw, "127.0.0.1:9179")[name] }

const withdrawals = `t5gw_vrf_fabric_updates_total{op="withdraw",vrf="blue"}`

// TestWorkerRestartsGracefully restarts each worker's BGP daemon the way
// its Kubernetes component does, with graceful restart: its routes stay in
// the fabric throughout, marked stale at t5gw, and nothing is withdrawn.
func TestWorkerRestartsGracefully(t *testing.T) {
	f := newFailLab(t, false)
	run := func(t *testing.T, worker, prefix string, restart func(t *testing.T)) {
		before := f.counter(withdrawals)
		w := f.watchFab(f.fabRoutes...)
		restart(t)
		lab.WaitFor(t, worker+" back, no stale route left", wait, func() (bool, string) {
			m := metricsOf(f.gw, "127.0.0.1:9179")
			return m[`t5gw_vrf_worker_sessions_up{vrf="blue"}`] == 2 && m[`t5gw_vrf_routes_stale{vrf="blue"}`] == 0, f.daemon.Tail(8)
		})
		polls, missing := w.end()
		if polls < 10 {
			t.Fatalf("only %d polls of the fabric peer: the watch did not run", polls)
		}
		if len(missing) > 0 {
			t.Errorf("%d of %d polls of the fabric peer missed a route:\n%s", len(missing), polls, strings.Join(missing, "\n"))
		}
		if n := f.counter(withdrawals) - before; n != 0 {
			t.Errorf("t5gw withdrew %v Type-5 routes during the restart", n)
		}
		if log := f.daemon.Tail(40); !strings.Contains(log, "worker restarting: its routes stay") || !strings.Contains(log, "worker="+worker) {
			t.Errorf("t5gwd's log does not show the graceful restart of %s:\n%s", worker, log)
		}
		t.Logf("%s: %d polls of the fabric peer, none missed %s", worker, polls, prefix)
	}
	t.Run("BIRD, as Calico restarts it (birdc graceful restart, then bird -R)", func(t *testing.T) {
		run(t, "192.168.10.11", "10.244.1.0/24", func(t *testing.T) {
			if out, err := f.w1.Birdc("graceful", "restart"); err != nil {
				t.Fatalf("birdc graceful restart: %v\n%s", err, out)
			}
			if !f.bird.Wait(wait) {
				t.Fatal("BIRD did not stop")
			}
			f.bird = f.w1.Start("bird-R", append(f.bird.Args(), "-R")...)
		})
	})
	t.Run("FRR, as MetalLB's speaker dies and comes back", func(t *testing.T) {
		run(t, "192.168.10.12", "10.244.2.0/24", func(t *testing.T) {
			f.frr.Kill()
			f.frr = f.frr.Restart()
		})
	})
}

var reLogTime = regexp.MustCompile(`time=(\S+) level=INFO msg="session down" speaker=workers vrf=blue peer=(\S+) reason="([^"]*)"`)

// downAt finds when, and why, t5gwd logged the end of worker's session
// after since.
func downAt(d *lab.Proc, worker string, since time.Time) (time.Time, string, bool) {
	for _, m := range reLogTime.FindAllStringSubmatch(d.Tail(2000), -1) {
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err == nil && m[2] == worker && at.After(since) {
			return at, m[3], true
		}
	}
	return time.Time{}, "", false
}

// TestBFDDetectsADeadWorker takes a worker's link down, so that nothing but
// silence tells t5gw, and measures how long t5gw takes to declare it dead:
// with BFD against BIRD's (300 ms x 3), and without, by the hold time (9 s)
// against FRR. BFD ends the session with a Cease, so the worker's routes go
// at once; a hold time expiry is a graceful restart (RFC 8538), so the
// routes of a worker that does graceful restart stay for its restart time.
func TestBFDDetectsADeadWorker(t *testing.T) {
	f := newFailLab(t, true)
	lab.WaitFor(t, "BFD up with BIRD", wait, func() (bool, string) {
		b, _ := f.w1.Birdc("show", "bfd", "sessions")
		return strings.Contains(b, " Up "), b
	})
	detect := func(t *testing.T, w *lab.Node, worker string) (time.Duration, string) {
		t.Helper()
		start := time.Now()
		w.MustRun("ip", "link", "set", "eth1", "down")
		var at time.Time
		var why string
		lab.WaitFor(t, "t5gw declares "+worker+" dead", 30*time.Second, func() (bool, string) {
			var ok bool
			at, why, ok = downAt(f.daemon, worker, start)
			return ok, f.daemon.Tail(5)
		})
		return at.Sub(start).Round(time.Millisecond), why
	}
	bird, why := detect(t, f.w1, "192.168.10.11")
	if !strings.Contains(why, "administrative reset") {
		t.Errorf("BIRD's session ended with %q, not BFD's reset", why)
	}
	f.expectAtFab(t, "BIRD's route withdrawn at once", "10.244.2.0/24")

	frr, why := detect(t, f.w2, "192.168.10.12")
	if !strings.Contains(why, "graceful") {
		t.Errorf("FRR's session ended with %q, not a graceful restart", why)
	}
	lab.WaitFor(t, "FRR's route kept, stale", wait, func() (bool, string) {
		m := metricsOf(f.gw, "127.0.0.1:9179")
		return m[`t5gw_vrf_routes_stale{vrf="blue"}`] == 1, fmt.Sprint(m)
	})
	f.expectAtFab(t, "FRR's route still at the fabric peer", "10.244.2.0/24")
	t.Logf("dead worker found by t5gw: BIRD with BFD (300 ms x 3) in %s, FRR by the hold time (9 s) in %s", bird, frr)

	for _, w := range []*lab.Node{f.w1, f.w2} {
		w.MustRun("ip", "link", "set", "eth1", "up")
	}
	f.expectAtFab(t, "both workers back", f.fabRoutes...)
	lab.WaitFor(t, "no stale route left", wait, func() (bool, string) {
		m := metricsOf(f.gw, "127.0.0.1:9179")
		return m[`t5gw_vrf_routes_stale{vrf="blue"}`] == 0, fmt.Sprint(m)
	})
}
