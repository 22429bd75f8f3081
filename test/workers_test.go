package test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/t5gw/t5gw/test/lab"
)

// wait bounds every convergence in these tests. Worker sessions come up in a
// few seconds; a link going down is noticed after the 6 s hold time.
const wait = 45 * time.Second

// expectGateways waits until FRR on fab holds exactly want (prefix -> GW IP),
// every route valid, with t5gw's RD and VNI.
func expectGateways(t *testing.T, tp *topo, what string, want map[string]string) {
	t.Helper()
	lab.WaitFor(t, what, wait, func() (bool, string) {
		routes, last := frrType5(tp.fab)
		if diff := cmp.Diff(want, gateways(routes)); diff != "" {
			return false, fmt.Sprintf("diff (-want +got):\n%s\nFRR holds:\n%s", diff, last)
		}
		for p, r := range routes {
			if !r.Valid || r.RD != workerRD(r.GatewayIP) || r.VNI != "4001" {
				return false, fmt.Sprintf("%s: %+v", p, r)
			}
		}
		return true, last
	})
}

var allRoutes = map[string]string{
	"10.244.1.0/24":      "192.168.10.11", // w1, BIRD
	"fd00:10:244:1::/64": "fd00:192:168:10::11",
	"10.244.2.0/24":      "192.168.10.12", // w2, FRR
	"fd00:10:244:2::/64": "fd00:192:168:10::12",
	"10.244.3.0/24":      "192.168.10.130", // w3, gobgpd
	"fd00:10:244:3::/64": "fd00:192:168:10::130",
}

func without(m map[string]string, prefixes ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for _, p := range prefixes {
		delete(out, p)
	}
	return out
}

// TestWorkersToFRRFabric is the product's main job against real routers:
// workers' prefixes arrive at an FRR EVPN peer as Type-5 routes whose gateway
// IP is each worker's address, and leave when the worker withdraws, stops, or
// loses its link.
func TestWorkersToFRRFabric(t *testing.T) {
	tp := newTopo(t)
	tp.startWorkers(t)
	expectGateways(t, tp, "every worker's prefixes at the fabric peer", allRoutes)

	t.Run("refused route is counted, not advertised", func(t *testing.T) {
		lab.WaitFor(t, "not-accepted counted", wait, func() (bool, string) {
			m := tp.metrics(t)
			return m[`t5gw_vrf_routes_refused{reason="not-accepted",vrf="blue"}`] == 1 &&
				m[`t5gw_vrf_routes_advertised{vrf="blue"}`] == 6 &&
				m[`t5gw_vrf_worker_sessions_up{vrf="blue"}`] == 6, fmt.Sprint(m)
		})
	})

	t.Run("tshark decodes what t5gw sent", func(t *testing.T) {
		var decoded map[string]decodedType5
		lab.WaitFor(t, "every route in the capture", wait, func() (bool, string) {
			var err error
			decoded, err = tsharkType5(tp.fab, tp.capture)
			if err != nil {
				return false, err.Error()
			}
			for prefix := range allRoutes {
				if _, ok := decoded[prefix]; !ok {
					return false, fmt.Sprintf("%s missing; decoded %v", prefix, keys(decoded))
				}
			}
			return true, ""
		})
		tp.tshark.Interrupt()
		for prefix, gw := range allRoutes {
			d := decoded[prefix]
			if d.RD != workerRD(gw) || d.GatewayIP != gw || d.Label() != 4001 || d.NextHop != "10.0.0.3" {
				t.Errorf("%s: decoded RD %s GW %s label %d next hop %s; want %s %s 4001 10.0.0.3",
					prefix, d.RD, d.GatewayIP, d.Label(), d.NextHop, workerRD(gw), gw)
			}
			if !cmp.Equal(d.RouteTargets, []string{"65000:4001"}) || !strings.HasPrefix(d.Tunnel, "VXLAN") {
				t.Errorf("%s: decoded route targets %v tunnel %q; want [65000:4001] VXLAN", prefix, d.RouteTargets, d.Tunnel)
			}
			// RFC 4271 section 5: a sender SHOULD order the path attributes
			// by type code.
			if len(d.AttrTypes) < 4 || !slices.IsSorted(d.AttrTypes) {
				t.Errorf("%s: path attribute type codes %v; want ORIGIN, AS_PATH, LOCAL_PREF, MP_REACH_NLRI, ... in ascending order", prefix, d.AttrTypes)
			}
		}
	})

	t.Run("worker withdraws", func(t *testing.T) {
		if out, err := tp.w1.Birdc("disable", "pods4"); err != nil {
			t.Fatalf("birdc: %v %s", err, out)
		}
		expectGateways(t, tp, "BIRD's withdrawal", without(allRoutes, "10.244.1.0/24"))
		if out, err := tp.w1.Birdc("enable", "pods4"); err != nil {
			t.Fatalf("birdc: %v %s", err, out)
		}
		expectGateways(t, tp, "BIRD's re-announcement", allRoutes)
	})

	t.Run("worker stops", func(t *testing.T) {
		tp.gbd.Stop()
		expectGateways(t, tp, "gobgpd stopped", without(allRoutes, "10.244.3.0/24", "fd00:10:244:3::/64"))
	})

	t.Run("worker link goes down", func(t *testing.T) {
		tp.w2.MustRun("ip", "link", "set", "eth1", "down")
		expectGateways(t, tp, "FRR worker's link down (hold time 6 s)",
			without(allRoutes, "10.244.3.0/24", "fd00:10:244:3::/64", "10.244.2.0/24", "fd00:10:244:2::/64"))
	})

	t.Run("SIGUSR2 stops for good: everything withdrawn", func(t *testing.T) {
		if err := tp.t5gwd.Signal(syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		lab.WaitFor(t, "t5gwd exits", wait, func() (bool, string) { return tp.t5gwd.Exited(), tp.t5gwd.Tail(5) })
		if code := tp.t5gwd.ExitCode(); code != 0 {
			t.Errorf("t5gwd exited with %d, want 0", code)
		}
		expectGateways(t, tp, "nothing left at the fabric peer", map[string]string{})
		if log := tp.t5gwd.Tail(50); !strings.Contains(log, "shutting down for good: withdrawing every route") {
			t.Errorf("t5gwd log does not say it shut down for good:\n%s", log)
		}
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
