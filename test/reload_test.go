package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// rrSession is what the route reflector knows of its session with t5gw.
type rrSession struct {
	Established int64 // when it came up (epoch seconds): a reset changes it
	Updates     int   // UPDATE messages received on it
}

func rrSessionWith(rr *lab.Node, addr string) (rrSession, string) {
	out, err := rr.Vtysh("show bgp neighbors " + addr + " json")
	if err != nil {
		return rrSession{}, err.Error()
	}
	var v map[string]struct {
		State       string `json:"bgpState"`
		Established int64  `json:"bgpTimerUpEstablishedEpoch"`
		Stats       struct {
			UpdatesRecv int `json:"updatesRecv"`
		} `json:"messageStats"`
	}
	if json.Unmarshal([]byte(out), &v) != nil || v[addr].State != "Established" {
		return rrSession{}, out
	}
	return rrSession{Established: v[addr].Established, Updates: v[addr].Stats.UpdatesRecv}, out
}

// reloadLab is the containerlab fabric with gw2 stopped for good and gw's
// t5gwd running from config files the test edits.
type reloadLab struct {
	t          *testing.T
	f          *fabric
	gw, rr, l3 *lab.Node
	daemon     *lab.Proc
	global     string            // the global file's text
	blue       string            // blue.yaml's text
	vrfDir     string            // where blue.yaml is, relative to the global file
	extra      map[string]string // other files of vrfDir: name to text ("" removes)
	probe      *probe
	metrics    string // where t5gwd serves /metrics
}

const reloadGlobal = `# gw, run by TestReloadIsHitless
router-id: 10.0.0.3
asn: 65000
fabric:
  neighbors:
    - {address: 10.0.0.1, asn: 65000}
metrics: 127.0.0.1:9179
state-dir: state
`

// w1 (BIRD) is a static peer, w2 (gobgpd) comes from the range.
const reloadBlue = `name: blue
l3vni: 4001
workers:
  listen: [192.168.10.3]
  peers:
    - {address: 192.168.10.11, asn: 65011, multihop: 4}
    - {range: 192.168.10.0/24, asn: 65011, multihop: 4}
  accept: ["10.244.0.0/16 le 32"]
`

