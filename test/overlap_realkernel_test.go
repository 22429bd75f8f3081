//go:build realkernel

// This test needs VRF devices, which only the real-kernel tier has: it runs
// inside the VM that TestVMTier boots.

package test

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// Two tenants whose workers have the same address: blue's worker and red's
// are both 192.168.10.11, each behind its own interface of gw, and gw is
// 192.168.10.3 in both VRFs. Both accept 10.200.0.0/24, which both workers
// announce; each accepts its own pod range only.
const (
	overlapBlue = `
name: blue
device: vrf-blue
install-routes: true
l3vni: 4001
route-targets: {export: ["65000:4001"]}
workers:
  listen: [192.168.10.3]
  peers:
    - {address: 192.168.10.11, asn: 65011, passive: false}
  accept: ["10.244.0.0/16 le 32", "10.200.0.0/24"]
`
	overlapRed = `
name: red
device: vrf-red
install-routes: true
l3vni: 4002
route-targets: {export: ["65000:4002"]}
workers:
  listen: [192.168.10.3]
  peers:
    - {address: 192.168.10.11, asn: 65012, passive: false}
  accept: ["10.245.0.0/16 le 32", "10.200.0.0/24"]
`
)

// overlapWorker is the BIRD config of a worker at 192.168.10.11 announcing
// prefixes.
func overlapWorker(asn int, prefixes ...string) string {
	var static strings.Builder
	for _, p := range prefixes {
		fmt.Fprintf(&static, " route %s blackhole;", p)
	}
	return fmt.Sprintf(`
log stderr all;
router id 192.168.10.11;
protocol device {}
protocol static pods4 { ipv4;%s }
protocol bgp t5gw {
  local 192.168.10.11 as %d;
  neighbor 192.168.10.3 as 65000;
  connect retry time 2;
  ipv4 { import none; export where proto = "pods4"; };
}
`, static.String(), asn)
}

// overlapTenant is one VRF of the test: its device, table, L3VNI, the
// interface of gw its worker is behind, and what the fabric and the table
// should hold of it.
type overlapTenant struct {
	name, device, port, rt string
	table, vni             int
	announced              []string // by its worker
	accepted               []string // of those, what the VRF's accept admits
}

var (
	overlapTenantBlue = overlapTenant{name: "blue", device: "vrf-blue", port: "eth1", rt: "RT:65000:4001", table: 10, vni: 4001,
		// 10.245.99.0/24 is red's range: a worker behind blue's interface
		// must not get it into red.
		announced: []string{"10.244.1.0/24", "10.200.0.0/24", "10.245.99.0/24"},
		accepted:  []string{"10.200.0.0/24", "10.244.1.0/24"}}
	overlapTenantRed = overlapTenant{name: "red", device: "vrf-red", port: "eth2", rt: "RT:65000:4002", table: 20, vni: 4002,
		announced: []string{"10.245.1.0/24", "10.200.0.0/24", "10.244.99.0/24"},
		accepted:  []string{"10.200.0.0/24", "10.245.1.0/24"}}
)

// devices gives gw the tenant's VRF laid out as FRR lays out an L3VNI: the VRF
// device, the L3VNI's bridge and VXLAN device, and the worker-facing port
// with 192.168.10.3 in it.
func (o overlapTenant) devices(gw *lab.Node) {
	vni := fmt.Sprint(o.vni)
	gw.MustRun("ip", "link", "add", o.device, "type", "vrf", "table", fmt.Sprint(o.table))
	gw.MustRun("ip", "link", "set", o.device, "up")
	gw.MustRun("ip", "link", "add", "br"+vni, "type", "bridge")
	gw.MustRun("ip", "link", "set", "br"+vni, "master", o.device, "up")
	gw.MustRun("ip", "link", "add", "vxlan"+vni, "type", "vxlan", "id", vni, "local", "10.0.0.3", "dstport", "4789", "nolearning")
	gw.MustRun("ip", "link", "set", "vxlan"+vni, "master", "br"+vni, "up")
	gw.MustRun("ip", "link", "set", o.port, "master", o.device)
	gw.MustRun("ip", "addr", "add", "192.168.10.3/24", "dev", o.port)
}

