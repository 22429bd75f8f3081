package test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// transitLab is t5gwd (gw) with one BIRD worker (w1) and two gobgpd fabric
// peers, f1 and f2, each on a link of its own, with a capture of what t5gw
// sends f2.
type transitLab struct {
	gw, w1, f1, f2 *lab.Node
	t5gwd          *lab.Proc
	capture        string // f2's link
}

// Addresses of the transit lab: t5gw is .3 on every link.
const (
	transitF1 = "10.0.1.1"
	transitF2 = "10.0.2.1"
	gwToF1    = "10.0.1.3"
	gwToF2    = "10.0.2.3"
	w1Addr    = "192.168.10.11"
)

// t5gwRD is the RD of w1's routes: its own.
var t5gwRD = workerRD(w1Addr)

// f1's own routes: a Type-5 and a Type-2 in its RD, which no other fabric
// peer may learn from t5gw.
const (
	f1RD     = "10.0.0.1:99"
	f1Prefix = "10.99.0.0/24"
	f1MAC    = "aa:bb:cc:00:00:01"
)

// TestFabricSpeakerIsNoTransit checks that t5gw's fabric speaker advertises
// only its own Type-5 routes: what one fabric peer announces to it (a Type-5
// and a Type-2) never reaches another, over eBGP (where a plain BGP speaker
// would pass them on with AS path 65000 65101) and over iBGP.
func TestFabricSpeakerIsNoTransit(t *testing.T) {
	for _, c := range []struct {
		name             string
		peer1AS, peer2AS uint32
	}{
		{"eBGP", 65101, 65102},
		{"iBGP", 65000, 65000},
	} {
		t.Run(c.name, func(t *testing.T) { testNoTransit(t, c.peer1AS, c.peer2AS) })
	}
}

