package test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/t5gw/t5gw/cmd/t5gwd/api"
	"github.com/t5gw/t5gw/test/lab"
)

// corpus is the lab of issue 12: t5gwd (gw) with an FRR fabric peer (fab),
// a steady BIRD worker (w1) whose routes must never move, and the offenders
// in w4: ExaBGP at .140, which also announces a steady route, and the raw
// speaker at .141, one process per case.
type corpus struct {
	lab               *lab.Lab
	fab, gw, w4       *lab.Node
	t5gwd             *lab.Proc
	rawbgp, exaCmds   string
	steady            map[string]string // prefix -> gateway IP at the fabric, always
	sessions          map[string]api.Worker
	fabricConnections [2]int // established, dropped
	lastUpdate        map[string]int64
}

// The steady routes: w1's three and ExaBGP's one.
var corpusSteady = map[string]string{
	"10.244.1.0/24":      "192.168.10.11",
	"10.244.2.0/24":      "192.168.10.11",
	"fd00:10:244:1::/64": "fd00:192:168:10::11",
	exaSteady:            exaAddr,
}

func rfc7606File(t *testing.T, name string) string { return fileOf(t, "rfc7606-lab", name) }

func newCorpus(t *testing.T) *corpus {
	lab.Require(t, "ip", "vtysh", "/usr/lib/frr/bgpd", "bird", "birdc", "exabgp", "tail", "curl", "go")
	bin := filepath.Join(t.TempDir(), "rawbgp")
	if out, err := exec.Command("go", "build", "-o", bin, "./rawbgp").CombinedOutput(); err != nil {
		t.Fatalf("building rawbgp: %v\n%s", err, out)
	}
	l := lab.New(t)
	c := &corpus{lab: l, fab: l.Node("fab"), gw: l.Node("gw"), w4: l.Node("w4"), rawbgp: bin, steady: corpusSteady}
	sw, w1 := l.Node("sw"), l.Node("w1")
	l.Link(c.fab, "eth0", c.gw, "eth0")
	c.fab.MustRun("ip", "addr", "add", "10.0.0.1/24", "dev", "eth0")
	c.gw.MustRun("ip", "addr", "add", "10.0.0.3/24", "dev", "eth0")
	sw.MustRun("ip", "link", "add", "br0", "type", "bridge")
	sw.MustRun("ip", "link", "set", "br0", "up")
	for i, n := range []*lab.Node{c.gw, w1, c.w4} {
		port := fmt.Sprintf("p%d", i)
		l.Link(n, "eth1", sw, port)
		sw.MustRun("ip", "link", "set", port, "master", "br0")
	}
	c.gw.MustRun("ip", "addr", "add", "192.168.10.3/24", "dev", "eth1")
	c.gw.MustRun("ip", "addr", "add", "fd00:192:168:10::3/64", "dev", "eth1")
	w1.MustRun("ip", "addr", "add", "192.168.10.11/24", "dev", "eth1")
	w1.MustRun("ip", "addr", "add", "fd00:192:168:10::11/64", "dev", "eth1")
	c.w4.MustRun("ip", "addr", "add", exaAddr+"/24", "dev", "eth1")
	c.w4.MustRun("ip", "addr", "add", rawAddr+"/24", "dev", "eth1")

	c.fab.FRR(labFile(t, "fab/frr.conf"))
	c.gw.Write("vrfs.d/blue.yaml", rfc7606File(t, "gw/vrfs.d/blue.yaml"))
	cfg := c.gw.Write("t5gw.yaml", rfc7606File(t, "gw/t5gw.yaml"))
	c.t5gwd = c.gw.Start("t5gwd", t5gwd, "--config", cfg, "--api-socket", filepath.Join(c.gw.Dir, "t5gwd.sock"))
	w1.BIRD(rfc7606File(t, "w1/bird.conf"))
	c.exaCmds = c.w4.Write("exabgp.cmds", "")
	conf := c.w4.Write("exabgp.conf", strings.ReplaceAll(rfc7606File(t, "w4/exabgp.conf"), "COMMANDS", c.exaCmds))
	c.w4.Start("exabgp", "env", "exabgp.daemon.user=root", "exabgp.daemon.daemonize=false", "exabgp.log.destination=stdout",
		"exabgp.api.ack=false", "exabgp", conf)

	c.expectFabric(t, "the steady routes at the fabric", nil)
	lab.WaitFor(t, "steady sessions established", wait, func() (bool, string) {
		ws, last := c.workers()
		return len(ws) == 3 && ws["192.168.10.11"].State == "established" &&
			ws["fd00:192:168:10::11"].State == "established" && ws[exaAddr].State == "established", last
	})
	c.baseline(t)
	return c
}

