package test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// ready tells whether t5gwd in n answers 200 on /readyz, and what it says.
func ready(n *lab.Node) (bool, string) {
	out, err := n.Output("curl", "-s", "-w", " %{http_code}", "http://127.0.0.1:9179/readyz")
	if err != nil {
		return false, err.Error()
	}
	return strings.HasSuffix(strings.TrimSpace(out), " 200"), out
}

func expectReady(t *testing.T, n *lab.Node, d *lab.Proc) {
	t.Helper()
	lab.WaitFor(t, n.Name+": t5gwd ready", time.Minute, func() (bool, string) {
		ok, why := ready(n)
		return ok, why + "\n" + d.Tail(10)
	})
}

// rdsOf lists the RDs under which an FRR node holds a Type-5 for prefix.
func rdsOf(n *lab.Node, prefix string) (map[string]bool, string) {
	routes, last := frrType5All(n)
	rds := map[string]bool{}
	for _, r := range routes[prefix] {
		rds[r.RD] = true
	}
	return rds, last
}

// nodesOf is which t5gw nodes n holds a Type-5 route of prefix from: the
// administrators (router-ids) of its RDs, each with how many routes.
func nodesOf(n *lab.Node, prefix string) (map[string]int, string) {
	rds, last := rdsOf(n, prefix)
	nodes := map[string]int{}
	for rd := range rds {
		nodes[rd[:strings.LastIndexByte(rd, ':')]]++
	}
	return nodes, last
}

// TestRedundantPairIsHitless kills either node of a t5gw pair with SIGKILL
// and starts it again, the second as soon as the first reports ready, then
// does the same with SIGTERM (a restart, an upgrade), while
// the ingress leaves ping the pods every 100 ms and the kernel reports every
// change to their routes: no ping may be lost, no route may go missing.
func TestRedundantPairIsHitless(t *testing.T) {
	f := deployFabric(t)
	l2, l3, l1 := f.n("l2"), f.n("l3"), f.n("l1")
	blue := f.lab.VRFNamespace(l1, "blue")
	lab.WaitFor(t, "l2 reaches both workers", wait, func() (bool, string) {
		return pings(l2, "192.168.10.11", 1) && pings(l2, "192.168.10.12", 1), ""
	})
	daemons := map[string]*lab.Proc{"gw": f.n("gw").Procs("t5gwd")[0], "gw2": f.n("gw2").Procs("t5gwd")[0]}
	for name, d := range daemons {
		expectReady(t, f.n(name), d)
	}
	for _, prefix := range []string{"10.244.1.0/24", "10.244.2.0/24"} {
		lab.WaitFor(t, "l3 holds both nodes' Type-5 for "+prefix, wait, func() (bool, string) {
			nodes, last := nodesOf(l3, prefix)
			return nodes["10.0.0.3"] == 1 && nodes["10.0.0.4"] == 1, last
		})
	}
	expectRoute(t, l3, "10.244.1.0/24", "192.168.10.11", "br100")
	expectRoute(t, l3, "10.244.2.0/24", "192.168.10.12", "br100")
	expectRoute(t, blue, "10.244.1.0/24", "192.168.10.11", "br100")
	prefixes := []string{"10.244.1.0/24", "10.244.2.0/24"}
	p3 := startProbe(t, l3, prefixes, "10.244.1.1", "10.244.2.1")
	p1 := startProbe(t, blue, prefixes, "10.244.1.1")
	m3, m1 := p3.mark(), p1.mark()

	for _, round := range []struct {
		node string
		term bool // SIGTERM (a restart, an upgrade); else SIGKILL (a crash)
	}{{"gw", false}, {"gw2", false}, {"gw", true}, {"gw2", true}} {
		name, node := round.node, f.n(round.node)
		how := "killed"
		if round.term {
			how = "stopped (SIGTERM)"
			if err := daemons[name].Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if !daemons[name].Wait(wait) {
				t.Fatalf("%s did not stop on SIGTERM", name)
			}
		} else {
			daemons[name].Kill()
		}
		start := time.Now()
		daemons[name] = daemons[name].Restart()
		expectReady(t, node, daemons[name])
		t.Logf("%s %s and started again: ready in %s", name, how, since(start))
		if log := daemons[name].Tail(200); !strings.Contains(log, "restarting: every worker is back") {
			t.Errorf("%s: the restart did not wait for its workers:\n%s", name, daemons[name].Tail(30))
		}
	}
	for _, prefix := range prefixes {
		lab.WaitFor(t, "l3 holds both nodes' Type-5 for "+prefix+" again", wait, func() (bool, string) {
			nodes, last := nodesOf(l3, prefix)
			return nodes["10.0.0.3"] == 1 && nodes["10.0.0.4"] == 1, last
		})
	}
	r3 := p3.expectLossless("four restarts in a row", m3)
	r1 := p1.expectLossless("four restarts in a row", m1)
	t.Logf("l3: %s", r3)
	t.Logf("l1/blue: %s", r1)
	// A node's routes leaving and returning change the set of BGP paths: FRR
	// may install the route again with a new nexthop group, but always via
	// the worker.
	via := map[string]string{"10.244.1.0/24": "via 192.168.10.11 ", "10.244.2.0/24": "via 192.168.10.12 "}
	for _, line := range append(r3.changed, r1.changed...) {
		for prefix, gw := range via {
			if strings.Contains(line, prefix) && !strings.Contains(line, gw) {
				t.Errorf("a pod route changed to another next hop: %s", line)
			}
		}
	}
}
