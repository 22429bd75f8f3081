package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/evpn"
)

const goodGlobal = `
router-id: 10.0.0.3
asn: 65000
fabric:
  neighbors:
    - {address: 10.0.0.1, asn: 65000}
`

const goodVRF = `
name: blue
l3vni: 4001
workers:
  listen: [192.168.10.3]
  peers:
    - {address: 192.168.10.11, asn: 65011}
  accept: ["10.244.0.0/16 le 32"]
`

// write lays out a global file and VRF files in a temporary directory and
// returns the global file's path.
func write(t *testing.T, global string, vrfs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "vrfs.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range vrfs {
		if err := os.WriteFile(filepath.Join(dir, "vrfs.d", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "t5gw.yaml")
	if err := os.WriteFile(path, []byte(global), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadExample(t *testing.T) {
	c, err := Load("../examples/t5gw.yaml")
	if err != nil {
		t.Fatalf("Load(examples): %v", err)
	}
	if len(c.VRFs) != 1 {
		t.Fatalf("got %d VRFs, want 1", len(c.VRFs))
	}
	v := c.VRFs[0]
	if v.Name != "blue" || v.L3VNI != 4001 || v.RD.String() != "10.0.0.3:4001" || v.Device != "vrf-blue" {
		t.Errorf("VRF = %+v", v)
	}
	if len(v.Workers.Peers) != 2 || v.Workers.Peers[1].Range != netip.MustParsePrefix("192.168.20.0/24") || !v.Workers.Peers[1].Passive {
		t.Errorf("peers = %+v", v.Workers.Peers)
	}
	if v.Workers.MaxPrefixes != 10000 || v.Workers.MaxPrefixesRestart != DefaultMaxPrefixesRestart {
		t.Errorf("max-prefixes = %d restart %v", v.Workers.MaxPrefixes, v.Workers.MaxPrefixesRestart)
	}
	if c.Metrics != "127.0.0.1:9179" || c.Fabric.Port != 179 || c.Fabric.Listen[0] != netip.MustParseAddr("10.0.0.3") {
		t.Errorf("global = %+v", c)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(write(t, goodGlobal, map[string]string{"blue.yaml": goodVRF}))
	if err != nil {
		t.Fatal(err)
	}
	v := c.VRFs[0]
	if c.VTEP != c.RouterID {
		t.Errorf("vtep-ip default = %s, want router-id %s", c.VTEP, c.RouterID)
	}
	if v.RD.String() != "10.0.0.3:4001" {
		t.Errorf("rd default = %s, want 10.0.0.3:4001", v.RD)
	}
	if len(v.RouteTargets) != 1 || v.RouteTargets[0].String() != "65000:4001" {
		t.Errorf("route target default = %v, want 65000:4001", v.RouteTargets)
	}
	if v.Label != evpn.LabelL3VNI || v.Workers.ASN != 65000 || v.Workers.Port != 179 || v.Workers.Peers[0].Passive {
		t.Errorf("defaults = %+v (a static peer is connected to: passive false)", v)
	}
	if v.Workers.Timers != DefaultTimers || v.Workers.Peers[0].Timers != DefaultTimers || !v.Workers.GracefulRestart {
		t.Errorf("timers %+v, peer timers %+v, graceful restart helper %v; want 3s/9s and true",
			v.Workers.Timers, v.Workers.Peers[0].Timers, v.Workers.GracefulRestart)
	}
	if v.Workers.BFD != DefaultBFD || v.Workers.Peers[0].BFD.Enabled() {
		t.Errorf("bfd %+v, peer %+v; want %+v and off", v.Workers.BFD, v.Workers.Peers[0].BFD, DefaultBFD)
	}
	if c.StateDir != DefaultStateDir || c.GracefulRestart != (GracefulRestart{RestartTime: 120 * time.Second, WorkerWait: 30 * time.Second}) || c.GracefulShutdown {
		t.Errorf("state-dir %q, graceful-restart %+v, graceful-shutdown %v", c.StateDir, c.GracefulRestart, c.GracefulShutdown)
	}
	if v.Workers.MaxPrefixes != 0 || v.Workers.MaxPrefixesRestart != 30*time.Second || v.Workers.AllowThirdPartyNextHop {
		t.Errorf("worker defaults = %+v", v.Workers)
	}
	if c.Metrics != "" {
		t.Errorf("metrics default = %q, want off", c.Metrics)
	}
}

func TestPrefixRules(t *testing.T) {
	tests := map[string]evpn.PrefixRule{
		"10.244.0.0/16":             {Prefix: netip.MustParsePrefix("10.244.0.0/16"), GE: 16, LE: 16},
		"10.244.0.0/16 le 32":       {Prefix: netip.MustParsePrefix("10.244.0.0/16"), GE: 16, LE: 32},
		"10.96.0.0/12 ge 24":        {Prefix: netip.MustParsePrefix("10.96.0.0/12"), GE: 24, LE: 32},
		"fd00::/48 ge 64 le 128":    {Prefix: netip.MustParsePrefix("fd00::/48"), GE: 64, LE: 128},
		"10.244.1.1/16 ge 20 le 24": {Prefix: netip.MustParsePrefix("10.244.0.0/16"), GE: 20, LE: 24},
	}
	for in, want := range tests {
		got, err := parseRule(in)
		if err != nil || got != want {
			t.Errorf("parseRule(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

// TestEdgesThatLoad holds what the checks for reserved space, own addresses,
// address families and wide ranges must still let through.
func TestEdgesThatLoad(t *testing.T) {
	vrf := `
name: blue
l3vni: 4001
workers:
  listen: [192.168.10.3, "fd00:192:168:10::3"]
  peers:
    - {range: 192.168.10.0/24, asn: 65011, multihop: 4}   # holds the listen address
    - {range: 10.0.0.0/8, asn: 65012}
    - {range: "2001:db8::/32", asn: 65013}
    - {address: "fd00:192:168:10::11", asn: 65014}
  accept: ["10.0.0.0/8 le 32", "100.64.0.0/10 ge 24 le 32", "2000::/3 le 128", "fd00::/8 le 128"]
`
	if _, err := Load(write(t, goodGlobal, map[string]string{"blue.yaml": vrf})); err != nil {
		t.Fatal(err)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name   string
		global string
		vrfs   map[string]string
		want   []string // each must appear in the error
	}{
		{"l3vni too big", goodGlobal, map[string]string{"blue.yaml": strings.Replace(goodVRF, "4001", "16777216", 1)},
			[]string{`vrfs.d/blue.yaml: l3vni: "16777216" is outside 1..16777215`}},
		{"unknown global key", goodGlobal + "routerid: 1.2.3.4\n", map[string]string{"blue.yaml": goodVRF},
			[]string{"t5gw.yaml: routerid: unknown key"}},
		{"unknown nested key", goodGlobal, map[string]string{"blue.yaml": goodVRF + "  max-prefix: 5\n"},
			[]string{"blue.yaml: workers.max-prefix: unknown key"}},
		{"unknown key in a list item", goodGlobal, map[string]string{"blue.yaml": strings.Replace(goodVRF, "asn: 65011", "asn: 65011, pasive: true", 1)},
			[]string{"blue.yaml: workers.peers[0].pasive: unknown key"}},
		{"every problem at once", "router-id: fd00::1\nasn: abc\nfabric: {neighbors: [{address: 10.0.0.999, asn: 0}]}\nlog-level: loud\nmetrics: nohost\n", map[string]string{"blue.yaml": goodVRF},
			[]string{`router-id: "fd00::1" must be an IPv4 address`, `asn: "abc" is not a whole number`,
				`fabric.neighbors[0].address: "10.0.0.999" is not an IP address`, `fabric.neighbors[0].asn: "0" is outside 1..4294967295`,
				`log-level: "loud" is not one of`, `metrics: "nohost" is not host:port`}},
		{"missing required", "asn: 65000\n", map[string]string{"blue.yaml": "name: blue\n"},
			[]string{"t5gw.yaml: router-id: is required", "fabric.neighbors: at least one", "blue.yaml: l3vni: is required",
				"blue.yaml: workers.listen: at least one", "blue.yaml: workers.peers: at least one", "blue.yaml: workers.accept: at least one"}},
		{"bad rd and rt", goodGlobal, map[string]string{"blue.yaml": goodVRF + "rd: 10.0.0.3:70000\nroute-targets: {export: [blue]}\n"},
			[]string{`rd: "10.0.0.3:70000" is not a route distinguisher`, `route-targets.export[0]: "blue" is not a route target`}},
		{"default rd cannot hold a large l3vni", goodGlobal, map[string]string{"blue.yaml": strings.Replace(goodVRF, "4001", "100000", 1)},
			[]string{"blue.yaml: rd: the default <router-id>:<l3vni> cannot hold l3vni 100000"}},
		{"install-routes without a device", goodGlobal, map[string]string{"blue.yaml": goodVRF + "install-routes: true\n"},
			[]string{`install-routes: "true" needs device`}},
		{"bad log format, relative api socket", goodGlobal + "log-format: xml\napi: {socket: t5gwd.sock}\n", map[string]string{"blue.yaml": goodVRF},
			[]string{`log-format: "xml" is not text or json`, `api.socket: "t5gwd.sock" is not an absolute path`}},
		{"bad label", goodGlobal, map[string]string{"blue.yaml": goodVRF + "label: vni\n"},
			[]string{`label: "vni" is not l3vni or zero`}},
		{"bad paths, unresolved and origin", goodGlobal, map[string]string{"blue.yaml": goodVRF + "paths: all\nunresolved: drop\norigin: bgp\n"},
			[]string{`paths: "all" is not per-worker, best or add-path`, `unresolved: "drop" is not advertise, withhold or fallback`,
				`origin: "bgp" is not igp, keep, egp or incomplete`}},
		{"fallback without a router MAC", goodGlobal, map[string]string{"blue.yaml": goodVRF + "unresolved: fallback\n"},
			[]string{`router-mac: is required with unresolved: fallback`}},
		{"router MAC not unicast, not a MAC", goodGlobal, map[string]string{"blue.yaml": goodVRF + "router-mac: 01:00:5e:00:00:01\n", "red.yaml": strings.Replace(goodVRF, "name: blue", "name: red", 1) + "router-mac: 02:00\n"},
			[]string{`router-mac: "01:00:5e:00:00:01" is not a unicast address`, `router-mac: "02:00" is not an Ethernet address`}},
		{"bad peers", goodGlobal, map[string]string{"blue.yaml": strings.Replace(goodVRF,
			"- {address: 192.168.10.11, asn: 65011}",
			"- {address: 192.168.10.11, range: 192.168.20.0/24, asn: 65011}\n    - {range: 192.168.20.0/33, asn: 1, passive: false}\n    - {asn: 5, multihop: 2, ttl-security: 1, passive: false}\n    - {address: 192.168.10.12, asn: 1, multihop: 300}\n    - {range: \"fd00:30::/64\", asn: 1, ttl-security: 1}\n    - {range: 192.168.30.0/24, asn: 1, ttl-security: 1}", 1)},
			[]string{"workers.peers[0]: has both address and range", `workers.peers[1].range: "192.168.20.0/33" is not a prefix`,
				`workers.peers[1].passive: "false" is not allowed: a range can only be passive`, "workers.peers[2]: needs an address or a range",
				"workers.peers[2]: multihop and ttl-security exclude each other", `workers.peers[3].multihop: "300" is outside 0..255`,
				`workers.peers[4].ttl-security: "1" over IPv6 needs passive: false`}},
		{"bad accept", goodGlobal, map[string]string{"blue.yaml": strings.Replace(goodVRF, `"10.244.0.0/16 le 32"`, `"10.244.0.0/16 le 8", "pods", "10.0.0.0/8 ge 30 le 24", "10.0.0.0/8 lt 9"`, 1)},
			[]string{`workers.accept[0]: "10.244.0.0/16 le 8" le 8 is not a length in 16..32`, `workers.accept[1]: "pods" does not start with a prefix`,
				`workers.accept[2]: "10.0.0.0/8 ge 30 le 24" ge 30 is greater than le 24`, `workers.accept[3]: "10.0.0.0/8 lt 9" "lt" is not ge or le`}},
		{"bad restart and bools", goodGlobal, map[string]string{"blue.yaml": goodVRF + "  max-prefixes-restart: soon\n  allow-third-party-nexthop: maybe\n"},
			[]string{`workers.max-prefixes-restart: "soon" is not a duration`, `workers.allow-third-party-nexthop: "maybe" is not true or false`}},
		{"as_trans", goodGlobal, map[string]string{"blue.yaml": strings.Replace(goodVRF, "65011", "23456", 1)},
			[]string{`workers.peers[0].asn: "23456" is AS_TRANS`}},
		{"two VRFs collide", goodGlobal, map[string]string{"blue.yaml": goodVRF, "red.yaml": goodVRF},
			[]string{"red.yaml: name: \"blue\" is also the name of the VRF in", "red.yaml: l3vni: \"4001\" is also the L3VNI",
				"red.yaml: rd: \"10.0.0.3:4001\" is also the RD", "red.yaml: workers.listen[0]: \"192.168.10.3\" port 179 is also used by"}},
		{"bad timers", goodGlobal, map[string]string{"blue.yaml": strings.Replace(goodVRF, "asn: 65011", "asn: 65011, timers: {hold: 2s}", 1) +
			"  timers: {hold: 9s, keepalive: 9s}\n  graceful-restart: sometimes\n"},
			[]string{`workers.peers[0].timers.hold: "2s" is below 3s`, `workers.timers.keepalive: "9s" is not below the hold time 9s`,
				`workers.graceful-restart: "sometimes" is not true or false`}},
		{"fractional timers", goodGlobal, map[string]string{"blue.yaml": goodVRF + "  timers: {hold: 4500ms}\n"},
			[]string{`workers.timers.hold: "4500ms" is not a whole number of seconds`}},
		{"bfd with a multihop worker", goodGlobal, map[string]string{"blue.yaml": strings.Replace(goodVRF, "asn: 65011}", "asn: 65011, multihop: 2, bfd: true}\n    - {range: 10.1.0.0/24, asn: 1, bfd: true}", 1) +
			"  bfd: {interval: 1ms, multiplier: 1}\n"},
			[]string{`workers.peers[0].bfd: "true" needs a single-hop worker`, `workers.bfd.interval: "1ms" is outside 10ms..1m0s`,
				`workers.peers[1].bfd: "true" needs a static peer`,
				`workers.bfd.multiplier: "1" is outside 2..255`}},
		{"bfd in two VRFs without a device", goodGlobal, map[string]string{
			"blue.yaml": strings.Replace(goodVRF, "asn: 65011", "asn: 65011, bfd: true", 1),
			"red.yaml":  strings.NewReplacer("blue", "red", "4001", "4002", "192.168.10", "192.168.30", "asn: 65011", "asn: 65011, bfd: true").Replace(goodVRF)},
			[]string{`red.yaml: workers.peers[0].bfd: "true" BFD is also on in`}},
		{"duplicate peer", goodGlobal, map[string]string{"blue.yaml": strings.Replace(goodVRF, "- {address: 192.168.10.11, asn: 65011}",
			"- {address: 192.168.10.11, asn: 65011}\n    - {address: 192.168.10.11, asn: 65012}", 1)},
			[]string{`workers.peers[1]: "192.168.10.11" is also workers.peers[0]`}},
		{"duplicate peer written differently", goodGlobal, map[string]string{"blue.yaml": strings.NewReplacer(
			"listen: [192.168.10.3]", `listen: [192.168.10.3, "fd00::3"]`,
			"- {address: 192.168.10.11, asn: 65011}", "- {address: \"fd00::1\", asn: 65011}\n    - {address: \"fd00:0::1\", asn: 65012}\n"+
				"    - {address: 192.168.10.11, asn: 65011}\n    - {address: \"::ffff:192.168.10.11\", asn: 65011}\n"+
				"    - {range: 192.168.20.0/24, asn: 1}\n    - {range: 192.168.20.7/24, asn: 2}").Replace(goodVRF)},
			[]string{`workers.peers[1]: "fd00::1" is also workers.peers[0]`, `workers.peers[3]: "192.168.10.11" is also workers.peers[2]`,
				`workers.peers[5]: "192.168.20.0/24" is also workers.peers[4]`}},
		{"accept rule admits reserved space", goodGlobal, map[string]string{"blue.yaml": strings.Replace(goodVRF, `"10.244.0.0/16 le 32"`,
			`"0.0.0.0/0", "224.0.0.0/4 le 32", "127.0.0.0/8 le 32", "0.0.0.0/0 le 32", "::/0 le 128", "fe80::/10 le 64", "169.254.0.0/16", "255.255.255.255/32", "0.0.0.0/1", "ff02::1/128", "::1/128", "10.0.0.0/8 le 32"`, 1)},
			[]string{`workers.accept[0]: "0.0.0.0/0" admits the default route, "this network" 0.0.0.0/8, loopback 127.0.0.0/8, link-local 169.254.0.0/16, multicast 224.0.0.0/4 and class E 240.0.0.0/4; accept only the tenant's prefixes`,
				`workers.accept[1]: "224.0.0.0/4 le 32" admits multicast 224.0.0.0/4;`,
				`workers.accept[2]: "127.0.0.0/8 le 32" admits loopback 127.0.0.0/8;`,
				`workers.accept[3]: "0.0.0.0/0 le 32" admits the default route, "this network" 0.0.0.0/8, loopback 127.0.0.0/8,`,
				`workers.accept[4]: "::/0 le 128" admits the default route, loopback ::1/128, link-local fe80::/10 and multicast ff00::/8;`,
				`workers.accept[5]: "fe80::/10 le 64" admits link-local fe80::/10;`,
				`workers.accept[6]: "169.254.0.0/16" admits link-local 169.254.0.0/16;`,
				`workers.accept[7]: "255.255.255.255/32" admits class E 240.0.0.0/4;`,
				`workers.accept[8]: "0.0.0.0/1" admits "this network" 0.0.0.0/8 and loopback 127.0.0.0/8;`,
				`workers.accept[9]: "ff02::1/128" admits multicast ff00::/8;`,
				`workers.accept[10]: "::1/128" admits loopback ::1/128;`}},
		{"peer of a family listen lacks", goodGlobal, map[string]string{
			"blue.yaml": strings.Replace(goodVRF, "- {address: 192.168.10.11, asn: 65011}",
				"- {address: 192.168.10.11, asn: 65011}\n    - {address: \"fd00::12\", asn: 65012}\n    - {range: \"fd00:30::/64\", asn: 65013}", 1),
			"red.yaml": strings.NewReplacer("blue", "red", "4001", "4002", "listen: [192.168.10.3]", `listen: ["fd00:30::3"]`).Replace(goodVRF)},
			[]string{`blue.yaml: workers.peers[1].address: "fd00::12" is IPv6 but workers.listen has no IPv6 address: t5gw could never reach it`,
				`blue.yaml: workers.peers[2].range: "fd00:30::/64" is IPv6 but workers.listen has no IPv6 address`,
				`red.yaml: workers.peers[0].address: "192.168.10.11" is IPv4 but workers.listen has no IPv4 address`}},
		{"peer is t5gw's own address", strings.Replace(goodGlobal, "fabric:\n", "vtep-ip: 10.0.0.4\nfabric:\n  listen: [10.0.0.5, 10.0.0.3]\n", 1),
			map[string]string{"blue.yaml": strings.Replace(goodVRF, "- {address: 192.168.10.11, asn: 65011}",
				"- {address: 192.168.10.3, asn: 65011}\n    - {address: 10.0.0.3, asn: 65012}\n    - {address: 10.0.0.4, asn: 65012}\n    - {address: 10.0.0.5, asn: 65012}", 1)},
			[]string{`workers.peers[0].address: "192.168.10.3" is t5gw's own address (workers.listen[0]), not a worker's`,
				`workers.peers[1].address: "10.0.0.3" is t5gw's own address (router-id, fabric.listen[1])`,
				`workers.peers[2].address: "10.0.0.4" is t5gw's own address (vtep-ip)`,
				`workers.peers[3].address: "10.0.0.5" is t5gw's own address (fabric.listen[0])`}},
		{"range too wide", goodGlobal, map[string]string{"blue.yaml": strings.NewReplacer(
			"listen: [192.168.10.3]", `listen: [192.168.10.3, "fd00::3"]`,
			"- {address: 192.168.10.11, asn: 65011}", "- {range: 0.0.0.0/0, asn: 65011}\n    - {range: \"::/0\", asn: 65011}\n"+
				"    - {range: 10.0.0.0/7, asn: 65011}\n    - {range: \"fd00::/16\", asn: 65011}").Replace(goodVRF)},
			[]string{`workers.peers[0].range: "0.0.0.0/0" lets any host on the internet connect; give the workers' subnet`,
				`workers.peers[1].range: "::/0" lets any host on the internet connect`,
				`workers.peers[2].range: "10.0.0.0/7" is wider than /8; give the workers' subnet`,
				`workers.peers[3].range: "fd00::/16" is wider than /32`}},
		{"keys not in lower case", strings.Replace(goodGlobal, "router-id:", "Router-ID:", 1) + "Fabric: {listen: [10.0.0.3]}\n",
			map[string]string{"blue.yaml": strings.NewReplacer("listen:", "Listen:", "asn: 65011", "ASN: 65011").Replace(goodVRF)},
			[]string{"t5gw.yaml: Router-ID: keys are lower case: write router-id", "t5gw.yaml: Fabric: keys are lower case: write fabric",
				"blue.yaml: workers.Listen: keys are lower case: write listen", "blue.yaml: workers.peers[0].ASN: keys are lower case: write asn"}},
		{"graceful restart", goodGlobal + "graceful-restart: {restart-time: 5000s, worker-wait: soon}\ngraceful-shutdown: maybe\n", map[string]string{"blue.yaml": goodVRF},
			[]string{`graceful-restart.restart-time: "5000s" is outside 0s..1h8m15s`, `graceful-restart.worker-wait: "soon" is not a duration`,
				`graceful-shutdown: "maybe" is not true or false`}},
		{"worker-wait past restart-time", goodGlobal + "graceful-restart: {restart-time: 60s, worker-wait: 60s}\n", map[string]string{"blue.yaml": goodVRF},
			[]string{`graceful-restart.worker-wait: "60s" must be shorter than restart-time (1m0s)`}},
		{"no vrf files", goodGlobal, map[string]string{}, []string{"vrf-dir: ", "holds no *.yaml VRF file"}},
		{"not yaml", goodGlobal, map[string]string{"blue.yaml": "name: [blue\n"}, []string{"blue.yaml: cannot read"}},
		{"wrong shape", goodGlobal, map[string]string{"blue.yaml": goodVRF + "route-targets: 65000:1\n"}, []string{"blue.yaml: ", "route-targets"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.global, tc.vrfs))
			if err == nil {
				t.Fatalf("Load succeeded, want errors %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q; it says:\n%v", w, err)
				}
			}
		})
	}
}
