package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/t5gw/t5gw/test/lab"
)

// nextHops is the gateways of n's kernel route to prefix: one for a plain
// route, several for an ECMP one, sorted.
func nextHops(n *lab.Node, prefix string) ([]string, string) {
	out, err := n.Output("ip", "-j", "route", "show", prefix)
	if err != nil {
		return nil, err.Error()
	}
	var rs []struct {
		Gateway  string
		Nexthops []struct{ Gateway string }
	}
	if json.Unmarshal([]byte(out), &rs) != nil || len(rs) == 0 {
		return nil, "no route: " + out
	}
	var gws []string
	if rs[0].Gateway != "" {
		gws = append(gws, rs[0].Gateway)
	}
	for _, nh := range rs[0].Nexthops {
		if !slices.Contains(gws, nh.Gateway) {
			gws = append(gws, nh.Gateway)
		}
	}
	slices.Sort(gws)
	return gws, out
}

// expectNextHops waits until n routes prefix via exactly gateways.
func expectNextHops(t *testing.T, n *lab.Node, prefix string, gateways ...string) {
	t.Helper()
	slices.Sort(gateways)
	lab.WaitFor(t, fmt.Sprintf("%s: %s via %v", n.Name, prefix, gateways), wait, func() (bool, string) {
		gws, last := nextHops(n, prefix)
		return slices.Equal(gws, gateways), last
	})
}

// gatewayView is one gateway IP as t5gwd's /gateways shows it.
type gatewayView struct {
	IP       string `json:"ip"`
	Resolved bool   `json:"resolved"`
	VTEP     string `json:"vtep"`
	MAC      string `json:"mac"`
	Seq      uint32 `json:"seq"`
	RD       string `json:"rd"`
	Synced   bool   `json:"fabric-synced"`
}

// gatewaysOf reads what t5gwd on n knows of VRF blue's gateway IPs.
func gatewaysOf(n *lab.Node) (map[string]gatewayView, string) {
	out, err := n.Output("curl", "-sf", "http://127.0.0.1:9179/gateways")
	if err != nil {
		return nil, err.Error()
	}
	var v map[string][]gatewayView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return nil, out
	}
	gws := map[string]gatewayView{}
	for _, g := range v["blue"] {
		gws[g.IP] = g
	}
	return gws, out
}

// countLines is how many lines of a process's log contain every part.
func countLines(p *lab.Proc, parts ...string) int {
	b, _ := os.ReadFile(p.Log)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		all := true
		for _, part := range parts {
			all = all && strings.Contains(line, part)
		}
		if all {
			n++
		}
	}
	return n
}