// kernelRoutes is what t5gw installed in the tenant's table, one line a
// route, sorted.
func (o overlapTenant) kernelRoutes(gw *lab.Node) []string {
	out, _ := gw.Output("ip", "route", "show", "table", fmt.Sprint(o.table), "proto", "200")
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines
}

// wantKernel is the table the tenant should have: each accepted prefix via
// its worker on its own port.
func (o overlapTenant) wantKernel() []string {
	var lines []string
	for _, p := range o.accepted {
		lines = append(lines, fmt.Sprintf("%s via 192.168.10.11 dev %s", p, o.port))
	}
	sort.Strings(lines)
	return lines
}

// fabricRoute is one Type-5 path as the fabric peer holds it, with its
// route targets.
type fabricRoute struct {
	Prefix, RD, GatewayIP, VNI, NextHop, ExtCommunities string
}

func (r fabricRoute) String() string {
	return fmt.Sprintf("%s rd=%s gw=%s vni=%s nh=%s ext=[%s]", r.Prefix, r.RD, r.GatewayIP, r.VNI, r.NextHop, r.ExtCommunities)
}

// fabricRoutes reads every Type-5 path FRR holds, sorted, with the raw
// output when it cannot.
func fabricRoutes(fab *lab.Node) ([]fabricRoute, string) {
	all, last := frrType5All(fab)
	if all == nil {
		return nil, last
	}
	var routes []fabricRoute
	for prefix, rs := range all {
		for _, r := range rs {
			routes = append(routes, fabricRoute{Prefix: prefix, RD: r.RD, GatewayIP: r.GatewayIP, VNI: r.VNI,
				NextHop: r.NextHop, ExtCommunities: r.ExtCommunities})
		}
	}
	slices.SortFunc(routes, func(a, b fabricRoute) int { return strings.Compare(a.String(), b.String()) })
	var lines []string
	for _, r := range routes {
		lines = append(lines, r.String())
	}
	return routes, strings.Join(lines, "\n")
}

// ofTenant sorts the fabric's routes into tenants by route target, and says
// what is wrong with any: no route target of exactly one tenant, a VNI or
// gateway IP not its tenant's, a next hop not the VTEP, an RD two tenants
// share.
func ofTenant(routes []fabricRoute, tenants ...overlapTenant) (map[string][]fabricRoute, []string) {
	byTenant := map[string][]fabricRoute{}
	rdOf := map[string]string{}
	var wrong []string
	for _, r := range routes {
		var mine []overlapTenant
		for _, o := range tenants {
			if slices.Contains(strings.Fields(r.ExtCommunities), o.rt) {
				mine = append(mine, o)
			}
		}
		if len(mine) != 1 {
			wrong = append(wrong, fmt.Sprintf("%s: the route targets of %d tenants", r, len(mine)))
			continue
		}
		o := mine[0]
		if r.VNI != fmt.Sprint(o.vni) || r.GatewayIP != "192.168.10.11" || r.NextHop != "10.0.0.3" {
			wrong = append(wrong, fmt.Sprintf("%s: not %s's VNI %d, gateway IP 192.168.10.11, next hop 10.0.0.3", r, o.name, o.vni))
		}
		if other, ok := rdOf[r.RD]; ok && other != o.name {
			wrong = append(wrong, fmt.Sprintf("%s: RD also used by %s", r, other))
		}
		rdOf[r.RD] = o.name
		byTenant[o.name] = append(byTenant[o.name], r)
	}
	return byTenant, wrong
}

// prefixes lists the routes' prefixes, sorted.
func prefixes(routes []fabricRoute) []string {
	var out []string
	for _, r := range routes {
		out = append(out, r.Prefix)
	}
	sort.Strings(out)
	return out
}

