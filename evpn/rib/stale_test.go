package rib

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/t5gw/t5gw/evpn"
)

func TestStaleRoutesStayUntilEndOfRIB(t *testing.T) {
	fab := newFakeFabric()
	vrf := testVRF()
	vrf.Accept = append(vrf.Accept, evpn.PrefixRule{Prefix: netip.MustParsePrefix("fd00:10:244::/48"), GE: 48, LE: 128})
	vrf.AllowThirdPartyNextHop = true // an IPv6 next hop over this IPv4 session
	tab, rec := NewTable(vrf, nil), NewReconciler(fab)
	for _, p := range []string{"10.244.1.0/24", "10.244.2.0/24"} {
		tab.Update(route(w1, p))
	}
	v6 := evpn.Route{Worker: w1, NextHop: netip.MustParseAddr("fd00::11"), Prefix: netip.MustParsePrefix("fd00:10:244::/64")}
	tab.Update(v6)
	tab.Update(route(w2, "10.244.3.0/24"))
	reconcileDirty(t, tab, rec)
	calls := fab.calls

	if n := tab.MarkStale(w1); n != 3 || tab.Stale() != 3 {
		t.Fatalf("MarkStale = %d, Stale = %d; want 3, 3", n, tab.Stale())
	}
	reconcileDirty(t, tab, rec)
	if fab.calls != calls {
		t.Errorf("marking routes stale sent %d fabric calls, want none", fab.calls-calls)
	}
	// The worker is back and announces one route again, unchanged.
	tab.Update(route(w1, "10.244.1.0/24"))
	if tab.Stale() != 2 || tab.StaleOf(w1) != 2 {
		t.Errorf("after one route came back: stale %d, want 2", tab.Stale())
	}
	// End-of-RIB for IPv4 takes the IPv4 route it did not announce again.
	if n := tab.SweepStale(w1, evpn.IPv4); n != 1 {
		t.Errorf("SweepStale(IPv4) = %d, want 1", n)
	}
	reconcileDirty(t, tab, rec)
	want := map[string]string{"10.244.1.0/24": w1.String(), "fd00:10:244::/64": "fd00::11", "10.244.3.0/24": w2.String()}
	if diff := cmp.Diff(want, fab.gateways()); diff != "" {
		t.Errorf("after IPv4 End-of-RIB (-want +got):\n%s", diff)
	}
	if n := tab.SweepStale(w1, evpn.IPv6); n != 1 || tab.Stale() != 0 {
		t.Errorf("SweepStale(IPv6) = %d, stale left %d; want 1, 0", n, tab.Stale())
	}
}

// The pipeline keeps a restarting worker's routes, sends nothing for them
// when the worker announces them again, and withdraws the rest at its
// End-of-RIB; a worker that does not come back loses them when keep ends.
func TestVRFGracefulRestartOfAWorker(t *testing.T) {
	fab := newFakeFabric()
	v := NewVRF(testVRF(), fab, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go v.Run(ctx)

	v.Learn(w1, []evpn.Route{route(w1, "10.244.1.0/24"), route(w1, "10.244.2.0/24")}, nil)
	v.Learn(w2, []evpn.Route{route(w2, "10.244.3.0/24")}, nil)
	waitFor(t, func() (bool, any) { s := v.Stats(); return s.Advertised == 3, s })
	sent := v.Stats().Sent

	v.WorkerDown(w1, time.Minute)
	v.WorkerDown(w2, 50*time.Millisecond)
	waitFor(t, func() (bool, any) { s := v.Stats(); return s.Stale == 2 && s.Advertised == 2, s })
	if g := fab.gateways(); g["10.244.1.0/24"] == "" || g["10.244.2.0/24"] == "" {
		t.Errorf("restarting worker's routes left the fabric: %v", g)
	}
	v.WorkerUp(w1, evpn.AllFamilies)
	v.Learn(w1, []evpn.Route{route(w1, "10.244.1.0/24")}, nil)
	v.EndOfRIB(w1, evpn.IPv4)
	waitFor(t, func() (bool, any) { s := v.Stats(); return s.Stale == 0 && s.Advertised == 1, s })
	want := map[string]string{"10.244.1.0/24": w1.String()}
	if diff := cmp.Diff(want, fab.gateways()); diff != "" {
		t.Errorf("after End-of-RIB and w2's time (-want +got):\n%s", diff)
	}
	if s := v.Stats().Sent; s.Advertised != sent.Advertised || s.Withdrawn != sent.Withdrawn+2 {
		t.Errorf("sent %+v after %+v: want only the two withdrawals, no re-advertisement", s, sent)
	}
}

func TestWorkerBackWithoutPreservingDropsItsStaleRoutes(t *testing.T) {
	fab := newFakeFabric()
	v := NewVRF(testVRF(), fab, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go v.Run(ctx)
	v.Learn(w1, []evpn.Route{route(w1, "10.244.1.0/24")}, nil)
	waitFor(t, func() (bool, any) { s := v.Stats(); return s.Advertised == 1, s })
	v.WorkerDown(w1, time.Minute)
	v.WorkerUp(w1, 0) // no graceful restart in its new OPEN
	waitFor(t, func() (bool, any) { s := v.Stats(); return s.Advertised == 0 && s.Stale == 0, s })
}

func TestKeepLeavesRoutesAtStop(t *testing.T) {
	fab, kernel := newFakeFabric(), newFakeFabric()
	v := NewVRF(testVRF(), fab, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Run(ctx); close(done) }()
	v.Learn(w1, []evpn.Route{route(w1, "10.244.1.0/24")}, nil)
	v.SetKernel(kernel)
	waitFor(t, func() (bool, any) { return len(kernel.gateways()) == 1, kernel.gateways() })
	v.SetKernel(nil)
	waitFor(t, func() (bool, any) { return len(kernel.gateways()) == 0, kernel.gateways() })
	v.Keep()
	cancel()
	<-done
	if len(fab.gateways()) != 1 {
		t.Errorf("after a stop that keeps routes the fabric holds %v", fab.gateways())
	}
}
