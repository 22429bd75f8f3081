package test

import (
	"os"
	"strings"
	"testing"

	"github.com/t5gw/t5gw/test/lab"
)

// TestAddPathAnycast runs a VRF with paths: add-path: every worker's route
// under the VRF's one RD, told apart by ADD-PATH path identifiers. FRR 8.4
// cannot be the route reflector for it: it has no addpath-tx-all-paths for
// l2vpn evpn, and when it holds two paths of one RD and prefix that differ
// only in gateway IP it goes on reflecting the withdrawn one's gateway IP
// (measured here). So t5gw peers with the ingress leaf itself, as in a
// fabric without reflectors, and the leaf must spread the service over both
// workers, then drop only the path of the worker that withdraws.
func TestAddPathAnycast(t *testing.T) {
	r := newReloadLab(t, false)
	w1, w2 := r.f.n("w1"), r.f.n("w2")
	if out, err := r.l3.VtyshConfig("router bgp 65000", "neighbor 10.0.0.3 remote-as 65000", "address-family l2vpn evpn",
		"neighbor 10.0.0.3 activate", "neighbor 10.0.0.3 soft-reconfiguration inbound"); err != nil || out != "" {
		t.Fatalf("l3: %v\n%s", err, out)
	}
	r.reloadWith(t, func(r *reloadLab) {
		r.blue += "paths: add-path\n"
		r.edit(&r.global, "    - {address: 10.0.0.1, asn: 65000}\n", "    - {address: 10.0.0.13, asn: 65000}\n")
	})
	expectReady(t, r.gw, r.daemon)

	const vip = "10.244.100.1/32"
	w1.MustRun("ip", "addr", "add", vip, "dev", "lo")
	w2.MustRun("ip", "addr", "add", vip, "dev", "lo")
	if out, err := w2.GoBGP("global", "rib", "add", "-a", "ipv4", vip); err != nil {
		t.Fatalf("gobgp: %v\n%s", err, out)
	}
	b, err := os.ReadFile("containerlab/w1/bird.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(b), "route 10.244.1.0/24 blackhole;", "route 10.244.1.0/24 blackhole; route "+vip+" blackhole;", 1)
	if out, err := w1.Birdc("configure", `"`+w1.Write("bird-anycast.conf", conf)+`"`); err != nil || !strings.Contains(out, "Reconfigur") {
		t.Fatalf("birdc configure: %v\n%s", err, out)
	}
	lab.WaitFor(t, "l3 holds both paths of the service from gw", wait, func() (bool, string) {
		out, _ := r.l3.Vtysh("show bgp l2vpn evpn route rd 10.0.0.3:4001 type prefix")
		return strings.Contains(out, "Gateway IP 192.168.10.11") && strings.Contains(out, "Gateway IP 192.168.10.12") &&
			strings.Contains(out, "[32]:[10.244.100.1]"), out
	})
	expectNextHops(t, r.l3, "10.244.100.1", "192.168.10.11", "192.168.10.12")
	show(t, r.l3, "ip", "route", "show", "10.244.100.1")
	if !pings(r.l3, "10.244.100.1", 5) {
		t.Error("l3 does not reach the service")
	}
	if out, err := w2.GoBGP("global", "rib", "del", "-a", "ipv4", vip); err != nil {
		t.Fatalf("gobgp: %v\n%s", err, out)
	}
	expectNextHops(t, r.l3, "10.244.100.1", "192.168.10.11")
}