// TestRFC7606 drives t5gwd through a corpus of malformed UPDATEs (RFC 7606)
// from a worker and checks after each that t5gwd handled the offending
// session as the corpus records, and that nothing else moved: t5gwd runs,
// the steady worker's and the fabric's sessions never went down, and the
// fabric holds exactly the expected Type-5 routes, the steady ones never
// updated. docs/robustness.md is the table of these cases.
func TestRFC7606(t *testing.T) {
	c := newCorpus(t)
	if n := len(rawCases) + len(exabgpCases); n < 40 {
		t.Fatalf("the corpus has %d cases, want at least 40", n)
	}
	for _, cs := range append(rawCases, exabgpCases...) {
		if cs.should != cs.want && cs.deviation == "" {
			t.Fatalf("%s: t5gwd's %s differs from the RFC's %s: say why in deviation", cs.name, cs.want, cs.should)
		}
	}
	for _, cs := range rawCases {
		t.Run(cs.name, func(t *testing.T) { defer c.checkBystanders(t, cs); c.runRaw(t, cs) })
	}
	for _, cs := range exabgpCases {
		t.Run(cs.name, func(t *testing.T) { defer c.checkBystanders(t, cs); c.runExaBGP(t, cs) })
	}
}

// runRaw runs one raw case: a well-formed UPDATE for the victim, the case's
// bytes, a well-formed UPDATE for the marker. Once the marker is at the
// fabric, or the session is gone, the case has been processed.
func (c *corpus) runRaw(t *testing.T, cs rfc7606Case) {
	p := c.speak(t, cs.name, announceRaw(rawVictim, wellFormed), cs.raw, announceRaw(rawMarker, wellFormed))
	defer func() {
		p.Stop()
		c.expectFabric(t, "the raw speaker's routes gone after the case", nil)
	}()
	var closed bool
	lab.WaitFor(t, "the case processed: marker at the fabric or session closed", wait, func() (bool, string) {
		log := p.Tail(20)
		if closed = strings.Contains(log, "\nclosed"); closed {
			return true, log
		}
		routes, last := frrType5(c.fab)
		_, ok := routes[rawMarker]
		return ok, log + "\nfabric:\n" + last
	})
	got := withdraw
	if closed {
		got = reset
	}
	if cs.want == reset {
		if got != reset {
			t.Fatalf("session stays, want a session reset with NOTIFICATION %d/%d", cs.notify[0], cs.notify[1])
		}
		code, subcode, ok := notification(p.Tail(20))
		if !ok || [2]byte{code, subcode} != cs.notify {
			t.Errorf("NOTIFICATION %d/%d (sent: %v), want %d/%d\n%s", code, subcode, ok, cs.notify[0], cs.notify[1], p.Tail(20))
		}
		t.Logf("session reset with NOTIFICATION %d/%d", code, subcode)
		c.expectFabric(t, "the offender's routes gone after the reset", nil)
		// The case ends with a well-formed route on a new session.
		p.Stop()
		p = c.speak(t, cs.name+"-after", announceRaw(rawMarker, wellFormed))
		c.expectFabric(t, "the marker on a new session", map[string]string{rawMarker: rawAddr})
		return
	}
	if got == reset {
		t.Fatalf("session reset, want %s:\n%s", cs.want, p.Tail(20))
	}
	want := map[string]string{rawMarker: rawAddr}
	if cs.want == keep {
		want[rawVictim] = rawAddr
	}
	c.expectFabric(t, fmt.Sprintf("%s: the victim %s", cs.want, rawVictim), want)
	if cs.origin != "" {
		c.expectOrigin(t, rawVictim, rawAddr, cs.origin)
	}
	if !strings.Contains(p.Tail(20), "established") || strings.Contains(p.Tail(20), "notification") {
		t.Errorf("the raw speaker's session did not stay:\n%s", p.Tail(20))
	}
}

