package rib

import (
	"context"
	"log/slog"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/test/poll"
)

var (
	w1 = netip.MustParseAddr("192.168.10.11")
	w2 = netip.MustParseAddr("192.168.10.12")
)

func testVRF() evpn.VRF {
	rd, _ := evpn.ParseRD("10.0.0.3:4001")
	rt, _ := evpn.ParseRouteTarget("65000:4001")
	return evpn.VRF{Name: "blue", RD: rd, L3VNI: 4001, RouteTargets: []evpn.RouteTarget{rt},
		VTEP:   netip.MustParseAddr("10.0.0.3"),
		Accept: []evpn.PrefixRule{{Prefix: netip.MustParsePrefix("10.244.0.0/16"), GE: 16, LE: 32}}}
}

func route(worker netip.Addr, prefix string, path ...uint32) evpn.Route {
	return evpn.Route{Worker: worker, Prefix: netip.MustParsePrefix(prefix), NextHop: worker,
		ASPath: []evpn.ASPathSegment{{ASNs: path}}}
}

// reconcileDirty reconciles everything the table marked dirty.
func reconcileDirty(t *testing.T, tab *Table, rec *Reconciler) {
	t.Helper()
	if failed, err := rec.Reconcile(tab.TakeDirty(), One(tab.Best)); err != nil {
		t.Fatalf("Reconcile: %v (failed %v)", err, failed)
	}
}

func TestReconcileFollowsWorkers(t *testing.T) {
	fab := newFakeFabric()
	tab, rec := NewTable(testVRF(), nil), NewReconciler(fab)

	tab.Update(route(w1, "10.244.1.0/24", 65011))
	tab.Update(route(w2, "10.244.2.0/24", 65012))
	reconcileDirty(t, tab, rec)
	want := map[string]string{"10.244.1.0/24": w1.String(), "10.244.2.0/24": w2.String()}
	if diff := cmp.Diff(want, fab.gateways()); diff != "" {
		t.Fatalf("after announce (-want +got):\n%s", diff)
	}

	// Running again with nothing changed sends nothing.
	calls := fab.calls
	reconcileDirty(t, tab, rec)
	if _, err := rec.Reconcile(tab.Prefixes(), One(tab.Best)); err != nil {
		t.Fatalf("full resync: %v", err)
	}
	if fab.calls != calls {
		t.Errorf("second reconcile made %d fabric calls, want 0", fab.calls-calls)
	}
	if s := rec.Sent(); s != (Sent{Advertised: 2}) {
		t.Errorf("Sent = %+v, want 2 advertisements", s)
	}

	// Same prefix from a second worker with a shorter path takes over; when
	// that worker goes down the first comes back.
	tab.Update(route(w2, "10.244.1.0/24"))
	reconcileDirty(t, tab, rec)
	if got := fab.gateways()["10.244.1.0/24"]; got != w2.String() {
		t.Errorf("after better announcement: GW IP %s, want %s", got, w2)
	}
	if n := tab.DropWorker(w2); n != 2 {
		t.Errorf("DropWorker dropped %d routes, want 2", n)
	}
	reconcileDirty(t, tab, rec)
	want = map[string]string{"10.244.1.0/24": w1.String()}
	if diff := cmp.Diff(want, fab.gateways()); diff != "" {
		t.Fatalf("after worker down (-want +got):\n%s", diff)
	}

	// A changed attribute replaces the route; a withdrawal removes it.
	r := route(w1, "10.244.1.0/24", 65011)
	r.Communities = []uint32{1}
	tab.Update(r)
	reconcileDirty(t, tab, rec)
	if len(fab.routes) != 1 {
		t.Fatalf("fabric holds %d routes after the replacement, want 1: %v", len(fab.routes), fab.routes)
	}
	for _, h := range fab.routes {
		if len(h.Communities) != 1 {
			t.Errorf("replaced route carries communities %v, want [1]", h.Communities)
		}
	}
	tab.Withdraw(w1, netip.MustParsePrefix("10.244.1.0/24"))
	reconcileDirty(t, tab, rec)
	if len(fab.gateways()) != 0 || rec.Advertised() != 0 || tab.Routes() != 0 {
		t.Errorf("after withdrawal: fabric %v, advertised %d, table %d; want all empty", fab.gateways(), rec.Advertised(), tab.Routes())
	}
}

