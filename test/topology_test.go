package test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// topo is the lab of issue 2: an FRR EVPN peer (fab), t5gwd (gw), and three
// workers on one segment behind a bridge (sw): BIRD (w1), FRR (w2), gobgpd (w3).
type topo struct {
	lab                *lab.Lab
	fab, gw, sw        *lab.Node
	w1, w2, w3         *lab.Node
	t5gwd, tshark, gbd *lab.Proc
	capture            string
}

func labFile(t *testing.T, name string) string { return fileOf(t, "workers-lab", name) }

// newTopo builds the namespaces and links, starts the fabric peer (with a
// capture of its BGP traffic) and t5gwd, but no workers yet.
func newTopo(t *testing.T) *topo {
	lab.Require(t, "ip", "vtysh", "/usr/lib/frr/bgpd", "bird", "birdc", "gobgpd", "gobgp", "tshark", "curl")
	l := lab.New(t)
	tp := &topo{lab: l, fab: l.Node("fab"), gw: l.Node("gw"), sw: l.Node("sw"),
		w1: l.Node("w1"), w2: l.Node("w2"), w3: l.Node("w3")}

	l.Link(tp.fab, "eth0", tp.gw, "eth0")
	tp.fab.MustRun("ip", "addr", "add", "10.0.0.1/24", "dev", "eth0")
	tp.gw.MustRun("ip", "addr", "add", "10.0.0.3/24", "dev", "eth0")

	tp.sw.MustRun("ip", "link", "add", "br0", "type", "bridge")
	tp.sw.MustRun("ip", "link", "set", "br0", "up")
	for i, n := range []*lab.Node{tp.gw, tp.w1, tp.w2, tp.w3} {
		port := "p" + string(rune('0'+i))
		l.Link(n, "eth1", tp.sw, port)
		tp.sw.MustRun("ip", "link", "set", port, "master", "br0")
	}
	for n, host := range map[*lab.Node]string{tp.gw: "3", tp.w1: "11", tp.w2: "12", tp.w3: "130"} {
		n.MustRun("ip", "addr", "add", "192.168.10."+host+"/24", "dev", "eth1")
		n.MustRun("ip", "addr", "add", "fd00:192:168:10::"+host+"/64", "dev", "eth1")
	}

	tp.capture = filepath.Join(tp.fab.Dir, "fabric.pcap")
	// The test decodes the capture while it runs, polling until every route
	// is in it: dumpcap writes packets in its own time.
	tp.tshark = tp.fab.Start("tshark", "tshark", "-i", "eth0", "-f", "tcp port 179", "-w", tp.capture)
	lab.WaitFor(t, "tshark capturing", 20*time.Second, func() (bool, string) {
		tail := tp.tshark.Tail(5)
		return contains(tail, "Capturing on"), tail
	})
	tp.fab.FRR(labFile(t, "fab/frr.conf"))

	tp.gw.Write("vrfs.d/blue.yaml", labFile(t, "gw/vrfs.d/blue.yaml"))
	cfg := tp.gw.Write("t5gw.yaml", labFile(t, "gw/t5gw.yaml"))
	tp.t5gwd = tp.gw.Start("t5gwd", t5gwd, "--config", cfg, "--api-socket", tp.apiSocket())
	lab.WaitFor(t, "fabric session up", 30*time.Second, func() (bool, string) {
		m := tp.metrics(t)
		return m["t5gw_fabric_sessions_up"] == 1, tp.t5gwd.Tail(10)
	})
	return tp
}

func (tp *topo) startWorkers(t *testing.T) {
	tp.w1.BIRD(labFile(t, "w1/bird.conf"))
	tp.w2.FRR(labFile(t, "w2/frr.conf"))
	tp.gbd = tp.w3.GoBGPd(labFile(t, "w3/gobgpd.toml"))
	lab.WaitFor(t, "gobgpd API", 20*time.Second, func() (bool, string) {
		out, err := tp.w3.GoBGP("global")
		return err == nil, out + errString(err)
	})
	for _, args := range [][]string{
		{"global", "rib", "add", "-a", "ipv4", "10.244.3.0/24"},
		{"global", "rib", "add", "-a", "ipv6", "fd00:10:244:3::/64"},
	} {
		if out, err := tp.w3.GoBGP(args...); err != nil {
			t.Fatalf("gobgp %v: %v\n%s", args, err, out)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// apiSocket is where the lab's t5gwd serves its local API.
func (tp *topo) apiSocket() string { return filepath.Join(tp.gw.Dir, "t5gwd.sock") }

// ctl runs t5gwctl against the lab's t5gwd.
func (tp *topo) ctl(args ...string) (string, error) {
	return tp.gw.Output(append([]string{t5gwctl, "--socket", tp.apiSocket()}, args...)...)
}
