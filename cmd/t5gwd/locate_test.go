package main

import (
	"log/slog"
	"net/netip"
	"sync"
	"testing"

	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/resolve"
)

// TestLocatorFollowsTheFabric drives the locator as the fabric speaker does:
// Type-2 routes, End-of-RIB, a route reflector's session ending and coming
// back.
func TestLocatorFollowsTheFabric(t *testing.T) {
	var mu sync.Mutex
	var told [][]netip.Addr
	l := newLocator([]netip.Prefix{netip.MustParsePrefix("192.168.10.0/24")}, slog.New(slog.DiscardHandler),
		func(ips []netip.Addr) { mu.Lock(); told = append(told, ips); mu.Unlock() })
	defer l.stop()
	rr, w1, w2 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("192.168.10.11"), netip.MustParseAddr("192.168.10.12")
	macip := func(ip netip.Addr, vtep string) resolve.MACIP {
		rd, _ := evpn.ParseRD(vtep + ":2")
		return resolve.MACIP{Peer: rr, RD: rd, MAC: evpn.MAC{2, 0, 0, 0, 0, ip.As4()[3]}, IP: ip, VTEP: netip.MustParseAddr(vtep)}
	}
	last := func() []netip.Addr {
		mu.Lock()
		defer mu.Unlock()
		if len(told) == 0 {
			return []netip.Addr{netip.IPv4Unspecified()}
		}
		return told[len(told)-1]
	}

	l.FabricPeer(rr, true)
	l.MACIPs([]resolve.MACIP{macip(w1, "10.0.0.12"), macip(w2, "10.0.0.12"),
		macip(netip.MustParseAddr("10.1.1.1"), "10.0.0.12")}, nil) // outside the workers' subnets
	if l.Synced() {
		t.Fatal("synced before any End-of-RIB")
	}
	if got := len(last()); got != 2 {
		t.Errorf("told %v, want the two workers", last())
	}
	l.FabricEndOfRIB(rr)
	if !l.Synced() || last() != nil {
		t.Errorf("after End-of-RIB: synced %v, last told %v; want synced, told with nil", l.Synced(), last())
	}
	if loc := l.Lookup(w1, 0); !loc.Resolved || loc.VTEP != netip.MustParseAddr("10.0.0.12") {
		t.Errorf("w1: %+v", loc)
	}
	if n := len(l.All()); n != 2 {
		t.Errorf("All: %d addresses, want 2", n)
	}

	// The reflector's session ends: its routes stay until it is back and
	// has sent End-of-RIB; what it did not send again goes then.
	l.FabricPeer(rr, false)
	l.FabricPeer(rr, false) // another non-established state: no change
	if !l.Lookup(w1, 0).Resolved {
		t.Error("w1 unresolved as soon as the reflector's session ended")
	}
	l.FabricPeer(rr, true)
	l.MACIPs([]resolve.MACIP{macip(w1, "10.0.0.14")}, nil)
	l.FabricEndOfRIB(rr)
	if loc := l.Lookup(w1, 0); loc.VTEP != netip.MustParseAddr("10.0.0.14") || l.Lookup(w2, 0).Resolved {
		t.Errorf("after the reflector's End-of-RIB: w1 %+v, w2 %+v; want w1 behind 10.0.0.14, w2 gone", loc, l.Lookup(w2, 0))
	}

	// The fabric speaker is replaced: what the new one does not get again
	// goes at the End-of-RIB.
	l.MACIPs([]resolve.MACIP{macip(w2, "10.0.0.12")}, nil)
	l.sessionsEnded()
	l.FabricPeer(rr, true)
	l.MACIPs([]resolve.MACIP{macip(w1, "10.0.0.14")}, nil)
	if !l.Lookup(w2, 0).Resolved {
		t.Error("w2 unresolved before the new session's End-of-RIB")
	}
	l.FabricEndOfRIB(rr)
	if l.Lookup(w2, 0).Resolved || !l.Lookup(w1, 0).Resolved {
		t.Errorf("after the new session's End-of-RIB: w1 %+v, w2 %+v; want w1 only", l.Lookup(w1, 0), l.Lookup(w2, 0))
	}

	// A withdrawal; a watch that no longer holds w1.
	l.MACIPs(nil, []resolve.MACIP{macip(w1, "10.0.0.14")})
	if l.Lookup(w1, 0).Resolved {
		t.Error("w1 still resolved after its withdrawal")
	}
	l.MACIPs([]resolve.MACIP{macip(w1, "10.0.0.14")}, nil)
	l.setWatch([]netip.Prefix{netip.MustParsePrefix("192.168.20.0/24")})
	if l.Lookup(w1, 0).Resolved || last()[0] != w1 {
		t.Errorf("after the watch moved: w1 %+v, told %v", l.Lookup(w1, 0), last())
	}
}