func TestRefusedRoutesAreHeldNotAdvertised(t *testing.T) {
	fab := newFakeFabric()
	tab, rec := NewTable(testVRF(), nil), NewReconciler(fab)
	out := route(w1, "10.1.0.0/16")
	if ref, fresh := tab.Update(out); ref == nil || ref.Reason != evpn.ReasonNotAccepted || !fresh {
		t.Fatalf("Update(outside accept) = %v, %v; want fresh %s", ref, fresh, evpn.ReasonNotAccepted)
	}
	if _, fresh := tab.Update(out); fresh {
		t.Errorf("the same refused route again is fresh; want it logged once")
	}
	reconcileDirty(t, tab, rec)
	if len(fab.gateways()) != 0 {
		t.Errorf("fabric holds %v, want nothing", fab.gateways())
	}
	if n := tab.Refused(evpn.ReasonNotAccepted); n != 1 {
		t.Errorf("Refused = %d, want 1", n)
	}
	tab.DropWorker(w1)
	if n := tab.Refused(evpn.ReasonNotAccepted); n != 0 {
		t.Errorf("Refused after drop = %d, want 0", n)
	}

	// An accepted route that changes into a refused one is news, once.
	in := route(w1, "10.244.1.0/24")
	if ref, _ := tab.Update(in); ref != nil {
		t.Fatalf("Update(inside accept) refused: %v", ref)
	}
	in.NextHop = netip.IPv4Unspecified()
	if ref, fresh := tab.Update(in); ref == nil || ref.Reason != evpn.ReasonNoNextHop || !fresh {
		t.Errorf("Update(now without next hop) = %v, %v; want fresh %s", ref, fresh, evpn.ReasonNoNextHop)
	}
}

func TestVTEPChangeReadvertises(t *testing.T) {
	fab := newFakeFabric()
	vrf := testVRF()
	tab, rec := NewTable(vrf, nil), NewReconciler(fab)
	tab.Update(route(w1, "10.244.1.0/24"))
	reconcileDirty(t, tab, rec)
	vrf.VTEP = netip.MustParseAddr("10.0.0.4")
	tab.SetVRF(vrf)
	reconcileDirty(t, tab, rec)
	if len(fab.routes) != 1 {
		t.Fatalf("fabric holds %d routes after the VTEP change, want 1: %v", len(fab.routes), fab.routes)
	}
	for _, r := range fab.routes {
		if r.NextHop != vrf.VTEP {
			t.Errorf("next hop %s after VTEP change, want %s", r.NextHop, vrf.VTEP)
		}
	}
}

// A new RD makes a different route: the old one is withdrawn under its own
// RD (the fake fabric refuses a withdrawal of a route it does not hold).
func TestRDChangeWithdrawsTheOldRoute(t *testing.T) {
	fab := newFakeFabric()
	vrf := testVRF()
	tab, rec := NewTable(vrf, nil), NewReconciler(fab)
	tab.Update(route(w1, "10.244.1.0/24"))
	reconcileDirty(t, tab, rec)
	vrf.RD, _ = evpn.ParseRD("10.0.0.3:4002")
	tab.SetVRF(vrf)
	reconcileDirty(t, tab, rec)
	if len(fab.routes) != 1 {
		t.Fatalf("fabric holds %d routes after the RD change, want 1: %v", len(fab.routes), fab.routes)
	}
	for k := range fab.routes {
		if k.RD != vrf.RD {
			t.Errorf("fabric holds a route with RD %v, want %v", k.RD, vrf.RD)
		}
	}
	// Make before break: the route under the new RD is in the fabric before
	// the old one leaves.
	want := []string{"advertise 10.0.0.3:4001 10.244.1.0/24", "advertise 10.0.0.3:4002 10.244.1.0/24", "withdraw 10.0.0.3:4001 10.244.1.0/24"}
	if diff := cmp.Diff(want, fab.ops); diff != "" {
		t.Errorf("fabric operations (-want +got):\n%s", diff)
	}
	if rec.Advertised() != 1 {
		t.Errorf("reconciler remembers %d routes, want 1", rec.Advertised())
	}
	tab.DropWorker(w1)
	reconcileDirty(t, tab, rec) // the fake refuses a withdrawal of what it does not hold
	if len(fab.routes) != 0 {
		t.Errorf("after the worker left the fabric holds %v", fab.routes)
	}
}

func TestPartialFailureReportsRealState(t *testing.T) {
	fab := newFakeFabric()
	tab, rec := NewTable(testVRF(), nil), NewReconciler(fab)
	bad := netip.MustParsePrefix("10.244.9.0/24")
	fab.fail[bad] = true
	tab.Update(route(w1, "10.244.1.0/24"))
	tab.Update(route(w1, bad.String()))
	failed, err := rec.Reconcile(tab.TakeDirty(), One(tab.Best))
	if err == nil || len(failed) != 1 || failed[0] != bad {
		t.Fatalf("Reconcile = %v, %v; want %s failed", failed, err, bad)
	}
	if rec.Advertised() != 1 || len(fab.gateways()) != 1 {
		t.Errorf("advertised %d, fabric %v; want the one good route", rec.Advertised(), fab.gateways())
	}
	delete(fab.fail, bad)
	if _, err := rec.Reconcile(failed, One(tab.Best)); err != nil || rec.Advertised() != 2 {
		t.Errorf("retry: %v, advertised %d; want 2", err, rec.Advertised())
	}
}

