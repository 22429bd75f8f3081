package test

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// reloadWith applies an edit of the lab's config files and waits until
// t5gwd has reloaded it.
func (r *reloadLab) reloadWith(t *testing.T, edit func(r *reloadLab)) {
	t.Helper()
	ok := `t5gw_config_reloads_total{result="success"}`
	before := r.m()[ok]
	edit(r)
	r.write()
	lab.WaitFor(t, "reload applied", wait, func() (bool, string) { return r.m()[ok] == before+1, r.daemon.Tail(15) })
}

var reReceived = regexp.MustCompile(`(\d+) received`)

// answeredPings sends count pings from n, from src, to addr, and returns how
// many were answered.
func answeredPings(n *lab.Node, src, addr string, count int) int {
	out, _ := n.Run("ping", "-n", "-c", strconv.Itoa(count), "-i", "0.05", "-W", "1", "-I", src, addr)
	m := reReceived.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	got, _ := strconv.Atoi(m[1])
	return got
}

// TestUnresolvedGatewayPolicies takes a worker's Type-2 route out of the
// fabric (its leaf forgets its IP) under each unresolved policy, with real
// packets from an FRR 8.4 ingress leaf: advertise leaves the route in the
// fabric, where FRR cannot use it; withhold takes it out until the worker
// resolves again; fallback sends it through t5gw's own node, which routes
// it to the worker, and goes back to the direct path once the worker
// resolves.
func TestUnresolvedGatewayPolicies(t *testing.T) {
	r := newReloadLab(t, false)
	l2, l3, gw := r.f.n("l2"), r.l3, r.gw
	const (
		pod    = "10.244.1.1"
		prefix = "10.244.1.0/24"
		// The ingress leaf's address in the tenant subnet, as a tenant
		// host behind it would have: the worker answers it directly.
		src  = "192.168.10.253"
		rmac = "02:00:0a:00:00:03"
	)
	// t5gw's node as an L3VNI VTEP: what ingress leaves send to its router
	// MAC on VNI 4001 it routes to the worker (on a leaf with the VRF
	// device, install-routes puts that route in the VRF's table).
	for _, args := range [][]string{
		{"ip", "link", "add", "br4001", "type", "bridge"},
		{"ip", "link", "set", "br4001", "address", rmac},
		{"ip", "link", "add", "vxlan4001", "type", "vxlan", "id", "4001", "local", "10.0.0.3", "dstport", "4789", "nolearning"},
		{"ip", "link", "set", "vxlan4001", "master", "br4001"},
		{"ip", "link", "set", "vxlan4001", "up"},
		{"ip", "link", "set", "br4001", "up"},
		{"sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.br4001.rp_filter=0"},
		{"ip", "route", "add", prefix, "via", "192.168.10.11", "dev", "eth2"},
	} {
		gw.MustRun(args...)
	}
	unresolved := `t5gw_vrf_gateway_ips_unresolved{vrf="blue"}`
	forget := func(t *testing.T) {
		t.Helper()
		flush := func() { l2.MustRun("ip", "neigh", "flush", "to", "192.168.10.11", "dev", "br100") }
		flush()
		flushed := time.Now()
		lab.WaitFor(t, "t5gw counts w1 unresolved", wait, func() (bool, string) {
			v, last := gatewaysOf(gw)
			if r.m()[unresolved] == 1 && !v["192.168.10.11"].Resolved {
				return true, last
			}
			// w1 may teach l2 its address again before l2 withdraws it
			// (its own ARP through l2's bridge): then forget it again.
			if time.Since(flushed) > 10*time.Second {
				flush()
				flushed = time.Now()
			}
			return false, last
		})
	}
	relearn := func(t *testing.T) {
		t.Helper()
		lab.WaitFor(t, "l2 relearns w1", wait, func() (bool, string) { return pings(l2, "192.168.10.11", 1), "" })
		lab.WaitFor(t, "t5gw counts no unresolved gateway IP", wait, func() (bool, string) {
			return r.m()[unresolved] == 0, fmt.Sprint(r.m()[unresolved])
		})
	}
	noKernelRoute := func(t *testing.T) {
		t.Helper()
		lab.WaitFor(t, "l3 has no route to "+prefix, wait, func() (bool, string) {
			rt, last := kernelRoute(l3, prefix)
			return rt.Dst == "", last
		})
	}
	expectAnswered := func(t *testing.T, want int) {
		t.Helper()
		if got := answeredPings(l3, src, pod, 10); got != want {
			t.Errorf("%d of 10 pings from l3 to %s answered, want %d", got, pod, want)
		}
	}

	// unanswered forgets w1 on l2, waits for settled, and expects none of
	// the pings from l3 answered. w1 may teach l2 its address again on its
	// own (an ARP to l2's address in the subnet): when that happens during
	// the pings, they measured a resolved w1, so it forgets and pings again.
	unanswered := func(t *testing.T, settled func(t *testing.T)) {
		t.Helper()
		for attempt := 1; ; attempt++ {
			forget(t)
			settled(t)
			got := answeredPings(l3, src, pod, 10)
			if r.m()[unresolved] == 1 {
				if got != 0 {
					t.Errorf("%d of 10 pings from l3 to %s answered, want 0", got, pod)
				}
				return
			}
			if attempt == 3 {
				t.Fatalf("l2 learned w1 again during the pings, %d times", attempt)
			}
			t.Logf("l2 learned w1 again during the pings (%d of 10 answered); forgetting it again", got)
		}
	}

	t.Run("advertise: the route stays in the fabric, where FRR cannot use it", func(t *testing.T) {
		unanswered(t, func(t *testing.T) {
			lab.WaitFor(t, "l3 holds gw's Type-5 with gateway IP 192.168.10.11", wait, func() (bool, string) {
				routes, last := frrType5All(l3)
				rs := routes[prefix]
				return len(rs) == 1 && rs[0].GatewayIP == "192.168.10.11", last
			})
			noKernelRoute(t)
		})
	})

	t.Run("withhold: the route leaves the fabric until the worker resolves", func(t *testing.T) {
		r.reloadWith(t, func(r *reloadLab) { r.blue += "unresolved: withhold\n" })
		unanswered(t, func(t *testing.T) {
			lab.WaitFor(t, "l3 holds no Type-5 for "+prefix+", and still w2's", wait, func() (bool, string) {
				routes, last := frrType5All(l3)
				return len(routes[prefix]) == 0 && len(routes["10.244.2.0/24"]) == 1, last
			})
			noKernelRoute(t)
		})
		relearn(t)
		expectRoute(t, l3, prefix, "192.168.10.11", "br100")
		expectAnswered(t, 10)
	})

	t.Run("fallback: through t5gw's node while unresolved, direct again after", func(t *testing.T) {
		r.reloadWith(t, func(r *reloadLab) {
			r.edit(&r.blue, "unresolved: withhold\n", "unresolved: fallback\nrouter-mac: "+rmac+"\n")
		})
		forget(t)
		expectRoute(t, l3, prefix, "10.0.0.3", "br4001")
		show(t, l3, "ip", "route", "show", prefix)
		before := rxPackets(t, gw, "vxlan4001")
		expectAnswered(t, 10)
		if got := rxPackets(t, gw, "vxlan4001") - before; got < 10 {
			t.Errorf("t5gw's node received %d packets on VNI 4001 for 10 pings, want them all", got)
		}
		relearn(t)
		expectRoute(t, l3, prefix, "192.168.10.11", "br100")
		before = rxPackets(t, gw, "vxlan4001")
		expectAnswered(t, 10)
		if got := rxPackets(t, gw, "vxlan4001") - before; got >= 5 {
			t.Errorf("t5gw's node received %d packets on VNI 4001 once the worker resolved; the path must be direct", got)
		}
	})
}
