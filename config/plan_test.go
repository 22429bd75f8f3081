package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const planGlobal = `
router-id: 10.0.0.3
asn: 65000
fabric:
  neighbors:
    - {address: 10.0.0.1, asn: 65000}
    - {address: 10.0.0.2, asn: 65000}
metrics: 127.0.0.1:9179
`

const planVRF = `
name: blue
l3vni: 4001
workers:
  listen: [192.168.10.3]
  peers:
    - {address: 192.168.10.11, asn: 65011}
    - {address: 192.168.10.12, asn: 65012}
    - {range: 192.168.20.0/24, asn: 65020}
  accept: ["10.244.0.0/16 le 32"]
`

const planRed = `
name: red
l3vni: 4002
workers:
  listen: [192.168.30.3]
  peers: [{range: 192.168.30.0/24, asn: 65030}]
  accept: ["10.245.0.0/16 le 32"]
`

func TestDiff(t *testing.T) {
	edit := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("test edit: %q not in\n%s", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	tests := []struct {
		name         string
		global, blue string
		red          string // "" leaves red out
		want         []string
	}{
		{"nothing", planGlobal, planVRF, "", nil},
		{"comment only", planGlobal + "# a comment\n", planVRF + "# another\n", "", nil},
		{"router-id", edit(planGlobal, "router-id: 10.0.0.3", "router-id: 10.0.0.4"), planVRF, "",
			[]string{"restart every speaker: router-id 10.0.0.3 -> 10.0.0.4"}},
		{"asn", edit(planGlobal, "asn: 65000\n", "asn: 65001\n"), planVRF, "",
			[]string{"restart every speaker: asn 65000 -> 65001"}},
		{"accept", planGlobal, edit(planVRF, `"10.244.0.0/16 le 32"`, `"10.244.0.0/16 le 32", "10.96.0.0/12 le 32"`), "",
			[]string{"vrf blue: translate again: workers.accept"}},
		{"accept gains IPv6: every session offers it", planGlobal, edit(planVRF, `"10.244.0.0/16 le 32"`, `"10.244.0.0/16 le 32", "fd00::/48 le 128"`), "",
			[]string{"vrf blue: translate again: workers.accept",
				"vrf blue: reset peer 192.168.10.11: address families (accept rules)",
				"vrf blue: reset peer 192.168.10.12: address families (accept rules)",
				"vrf blue: reset peer 192.168.20.0/24: address families (accept rules)"}},
		{"rd, label, route targets", planGlobal, planVRF + "rd: 65000:1\nlabel: zero\nroute-targets: {export: [\"65000:9\"]}\n", "",
			[]string{"vrf blue: translate again: rd, route-targets.export, label"}},
		{"vtep-ip", planGlobal + "vtep-ip: 10.0.0.9\n", planVRF, "",
			[]string{"vrf blue: translate again: vtep-ip"}},
		{"graceful-shutdown", planGlobal + "graceful-shutdown: true\n", planVRF, "",
			[]string{"vrf blue: translate again: graceful-shutdown"}},
		{"max-prefixes", planGlobal, planVRF + "  max-prefixes: 100\n", "",
			[]string{"vrf blue: max-prefixes 100 (warning at 75%), every worker held to it at once"}},
		{"max-prefixes-restart", planGlobal, planVRF + "  max-prefixes-restart: 1m\n", "",
			[]string{"vrf blue: settings only t5gw reads (such as max-prefixes-restart)"}},
		{"peer asn", planGlobal, edit(planVRF, "asn: 65011", "asn: 65111"), "",
			[]string{"vrf blue: reset peer 192.168.10.11: asn 65011 -> 65111"}},
		{"peer password and ttl", planGlobal, edit(planVRF, "asn: 65012}", "asn: 65012, password: pw, multihop: 4}"), "",
			[]string{"vrf blue: reset peer 192.168.10.12: password, multihop 0 -> 4"}},
		{"peer timers", planGlobal, edit(planVRF, "asn: 65012}", "asn: 65012, timers: {hold: 30s}}"), "",
			[]string{"vrf blue: peer 192.168.10.12: timers from its next session, BFD at once"}},
		{"bfd on a peer", planGlobal, edit(planVRF, "asn: 65012}", "asn: 65012, bfd: true}"), "",
			[]string{"vrf blue: peer 192.168.10.12: timers from its next session, BFD at once"}},
		{"vrf timers reach peers without their own", planGlobal, edit(planVRF, "asn: 65012}", "asn: 65012, timers: {hold: 9s}}") + "  timers: {hold: 6s}\n", "",
			[]string{"vrf blue: peer 192.168.10.11: timers from its next session, BFD at once",
				"vrf blue: peer 192.168.20.0/24: timers from its next session, BFD at once"}},
		{"peer added and removed", planGlobal, edit(planVRF, "- {address: 192.168.10.12, asn: 65012}", "- {address: 192.168.10.13, asn: 65013}"), "",
			[]string{"vrf blue: add peer 192.168.10.13", "vrf blue: remove peer 192.168.10.12"}},
		{"range changed", planGlobal, edit(planVRF, "asn: 65020", "asn: 65021"), "",
			[]string{"vrf blue: reset peer 192.168.20.0/24: asn 65020 -> 65021"}},
		{"listen", planGlobal, edit(planVRF, "listen: [192.168.10.3]", "listen: [192.168.10.3, 192.168.10.4]"), "",
			[]string{"vrf blue: restart the worker speaker: workers.listen [192.168.10.3] -> [192.168.10.3 192.168.10.4]"}},
		{"workers asn", planGlobal, planVRF + "  asn: 65001\n", "",
			[]string{"vrf blue: restart the worker speaker: workers.asn 65000 -> 65001"}},
		{"graceful restart helper off", planGlobal, planVRF + "  graceful-restart: false\n", "",
			[]string{"vrf blue: reset peer 192.168.10.11: workers.graceful-restart",
				"vrf blue: reset peer 192.168.10.12: workers.graceful-restart",
				"vrf blue: reset peer 192.168.20.0/24: workers.graceful-restart"}},
		{"vrf added", planGlobal, planVRF, planRed, []string{"vrf red: start"}},
		{"fabric neighbor added, removed, changed", edit(planGlobal,
			"    - {address: 10.0.0.1, asn: 65000}\n    - {address: 10.0.0.2, asn: 65000}",
			"    - {address: 10.0.0.1, asn: 65000, password: x}\n    - {address: 10.0.0.5, asn: 65000}"), planVRF, "",
			[]string{"fabric: add neighbor 10.0.0.5", "fabric: remove neighbor 10.0.0.2",
				"fabric: reset neighbor 10.0.0.1 with its new settings"}},
		{"fabric listen", edit(planGlobal, "fabric:\n", "fabric:\n  listen: [10.0.0.3]\n"), planVRF, "",
			[]string{"fabric: restart the fabric speaker: fabric.listen [] -> [10.0.0.3]"}},
		{"fabric restart time resets every fabric session", planGlobal + "graceful-restart: {restart-time: 60s}\n", planVRF, "",
			[]string{"fabric: reset neighbor 10.0.0.1 with its new settings", "fabric: reset neighbor 10.0.0.2 with its new settings"}},
		{"paths: add-path turns ADD-PATH on for the fabric", planGlobal, planVRF + "paths: add-path\n", "",
			[]string{"fabric: restart the fabric speaker: ADD-PATH on the fabric sessions false -> true (paths: add-path)",
				"vrf blue: translate again: paths"}},
		{"paths: best and the unresolved policy translate again", planGlobal,
			planVRF + "paths: best\nunresolved: fallback\nrouter-mac: 02:00:00:00:40:01\norigin: keep\n", "",
			[]string{"vrf blue: translate again: paths, unresolved, router-mac, origin"}},
		{"enforce-first-as off translates again", planGlobal, planVRF + "  enforce-first-as: false\n", "",
			[]string{"vrf blue: translate again: workers.enforce-first-as"}},
		{"worker-wait and state-dir are read at the next start", planGlobal + "graceful-restart: {worker-wait: 10s}\nstate-dir: /tmp/x\n", planVRF, "", nil},
		{"log-format and api wait for the next start", planGlobal + "log-format: json\napi: {socket: /run/x.sock, group: adm}\n", planVRF, "",
			[]string{"log-format: takes effect at the next start", "api: takes effect at the next start"}},
		{"metrics and log level", edit(planGlobal, "metrics: 127.0.0.1:9179", "metrics: 127.0.0.1:9180") + "log-level: debug\n", planVRF, "",
			[]string{"metrics: move the listener", "log-level: change"}},
	}
	running := load(t, planGlobal, planVRF, "")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := load(t, tc.global, tc.blue, tc.red)
			p := Diff(running, next)
			if diff := cmp.Diff(tc.want, p.Steps()); diff != "" {
				t.Errorf("plan steps (-want +got):\n%s", diff)
			}
			if p.Empty() != (len(tc.want) == 0) {
				t.Errorf("Empty() = %v with steps %q", p.Empty(), p.Steps())
			}
			if again := Diff(next, next); !again.Empty() {
				t.Errorf("a config against itself plans %q", again.Steps())
			}
		})
	}
}

func TestDiffWithTwoVRFs(t *testing.T) {
	both := load(t, planGlobal, planVRF, planRed)
	p := Diff(both, load(t, planGlobal, planVRF, ""))
	if diff := cmp.Diff([]string{"vrf red: stop, withdrawing its routes"}, p.Steps()); diff != "" {
		t.Errorf("removing red (-want +got):\n%s", diff)
	}
	p = Diff(both, load(t, planGlobal+"vtep-ip: 10.0.0.9\n", planVRF, planRed))
	want := []string{"vrf blue: translate again: vtep-ip", "vrf red: translate again: vtep-ip"}
	if diff := cmp.Diff(want, p.Steps()); diff != "" {
		t.Errorf("vtep-ip reaches every VRF (-want +got):\n%s", diff)
	}
}

func load(t *testing.T, global, blue, red string) *Config {
	t.Helper()
	vrfs := map[string]string{"blue.yaml": blue}
	if red != "" {
		vrfs["red.yaml"] = red
	}
	c, err := Load(write(t, global, vrfs))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