// TestRealKernelOverlappingVRFs runs two VRFs whose workers have the same
// address: each worker's session is its own VRF's, its routes go to the
// fabric under its VRF's route target, VNI and an RD of their own, and into
// its VRF's table only; a worker can put nothing into the other VRF, and
// one going leaves the other's routes where they are.
func TestRealKernelOverlappingVRFs(t *testing.T) {
	lab.Require(t, "ip", "vtysh", "bird", "birdc", "ss", "curl")
	l := lab.New(t)
	fab, gw, wb, wr := l.Node("fab"), l.Node("gw"), l.Node("wb"), l.Node("wr")
	blue, red := overlapTenantBlue, overlapTenantRed
	l.Link(fab, "eth0", gw, "eth0")
	l.Link(gw, blue.port, wb, "eth0")
	l.Link(gw, red.port, wr, "eth0")
	fab.MustRun("ip", "addr", "add", "10.0.0.1/24", "dev", "eth0")
	gw.MustRun("ip", "addr", "add", "10.0.0.3/24", "dev", "eth0")
	wb.MustRun("ip", "addr", "add", "192.168.10.11/24", "dev", "eth0")
	wr.MustRun("ip", "addr", "add", "192.168.10.11/24", "dev", "eth0")
	blue.devices(gw)
	red.devices(gw)
	fab.FRR(labFile(t, "fab/frr.conf"))

	gw.Write("vrfs.d/blue.yaml", overlapBlue)
	gw.Write("vrfs.d/red.yaml", overlapRed)
	daemon := gw.Start("t5gwd", t5gwd, "--config", gw.Write("t5gw.yaml", labFile(t, "gw/t5gw.yaml")))
	wb.BIRD(overlapWorker(65011, blue.announced...))
	wr.BIRD(overlapWorker(65012, red.announced...))

	// expectFabric waits until the fabric peer holds exactly want (tenant to
	// its prefixes), every route well placed, and returns the routes.
	expectFabric := func(t *testing.T, what string, within time.Duration, want map[string][]string) map[string][]fabricRoute {
		t.Helper()
		var byTenant map[string][]fabricRoute
		lab.WaitFor(t, what, within, func() (bool, string) {
			routes, last := fabricRoutes(fab)
			var wrong []string
			byTenant, wrong = ofTenant(routes, blue, red)
			got := map[string][]string{}
			for name, rs := range byTenant {
				got[name] = prefixes(rs)
			}
			return len(routes) > 0 && len(wrong) == 0 && maps.EqualFunc(got, want, slices.Equal[[]string]),
				fmt.Sprintf("want %v, got %v\nmisplaced: %v\n%s\nt5gwd:\n%s", want, got, wrong, last, daemon.Tail(10))
		})
		return byTenant
	}
	expectKernel := func(t *testing.T, what string, o overlapTenant, want []string) {
		t.Helper()
		lab.WaitFor(t, what, vmWait, func() (bool, string) {
			got := o.kernelRoutes(gw)
			return slices.Equal(got, want), fmt.Sprintf("table %d: want %q, got %q", o.table, want, got)
		})
	}
	both := map[string][]string{"blue": blue.accepted, "red": red.accepted}
	// Two BIRDs, FRR and t5gwd starting under an emulated CPU: in a
	// loaded VM this has taken over a minute.
	before := expectFabric(t, "each VRF's routes at the fabric peer under its own route target and VNI", 2*vmWait, both)

	t.Run("both sessions up, each bound to its VRF", func(t *testing.T) {
		lab.WaitFor(t, "a session in each VRF", vmWait, func() (bool, string) {
			m := metricsOf(gw, "127.0.0.1:9179")
			return m[`t5gw_vrf_worker_sessions_up{vrf="blue"}`] == 1 && m[`t5gw_vrf_worker_sessions_up{vrf="red"}`] == 1,
				fmt.Sprint(m)
		})
		// The same address and port twice: only sockets bound to different
		// VRF devices can share them.
		out, err := gw.Output("ss", "-tlnH")
		for _, o := range []overlapTenant{blue, red} {
			if err != nil || !strings.Contains(out, "192.168.10.3%"+o.device+":179") {
				t.Errorf("no listener on 192.168.10.3%%%s:179: %v\n%s\nt5gwd:\n%s", o.device, err, out, daemon.Tail(30))
			}
		}
		out, err = gw.Output("ss", "-tnH", "state", "established", "dst", "192.168.10.11")
		for _, o := range []overlapTenant{blue, red} {
			if err != nil || !strings.Contains(out, "%"+o.device+":") {
				t.Errorf("no session with 192.168.10.11 in %s: %v\n%s", o.device, err, out)
			}
		}
	})

	t.Run("the shared prefix twice, once per VNI, with distinct RDs", func(t *testing.T) {
		if len(before["blue"]) != 2 || len(before["red"]) != 2 {
			t.Fatalf("want 2 routes per VRF, got blue %v, red %v", before["blue"], before["red"])
		}
		rds := map[string][]string{}
		var shared []string
		for _, name := range []string{"blue", "red"} {
			for _, r := range before[name] {
				rds[name] = append(rds[name], r.RD)
				if r.Prefix == "10.200.0.0/24" {
					shared = append(shared, r.String())
				}
			}
		}
		if len(shared) != 2 {
			t.Errorf("10.200.0.0/24: want one route per VNI, got %q", shared)
		}
		for _, rd := range rds["blue"] {
			if slices.Contains(rds["red"], rd) {
				t.Errorf("blue and red share RD %s: blue %v, red %v", rd, rds["blue"], rds["red"])
			}
		}
		t.Logf("fabric peer:\n%s\n%s", fmtRoutes(before["blue"]), fmtRoutes(before["red"]))
	})

	t.Run("each VRF's table holds its own routes only", func(t *testing.T) {
		expectKernel(t, "blue's routes in table 10", blue, blue.wantKernel())
		expectKernel(t, "red's routes in table 20", red, red.wantKernel())
	})

	t.Run("a worker cannot inject into the other VRF", func(t *testing.T) {
		// Each worker announces a prefix only the other VRF accepts: it is
		// refused in the worker's own VRF, and nowhere else to be seen (the
		// fabric's routes are exactly the accepted ones, above).
		lab.WaitFor(t, "each VRF got its own worker's 3 routes and refused 1", vmWait, func() (bool, string) {
			m := metricsOf(gw, "127.0.0.1:9179")
			ok := true
			for _, name := range []string{"blue", "red"} {
				ok = ok && m[`t5gw_vrf_routes_received{vrf="`+name+`"}`] == 3 &&
					m[`t5gw_vrf_routes_accepted{vrf="`+name+`"}`] == 2 &&
					m[`t5gw_vrf_routes_refused{reason="not-accepted",vrf="`+name+`"}`] == 1 &&
					m[`t5gw_vrf_routes_advertised{vrf="`+name+`"}`] == 2
			}
			return ok, fmt.Sprint(m)
		})
		for _, o := range []overlapTenant{blue, red} {
			if got := o.kernelRoutes(gw); !slices.Equal(got, o.wantKernel()) {
				t.Errorf("table %d: want %q, got %q", o.table, o.wantKernel(), got)
			}
		}
	})

	t.Run("one worker withdrawing takes only its VRF's routes", func(t *testing.T) {
		downs := metricsOf(gw, "127.0.0.1:9179")[`t5gw_vrf_worker_session_downs_total{vrf="blue"}`]
		if out, err := wr.Birdc("disable", "t5gw"); err != nil {
			t.Fatalf("birdc disable: %v\n%s", err, out)
		}
		after := expectFabric(t, "red's routes withdrawn, blue's kept", vmWait, map[string][]string{"blue": blue.accepted})
		if !slices.Equal(after["blue"], before["blue"]) {
			t.Errorf("blue's routes moved:\nbefore\n%s\nafter\n%s", fmtRoutes(before["blue"]), fmtRoutes(after["blue"]))
		}
		expectKernel(t, "table 20 emptied", red, nil)
		if got := blue.kernelRoutes(gw); !slices.Equal(got, blue.wantKernel()) {
			t.Errorf("table 10: want %q, got %q", blue.wantKernel(), got)
		}
		m := metricsOf(gw, "127.0.0.1:9179")
		if m[`t5gw_vrf_worker_sessions_up{vrf="blue"}`] != 1 || m[`t5gw_vrf_worker_session_downs_total{vrf="blue"}`] != downs {
			t.Errorf("blue's session moved: %v", m)
		}

		if out, err := wr.Birdc("enable", "t5gw"); err != nil {
			t.Fatalf("birdc enable: %v\n%s", err, out)
		}
		back := expectFabric(t, "red's routes back", vmWait, both)
		if !slices.Equal(back["blue"], before["blue"]) {
			t.Errorf("blue's routes moved:\nbefore\n%s\nafter\n%s", fmtRoutes(before["blue"]), fmtRoutes(back["blue"]))
		}
		expectKernel(t, "red's routes back in table 20", red, red.wantKernel())
	})
}

func fmtRoutes(routes []fabricRoute) string {
	var lines []string
	for _, r := range routes {
		lines = append(lines, r.String())
	}
	return strings.Join(lines, "\n")
}