func TestVRFRunStopsWithNothingLeft(t *testing.T) {
	fab := newFakeFabric()
	v := NewVRF(testVRF(), fab, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Run(ctx); close(done) }()

	v.Learn(w1, []evpn.Route{route(w1, "10.244.1.0/24"), route(w1, "10.1.0.0/16")}, nil)
	waitFor(t, func() (bool, any) { s := v.Stats(); return s.Advertised == 1 && s.Received == 2, s })
	if s := v.Stats(); s.Refused[evpn.ReasonNotAccepted] != 1 || s.RefusalsTotal[evpn.ReasonNotAccepted] != 1 {
		t.Errorf("stats %+v, want one not-accepted refusal", s)
	}
	v.Learn(w1, nil, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")})
	v.Learn(w2, []evpn.Route{route(w2, "10.244.2.0/24")}, nil)
	waitFor(t, func() (bool, any) { s := v.Stats(); return s.Advertised == 2 && s.Received == 2, s })
	v.WorkerDown(w1, 0)
	waitFor(t, func() (bool, any) { g := fab.gateways(); return len(g) == 1 && g["10.244.2.0/24"] == w2.String(), g })
	cancel()
	<-done
	if g := fab.gateways(); len(g) != 0 {
		t.Errorf("after stop the fabric holds %v, want nothing", g)
	}
}

// waitFor polls cond until it holds, for at most 5 s.
func waitFor(t *testing.T, cond func() (bool, any)) {
	t.Helper()
	poll.Until(t, "condition", 5*time.Second, cond)
}

// BenchmarkTableUpdate is the cost per route of learning a worker's route and
// choosing the Type-5 route of its prefix.
func BenchmarkTableUpdate(b *testing.B) {
	tab := NewTable(testVRF(), nil)
	routes := make([]evpn.Route, 65536)
	for i := range routes {
		routes[i] = evpn.Route{Worker: w1, NextHop: w1,
			Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}), 32)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := routes[i%len(routes)]
		r.MED = uint32(i) // a change each time, so the table does the work
		tab.Update(r)
		tab.Best(r.Prefix)
		i++
	}
}

// More prefixes than one fabric call covers: every one is advertised, in
// chunks, and withdrawn the same way.
func TestReconcileInChunks(t *testing.T) {
	fab := newFakeFabric()
	tab, rec := NewTable(testVRF(), nil), NewReconciler(fab)
	n := 2*chunk + 1
	for i := range n {
		tab.Update(evpn.Route{Worker: w1, NextHop: w1,
			Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}), 32)})
	}
	reconcileDirty(t, tab, rec)
	if got := len(fab.gateways()); got != n || fab.calls != 3 {
		t.Fatalf("fabric holds %d routes after %d calls, want %d after 3", got, fab.calls, n)
	}
	tab.DropWorker(w1)
	reconcileDirty(t, tab, rec)
	if got := len(fab.gateways()); got != 0 || rec.Advertised() != 0 || fab.calls != 6 {
		t.Fatalf("fabric holds %d routes (reconciler %d) after %d calls, want 0 after 6", got, rec.Advertised(), fab.calls)
	}
}

// BenchmarkReconcile is the cost per route of reconciling a whole table with
// a fabric that takes everything: what t5gw adds to GoBGP's own work.
func BenchmarkReconcile(b *testing.B) {
	routes := make([]evpn.Route, 100_000)                   // the benchmark's scale; map sizes depend on it
	asPath := []evpn.ASPathSegment{{ASNs: []uint32{65011}}} // as a worker's UPDATE shares it
	for i := range routes {
		routes[i] = evpn.Route{Worker: w1, NextHop: w1, ASPath: asPath,
			Prefix: benchPrefix(i)}
	}
	b.ReportAllocs()
	var tableHeld, recHeld int64
	for b.Loop() {
		before := heapInUse()
		tab, rec := NewTable(testVRF(), nil), NewReconciler(nopFabric{})
		for _, r := range routes {
			tab.Update(r)
		}
		afterTable := heapInUse()
		dirty := tab.TakeDirty()
		if _, err := rec.Reconcile(dirty, One(tab.Best)); err != nil {
			b.Fatal(err)
		}
		tableHeld, recHeld = int64(afterTable-before), int64(heapInUse()-afterTable)
		runtime.KeepAlive(tab)
		runtime.KeepAlive(rec)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(routes)), "ns/route")
	b.ReportMetric(float64(tableHeld)/float64(len(routes)), "tableB/route")
	b.ReportMetric(float64(recHeld)/float64(len(routes)), "reconcilerB/route")
}

// benchPrefix is the i-th of 100,000 distinct prefixes inside 10.244.0.0/16:
// every /32, then /31s, then /30s.
func benchPrefix(i int) netip.Prefix {
	bits := 32
	for n := 1 << 16; i >= n; n >>= 1 {
		i -= n
		bits--
	}
	a := netip.AddrFrom4([4]byte{10, 244, byte(i << (32 - bits) >> 8), byte(i << (32 - bits))})
	return netip.PrefixFrom(a, bits)
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

type nopFabric struct{}

func (nopFabric) Advertise([]evpn.Type5Route) error { return nil }
func (nopFabric) Withdraw([]evpn.Type5Route) error  { return nil }
