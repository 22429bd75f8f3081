package test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/t5gw/t5gw/cmd/t5gwd/api"
	"github.com/t5gw/t5gw/test/lab"
)

// TestCtlExplainsRoutes runs t5gwctl against a live t5gwd with BIRD, FRR,
// gobgpd and ExaBGP workers, the way an operator asks "is my worker's route
// in the fabric, and if not, why not?": an accepted route, a refused one for
// each reason, an unknown prefix, and the other commands. (An IPv4 route
// with next hop 0.0.0.0 never reaches t5gw: GoBGP treats the UPDATE as a
// withdrawal, RFC 7606; the IPv6 one with :: does.)
func TestCtlExplainsRoutes(t *testing.T) {
	lab.Require(t, "exabgp")
	tp := newTopo(t)
	tp.startWorkers(t)
	// w3 (gobgpd) also announces a prefix outside accept and one with a
	// next hop that is not its own.
	for _, args := range [][]string{
		{"global", "rib", "add", "-a", "ipv4", "10.1.0.0/16"},
		{"global", "rib", "add", "-a", "ipv4", "10.244.9.0/24", "nexthop", "192.168.10.99"},
	} {
		if out, err := tp.w3.GoBGP(args...); err != nil {
			t.Fatalf("gobgp %v: %v\n%s", args, err, out)
		}
	}
	// w4: ExaBGP, which sends next hops gobgpd would not: none, IPv4-mapped
	// for an IPv6 prefix, link-local only.
	w4 := tp.lab.Node("w4")
	tp.lab.Link(w4, "eth1", tp.sw, "p4")
	tp.sw.MustRun("ip", "link", "set", "p4", "master", "br0")
	w4.MustRun("ip", "addr", "add", "192.168.10.140/24", "dev", "eth1")
	conf := w4.Write("exabgp.conf", `neighbor 192.168.10.3 {
  router-id 192.168.10.140;
  local-address 192.168.10.140;
  local-as 65013;
  peer-as 65000;
  family { ipv4 unicast; ipv6 unicast; }
  static {
    route 10.244.4.0/24 next-hop 192.168.10.140;
    route fd00:10:244:6::/64 next-hop ::;
    route fd00:10:244:7::/64 next-hop fe80::7;
    route fd00:10:244:8::/64 next-hop ::ffff:192.168.10.140;
  }
}
`)
	w4.Start("exabgp", "env", "exabgp.daemon.user=root", "exabgp.daemon.daemonize=false", "exabgp.log.destination=stdout",
		"exabgp", conf)
	explain := func(t *testing.T, query string) (api.Explained, string) {
		t.Helper()
		out, err := tp.ctl("--json", "explain", query)
		if err != nil {
			t.Fatalf("t5gwctl explain %s: %v\n%s", query, err, out)
		}
		var e api.Explained
		if err := json.Unmarshal([]byte(out), &e); err != nil {
			t.Fatalf("t5gwctl --json explain %s: %v\n%s", query, err, out)
		}
		return e, out
	}
	lab.WaitFor(t, "t5gw holds the refused routes", wait, func() (bool, string) {
		for _, q := range []string{"10.1.0.0/16", "10.244.9.0/24", "fd00:10:244:6::/64", "fd00:10:244:7::/64", "fd00:10:244:8::/64"} {
			if e, last := explain(t, q); len(e.Explanations) != 1 {
				return false, q + ":\n" + last
			}
		}
		return true, ""
	})
	lab.WaitFor(t, "w3's route advertised", wait, func() (bool, string) {
		e, last := explain(t, "10.244.3.0/24")
		return len(e.Explanations) == 1 && len(e.Explanations[0].Routes) == 1 && e.Explanations[0].Routes[0].Advertised &&
			len(e.Explanations[0].Routes[0].SentTo) == 1, last
	})

	t.Run("an accepted route: the rule, the Type-5, the fabric peer", func(t *testing.T) {
		e, last := explain(t, "10.244.3.0/24")
		x := e.Explanations[0]
		a, r := x.Announcements[0], x.Routes[0]
		if x.VRF != "blue" || len(x.Announcements) != 1 || a.Worker != "192.168.10.130" || a.Session != "established" ||
			!a.Accepted || a.AcceptRule != "10.244.0.0/16 le 32" || a.ASPath != "65013" {
			t.Errorf("announcement:\n%s", last)
		}
		if r.RD != workerRD("192.168.10.130") || r.GatewayIP != "192.168.10.130" || r.Label != 4001 || r.NextHop != "10.0.0.3" ||
			strings.Join(r.RouteTargets, ",") != "65000:4001" || r.SentTo[0] != "10.0.0.1" {
			t.Errorf("Type-5:\n%s", last)
		}
		out, err := tp.ctl("explain", "10.244.3.7") // an address: the prefix that holds it
		if err != nil || !strings.Contains(out, "10.244.3.0/24 in VRF blue") || !strings.Contains(out, `accepted: inside "10.244.0.0/16 le 32"`) ||
			!strings.Contains(out, "sent to: 10.0.0.1") {
			t.Errorf("t5gwctl explain 10.244.3.7: %v\n%s", err, out)
		}
		t.Logf("gw# t5gwctl explain 10.244.3.7\n%s", out)
	})

	for _, c := range []struct{ worker, prefix, reason, detail string }{
		{"192.168.10.130", "10.1.0.0/16", "not-accepted", "10.1.0.0/16 is outside the accept rules"},
		{"192.168.10.130", "10.244.9.0/24", "third-party-nexthop", "10.244.9.0/24 has next hop 192.168.10.99, not the worker's address 192.168.10.130"},
		{"192.168.10.140", "fd00:10:244:6::/64", "no-nexthop", "fd00:10:244:6::/64 has next hop ::"},
		{"192.168.10.140", "fd00:10:244:8::/64", "family-mismatch", "fd00:10:244:8::/64 has next hop ::ffff:192.168.10.140 of the other address family"},
		{"192.168.10.140", "fd00:10:244:7::/64", "link-local-nexthop", "fd00:10:244:7::/64 has only the link-local next hop fe80::7"},
	} {
		t.Run("refused: "+c.reason, func(t *testing.T) {
			e, last := explain(t, c.prefix)
			x := e.Explanations[0]
			i := slices.IndexFunc(x.Announcements, func(a api.Announcement) bool { return a.Worker == c.worker })
			if i < 0 || x.Announcements[i].Accepted || x.Announcements[i].Reason != c.reason ||
				x.Announcements[i].Detail != c.detail || len(x.Routes) != 0 {
				t.Errorf("want %s's refused for %s (%s):\n%s", c.worker, c.reason, c.detail, last)
			}
			out, _ := tp.ctl("explain", c.prefix)
			if !strings.Contains(out, "refused ("+c.reason+")") || !strings.Contains(out, "No Type-5 route") {
				t.Errorf("t5gwctl explain %s:\n%s", c.prefix, out)
			}
			t.Logf("gw# t5gwctl explain %s\n%s", c.prefix, out)
		})
	}

	t.Run("an unknown prefix", func(t *testing.T) {
		e, _ := explain(t, "10.9.9.0/24")
		out, err := tp.ctl("explain", "10.9.9.0/24")
		if len(e.Explanations) != 0 || err != nil || !strings.Contains(out, "No worker announces 10.9.9.0/24 in any VRF") {
			t.Errorf("t5gwctl explain 10.9.9.0/24: %v\n%s", err, out)
		}
		if out, err := tp.ctl("explain", "nonsense"); err == nil || !strings.Contains(err.Error(), "neither a prefix nor an address") {
			t.Errorf("t5gwctl explain nonsense: %v\n%s", err, out)
		}
		if out, err := tp.ctl("explain", "10.9.9.0/24", "--vrf", "red"); err == nil || !strings.Contains(err.Error(), `no VRF "red"`) {
			t.Errorf("t5gwctl explain --vrf red: %v\n%s", err, out)
		}
	})

	t.Run("vrfs, workers, routes, reload", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want []string
		}{
			{[]string{"vrfs"}, []string{"blue", "running", "4001", "per-worker"}},
			{[]string{"workers", "--vrf", "blue"}, []string{"192.168.10.11", "192.168.10.130", "established", "1 not-accepted, 1 third-party-nexthop"}},
			{[]string{"routes", "10.244.0.0/16"}, []string{"10.244.1.0/24", "10.244.3.0/24", workerRD("192.168.10.11"), "10.0.0.1"}},
			{[]string{"reload", "--dry-run"}, []string{"Nothing to change"}},
		} {
			out, err := tp.ctl(c.args...)
			for _, w := range c.want {
				if err != nil || !strings.Contains(out, w) {
					t.Errorf("t5gwctl %v lacks %q: %v\n%s", c.args, w, err, out)
				}
			}
			t.Logf("gw# t5gwctl %s\n%s", strings.Join(c.args, " "), out)
		}
		// GoBGP's own collector, per worker session, next to t5gw's.
		found := false
		for series, v := range tp.metrics(t) {
			found = found || strings.HasPrefix(series, "bgp_peer_state{") && strings.Contains(series, `peer="192.168.10.11"`) &&
				strings.Contains(series, `speaker="vrf/blue"`) && v > 0
		}
		if !found {
			t.Error(`no bgp_peer_state{peer="192.168.10.11",speaker="vrf/blue"} in t5gwd's metrics`)
		}
		out, err := tp.ctl("--json", "workers")
		var ws []api.Worker
		if err != nil || json.Unmarshal([]byte(out), &ws) != nil || len(ws) < 3 {
			t.Errorf("t5gwctl --json workers: %v\n%s", err, out)
		}
	})
}
