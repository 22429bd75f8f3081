package resolve

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/t5gw/t5gw/evpn"
)

// The fabric as these tests see it: two route reflectors t5gw peers with, and
// two leaves a VM can sit behind, each with its own RD for the MAC-VRF.
var (
	rr1 = netip.MustParseAddr("10.0.0.1")
	rr2 = netip.MustParseAddr("10.0.0.2")

	leafA   = netip.MustParseAddr("10.0.0.12")
	leafB   = netip.MustParseAddr("10.0.0.14")
	rdLeafA = mustRD("10.0.0.12:2")
	rdLeafB = mustRD("10.0.0.14:2")

	vmMAC = mustMAC("02:00:00:00:40:01")

	watched = []netip.Prefix{
		netip.MustParsePrefix("10.244.0.0/16"),
		netip.MustParsePrefix("fd00:10:244::/48"),
	}
)

// addrs lets cmp compare netip.Addr, whose fields are unexported.
var addrs = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func mustRD(s string) evpn.RD {
	rd, err := evpn.ParseRD(s)
	if err != nil {
		panic(err)
	}
	return rd
}

func mustMAC(s string) evpn.MAC {
	m, err := evpn.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// fromLeafA is the Type-2 route leaf A sends for a host, as peer reflects it.
func fromLeafA(peer netip.Addr, host string) MACIP {
	return MACIP{Peer: peer, RD: rdLeafA, MAC: vmMAC, IP: ip(host), VTEP: leafA}
}

// resolved is the Location of a host that one or more routes resolve.
func resolved(host string, vtep netip.Addr, mac evpn.MAC, seq uint32, routes int) Location {
	return Location{IP: ip(host), Resolved: true, VTEP: vtep, MAC: mac.String(), Seq: seq, Routes: routes}
}

// unresolved is the Location of a host the fabric has no route for.
func unresolved(host string) Location { return Location{IP: ip(host)} }

// byIP sorts changes (Sweep and SetWatch return them in no order) by address.
func byIP(cs []Change) []Change {
	slices.SortFunc(cs, func(a, b Change) int { return a.Was.IP.Compare(b.Was.IP) })
	return cs
}

// mustUpdate records r and fails the test if it changed nothing.
func mustUpdate(t *testing.T, tab *Table, r MACIP) Change {
	t.Helper()
	c, ok := tab.Update(r)
	if !ok {
		t.Fatalf("Update(%+v) = no change, want one", r)
	}
	return c
}

func TestUpdateKeepsOnlyWatchedAddresses(t *testing.T) {
	tests := []struct {
		name   string
		sent   string // the IP in the route
		stored string // the address it is known by; "" when not watched
	}{
		{name: "IPv4 inside", sent: "10.244.1.5", stored: "10.244.1.5"},
		{name: "IPv4 outside", sent: "192.168.1.5"},
		{name: "IPv4 next to the prefix", sent: "10.245.0.1"},
		{name: "IPv4-mapped inside", sent: "::ffff:10.244.1.5", stored: "10.244.1.5"},
		{name: "IPv4-mapped outside", sent: "::ffff:192.168.1.5"},
		{name: "IPv6 inside", sent: "fd00:10:244::5", stored: "fd00:10:244::5"},
		{name: "IPv6 outside", sent: "fd00:10:245::5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := NewTable(watched)
			c, ok := tab.Update(fromLeafA(rr1, tt.sent))
			if tt.stored == "" {
				if ok {
					t.Errorf("Update(%s) = %+v, true; want no change for an address not watched", tt.sent, c)
				}
				if got := tab.Lookup(ip(tt.sent).Unmap()); got.Resolved {
					t.Errorf("Lookup(%s) = %+v, want unresolved", tt.sent, got)
				}
				if got := tab.All(); len(got) != 0 {
					t.Errorf("All() = %+v, want none", got)
				}
				return
			}
			want := Change{Was: unresolved(tt.stored), Now: resolved(tt.stored, leafA, vmMAC, 0, 1)}
			if !ok {
				t.Fatalf("Update(%s) = no change, want %+v", tt.sent, want)
			}
			if diff := cmp.Diff(want, c, addrs); diff != "" {
				t.Errorf("Update(%s) change (-want +got):\n%s", tt.sent, diff)
			}
			if diff := cmp.Diff(want.Now, tab.Lookup(ip(tt.stored)), addrs); diff != "" {
				t.Errorf("Lookup(%s) (-want +got):\n%s", tt.stored, diff)
			}
			if !tab.Watches(ip(tt.stored)) {
				t.Errorf("Watches(%s) = false, want true", tt.stored)
			}
		})
	}
}