// TestAnycastAndFabricAwareness has a BIRD worker behind l2 and a gobgpd
// worker behind l4 announce one service address, as MetalLB or Cilium do:
// both ingress leaves (an L3VNI on the default VRF, and a VRF that is a
// namespace) must hold one ECMP kernel route via both workers, and only the
// path of a worker that withdraws may go. Moving a worker and taking its
// Type-2 route away must show in what t5gw knows, its metrics and its log.
func TestAnycastAndFabricAwareness(t *testing.T) {
	f := deployFabric(t)
	l1, l2, l3, l4 := f.n("l1"), f.n("l2"), f.n("l3"), f.n("l4")
	w1, w2 := f.n("w1"), f.n("w2")
	blue := f.lab.VRFNamespace(l1, "blue")
	gws := []*lab.Node{f.n("gw"), f.n("gw2")}
	lab.WaitFor(t, "l2 reaches both workers", wait, func() (bool, string) {
		return pings(l2, "192.168.10.11", 1) && pings(l2, "192.168.10.12", 1), ""
	})
	for _, gw := range gws {
		expectReady(t, gw, gw.Procs("t5gwd")[0])
		lab.WaitFor(t, gw.Name+" sees both workers behind l2", wait, func() (bool, string) {
			v, last := gatewaysOf(gw)
			return v["192.168.10.11"].VTEP == "10.0.0.12" && v["192.168.10.12"].VTEP == "10.0.0.12" &&
				v["192.168.10.12"].Synced, last
		})
	}

	t.Run("a worker moves to another leaf: t5gw's view, metric and log follow", func(t *testing.T) {
		f.lab.MoveInterface(l2, "eth3", l4, "w2moved")
		l4.MustRun("ip", "link", "set", "w2moved", "master", "br100")
		for _, gw := range gws {
			// l4 may still hold w2's IP as l2's (remote) when it first pings
			// it; once l2 withdraws it, the next ping makes it l4's own. Its
			// mobility sequence is 1 when l4 learns w2 while l2's route is
			// still there, and rightly 0 when l2's withdrawal came first
			// (RFC 7432 section 15): either way w2 is behind l4.
			lab.WaitFor(t, gw.Name+" sees w2 behind l4", wait, func() (bool, string) {
				pings(l4, "192.168.10.12", 1)
				v, last := gatewaysOf(gw)
				g := v["192.168.10.12"]
				return g.Resolved && g.VTEP == "10.0.0.14", last
			})
			v, _ := gatewaysOf(gw)
			t.Logf("%s: w2 behind l4 with mobility sequence %d", gw.Name, v["192.168.10.12"].Seq)
			m := metricsOf(gw, "127.0.0.1:9179")
			if got := m[`t5gw_vrf_worker_moves_total{vrf="blue"}`]; got != 1 {
				t.Errorf("%s: t5gw_vrf_worker_moves_total %v, want 1", gw.Name, got)
			}
			d := gw.Procs("t5gwd")[0]
			if n := countLines(d, "worker 192.168.10.12 moved from VTEP 10.0.0.12 to 10.0.0.14"); n != 1 {
				t.Errorf("%s logged the move %d times, want once:\n%s", gw.Name, n, d.Tail(20))
			}
		}
		expectRoute(t, l3, "10.244.2.0/24", "192.168.10.12", "br100")
		// A bridge that loses the port with the lowest MAC takes another MAC,
		// and the kernel flushes its neighbours: l2 may have forgotten w1.
		lab.WaitFor(t, "l2 still reaches w1", wait, func() (bool, string) { return pings(l2, "192.168.10.11", 1), "" })
		for _, gw := range gws {
			lab.WaitFor(t, gw.Name+" sees w1 behind l2", wait, func() (bool, string) {
				v, last := gatewaysOf(gw)
				return v["192.168.10.11"].Resolved && v["192.168.10.11"].VTEP == "10.0.0.12", last
			})
		}
	})

	// The service address, on both workers, announced by both.
	const vip = "10.244.100.1/32"
	w1.MustRun("ip", "addr", "add", vip, "dev", "lo")
	w2.MustRun("ip", "addr", "add", vip, "dev", "lo")
	announceW2 := func(op string) {
		t.Helper()
		if out, err := w2.GoBGP("global", "rib", op, "-a", "ipv4", vip); err != nil {
			t.Fatalf("gobgp global rib %s: %v\n%s", op, err, out)
		}
	}
	announceW2("add")
	b, err := os.ReadFile("containerlab/w1/bird.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(b), "route 10.244.1.0/24 blackhole;", "route 10.244.1.0/24 blackhole; route "+vip+" blackhole;", 1)
	if out, err := w1.Birdc("configure", `"`+w1.Write("bird-anycast.conf", conf)+`"`); err != nil || !strings.Contains(out, "Reconfigur") {
		t.Fatalf("birdc configure: %v\n%s", err, out)
	}
	leaves := []*lab.Node{l3, blue}
	updates := func(gw *lab.Node) (adv, wd float64) {
		m := metricsOf(gw, "127.0.0.1:9179")
		return m[`t5gw_vrf_fabric_updates_total{op="advertise",vrf="blue"}`], m[`t5gw_vrf_fabric_updates_total{op="withdraw",vrf="blue"}`]
	}

	t.Run("both ingress leaves spread the service over both workers", func(t *testing.T) {
		for _, n := range leaves {
			expectNextHops(t, n, "10.244.100.1", "192.168.10.11", "192.168.10.12")
			lab.WaitFor(t, n.Name+" pings the service", wait, func() (bool, string) { return pings(n, "10.244.100.1", 5), "" })
			show(t, n, "ip", "route", "show", "10.244.100.1")
		}
		for _, gw := range gws {
			lab.WaitFor(t, gw.Name+" advertises 4 routes: one per worker for the service", wait, func() (bool, string) {
				m := metricsOf(gw, "127.0.0.1:9179")
				return m[`t5gw_vrf_routes_advertised{vrf="blue"}`] == 4, fmt.Sprint(m[`t5gw_vrf_routes_advertised{vrf="blue"}`])
			})
		}
		lab.WaitFor(t, "l3 holds the service under 4 RDs: a worker's own on each node", wait, func() (bool, string) {
			nodes, last := nodesOf(l3, "10.244.100.1/32")
			return nodes["10.0.0.3"] == 2 && nodes["10.0.0.4"] == 2, last
		})
	})

	t.Run("a worker withdraws: only its path goes", func(t *testing.T) {
		before := map[string][2]float64{}
		for _, gw := range gws {
			a, w := updates(gw)
			before[gw.Name] = [2]float64{a, w}
		}
		announceW2("del")
		for _, n := range leaves {
			expectNextHops(t, n, "10.244.100.1", "192.168.10.11")
			if !pings(n, "10.244.100.1", 5) {
				t.Errorf("%s: the service no longer answers", n.Name)
			}
		}
		for _, gw := range gws {
			lab.WaitFor(t, gw.Name+" withdrew one route and advertised none", wait, func() (bool, string) {
				a, w := updates(gw)
				return a == before[gw.Name][0] && w == before[gw.Name][1]+1, fmt.Sprintf("advertised %v, withdrawn %v", a, w)
			})
		}
	})

	t.Run("it announces again: ECMP is back", func(t *testing.T) {
		announceW2("add")
		for _, n := range leaves {
			expectNextHops(t, n, "10.244.100.1", "192.168.10.11", "192.168.10.12")
		}
	})

	t.Run("a worker's Type-2 goes and comes back: unresolved, logged once each way", func(t *testing.T) {
		logged := func(d *lab.Proc) (unresolved, back int) {
			return countLines(d, "gateway IP unresolved", "gateway=192.168.10.12"), countLines(d, "gateway IP resolved again", "gateway=192.168.10.12")
		}
		before := map[string][2]int{}
		for _, gw := range gws {
			u, b := logged(gw.Procs("t5gwd")[0])
			before[gw.Name] = [2]int{u, b}
		}
		l4.MustRun("ip", "neigh", "del", "192.168.10.12", "dev", "br100")
		for _, gw := range gws {
			lab.WaitFor(t, gw.Name+" counts w2 unresolved", wait, func() (bool, string) {
				m := metricsOf(gw, "127.0.0.1:9179")
				v, last := gatewaysOf(gw)
				return m[`t5gw_vrf_gateway_ips_unresolved{vrf="blue"}`] == 1 && !v["192.168.10.12"].Resolved, last
			})
		}
		// FRR's ingress leaves leave out the path they cannot resolve.
		for _, n := range leaves {
			expectNextHops(t, n, "10.244.100.1", "192.168.10.11")
		}
		lab.WaitFor(t, "l4 relearns w2", wait, func() (bool, string) { return pings(l4, "192.168.10.12", 1), "" })
		for _, gw := range gws {
			lab.WaitFor(t, gw.Name+" counts no unresolved gateway IP", wait, func() (bool, string) {
				m := metricsOf(gw, "127.0.0.1:9179")
				return m[`t5gw_vrf_gateway_ips_unresolved{vrf="blue"}`] == 0, fmt.Sprint(m[`t5gw_vrf_gateway_ips_unresolved{vrf="blue"}`])
			})
			d := gw.Procs("t5gwd")[0]
			if u, b := logged(d); u-before[gw.Name][0] != 1 || b-before[gw.Name][1] != 1 {
				t.Errorf("%s logged w2 unresolved %d times and resolved again %d times, want once each:\n%s",
					gw.Name, u-before[gw.Name][0], b-before[gw.Name][1], d.Tail(20))
			}
		}
		for _, n := range leaves {
			expectNextHops(t, n, "10.244.100.1", "192.168.10.11", "192.168.10.12")
		}
	})

	t.Run("t5gwctl shows where each worker is", func(t *testing.T) {
		gw := f.n("gw")
		sock := filepath.Join(gw.Dir, "t5gw", "t5gwd.sock") // --api-socket /run/t5gw/t5gwd.sock in the lab
		for _, args := range [][]string{{"workers"}, {"routes"}, {"explain", "10.244.100.1"}} {
			out, err := gw.Output(append([]string{t5gwctl, "--socket", sock}, args...)...)
			if err != nil {
				t.Fatalf("t5gwctl %v: %v\n%s", args, err, out)
			}
			t.Logf("gw# t5gwctl %s\n%s", strings.Join(args, " "), out)
			if args[0] == "workers" && (!strings.Contains(out, "behind 10.0.0.14") || !strings.Contains(out, "behind 10.0.0.12")) {
				t.Errorf("t5gwctl workers does not place both workers:\n%s", out)
			}
		}
	})
}