// newReloadLab deploys the lab; with pair, gw2 keeps running next to gw.
func newReloadLab(t *testing.T, pair bool) *reloadLab {
	f := deployFabric(t)
	r := &reloadLab{t: t, f: f, gw: f.n("gw"), rr: f.n("rr"), l3: f.n("l3"),
		global: reloadGlobal, blue: reloadBlue, vrfDir: "vrfs.d", extra: map[string]string{}, metrics: "127.0.0.1:9179"}
	lab.WaitFor(t, "l2 reaches both workers", wait, func() (bool, string) {
		return pings(f.n("l2"), "192.168.10.11", 1) && pings(f.n("l2"), "192.168.10.12", 1), ""
	})
	gw2 := f.n("gw2").Procs("t5gwd")[0]
	expectReady(t, f.n("gw2"), gw2)
	// gw starts again from files the test owns; without pair, gw2 leaves
	// for good, so that only gw's routes can carry the pods.
	stop := []*lab.Proc{r.gw.Procs("t5gwd")[0]}
	if !pair {
		stop = append(stop, gw2)
	}
	for _, d := range stop {
		if err := d.Signal(syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		if !d.Wait(wait) || d.ExitCode() != 0 {
			t.Fatalf("%s did not stop for good: exit %d\n%s", d.Name, d.ExitCode(), d.Tail(10))
		}
	}
	r.write()
	r.daemon = r.gw.Start("t5gwd-reload", t5gwd, "--config", filepath.Join(r.gw.Dir, "t5gw.yaml"))
	expectReady(t, r.gw, r.daemon)
	for _, prefix := range []string{"10.244.1.0/24", "10.244.2.0/24"} {
		lab.WaitFor(t, "l3 holds gw's Type-5 for "+prefix, wait, func() (bool, string) {
			nodes, last := nodesOf(r.l3, prefix)
			return nodes["10.0.0.3"] == 1 && len(nodes) == 1+boolInt(pair), last
		})
	}
	expectRoute(t, r.l3, "10.244.1.0/24", "192.168.10.11", "br100")
	expectRoute(t, r.l3, "10.244.2.0/24", "192.168.10.12", "br100")
	r.probe = startProbe(t, r.l3, []string{"10.244.1.0/24", "10.244.2.0/24"}, "10.244.1.1", "10.244.2.1")
	return r
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *reloadLab) write() {
	r.gw.Write(r.vrfDir+"/blue.yaml", r.blue)
	for name, text := range r.extra {
		path := filepath.Join(r.gw.Dir, r.vrfDir, name)
		if text == "" {
			_ = os.Remove(path)
			delete(r.extra, name)
			continue
		}
		r.gw.Write(r.vrfDir+"/"+name, text)
	}
	r.gw.Write("t5gw.yaml", r.global)
}

// edit replaces old with new in text, which must hold it.
func (r *reloadLab) edit(text *string, old, new string) {
	r.t.Helper()
	if !strings.Contains(*text, old) {
		r.t.Fatalf("edit: %q is not in\n%s", old, *text)
	}
	*text = strings.Replace(*text, old, new, 1)
}

func (r *reloadLab) m() map[string]float64 { return metricsOf(r.gw, r.metrics) }

// reloadCase is one config change and what it may cost.
type reloadCase struct {
	name string
	edit func(r *reloadLab)
	hup  bool // SIGHUP; otherwise the file watch notices the change
	// refused: the change is a broken config, refused whole.
	refused bool
	// done waits for the change to show (a route, a session, a metric).
	done func(t *testing.T, r *reloadLab)
	// resets is how many worker sessions the change is about; advertised
	// and withdrawn are the Type-5 routes it must change, and no others.
	resets                int
	advertised, withdrawn int
	// restarts: the change restarts t5gw's fabric speaker (its session with
	// the route reflector resets, its counters start again); only a pair
	// keeps forwarding then, as FRR 8.4 does not keep EVPN routes through
	// a graceful restart.
	restarts bool
}

// run applies one case and checks, against the probe and the route
// reflector, that it cost exactly what it is about and no more.
func (r *reloadLab) run(t *testing.T, c reloadCase) {
	parent := r.t
	r.t = t // edits report on the case
	defer func() { r.t = parent }()
	before := r.m()
	mark := r.probe.mark()
	rr, last := rrSessionWith(r.rr, "10.0.0.3")
	if rr.Established == 0 {
		t.Fatalf("no session between the route reflector and t5gw:\n%s", last)
	}
	c.edit(r)
	r.write()
	if c.hup {
		if err := r.daemon.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	ok := `t5gw_config_reloads_total{result="success"}`
	if c.refused {
		ok = `t5gw_config_reloads_total{result="failure"}`
	}
	// With SIGHUP the file watch also sees the write and reloads once more
	// half a second later (finding nothing new): wait for both, or that
	// second reload would pass for the next case's.
	reloads := 1.0
	if c.hup {
		reloads = 2
	}
	lab.WaitFor(t, "reload applied (or refused)", wait, func() (bool, string) {
		m := r.m()
		return m[ok] == before[ok]+reloads, r.daemon.Tail(15)
	})
	if c.done != nil {
		c.done(t, r)
	}
	lab.WaitFor(t, "t5gwd ready", time.Minute, func() (bool, string) {
		out, err := r.gw.Output("curl", "-s", "-w", " %{http_code}", "http://"+r.metrics+"/readyz")
		return err == nil && strings.HasSuffix(strings.TrimSpace(out), " 200"), out + r.daemon.Tail(10)
	})
	after := r.m()
	res := r.probe.expectLossless(c.name, mark)
	if c.restarts {
		now, last := rrSessionWith(r.rr, "10.0.0.3")
		if now.Established == rr.Established {
			t.Errorf("the fabric session did not restart:\n%s", last)
		}
		t.Logf("%s: %s", c.name, res)
		return
	}
	downs := `t5gw_vrf_worker_session_downs_total{vrf="blue"}`
	if got := int(after[downs] - before[downs]); got != c.resets {
		t.Errorf("%d worker sessions reset, want %d\n%s", got, c.resets, r.daemon.Tail(20))
	}
	adv, wd := `t5gw_vrf_fabric_updates_total{op="advertise",vrf="blue"}`, `t5gw_vrf_fabric_updates_total{op="withdraw",vrf="blue"}`
	if a, w := int(after[adv]-before[adv]), int(after[wd]-before[wd]); a != c.advertised || w != c.withdrawn {
		t.Errorf("t5gw advertised %d and withdrew %d Type-5 routes, want %d and %d", a, w, c.advertised, c.withdrawn)
	}
	now, last := rrSessionWith(r.rr, "10.0.0.3")
	switch {
	case now.Established-rr.Established > 2 || now.Established-rr.Established < -2 || now.Updates < rr.Updates:
		// FRR derives the epoch from an uptime in whole seconds; a reset
		// also starts the dynamic neighbor's counters again.
		t.Errorf("the fabric session was reset:\n%s", last)
	case c.advertised+c.withdrawn == 0 && now.Updates != rr.Updates:
		t.Errorf("the route reflector received %d UPDATEs from t5gw for a change that touches no route", now.Updates-rr.Updates)
	case now.Updates-rr.Updates > c.advertised+c.withdrawn:
		t.Errorf("the route reflector received %d UPDATEs from t5gw, more than the %d route changes", now.Updates-rr.Updates, c.advertised+c.withdrawn)
	}
	t.Logf("%s: %s; %d UPDATEs at the route reflector", c.name, res, now.Updates-rr.Updates)
}

// TestReloadIsHitless changes every setting of the global and the VRF file
// that a namespace lab can hold, one at a time, on a single t5gw node in
// front of FRR 8.4 leaves, while the ingress leaf pings both pods every
// 100 ms and the kernel reports every change to their routes. Each change
// must apply, lose no ping and no route, reset no session but the one it is
// about, and send no UPDATE for a route it does not affect. (device and
// install-routes need VRF devices: the real-kernel tier covers them.)
func TestReloadIsHitless(t *testing.T) {
	r := newReloadLab(t, false)
	w1, w2 := r.f.n("w1"), r.f.n("w2")
	gwRoute := func(prefix, rd string) func(t *testing.T, r *reloadLab) {
		return func(t *testing.T, r *reloadLab) {
			lab.WaitFor(t, "l3 holds "+prefix+" under RD "+rd+" only", wait, func() (bool, string) {
				rds, last := rdsOf(r.l3, prefix)
				return len(rds) == 1 && rds[rd], last
			})
		}
	}
	sessionsUp := func(n int) func(t *testing.T, r *reloadLab) {
		return func(t *testing.T, r *reloadLab) {
			lab.WaitFor(t, fmt.Sprintf("%d worker sessions up, no stale route left", n), wait, func() (bool, string) {
				m := r.m()
				return m[`t5gw_vrf_worker_sessions_up{vrf="blue"}`] == float64(n) && m[`t5gw_vrf_routes_stale{vrf="blue"}`] == 0, r.daemon.Tail(10)
			})
		}
	}
	birdConf := func(t *testing.T, change func(string) string) {
		t.Helper()
		b, err := os.ReadFile("containerlab/w1/bird.conf")
		if err != nil {
			t.Fatal(err)
		}
		path := w1.Write("bird-reload.conf", change(string(b)))
		if out, err := w1.Birdc("configure", `"`+path+`"`); err != nil || !strings.Contains(out, "Reconfigur") {
			t.Fatalf("birdc configure: %v\n%s", err, out)
		}
	}
	// w2 also announces a prefix outside accept, for the accept case.
	w2.MustRun("ip", "addr", "add", "10.245.2.1/32", "dev", "lo")
	if out, err := w2.GoBGP("global", "rib", "add", "-a", "ipv4", "10.245.2.0/24"); err != nil {
		t.Fatalf("gobgp: %v\n%s", err, out)
	}
	lab.WaitFor(t, "t5gw refuses 10.245.2.0/24", wait, func() (bool, string) {
		m := r.m()
		return m[`t5gw_vrf_routes_refused{reason="not-accepted",vrf="blue"}`] == 1, fmt.Sprint(m)
	})

	cases := []reloadCase{
		{name: "accept gains a rule", edit: func(r *reloadLab) {
			r.edit(&r.blue, `accept: ["10.244.0.0/16 le 32"]`, `accept: ["10.244.0.0/16 le 32", "10.245.0.0/16 le 32"]`)
		}, done: func(t *testing.T, r *reloadLab) {
			expectRoute(t, r.l3, "10.245.2.0/24", "192.168.10.12", "br100")
			lab.WaitFor(t, "l3 pings 10.245.2.1", wait, func() (bool, string) { return pings(r.l3, "10.245.2.1", 1), "" })
		}, advertised: 1},
		{name: "accept loses it", hup: true, edit: func(r *reloadLab) {
			r.edit(&r.blue, `, "10.245.0.0/16 le 32"]`, `]`)
		}, done: func(t *testing.T, r *reloadLab) {
			lab.WaitFor(t, "l3 drops 10.245.2.0/24", wait, func() (bool, string) {
				rt, last := kernelRoute(r.l3, "10.245.2.0/24")
				return rt.Dst == "", last
			})
		}, withdrawn: 1},
		{name: "max-prefixes", edit: func(r *reloadLab) { r.blue += "  max-prefixes: 100\n" }},
		{name: "max-prefixes-restart", edit: func(r *reloadLab) { r.blue += "  max-prefixes-restart: 1m\n" }},
		{name: "allow-third-party-nexthop", edit: func(r *reloadLab) { r.blue += "  allow-third-party-nexthop: true\n" }},
		{name: "worker timers, from the next session", edit: func(r *reloadLab) { r.blue += "  timers: {hold: 12s}\n" }},
		{name: "route targets", edit: func(r *reloadLab) { r.blue += "route-targets: {export: [\"65000:4001\", \"65000:9999\"]}\n" },
			advertised: 2},
		{name: "paths: best, under its rd: the new route is in before the old one goes", edit: func(r *reloadLab) {
			r.blue += "rd: 65000:4001\npaths: best\n"
		}, done: gwRoute("10.244.1.0/24", "65000:4001"), advertised: 2, withdrawn: 2},
		{name: "paths: per-worker again, each worker's own RD", edit: func(r *reloadLab) {
			r.edit(&r.blue, "paths: best\n", "")
		}, done: func(t *testing.T, r *reloadLab) {
			lab.WaitFor(t, "l3 holds 10.244.1.0/24 under one RD of gw's", wait, func() (bool, string) {
				nodes, last := nodesOf(r.l3, "10.244.1.0/24")
				return len(nodes) == 1 && nodes["10.0.0.3"] == 1, last
			})
		}, advertised: 2, withdrawn: 2},
		{name: "unresolved: withhold, every worker resolves", edit: func(r *reloadLab) { r.blue += "unresolved: withhold\n" }},
		{name: "unresolved: fallback", edit: func(r *reloadLab) {
			r.edit(&r.blue, "unresolved: withhold\n", "unresolved: fallback\nrouter-mac: 02:00:0a:00:00:03\n")
		}},
		{name: "vtep-ip", edit: func(r *reloadLab) { r.global += "vtep-ip: 10.0.0.5\n" }, advertised: 2},
		{name: "graceful-shutdown", hup: true, edit: func(r *reloadLab) { r.global += "graceful-shutdown: true\n" }, advertised: 2},
		{name: "graceful-shutdown off", edit: func(r *reloadLab) { r.edit(&r.global, "graceful-shutdown: true\n", "") }, advertised: 2},
		{name: "a peer added", edit: func(r *reloadLab) {
			r.edit(&r.blue, "  peers:\n", "  peers:\n    - {address: 192.168.10.99, asn: 65099}\n")
		}},
		{name: "log-level reaches GoBGP", edit: func(r *reloadLab) { r.global += "log-level: debug\n" },
			done: func(t *testing.T, r *reloadLab) {
				// GoBGP tries the new peer, which never answers, every few seconds.
				lab.WaitFor(t, "GoBGP's debug records in the log", wait, func() (bool, string) {
					return strings.Contains(r.daemon.Tail(400), `level=DEBUG msg="try to connect"`), r.daemon.Tail(5)
				})
			}},
		{name: "log-level back", edit: func(r *reloadLab) { r.edit(&r.global, "log-level: debug\n", "") }},
		{name: "memory-limit", edit: func(r *reloadLab) { r.global += "memory-limit: 512MiB\n" },
			done: func(t *testing.T, r *reloadLab) {
				lab.WaitFor(t, "the new memory limit in the log", wait, func() (bool, string) {
					return strings.Contains(r.daemon.Tail(50), `msg="memory limit" memory-limit=512MiB MiB=512`), r.daemon.Tail(5)
				})
			}},
		{name: "and removed", edit: func(r *reloadLab) { r.edit(&r.blue, "    - {address: 192.168.10.99, asn: 65099}\n", "") }},
		{name: "metrics moves", edit: func(r *reloadLab) {
			r.edit(&r.global, "metrics: 127.0.0.1:9179", "metrics: 127.0.0.1:9180")
			r.metrics = "127.0.0.1:9180" // the counters go on there
		}, done: func(t *testing.T, r *reloadLab) {
			if _, err := r.gw.Output("curl", "-sf", "http://127.0.0.1:9179/metrics"); err == nil {
				t.Errorf("the old metrics address still answers")
			}
		}},
		{name: "a fabric neighbor added", edit: func(r *reloadLab) {
			r.edit(&r.global, "    - {address: 10.0.0.1, asn: 65000}\n", "    - {address: 10.0.0.1, asn: 65000}\n    - {address: 10.0.0.99, asn: 65000}\n")
		}},
		{name: "and removed", edit: func(r *reloadLab) { r.edit(&r.global, "    - {address: 10.0.0.99, asn: 65000}\n", "") }},
		{name: "l3vni", edit: func(r *reloadLab) { r.edit(&r.blue, "l3vni: 4001", "l3vni: 4002") }, advertised: 2},
		{name: "label zero", edit: func(r *reloadLab) { r.blue += "label: zero\n" }, advertised: 2},
		{name: "a VRF file added starts that VRF", edit: func(r *reloadLab) {
			r.extra["red.yaml"] = "name: red\nl3vni: 4003\nworkers:\n  listen: [192.168.30.3]\n  peers: [{range: 192.168.30.0/24, asn: 65030}]\n  accept: [\"10.246.0.0/16 le 32\"]\n"
		}, done: func(t *testing.T, r *reloadLab) {
			lab.WaitFor(t, "red runs", wait, func() (bool, string) {
				m := r.m()
				return m[`t5gw_vrf_running{vrf="red"}`] == 1, r.daemon.Tail(5)
			})
		}},
		{name: "a broken file is refused whole", edit: func(r *reloadLab) {
			r.extra["red.yaml"] = strings.Replace(r.extra["red.yaml"], "l3vni: 4003", "l3vni: 99999999", 1)
			r.edit(&r.blue, "  max-prefixes: 100\n", "  max-prefixes: 5\n") // valid, but refused with the rest
		}, refused: true, done: func(t *testing.T, r *reloadLab) {
			if log := r.daemon.Tail(5); !strings.Contains(log, `red.yaml: l3vni: \"99999999\" is outside 1..16777215`) {
				t.Errorf("the log does not name file, field and value:\n%s", log)
			}
			r.edit(&r.blue, "  max-prefixes: 5\n", "  max-prefixes: 100\n")
		}},
		{name: "a VRF file removed stops that VRF", edit: func(r *reloadLab) { r.extra["red.yaml"] = "" },
			done: func(t *testing.T, r *reloadLab) {
				lab.WaitFor(t, "red gone", wait, func() (bool, string) {
					m := r.m()
					_, red := m[`t5gw_vrf_running{vrf="red"}`]
					return !red, r.daemon.Tail(5)
				})
			}},
		{name: "vrf-dir", edit: func(r *reloadLab) {
			r.vrfDir = "tenants"
			r.global += "vrf-dir: tenants\n"
		}},
		{name: "a change in the new vrf-dir is seen", edit: func(r *reloadLab) {
			r.edit(&r.blue, "  max-prefixes: 100\n", "  max-prefixes: 200\n")
		}},
		{name: "worker-wait and state-dir: read at the next start", edit: func(r *reloadLab) {
			r.global += "graceful-restart: {worker-wait: 20s}\n"
		}},
		{name: "a peer's TTL: only its session resets, its routes stay", edit: func(r *reloadLab) {
			r.edit(&r.blue, "{address: 192.168.10.11, asn: 65011, multihop: 4}", "{address: 192.168.10.11, asn: 65011, multihop: 5}")
		}, done: sessionsUp(2), resets: 1},
		{name: "a peer's password, on both sides", edit: func(r *reloadLab) {
			r.edit(&r.blue, "{address: 192.168.10.11, asn: 65011, multihop: 5}", "{address: 192.168.10.11, asn: 65011, multihop: 5, password: calico-md5}")
		}, done: func(t *testing.T, r *reloadLab) {
			birdConf(t, func(s string) string {
				return strings.Replace(s, "protocol bgp t5gw from t5gwnode {", "protocol bgp t5gw from t5gwnode { password \"calico-md5\";", 1)
			})
			sessionsUp(2)(t, r)
		}, resets: 1},
		{name: "a peer's AS, on both sides", edit: func(r *reloadLab) {
			r.edit(&r.blue, "{address: 192.168.10.11, asn: 65011,", "{address: 192.168.10.11, asn: 65111,")
		}, done: func(t *testing.T, r *reloadLab) {
			birdConf(t, func(s string) string {
				return strings.Replace(s, "protocol bgp t5gw from t5gwnode {", "protocol bgp t5gw from t5gwnode { password \"calico-md5\"; local 192.168.10.11 as 65111;", 1)
			})
			sessionsUp(2)(t, r)
		}, resets: 1, advertised: 1},
		{name: "workers.listen: the worker speaker restarts, routes stay", edit: func(r *reloadLab) {
			r.edit(&r.blue, "listen: [192.168.10.3]", "listen: [192.168.10.3, 192.168.10.5]")
		}, done: sessionsUp(2), resets: 2},
		{name: "graceful restart helper off resets every session", edit: func(r *reloadLab) {
			r.edit(&r.blue, "  max-prefixes: 200\n", "  max-prefixes: 200\n  graceful-restart: false\n")
		},
			done: sessionsUp(2), resets: 2},
	}
	for _, c := range cases {
		if !t.Run(c.name, func(t *testing.T) { r.run(t, c) }) {
			break // later cases build on this one's config
		}
	}
}

// pathsAt reads the paths an FRR leaf holds for prefix in its VRF, one per
// t5gw node: by originator (the node's router-id, the ORIGINATOR_ID the
// route reflector adds), its LOCAL_PREF; and which originator is best.
func pathsAt(n *lab.Node, prefix string) (prefs map[string]int, best string, last string) {
	out, err := n.Vtysh("show bgp ipv4 unicast " + prefix + " json")
	if err != nil {
		return nil, "", err.Error()
	}
	var v struct {
		Paths []struct {
			Originator string `json:"originatorId"`
			LocalPref  int    `json:"locPrf"`
			Best       struct {
				Overall bool `json:"overall"`
			} `json:"bestpath"`
		} `json:"paths"`
	}
	if json.Unmarshal([]byte(out), &v) != nil {
		return nil, "", out
	}
	prefs = map[string]int{}
	for _, p := range v.Paths {
		prefs[p.Originator] = p.LocalPref
		if p.Best.Overall {
			best = p.Originator
		}
	}
	return prefs, best, out
}

// TestReloadInAPair changes the settings that restart t5gw's fabric speaker
// (its listener, its graceful restart time) or everything (router-id), on
// one node of a pair: FRR 8.4 leaves drop that node's routes when its fabric
// session ends, and the other node's carry the pods. Then it takes the node
// out for maintenance: graceful-shutdown first (the leaves move to the other
// node), then stop for good. Nothing of the other node may move. (A new asn
// would also change the default route targets and the fabric session's kind:
// the plan's unit test covers it.)
func TestReloadInAPair(t *testing.T) {
	r := newReloadLab(t, true)
	gw2 := r.f.n("gw2")
	other := metricsOf(gw2, "127.0.0.1:9179")
	otherRR, _ := rrSessionWith(r.rr, "10.0.0.4")
	speakerUp := func(t *testing.T, r *reloadLab) {
		lab.WaitFor(t, "gw's routes back at l3", wait, func() (bool, string) {
			rds, last := rdsOf(r.l3, "10.244.2.0/24")
			return len(rds) == 2, last
		})
	}
	cases := []reloadCase{
		{name: "fabric.listen restarts the fabric speaker", edit: func(r *reloadLab) {
			r.edit(&r.global, "fabric:\n", "fabric:\n  listen: [10.0.0.3]\n")
		}, done: speakerUp, restarts: true},
		{name: "fabric.port", edit: func(r *reloadLab) { r.edit(&r.global, "fabric:\n", "fabric:\n  port: 1179\n") },
			done: speakerUp, restarts: true},
		{name: "graceful-restart.restart-time resets the fabric sessions", edit: func(r *reloadLab) {
			r.global += "graceful-restart: {restart-time: 90s}\n"
		}, done: speakerUp, restarts: true},
		{name: "router-id restarts everything, gracefully", edit: func(r *reloadLab) {
			r.edit(&r.global, "router-id: 10.0.0.3", "router-id: 10.0.0.9")
		}, done: func(t *testing.T, r *reloadLab) {
			lab.WaitFor(t, "gw's routes under its new RD at l3", wait, func() (bool, string) {
				nodes, last := nodesOf(r.l3, "10.244.2.0/24")
				return nodes["10.0.0.9"] == 1 && nodes["10.0.0.4"] == 1 && len(nodes) == 2, last
			})
		}, restarts: true},
	}
	for _, c := range cases {
		if !t.Run(c.name, func(t *testing.T) { r.run(t, c) }) {
			break
		}
	}
	t.Run("graceful shutdown, then stop for good: the fabric moves first", func(t *testing.T) {
		mark := r.probe.mark()
		if prefs, _, last := pathsAt(r.l3, "10.244.1.0/24"); prefs["10.0.0.9"] != 100 || prefs["10.0.0.4"] != 100 {
			t.Fatalf("before: want both nodes' paths at LOCAL_PREF 100 at l3:\n%s", last)
		}
		r.global += "graceful-shutdown: true\n"
		r.write()
		for _, prefix := range []string{"10.244.1.0/24", "10.244.2.0/24"} {
			lab.WaitFor(t, "l3 holds gw's route at LOCAL_PREF 0 and prefers gw2's for "+prefix, wait, func() (bool, string) {
				prefs, best, last := pathsAt(r.l3, prefix)
				return prefs["10.0.0.9"] == 0 && prefs["10.0.0.4"] == 100 && best == "10.0.0.4", last
			})
		}
		if err := r.daemon.Signal(syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		lab.WaitFor(t, "l3 holds only gw2's routes", wait, func() (bool, string) {
			nodes, last := nodesOf(r.l3, "10.244.1.0/24")
			return len(nodes) == 1 && nodes["10.0.0.4"] == 1, last
		})
		res := r.probe.expectLossless("graceful shutdown and stop", mark)
		t.Logf("graceful shutdown and stop for good: %s", res)
	})
	now := metricsOf(gw2, "127.0.0.1:9179")
	downs, adv := `t5gw_vrf_worker_session_downs_total{vrf="blue"}`, `t5gw_vrf_fabric_updates_total{op="advertise",vrf="blue"}`
	if now[downs] != other[downs] || now[adv] != other[adv] {
		t.Errorf("gw2 moved: session downs %v -> %v, advertisements %v -> %v", other[downs], now[downs], other[adv], now[adv])
	}
	if rr, last := rrSessionWith(r.rr, "10.0.0.4"); rr.Established-otherRR.Established > 2 || rr.Updates != otherRR.Updates {
		t.Errorf("gw2's fabric session moved:\n%s", last)
	}
}