// A route sent with an IPv4-mapped address is stored under the IPv4 address,
// and withdrawing it in either form removes it.
func TestWithdrawUnmaps(t *testing.T) {
	for _, withdrawn := range []string{"10.244.1.5", "::ffff:10.244.1.5"} {
		t.Run(withdrawn, func(t *testing.T) {
			tab := NewTable(watched)
			mustUpdate(t, tab, fromLeafA(rr1, "::ffff:10.244.1.5"))
			c, ok := tab.Withdraw(rr1, rdLeafA, vmMAC, ip(withdrawn))
			want := Change{Was: resolved("10.244.1.5", leafA, vmMAC, 0, 1), Now: unresolved("10.244.1.5")}
			if !ok {
				t.Fatalf("Withdraw(%s) = no change, want %+v", withdrawn, want)
			}
			if diff := cmp.Diff(want, c, addrs); diff != "" {
				t.Errorf("Withdraw(%s) change (-want +got):\n%s", withdrawn, diff)
			}
		})
	}
}

// Update, Withdraw and the route's IP all take an IPv4-mapped address as the
// IPv4 address; Lookup should too.
func TestLookupUnmaps(t *testing.T) {
	tab := NewTable(watched)
	mustUpdate(t, tab, fromLeafA(rr1, "10.244.1.5"))
	got := tab.Lookup(ip("::ffff:10.244.1.5"))
	want := resolved("10.244.1.5", leafA, vmMAC, 0, 1)
	if diff := cmp.Diff(want, got, addrs); diff != "" {
		t.Errorf("Lookup(::ffff:10.244.1.5) (-want +got):\n%s", diff)
	}
}

func TestUpdateOfANewAddress(t *testing.T) {
	tab := NewTable(watched)
	r := fromLeafA(rr1, "10.244.1.5")
	r.Seq = 3
	c, ok := tab.Update(r)
	want := Change{
		Was: Location{IP: ip("10.244.1.5")},
		Now: Location{IP: ip("10.244.1.5"), Resolved: true, VTEP: leafA, MAC: "02:00:00:00:40:01", Seq: 3, Routes: 1},
	}
	if !ok {
		t.Fatalf("first Update = no change, want %+v", want)
	}
	if diff := cmp.Diff(want, c, addrs); diff != "" {
		t.Errorf("first Update change (-want +got):\n%s", diff)
	}
	if c.Moved() {
		t.Errorf("Moved() = true for an address that was unresolved, want false")
	}
	if c, ok := tab.Update(r); ok {
		t.Errorf("the same Update again = %+v, true; want no change", c)
	}
	// The leaf sends its route again with a new sequence number: one route
	// still, with the new number.
	r.Seq = 4
	c, ok = tab.Update(r)
	want = Change{Was: want.Now, Now: resolved("10.244.1.5", leafA, vmMAC, 4, 1)}
	if !ok {
		t.Fatalf("Update with Seq 4 = no change, want %+v", want)
	}
	if diff := cmp.Diff(want, c, addrs); diff != "" {
		t.Errorf("Update with Seq 4 change (-want +got):\n%s", diff)
	}
}

