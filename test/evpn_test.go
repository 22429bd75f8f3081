package test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/t5gw/t5gw/test/lab"
)

// fabric is the containerlab topology of test/containerlab, built in
// namespaces by the lab harness.
type fabric struct {
	lab   *lab.Lab
	nodes map[string]*lab.Node
}

func (f *fabric) n(name string) *lab.Node { return f.nodes[name] }

func deployFabric(t *testing.T) *fabric {
	lab.Require(t, "ip", "vtysh", "/usr/lib/frr/bgpd", "bird", "birdc", "gobgpd", "gobgp", "ping", "curl")
	c, err := lab.LoadClab("containerlab/t5gw.clab.yml")
	if err != nil {
		t.Fatal(err)
	}
	l := lab.New(t)
	return &fabric{lab: l, nodes: l.Deploy(c, map[string]string{"t5gwd": t5gwd})}
}

// route is a kernel route as `ip -j route` prints it.
type route struct {
	Dst, Gateway, Dev, Protocol string
}

func kernelRoute(n *lab.Node, prefix string) (route, string) {
	out, err := n.Output("ip", "-j", "route", "show", prefix)
	if err != nil {
		return route{}, err.Error()
	}
	var rs []route
	if json.Unmarshal([]byte(out), &rs) != nil || len(rs) == 0 {
		return route{}, "no route: " + out
	}
	return rs[0], out
}

// expectRoute waits until n's kernel routes prefix via gateway on dev.
func expectRoute(t *testing.T, n *lab.Node, prefix, gateway, dev string) {
	t.Helper()
	lab.WaitFor(t, fmt.Sprintf("%s: %s via %s dev %s", n.Name, prefix, gateway, dev), wait, func() (bool, string) {
		r, last := kernelRoute(n, prefix)
		return r.Gateway == gateway && r.Dev == dev && r.Protocol == "bgp", last
	})
}

func pings(n *lab.Node, addr string, count int) bool {
	_, err := n.Run("ping", "-c", strconv.Itoa(count), "-i", "0.01", "-W", "1", "-q", addr)
	return err == nil
}

func rxPackets(t *testing.T, n *lab.Node, dev string) uint64 {
	t.Helper()
	out, err := n.Output("cat", "/sys/class/net/"+dev+"/statistics/rx_packets")
	if err != nil {
		t.Fatalf("%s: %v", n.Name, err)
	}
	v, _ := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
	return v
}

// evpnMAC is what an FRR leaf knows of a MAC in an L2VNI.
type evpnMAC struct {
	Type           string `json:"type"`
	RemoteVtep     string `json:"remoteVtep"`
	RemoteSequence int    `json:"remoteSequence"`
}