func testNoTransit(t *testing.T, peer1AS, peer2AS uint32) {
	tl := newTransitLab(t, peer1AS, peer2AS)

	for _, args := range [][]string{
		{"global", "rib", "-a", "evpn", "add", "prefix", f1Prefix, "gw", "10.1.1.1", "etag", "0", "label", "99",
			"rd", f1RD, "rt", "65000:99", "encap", "vxlan", "nexthop", transitF1},
		{"global", "rib", "-a", "evpn", "add", "macadv", f1MAC, "10.99.0.5", "etag", "0", "label", "99",
			"rd", f1RD, "rt", "65000:99", "encap", "vxlan", "nexthop", transitF1},
	} {
		if out, err := tl.f1.GoBGP(args...); err != nil {
			t.Fatalf("f1: gobgp %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	own := func(p evpnPath) bool { return p.Type == 5 && p.RD == t5gwRD && p.Gateway == w1Addr }
	lab.WaitFor(t, "f2 holds t5gw's Type-5 for 10.244.1.0/24, gateway IP the worker", wait, func() (bool, string) {
		paths, last := gobgpEVPN(tl.f2, "global", "rib")
		return findPath(paths, "10.244.1.0/24", own), last
	})
	lab.WaitFor(t, "f1 has sent t5gw its Type-5 and Type-2", wait, func() (bool, string) {
		paths, last := gobgpEVPN(tl.f1, "neighbor", gwToF1, "adj-out")
		return findPath(paths, f1Prefix, isF1) && findPath(paths, f1MAC, isF1), last
	})
	// A marker: the worker announces a second prefix only now. Once f2 has it,
	// t5gw has sent f2 everything it was going to send for what it received
	// before, f1's routes included: its fabric speaker handles f1's UPDATEs
	// in order with the routes it is given, and f2's session is one stream.
	if out, err := tl.w1.Birdc("enable", "later4"); err != nil {
		t.Fatalf("birdc enable later4: %v\n%s", err, out)
	}
	lab.WaitFor(t, "f2 holds t5gw's Type-5 for the marker 10.244.9.0/24", wait, func() (bool, string) {
		paths, last := gobgpEVPN(tl.f2, "global", "rib")
		return findPath(paths, "10.244.9.0/24", own), last
	})

	t.Run("f2 holds exactly t5gw's routes", func(t *testing.T) {
		paths, last := gobgpEVPN(tl.f2, "global", "rib")
		if len(paths) != 2 {
			t.Fatalf("f2 holds %d EVPN routes, want 2 (t5gw's Type-5 for 10.244.1.0/24 and 10.244.9.0/24):\n%s", len(paths), last)
		}
		for _, p := range paths {
			if !own(p) || p.Neighbor != gwToF2 {
				t.Errorf("f2 holds a route that is not t5gw's own Type-5: %s", p)
			}
			if isF1(p) {
				t.Errorf("f1's route reached f2 through t5gw: %s", p)
			}
		}
		if !findPath(paths, "10.244.1.0/24", own) || !findPath(paths, "10.244.9.0/24", own) {
			t.Errorf("f2 lacks one of t5gw's routes:\n%s", last)
		}
	})

	t.Run("t5gw never sent f2 anything of f1's", func(t *testing.T) {
		var sent []capturedUpdate
		lab.WaitFor(t, "the marker in the capture of f2's link", wait, func() (bool, string) {
			var err error
			sent, err = tsharkUpdates(tl.f2, tl.capture, gwToF2)
			if err != nil {
				return false, err.Error()
			}
			return advertisedIn(sent, "10.244.9.0"), describeUpdates(sent)
		})
		var nlris []string
		for _, u := range sent {
			nlris = append(nlris, u.Advertised...)
			nlris = append(nlris, u.Withdrawn...)
		}
		if len(nlris) != 2 {
			t.Errorf("t5gw sent f2 %d EVPN NLRIs, want 2 (its two Type-5 routes):\n%s", len(nlris), describeUpdates(sent))
		}
		for _, n := range nlris {
			if strings.Contains(n, "10.99.0.") || strings.Contains(n, f1RD) || strings.Contains(n, f1MAC) {
				t.Errorf("t5gw sent f2 one of f1's routes: %s", n)
			}
		}
	})
}

// isF1 tells whether a path is one of the routes f1 announces.
func isF1(p evpnPath) bool { return p.RD == f1RD }

func newTransitLab(t *testing.T, peer1AS, peer2AS uint32) *transitLab {
	lab.Require(t, "ip", "bird", "birdc", "gobgpd", "gobgp", "tshark", "curl")
	l := lab.New(t)
	tl := &transitLab{gw: l.Node("gw"), w1: l.Node("w1"), f1: l.Node("f1"), f2: l.Node("f2")}
	l.Link(tl.f1, "eth0", tl.gw, "eth0")
	l.Link(tl.f2, "eth0", tl.gw, "eth1")
	l.Link(tl.w1, "eth0", tl.gw, "eth2")
	for _, a := range []struct {
		n         *lab.Node
		dev, addr string
	}{
		{tl.f1, "eth0", transitF1 + "/24"}, {tl.gw, "eth0", gwToF1 + "/24"},
		{tl.f2, "eth0", transitF2 + "/24"}, {tl.gw, "eth1", gwToF2 + "/24"},
		{tl.w1, "eth0", w1Addr + "/24"}, {tl.gw, "eth2", "192.168.10.3/24"},
	} {
		a.n.MustRun("ip", "addr", "add", a.addr, "dev", a.dev)
	}

	tl.capture = startCapture(t, tl.f2, "eth0")
	for _, p := range []struct {
		n          *lab.Node
		as         uint32
		id, toT5gw string
	}{{tl.f1, peer1AS, transitF1, gwToF1}, {tl.f2, peer2AS, transitF2, gwToF2}} {
		p.n.GoBGPd(restartLabTemplate(t, "transit/peer/gobgpd.toml.tmpl", map[string]any{
			"AS": p.as, "RouterID": p.id, "T5gw": p.toT5gw}))
		waitGoBGPd(t, p.n)
	}
	tl.w1.BIRD(restartLabFile(t, "transit/w1/bird.conf"))

	tl.gw.Write("vrfs.d/blue.yaml", restartLabFile(t, "gw/vrfs.d/blue.yaml"))
	cfg := tl.gw.Write("t5gw.yaml", restartLabTemplate(t, "transit/gw/t5gw.yaml.tmpl", map[string]any{
		"Peer1AS": peer1AS, "Peer2AS": peer2AS}))
	tl.t5gwd = tl.gw.Start("t5gwd", t5gwd, "--config", cfg)
	lab.WaitFor(t, "both fabric sessions up", wait, func() (bool, string) {
		m := scrapeMetrics(t, tl.gw)
		return m["t5gw_fabric_sessions_up"] == 2, fmt.Sprintf("%v\n%s", m["t5gw_fabric_sessions_up"], tl.t5gwd.Tail(10))
	})
	return tl
}

// startCapture captures the BGP traffic on n's dev into a file, and returns
// its path once tshark says it is capturing.
func startCapture(t *testing.T, n *lab.Node, dev string) string {
	t.Helper()
	capture := n.Dir + "/bgp.pcap"
	p := n.Start("tshark", "tshark", "-i", dev, "-f", "tcp port 179", "-w", capture)
	lab.WaitFor(t, n.Name+": tshark capturing", 20*time.Second, func() (bool, string) {
		tail := p.Tail(5)
		return contains(tail, "Capturing on"), tail
	})
	return capture
}

func waitGoBGPd(t *testing.T, n *lab.Node) {
	t.Helper()
	lab.WaitFor(t, n.Name+": gobgpd API", 20*time.Second, func() (bool, string) {
		out, err := n.GoBGP("global")
		return err == nil, out + errString(err)
	})
}

// scrapeMetrics is t5gwd's /metrics in node gw, as observe_test.go reads it.
func scrapeMetrics(t *testing.T, gw *lab.Node) map[string]float64 {
	return metricsOf(gw, "127.0.0.1:9179")
}

// evpnPath is one EVPN path as the gobgp CLI shows it.
type evpnPath struct {
	Type     int // route type: 2 MAC/IP advertisement, 5 IP prefix
	RD       string
	Prefix   string // Type-5
	Gateway  string // Type-5
	Label    uint32 // Type-5
	MAC, IP  string // Type-2
	NextHop  string
	ASPath   []uint32
	Neighbor string // who it came from; empty for a route of gobgpd's own
	Stale    bool
}

// Key is the path's prefix (Type-5) or MAC (Type-2).
func (p evpnPath) Key() string {
	if p.Type == 2 {
		return p.MAC
	}
	return p.Prefix
}

func (p evpnPath) String() string {
	s := fmt.Sprintf("type %d %s rd %s nh %s as-path %v from %q", p.Type, p.Key(), p.RD, p.NextHop, p.ASPath, p.Neighbor)
	if p.Type == 5 {
		s += fmt.Sprintf(" gw %s label %d", p.Gateway, p.Label)
	}
	if p.Stale {
		s += " stale"
	}
	return s
}

// gobgpEVPN runs `gobgp <args> -a evpn -j` on n (global rib, or a neighbor's
// adj-in or adj-out) and returns every path, sorted, and a description of
// them for failure messages. The paths are nil when gobgp fails.
func gobgpEVPN(n *lab.Node, args ...string) ([]evpnPath, string) {
	out, err := n.GoBGP(append(args, "-a", "evpn", "-j")...)
	if err != nil {
		return nil, err.Error() + "\n" + out
	}
	var dests map[string][]struct {
		NLRI struct {
			Type  int `json:"type"`
			Value struct {
				RD struct {
					Admin    json.RawMessage `json:"admin"`
					Assigned uint32          `json:"assigned"`
				} `json:"rd"`
				Prefix  string `json:"prefix"`
				Gateway string `json:"gateway"`
				Label   uint32 `json:"label"`
				MAC     string `json:"mac"`
				IP      string `json:"ip"`
			} `json:"value"`
		} `json:"nlri"`
		Attrs []struct {
			Type    int    `json:"type"`
			NextHop string `json:"nexthop"`
			ASPaths []struct {
				ASNs []uint32 `json:"asns"`
			} `json:"as_paths"`
		} `json:"attrs"`
		Stale    bool   `json:"stale"`
		Neighbor string `json:"neighbor-ip"`
	}
	if err := json.Unmarshal([]byte(out), &dests); err != nil {
		return nil, fmt.Sprintf("%v: %s", err, out)
	}
	paths := []evpnPath{}
	for _, dest := range dests {
		for _, d := range dest {
			v := d.NLRI.Value
			p := evpnPath{Type: d.NLRI.Type, RD: strings.Trim(string(v.RD.Admin), `"`) + fmt.Sprintf(":%d", v.RD.Assigned),
				Prefix: v.Prefix, Gateway: v.Gateway, Label: v.Label, MAC: v.MAC, IP: v.IP,
				Neighbor: d.Neighbor, Stale: d.Stale}
			for _, a := range d.Attrs {
				switch a.Type {
				case 2: // AS_PATH
					for _, seg := range a.ASPaths {
						p.ASPath = append(p.ASPath, seg.ASNs...)
					}
				case 3, 14: // NEXT_HOP, MP_REACH_NLRI
					p.NextHop = a.NextHop
				}
			}
			paths = append(paths, p)
		}
	}
	sort.Slice(paths, func(i, j int) bool { return paths[i].String() < paths[j].String() })
	lines := make([]string, len(paths))
	for i, p := range paths {
		lines[i] = p.String()
	}
	return paths, fmt.Sprintf("%d EVPN paths:\n%s", len(paths), strings.Join(lines, "\n"))
}

// findPath tells whether some path for key (a prefix or a MAC) satisfies ok.
func findPath(paths []evpnPath, key string, ok func(evpnPath) bool) bool {
	for _, p := range paths {
		if p.Key() == key && ok(p) {
			return true
		}
	}
	return false
}

// capturedUpdate is one UPDATE message as tshark decodes it: the EVPN NLRIs
// it advertises (MP_REACH_NLRI) and withdraws (MP_UNREACH_NLRI), each as
// tshark prints it. An UPDATE with an MP_UNREACH_NLRI and nothing in it is
// an End-of-RIB marker (RFC 4724).
type capturedUpdate struct {
	Frame                 string
	Time                  time.Time // when it was captured
	Advertised, Withdrawn []string
	Unreach, EndOfRIB     bool
}

var (
	reFrame = regexp.MustCompile(`(?m)^Frame (\d+):`)
	reEpoch = regexp.MustCompile(`Epoch Time: (\d+\.\d+) seconds`)
	// An attribute's header line, as tshark -V prints it.
	reAttr = regexp.MustCompile(`(?m)^\s+Path Attribute - (\S+)`)
)

// tsharkUpdates decodes every UPDATE that src sent in capture.
func tsharkUpdates(n *lab.Node, capture, src string) ([]capturedUpdate, error) {
	out, err := n.Output("tshark", "-r", capture, "-V", "-Y", "bgp.type == 2 && ip.src == "+src)
	if err != nil {
		return nil, err
	}
	var updates []capturedUpdate
	frames := reFrame.FindAllStringSubmatchIndex(out, -1)
	for i, f := range frames {
		end := len(out)
		if i+1 < len(frames) {
			end = frames[i+1][0]
		}
		frame := out[f[0]:end]
		var captured time.Time
		if m := reEpoch.FindStringSubmatch(frame); m != nil {
			epoch, _ := strconv.ParseFloat(m[1], 64)
			captured = time.UnixMicro(int64(epoch * 1e6))
		}
		for _, msg := range strings.Split(frame, "Border Gateway Protocol - UPDATE Message")[1:] {
			u := capturedUpdate{Frame: out[f[2]:f[3]], Time: captured}
			attrs := reAttr.FindAllStringSubmatchIndex(msg, -1)
			for j, a := range attrs {
				aend := len(msg)
				if j+1 < len(attrs) {
					aend = attrs[j+1][0]
				}
				body := msg[a[0]:aend]
				var nlris []string
				for _, nl := range strings.Split(body, "EVPN NLRI: ")[1:] {
					nlris = append(nlris, summarizeNLRI(nl))
				}
				switch msg[a[2]:a[3]] {
				case "MP_REACH_NLRI":
					u.Advertised = append(u.Advertised, nlris...)
				case "MP_UNREACH_NLRI":
					u.Unreach = true
					u.Withdrawn = append(u.Withdrawn, nlris...)
				}
			}
			u.EndOfRIB = u.Unreach && len(u.Withdrawn) == 0 && len(attrs) == 1
			updates = append(updates, u)
		}
	}
	return updates, nil
}

var reMAC = regexp.MustCompile(`MAC Address: (\S+)`)

// summarizeNLRI shortens tshark's decode of an EVPN NLRI to one line: its
// route type, RD, prefix or MAC and IP, gateway IP.
func summarizeNLRI(text string) string {
	parts := []string{strings.TrimSpace(strings.SplitN(text, "\n", 2)[0])}
	if m := reRD.FindStringSubmatch(text); m != nil {
		parts = append(parts, "rd "+m[1])
	}
	if m := reMAC.FindStringSubmatch(text); m != nil {
		parts = append(parts, "mac "+m[1])
	}
	if m := reAddr.FindStringSubmatch(text); m != nil {
		addr := m[1]
		if l := reLen.FindStringSubmatch(text); l != nil {
			addr += "/" + l[1]
		}
		parts = append(parts, addr)
	}
	if m := reGW.FindStringSubmatch(text); m != nil {
		parts = append(parts, "gw "+m[1])
	}
	return strings.Join(parts, " ")
}

// advertisedIn tells whether some UPDATE advertised an NLRI mentioning s.
func advertisedIn(updates []capturedUpdate, s string) bool {
	for _, u := range updates {
		for _, n := range u.Advertised {
			if strings.Contains(n, s) {
				return true
			}
		}
	}
	return false
}

func describeUpdates(updates []capturedUpdate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d UPDATEs\n", len(updates))
	for _, u := range updates {
		fmt.Fprintf(&b, "frame %s: end-of-rib %v, %d advertised, %d withdrawn\n", u.Frame, u.EndOfRIB, len(u.Advertised), len(u.Withdrawn))
		for _, n := range u.Advertised {
			fmt.Fprintf(&b, "  + %s\n", n)
		}
		for _, n := range u.Withdrawn {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	return b.String()
}