// A VM moves from leaf A to leaf B as EVPN does it: B advertises the MAC/IP
// with a higher MAC Mobility sequence number, then A withdraws its route.
func TestVMMove(t *testing.T) {
	const host = "10.244.1.5"
	tab := NewTable(watched)
	onA := MACIP{Peer: rr1, RD: rdLeafA, MAC: vmMAC, IP: ip(host), VTEP: leafA, Seq: 0}
	onB := MACIP{Peer: rr1, RD: rdLeafB, MAC: vmMAC, IP: ip(host), VTEP: leafB, Seq: 1}

	steps := []struct {
		name      string
		do        func() (Change, bool)
		want      Change
		wantMoved bool
	}{
		{
			name: "leaf A advertises",
			do:   func() (Change, bool) { return tab.Update(onA) },
			want: Change{Was: unresolved(host), Now: resolved(host, leafA, vmMAC, 0, 1)},
		},
		{
			name:      "leaf B advertises with Seq 1",
			do:        func() (Change, bool) { return tab.Update(onB) },
			want:      Change{Was: resolved(host, leafA, vmMAC, 0, 1), Now: resolved(host, leafB, vmMAC, 1, 2)},
			wantMoved: true,
		},
		{
			name: "leaf A withdraws",
			do:   func() (Change, bool) { return tab.Withdraw(rr1, rdLeafA, vmMAC, ip(host)) },
			want: Change{Was: resolved(host, leafB, vmMAC, 1, 2), Now: resolved(host, leafB, vmMAC, 1, 1)},
		},
	}
	for _, s := range steps {
		c, ok := s.do()
		if !ok {
			t.Fatalf("%s: no change, want %+v", s.name, s.want)
		}
		if diff := cmp.Diff(s.want, c, addrs); diff != "" {
			t.Errorf("%s: change (-want +got):\n%s", s.name, diff)
		}
		if c.Moved() != s.wantMoved {
			t.Errorf("%s: Moved() = %t, want %t", s.name, c.Moved(), s.wantMoved)
		}
	}
	if got, want := tab.Lookup(ip(host)), resolved(host, leafB, vmMAC, 1, 1); got != want {
		t.Errorf("Lookup after the move = %+v, want %+v", got, want)
	}
}