// speak starts the raw speaker in w4, writing msgs once established.
func (c *corpus) speak(t *testing.T, name string, msgs ...[]byte) *lab.Proc {
	t.Helper()
	args := []string{c.rawbgp, "-local", rawAddr, "-peer", "192.168.10.3", "-as", "65013"}
	for _, m := range msgs {
		args = append(args, hex.EncodeToString(m))
	}
	p := c.w4.Start("rawbgp-"+name, args...)
	lab.WaitFor(t, "the raw speaker's session", wait, func() (bool, string) {
		return strings.Contains(p.Tail(50), "established") || p.Exited(), p.Tail(10)
	})
	if !strings.Contains(p.Tail(50), "established") {
		t.Fatalf("the raw speaker found no session:\n%s", p.Tail(10))
	}
	return p
}

var notificationLine = regexp.MustCompile(`(?m)^notification (\d+) (\d+)`)

// notification finds the NOTIFICATION the raw speaker printed.
func notification(log string) (code, subcode byte, ok bool) {
	m := notificationLine.FindStringSubmatch(log)
	if m == nil {
		return 0, 0, false
	}
	var a, b int
	fmt.Sscan(m[1], &a)
	fmt.Sscan(m[2], &b)
	return byte(a), byte(b), true
}

// runExaBGP runs one ExaBGP case: the victim well-formed, then (once at the
// fabric) the victim with the case's attributes and the marker.
func (c *corpus) runExaBGP(t *testing.T, cs rfc7606Case) {
	good := "announce route %s next-hop " + exaAddr
	c.exabgp(t, fmt.Sprintf(good, exaVictim))
	c.expectFabric(t, "the victim well-formed", map[string]string{exaVictim: exaAddr})
	c.exabgp(t, fmt.Sprintf("announce route %s %s", exaVictim, cs.exabgp), fmt.Sprintf(good, exaMarker))
	want := map[string]string{exaMarker: exaAddr}
	if cs.want == keep {
		want[exaVictim] = exaAddr
	}
	c.expectFabric(t, fmt.Sprintf("%s: the victim %s", cs.want, exaVictim), want)
	c.exabgp(t, "withdraw route "+exaVictim+" next-hop "+exaAddr, "withdraw route "+exaMarker+" next-hop "+exaAddr)
	c.expectFabric(t, "ExaBGP's case routes withdrawn", nil)
}

// exabgp hands API commands to ExaBGP (its process tails the file).
func (c *corpus) exabgp(t *testing.T, cmds ...string) {
	t.Helper()
	f, err := os.OpenFile(c.exaCmds, os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(strings.Join(cmds, "\n") + "\n")
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// expectFabric waits until FRR holds exactly the steady routes and extra.
func (c *corpus) expectFabric(t *testing.T, what string, extra map[string]string) {
	t.Helper()
	want := map[string]string{}
	for p, gw := range c.steady {
		want[p] = gw
	}
	for p, gw := range extra {
		want[p] = gw
	}
	lab.WaitFor(t, what, wait, func() (bool, string) {
		routes, last := frrType5(c.fab)
		if diff := cmp.Diff(want, gateways(routes)); diff != "" {
			return false, fmt.Sprintf("diff (-want +got):\n%s\nFRR holds:\n%s", diff, last)
		}
		return true, last
	})
}

// expectOrigin checks the origin t5gw shows for worker's announcement.
func (c *corpus) expectOrigin(t *testing.T, prefix, worker, origin string) {
	t.Helper()
	out, err := c.gw.Output(t5gwctl, "--socket", filepath.Join(c.gw.Dir, "t5gwd.sock"), "--json", "explain", prefix)
	var e api.Explained
	if err != nil || json.Unmarshal([]byte(out), &e) != nil || len(e.Explanations) != 1 {
		t.Fatalf("t5gwctl explain %s: %v\n%s", prefix, err, out)
	}
	for _, a := range e.Explanations[0].Announcements {
		if a.Worker == worker && !strings.EqualFold(a.Origin, origin) {
			t.Errorf("%s from %s has origin %q, want %q", prefix, worker, a.Origin, origin)
		}
	}
}

// workers returns t5gwd's worker sessions by address.
func (c *corpus) workers() (map[string]api.Worker, string) {
	out, err := c.gw.Output(t5gwctl, "--socket", filepath.Join(c.gw.Dir, "t5gwd.sock"), "--json", "workers")
	var ws []api.Worker
	if err != nil || json.Unmarshal([]byte(out), &ws) != nil {
		return nil, fmt.Sprint(err, out)
	}
	m := map[string]api.Worker{}
	for _, w := range ws {
		m[w.Address] = w
	}
	return m, out
}