func macOf(t *testing.T, n *lab.Node, ifname string) string {
	t.Helper()
	out, err := n.Output("cat", "/sys/class/net/"+ifname+"/address")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func leafMAC(n *lab.Node, mac string) (evpnMAC, string) {
	out, err := n.Vtysh("show evpn mac vni 100 json")
	if err != nil {
		return evpnMAC{}, err.Error()
	}
	var v struct {
		Macs map[string]evpnMAC `json:"macs"`
	}
	_ = json.Unmarshal([]byte(out), &v)
	return v.Macs[mac], out
}

// t5gwUpdates is how many Type-5 advertisements and withdrawals t5gw has sent.
func t5gwUpdates(t *testing.T, gw *lab.Node) float64 {
	m := metricsOf(gw, "127.0.0.1:9179")
	if len(m) == 0 {
		t.Fatal("no metrics from t5gwd")
	}
	var sum float64
	for series, v := range m {
		if strings.HasPrefix(series, "t5gw_vrf_fabric_updates_total{") {
			sum += v
		}
	}
	return sum
}

// TestOptimalPathAndVMMove proves the product's promise with FRR leaves and
// real packets: the ingress leaf routes a pod prefix via the worker's address
// on the L2VNI, traffic goes from the ingress leaf straight to the worker's
// leaf, and when the worker's VM moves to another leaf the traffic follows
// while t5gw sends nothing.
func TestOptimalPathAndVMMove(t *testing.T) {
	f := deployFabric(t)
	l1, l2, l3, l4, gw := f.n("l1"), f.n("l2"), f.n("l3"), f.n("l4"), f.n("gw")

	// A worker's leaf learns the worker's IP when the two talk; a real worker
	// would ARP for its gateway. Here the leaves ping the workers.
	lab.WaitFor(t, "l2 reaches both workers", wait, func() (bool, string) {
		return pings(l2, "192.168.10.11", 1) && pings(l2, "192.168.10.12", 1), ""
	})
	expectRoute(t, l3, "10.244.1.0/24", "192.168.10.11", "br100") // w1, BIRD
	expectRoute(t, l3, "10.244.2.0/24", "192.168.10.12", "br100") // w2, gobgpd
	// The leaves may have a prefix from one node of the pair before the
	// other has it: wait until both have both, so that what t5gw sends
	// later is counted from a settled start.
	for _, name := range []string{"gw", "gw2"} {
		n := f.n(name)
		lab.WaitFor(t, name+" advertises both workers' routes", wait, func() (bool, string) {
			m := metricsOf(n, "127.0.0.1:9179")
			return m[`t5gw_vrf_routes_advertised{vrf="blue"}`] == 2 && m["t5gw_ready"] == 1, fmt.Sprint(m)
		})
	}

	blue := f.lab.VRFNamespace(l1, "blue") // l1's tenant VRF is a namespace
	t.Run("ingress leaf with the VRF as a namespace", func(t *testing.T) {
		expectRoute(t, blue, "10.244.1.0/24", "192.168.10.11", "br100")
		expectRoute(t, blue, "10.244.2.0/24", "192.168.10.12", "br100")
		lab.WaitFor(t, "l1's VRF blue pings 10.244.1.1", wait, func() (bool, string) { return pings(blue, "10.244.1.1", 1), "" })
		show(t, blue, "ip", "route", "show", "proto", "bgp")
	})

	t.Run("ping from the ingress leaf to a pod", func(t *testing.T) {
		lab.WaitFor(t, "l3 pings 10.244.1.1", wait, func() (bool, string) { return pings(l3, "10.244.1.1", 1), "" })
		show(t, l3, "ip", "route", "show", "proto", "bgp")
		show(t, l3, "ping", "-c", "2", "10.244.1.1")
	})

	t.Run("traffic goes to the worker's leaf, not through t5gw", func(t *testing.T) {
		l2Before, gwBefore := rxPackets(t, l2, "vxlan100"), rxPackets(t, gw, "eth1")+rxPackets(t, gw, "eth2")
		if !pings(l3, "10.244.1.1", 100) {
			t.Fatal("ping 10.244.1.1 from l3 failed")
		}
		l2Got, gwGot := rxPackets(t, l2, "vxlan100")-l2Before, rxPackets(t, gw, "eth1")+rxPackets(t, gw, "eth2")-gwBefore
		t.Logf("100 pings: l2 vxlan100 received %d packets, t5gw's node %d", l2Got, gwGot)
		if l2Got < 100 {
			t.Errorf("l2's VXLAN device received %d packets, want the 100 pings", l2Got)
		}
		if gwGot >= 50 {
			t.Errorf("t5gw's node received %d packets during 100 pings; the data path must not cross it", gwGot)
		}
	})

	t.Run("VM move: traffic follows, t5gw sends nothing", func(t *testing.T) {
		w1mac := macOf(t, f.n("w1"), "eth1")
		updates := t5gwUpdates(t, gw)
		f.lab.MoveInterface(l2, "eth2", l4, "w1moved")
		l4.MustRun("ip", "link", "set", "w1moved", "master", "br100")
		lab.WaitFor(t, "l4 reaches the moved worker", wait, func() (bool, string) { return pings(l4, "192.168.10.11", 1), "" })
		// RFC 7432 section 15: l4 advertises the MAC with a higher mobility
		// sequence when it learns it while it still holds l2's route for it.
		// Moving the veth takes the port from l2 at once, so l2's withdrawal
		// may reach l4 first; l4 then learns a MAC no one else has and
		// rightly sends sequence 0 (CI saw it once). Either way l3 must put
		// the MAC behind l4; the sequence is logged.
		var moved evpnMAC
		lab.WaitFor(t, "l3 sees w1's MAC behind l4", wait, func() (bool, string) {
			m, last := leafMAC(l3, w1mac)
			moved = m
			return m.RemoteVtep == "10.0.0.14", last
		})
		t.Logf("l3 has w1's MAC %s behind l4 with mobility sequence %d", w1mac, moved.RemoteSequence)
		// l4 may still hold w1's IP as l2's (remote) when it first pings it;
		// once l2 withdraws it, the next ping makes it l4's own, advertised.
		lab.WaitFor(t, "l3: 10.244.1.0/24 via 192.168.10.11 dev br100 again", wait, func() (bool, string) {
			pings(l4, "192.168.10.11", 1)
			r, last := kernelRoute(l3, "10.244.1.0/24")
			return r.Gateway == "192.168.10.11" && r.Dev == "br100", last
		})
		if out, err := l3.Vtysh("show evpn mac vni 100 mac " + w1mac); err == nil {
			t.Logf("l3# show evpn mac vni 100 mac %s\n%s", w1mac, out)
		}
		l4Before, l2Before := rxPackets(t, l4, "vxlan100"), rxPackets(t, l2, "vxlan100")
		lab.WaitFor(t, "l3 pings 10.244.1.1 after the move", wait, func() (bool, string) { return pings(l3, "10.244.1.1", 1), "" })
		if !pings(l3, "10.244.1.1", 100) {
			t.Fatal("ping after the move failed")
		}
		expectRoute(t, blue, "10.244.1.0/24", "192.168.10.11", "br100")
		lab.WaitFor(t, "l1's VRF blue pings 10.244.1.1 after the move", wait, func() (bool, string) { return pings(blue, "10.244.1.1", 1), "" })
		l4Got, l2Got := rxPackets(t, l4, "vxlan100")-l4Before, rxPackets(t, l2, "vxlan100")-l2Before
		t.Logf("100 pings after the move: l4 vxlan100 received %d packets, l2 %d", l4Got, l2Got)
		if l4Got < 100 || l2Got >= 50 {
			t.Errorf("after the move l4 received %d and l2 %d VXLAN packets; want the pings at l4", l4Got, l2Got)
		}
		if now := t5gwUpdates(t, gw); now != updates {
			t.Errorf("t5gw sent %v Type-5 updates during the move, want none", now-updates)
		}
		if out, _ := f.n("w1").Birdc("show", "protocols", "t5gw"); !strings.Contains(out, "Established") {
			t.Errorf("the worker's session did not survive the move:\n%s", out)
		}
	})

	t.Run("the worker's Type-2 goes and comes back", func(t *testing.T) {
		l4.MustRun("ip", "neigh", "del", "192.168.10.11", "dev", "br100")
		for _, n := range []*lab.Node{l3, blue} {
			lab.WaitFor(t, n.Name+" drops the route when the gateway IP no longer resolves", wait, func() (bool, string) {
				r, last := kernelRoute(n, "10.244.1.0/24")
				return r.Dst == "", last
			})
		}
		lab.WaitFor(t, "l4 relearns the worker", wait, func() (bool, string) { return pings(l4, "192.168.10.11", 1), "" })
		expectRoute(t, l3, "10.244.1.0/24", "192.168.10.11", "br100")
		expectRoute(t, blue, "10.244.1.0/24", "192.168.10.11", "br100")
	})
}

// show logs a command's output on a node, for the walkthrough in the README.
func show(t *testing.T, n *lab.Node, args ...string) {
	t.Helper()
	out, _ := n.Run(args...)
	t.Logf("%s# %s\n%s", n.Name, strings.Join(args, " "), out)
}