// Whatever order the routes arrive in, the fabric follows the highest
// sequence number, then the lowest VTEP, then the lowest peer.
func TestWinner(t *testing.T) {
	const host = "10.244.1.5"
	otherMAC := mustMAC("02:00:00:00:40:02")
	tests := []struct {
		name   string
		routes []MACIP
		want   Location
	}{
		{
			name: "higher Seq wins over lower VTEP",
			routes: []MACIP{
				{Peer: rr1, RD: rdLeafA, MAC: vmMAC, IP: ip(host), VTEP: leafA, Seq: 4},
				{Peer: rr1, RD: rdLeafB, MAC: vmMAC, IP: ip(host), VTEP: leafB, Seq: 5},
			},
			want: resolved(host, leafB, vmMAC, 5, 2),
		},
		{
			name: "equal Seq: lower VTEP",
			routes: []MACIP{
				{Peer: rr1, RD: rdLeafB, MAC: otherMAC, IP: ip(host), VTEP: leafB, Seq: 2},
				{Peer: rr1, RD: rdLeafA, MAC: vmMAC, IP: ip(host), VTEP: leafA, Seq: 2},
			},
			want: resolved(host, leafA, vmMAC, 2, 2),
		},
		{
			name: "lower VTEP compared as an address, not as text",
			routes: []MACIP{
				{Peer: rr1, RD: mustRD("10.0.0.9:2"), MAC: vmMAC, IP: ip(host), VTEP: ip("10.0.0.9")},
				{Peer: rr1, RD: mustRD("10.0.0.10:2"), MAC: otherMAC, IP: ip(host), VTEP: ip("10.0.0.10")},
			},
			want: resolved(host, ip("10.0.0.9"), vmMAC, 0, 2),
		},
		{
			name: "equal Seq and VTEP: lower peer",
			routes: []MACIP{
				{Peer: rr2, RD: rdLeafA, MAC: otherMAC, IP: ip(host), VTEP: leafA, Seq: 1},
				{Peer: rr1, RD: rdLeafA, MAC: vmMAC, IP: ip(host), VTEP: leafA, Seq: 1},
			},
			want: resolved(host, leafA, vmMAC, 1, 2),
		},
	}
	for _, tt := range tests {
		for _, order := range []string{"in order", "reversed"} {
			t.Run(tt.name+"/"+order, func(t *testing.T) {
				routes := slices.Clone(tt.routes)
				if order == "reversed" {
					slices.Reverse(routes)
				}
				tab := NewTable(watched)
				for _, r := range routes {
					mustUpdate(t, tab, r)
				}
				if diff := cmp.Diff(tt.want, tab.Lookup(ip(host)), addrs); diff != "" {
					t.Errorf("Lookup (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestWithdrawOfTheLastRoute(t *testing.T) {
	const host = "10.244.1.5"
	tab := NewTable(watched)
	mustUpdate(t, tab, fromLeafA(rr1, host))

	c, ok := tab.Withdraw(rr1, rdLeafA, vmMAC, ip(host))
	want := Change{Was: resolved(host, leafA, vmMAC, 0, 1), Now: Location{IP: ip(host)}}
	if !ok {
		t.Fatalf("Withdraw = no change, want %+v", want)
	}
	if diff := cmp.Diff(want, c, addrs); diff != "" {
		t.Errorf("Withdraw change (-want +got):\n%s", diff)
	}
	if c.Now.Resolved || c.Now.VTEP.IsValid() {
		t.Errorf("after the last withdraw: Resolved %t, VTEP %v; want false and none", c.Now.Resolved, c.Now.VTEP)
	}
	if c.Moved() {
		t.Errorf("Moved() = true for an address that became unresolved, want false")
	}
	if got := tab.Lookup(ip(host)); got != unresolved(host) {
		t.Errorf("Lookup = %+v, want unresolved", got)
	}
	if got := tab.All(); len(got) != 0 {
		t.Errorf("All() = %+v, want none", got)
	}
}

func TestWithdrawOfAnUnknownRoute(t *testing.T) {
	const host = "10.244.1.5"
	tests := []struct {
		name string
		peer netip.Addr
		rd   evpn.RD
		mac  evpn.MAC
		ip   netip.Addr
	}{
		{name: "other IP", peer: rr1, rd: rdLeafA, mac: vmMAC, ip: ip("10.244.1.6")},
		{name: "IP not watched", peer: rr1, rd: rdLeafA, mac: vmMAC, ip: ip("192.168.1.5")},
		{name: "other peer", peer: rr2, rd: rdLeafA, mac: vmMAC, ip: ip(host)},
		{name: "other RD", peer: rr1, rd: rdLeafB, mac: vmMAC, ip: ip(host)},
		{name: "other MAC", peer: rr1, rd: rdLeafA, mac: mustMAC("02:00:00:00:40:02"), ip: ip(host)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := NewTable(watched)
			mustUpdate(t, tab, fromLeafA(rr1, host))
			if c, ok := tab.Withdraw(tt.peer, tt.rd, tt.mac, tt.ip); ok {
				t.Errorf("Withdraw = %+v, true; want no change", c)
			}
			if got, want := tab.Lookup(ip(host)), resolved(host, leafA, vmMAC, 0, 1); got != want {
				t.Errorf("Lookup after the withdraw = %+v, want %+v", got, want)
			}
		})
	}
}

// Two route reflectors send t5gw the same route: it resolves through either.
func TestTwoRouteReflectors(t *testing.T) {
	const host = "10.244.1.5"
	tab := NewTable(watched)
	mustUpdate(t, tab, fromLeafA(rr1, host))
	c := mustUpdate(t, tab, fromLeafA(rr2, host))
	want := Change{Was: resolved(host, leafA, vmMAC, 0, 1), Now: resolved(host, leafA, vmMAC, 0, 2)}
	if diff := cmp.Diff(want, c, addrs); diff != "" {
		t.Errorf("second reflector's Update change (-want +got):\n%s", diff)
	}

	got := byIP(tab.Sweep(rr1, true))
	wantSweep := []Change{{Was: resolved(host, leafA, vmMAC, 0, 2), Now: resolved(host, leafA, vmMAC, 0, 1)}}
	if diff := cmp.Diff(wantSweep, got, addrs); diff != "" {
		t.Errorf("Sweep(%s, all) (-want +got):\n%s", rr1, diff)
	}
	if got := tab.Lookup(ip(host)); !got.Resolved || got.VTEP != leafA {
		t.Errorf("Lookup after one reflector went = %+v, want resolved via %s", got, leafA)
	}

	got = byIP(tab.Sweep(rr2, true))
	wantSweep = []Change{{Was: resolved(host, leafA, vmMAC, 0, 1), Now: unresolved(host)}}
	if diff := cmp.Diff(wantSweep, got, addrs); diff != "" {
		t.Errorf("Sweep(%s, all) (-want +got):\n%s", rr2, diff)
	}
}

// A fabric peer restarts: its routes keep resolving while it is away, those
// it sends again stay, and those it does not send again go at the sweep.
func TestGracefulRestartOfAPeer(t *testing.T) {
	tab := NewTable(watched)
	mustUpdate(t, tab, fromLeafA(rr1, "10.244.1.5")) // sent again after the restart
	mustUpdate(t, tab, fromLeafA(rr1, "10.244.1.6")) // not sent again
	mustUpdate(t, tab, fromLeafA(rr2, "10.244.1.7")) // from the other peer
	before := tab.All()
	if len(before) != 3 {
		t.Fatalf("All() before the restart = %+v, want 3 addresses", before)
	}

	tab.MarkStale(rr1)
	if diff := cmp.Diff(before, tab.All(), addrs); diff != "" {
		t.Errorf("All() after MarkStale (-before +after):\n%s", diff)
	}

	if c, ok := tab.Update(fromLeafA(rr1, "10.244.1.5")); ok {
		t.Errorf("Update of a stale route sent again = %+v, true; want no change", c)
	}

	got := byIP(tab.Sweep(rr1, false))
	want := []Change{{Was: resolved("10.244.1.6", leafA, vmMAC, 0, 1), Now: unresolved("10.244.1.6")}}
	if diff := cmp.Diff(want, got, addrs); diff != "" {
		t.Errorf("Sweep(%s, stale) (-want +got):\n%s", rr1, diff)
	}
	wantAll := []Location{resolved("10.244.1.5", leafA, vmMAC, 0, 1), resolved("10.244.1.7", leafA, vmMAC, 0, 1)}
	if diff := cmp.Diff(wantAll, tab.All(), addrs); diff != "" {
		t.Errorf("All() after the sweep (-want +got):\n%s", diff)
	}

	// Nothing of either peer is stale now.
	for _, peer := range []netip.Addr{rr1, rr2} {
		if got := tab.Sweep(peer, false); len(got) != 0 {
			t.Errorf("Sweep(%s, stale) again = %+v, want no change", peer, got)
		}
	}
	if diff := cmp.Diff(wantAll, tab.All(), addrs); diff != "" {
		t.Errorf("All() after sweeping again (-want +got):\n%s", diff)
	}
}

func TestSetWatchAndAll(t *testing.T) {
	tab := NewTable([]netip.Prefix{
		netip.MustParsePrefix("10.244.0.0/16"),
		netip.MustParsePrefix("10.245.0.0/16"),
		netip.MustParsePrefix("fd00:10:244::/48"),
	})
	// Sent out of order, and with 10.244.10.5 before 10.244.9.5 as text.
	for _, h := range []string{"fd00:10:244::5", "10.245.0.1", "10.244.10.5", "10.244.9.5", "10.244.1.5", "10.244.1.6"} {
		mustUpdate(t, tab, fromLeafA(rr1, h))
	}
	// A withdrawn address is not listed.
	if _, ok := tab.Withdraw(rr1, rdLeafA, vmMAC, ip("10.244.1.6")); !ok {
		t.Fatalf("Withdraw(10.244.1.6) = no change, want one")
	}
	want := []Location{
		resolved("10.244.1.5", leafA, vmMAC, 0, 1),
		resolved("10.244.9.5", leafA, vmMAC, 0, 1),
		resolved("10.244.10.5", leafA, vmMAC, 0, 1),
		resolved("10.245.0.1", leafA, vmMAC, 0, 1),
		resolved("fd00:10:244::5", leafA, vmMAC, 0, 1),
	}
	if diff := cmp.Diff(want, tab.All(), addrs); diff != "" {
		t.Errorf("All() (-want +got):\n%s", diff)
	}

	got := byIP(tab.SetWatch([]netip.Prefix{
		netip.MustParsePrefix("10.244.1.0/24"),
		netip.MustParsePrefix("fd00:10:244::/48"),
	}))
	wantChanges := []Change{
		{Was: resolved("10.244.9.5", leafA, vmMAC, 0, 1), Now: unresolved("10.244.9.5")},
		{Was: resolved("10.244.10.5", leafA, vmMAC, 0, 1), Now: unresolved("10.244.10.5")},
		{Was: resolved("10.245.0.1", leafA, vmMAC, 0, 1), Now: unresolved("10.245.0.1")},
	}
	if diff := cmp.Diff(wantChanges, got, addrs); diff != "" {
		t.Errorf("SetWatch changes (-want +got):\n%s", diff)
	}
	want = []Location{
		resolved("10.244.1.5", leafA, vmMAC, 0, 1),
		resolved("fd00:10:244::5", leafA, vmMAC, 0, 1),
	}
	if diff := cmp.Diff(want, tab.All(), addrs); diff != "" {
		t.Errorf("All() after SetWatch (-want +got):\n%s", diff)
	}
	for _, h := range []string{"10.244.9.5", "10.244.10.5", "10.245.0.1"} {
		if got := tab.Lookup(ip(h)); got != unresolved(h) {
			t.Errorf("Lookup(%s) after SetWatch = %+v, want unresolved", h, got)
		}
		if c, ok := tab.Update(fromLeafA(rr1, h)); ok {
			t.Errorf("Update(%s) after SetWatch = %+v, true; want no change", h, c)
		}
	}
	if got := tab.SetWatch([]netip.Prefix{
		netip.MustParsePrefix("10.244.1.0/24"),
		netip.MustParsePrefix("fd00:10:244::/48"),
	}); len(got) != 0 {
		t.Errorf("SetWatch with the same prefixes again = %+v, want no change", got)
	}
}

func TestLocationJSON(t *testing.T) {
	tests := []struct {
		name string
		loc  Location
		want string
	}{
		{
			name: "resolved",
			loc:  resolved("10.244.1.5", leafA, vmMAC, 3, 2),
			want: `{"ip":"10.244.1.5","resolved":true,"vtep":"10.0.0.12","mac":"02:00:00:00:40:01","seq":3,"routes":2}`,
		},
		{
			name: "IPv6",
			loc:  resolved("fd00:10:244::5", leafB, vmMAC, 0, 1),
			want: `{"ip":"fd00:10:244::5","resolved":true,"vtep":"10.0.0.14","mac":"02:00:00:00:40:01","seq":0,"routes":1}`,
		},
		{
			name: "unresolved",
			loc:  unresolved("10.244.1.5"),
			want: `{"ip":"10.244.1.5","resolved":false,"seq":0,"routes":0}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.loc)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(b) != tt.want {
				t.Errorf("Marshal =\n%s\nwant\n%s", b, tt.want)
			}
			var back Location
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			if diff := cmp.Diff(tt.loc, back, addrs); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}
