package rds

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/t5gw/t5gw/evpn"
)

var admin = netip.MustParseAddr("192.0.2.1")

// addrs lets cmp compare netip.Addr, whose fields are unexported.
var addrs = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// worker returns the i-th address of 10.0.0.0/8: 10.0.0.0, 10.0.0.1, ...
func worker(i uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// rdOf is the RD the allocator should hand out for number n.
func rdOf(n uint16) evpn.RD {
	return evpn.RD{Kind: evpn.AdminIPv4, IP: admin, Number: uint32(n)}
}

// next returns the number by steps above n, wrapping past 65535 to 1.
func next(n uint16, by int) uint16 {
	for range by {
		if n++; n == 0 {
			n = 1
		}
	}
	return n
}

// mustRD asks a for o's RD and fails the test if there is none.
func mustRD(t *testing.T, a *Allocator, o Owner) uint16 {
	t.Helper()
	rd, ok := a.RD(o)
	if !ok {
		t.Fatalf("RD(%v) = _, false; want an RD", o)
	}
	if rd.Kind != evpn.AdminIPv4 || rd.IP != admin || rd.Number == 0 || rd.Number > 0xffff {
		t.Fatalf("RD(%v) = %v (kind %d); want %s:<1..65535> of kind AdminIPv4", o, rd, rd.Kind, admin)
	}
	return uint16(rd.Number)
}

// collidingOwners returns k owners of vrf, workers in 10.0.0.0/16, that share
// one preferred number, and that number.
func collidingOwners(t *testing.T, vrf string, k int) ([]Owner, uint16) {
	t.Helper()
	return collidingOwnersExcept(t, vrf, k, nil)
}

// collidingOwnersExcept is collidingOwners avoiding the preferred numbers in skip.
func collidingOwnersExcept(t *testing.T, vrf string, k int, skip map[uint16]bool) ([]Owner, uint16) {
	t.Helper()
	groups := map[uint16][]Owner{}
	for i := uint32(0); i < 1<<16; i++ {
		o := Owner{VRF: vrf, Worker: worker(i)}
		p := Preferred(o)
		if skip[p] {
			continue
		}
		groups[p] = append(groups[p], o)
		if len(groups[p]) == k {
			return groups[p], p
		}
	}
	t.Fatalf("no %d owners of VRF %q in 10.0.0.0/16 share a preferred number", k, vrf)
	return nil, 0
}

// ownerPreferring returns an owner of vrf, not one of except, whose preferred
// number is want.
func ownerPreferring(t *testing.T, vrf string, want uint16, except ...Owner) Owner {
	t.Helper()
next:
	for i := uint32(0); i < 1<<24; i++ {
		o := Owner{VRF: vrf, Worker: worker(i)}
		if Preferred(o) != want {
			continue
		}
		for _, e := range except {
			if o == e {
				continue next
			}
		}
		return o
	}
	t.Fatalf("no owner of VRF %q in 10.0.0.0/8 prefers %d", vrf, want)
	return Owner{}
}

// checkUnique fails if two owners of Assigned share a number, or one holds 0,
// a reserved number, or an RD not <admin>:<n>.
func checkUnique(t *testing.T, a *Allocator, reserved map[uint16]bool) map[Owner]evpn.RD {
	t.Helper()
	got := a.Assigned()
	holder := map[uint32]Owner{}
	for o, rd := range got {
		if rd.Kind != evpn.AdminIPv4 || rd.IP != admin {
			t.Errorf("Assigned()[%v] = %v (kind %d); want %s:<n> of kind AdminIPv4", o, rd, rd.Kind, admin)
		}
		if rd.Number == 0 || rd.Number > 0xffff || reserved[uint16(rd.Number)] {
			t.Errorf("Assigned()[%v] = %v; the number is 0, reserved or too big", o, rd)
		}
		if h, dup := holder[rd.Number]; dup {
			t.Errorf("number %d is held by both %v and %v", rd.Number, h, o)
		}
		holder[rd.Number] = o
	}
	return got
}

func TestPreferredIsPinned(t *testing.T) {
	t.Parallel()
	// These values were computed outside Go (FNV-1a 64 of VRF, 0, address
	// bytes; 1 + hash % 65535). Changing them changes every worker's RD on
	// upgrade, which the fabric sees as all routes withdrawn and re-sent.
	tests := []struct {
		vrf, worker string
		want        uint16
	}{
		{"blue", "10.0.0.1", 54040},
		{"red", "10.0.0.1", 17800},
		{"", "10.0.0.1", 35965},
		{"blue", "192.168.10.11", 2576},
		{"blue", "fd00::1", 45732},
		{"red", "fd00:192:168:10::11", 65435},
		// An IPv4-mapped address is 16 bytes, not 4: a different owner with
		// (here) a different number from 10.0.0.1.
		{"blue", "::ffff:10.0.0.1", 27359},
	}
	for _, tt := range tests {
		o := Owner{VRF: tt.vrf, Worker: netip.MustParseAddr(tt.worker)}
		if got := Preferred(o); got != tt.want {
			t.Errorf("Preferred(%q, %s) = %d; want %d", tt.vrf, tt.worker, got, tt.want)
		}
	}
}

func TestPreferred(t *testing.T) {
	t.Parallel()
	v4 := netip.MustParseAddr("10.0.0.1")
	v6 := netip.MustParseAddr("fd00:10::1")
	mapped := netip.MustParseAddr("::ffff:10.0.0.1")
	zoned := netip.MustParseAddr("fe80::1%eth0")
	unzoned := netip.MustParseAddr("fe80::1")
	tests := []struct {
		name     string
		a, b     Owner
		wantSame bool
	}{
		{"same ipv4 owner", Owner{"blue", v4}, Owner{"blue", v4}, true},
		{"same ipv6 owner", Owner{"blue", v6}, Owner{"blue", v6}, true},
		{"same ipv4 worker, other VRF", Owner{"blue", v4}, Owner{"red", v4}, false},
		{"same ipv6 worker, other VRF", Owner{"blue", v6}, Owner{"red", v6}, false},
		{"other worker, same VRF", Owner{"blue", v4}, Owner{"blue", v6}, false},
		// Documented, not necessarily desired: the session address as the
		// speaker reports it is the key, so 10.0.0.1 and ::ffff:10.0.0.1 are
		// two owners with two numbers, and so are fe80::1%eth0 and fe80::1.
		{"ipv4 and ipv4-mapped", Owner{"blue", v4}, Owner{"blue", mapped}, false},
		{"zoned and unzoned", Owner{"blue", zoned}, Owner{"blue", unzoned}, false},
		// The 0 between VRF and address keeps "ab"+x apart from "a"+"b"x.
		{"vrf/address boundary", Owner{"blue", v4}, Owner{"blu", netip.AddrFrom4([4]byte{'e', 10, 0, 0})}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pa, pb := Preferred(tt.a), Preferred(tt.b)
			if pa == 0 || pb == 0 {
				t.Fatalf("Preferred(%v) = %d, Preferred(%v) = %d; want neither 0", tt.a, pa, tt.b, pb)
			}
			if got := pa == pb; got != tt.wantSame {
				t.Errorf("Preferred(%v) = %d, Preferred(%v) = %d; same = %v, want %v", tt.a, pa, tt.b, pb, got, tt.wantSame)
			}
			if again := Preferred(tt.a); again != pa {
				t.Errorf("Preferred(%v) = %d then %d; want the same every call", tt.a, pa, again)
			}
		})
	}
}

func TestPreferredNeverZeroAndSpread(t *testing.T) {
	t.Parallel()
	const n = 1 << 18
	seen := map[uint16]bool{}
	for i := uint32(0); i < n; i++ {
		for _, o := range []Owner{
			{VRF: "blue", Worker: worker(i)},
			{VRF: "red", Worker: netip.AddrFrom16([16]byte{0xfd, 0, 12: byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})},
		} {
			p := Preferred(o)
			if p == 0 {
				t.Fatalf("Preferred(%v) = 0; want 1..65535", o)
			}
			seen[p] = true
		}
	}
	// 2^19 owners over 65535 numbers leave about 65535*e^-8 = 22 numbers
	// unused if the hash spreads; allow a wide margin, but 65535 itself and 1
	// must be reachable (the range is 1..65535, not 0..65534 or 1..65534).
	if len(seen) < 65535-200 {
		t.Errorf("%d owners hit only %d of 65535 numbers; want nearly all", 2*n, len(seen))
	}
	for _, p := range []uint16{1, 65535} {
		if !seen[p] {
			t.Errorf("no owner preferred %d; want the whole range 1..65535 used", p)
		}
	}
}

func TestPreferredSameAcrossAllocators(t *testing.T) {
	t.Parallel()
	owners := []Owner{
		{VRF: "blue", Worker: netip.MustParseAddr("10.0.0.1")},
		{VRF: "red", Worker: netip.MustParseAddr("10.0.0.1")},
		{VRF: "blue", Worker: netip.MustParseAddr("fd00::1")},
	}
	var first []uint16
	for run := range 3 {
		a := New(admin, nil)
		for i, o := range owners {
			got := mustRD(t, a, o)
			if got != Preferred(o) {
				t.Errorf("run %d: RD(%v) number = %d; want Preferred = %d", run, o, got, Preferred(o))
			}
			if run == 0 {
				first = append(first, got)
			} else if got != first[i] {
				t.Errorf("run %d: RD(%v) number = %d; want %d as in run 0", run, o, got, first[i])
			}
		}
	}
}

func TestRDFreshAllocator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    Owner
	}{
		{"ipv4 worker", Owner{VRF: "blue", Worker: netip.MustParseAddr("192.168.10.11")}},
		{"ipv6 worker", Owner{VRF: "red", Worker: netip.MustParseAddr("fd00:192:168:10::11")}},
		{"ipv4-mapped worker", Owner{VRF: "blue", Worker: netip.MustParseAddr("::ffff:10.0.0.1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(admin, nil)
			want := rdOf(Preferred(tt.o))
			for call := 1; call <= 2; call++ {
				got, ok := a.RD(tt.o)
				if !ok {
					t.Fatalf("call %d: RD(%v) = _, false; want %v", call, tt.o, want)
				}
				if diff := cmp.Diff(want, got, addrs); diff != "" {
					t.Errorf("call %d: RD(%v) mismatch (-want +got):\n%s", call, tt.o, diff)
				}
			}
			if diff := cmp.Diff(map[Owner]evpn.RD{tt.o: want}, a.Assigned(), addrs); diff != "" {
				t.Errorf("Assigned() mismatch (-want +got):\n%s", diff)
			}
			if got := a.Displaced(); len(got) != 0 {
				t.Errorf("Displaced() = %v; want none (the owner holds its preferred number)", got)
			}
		})
	}
}

func TestCollisions(t *testing.T) {
	t.Parallel()
	owners, p := collidingOwners(t, "blue", 3)
	tests := []struct {
		name     string
		reserved []uint16 // numbers under admin the node's VRFs use
		order    []int    // which of owners ask, in order
		want     []uint16 // their numbers, in the same order
	}{
		{"first wins, second next, third after", nil, []int{0, 1, 2}, []uint16{p, next(p, 1), next(p, 2)}},
		{"order decides, not the address", nil, []int{2, 0, 1}, []uint16{p, next(p, 1), next(p, 2)}},
		{"a reserved number is skipped", []uint16{next(p, 1)}, []int{0, 1}, []uint16{p, next(p, 2)}},
		{"a run of reserved numbers is skipped", []uint16{next(p, 1), next(p, 2), next(p, 3)}, []int{1, 0, 2},
			[]uint16{p, next(p, 4), next(p, 5)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rds []evpn.RD
			for _, n := range tt.reserved {
				rds = append(rds, rdOf(n))
			}
			a := New(admin, rds)
			for i, k := range tt.order {
				if got := mustRD(t, a, owners[k]); got != tt.want[i] {
					t.Errorf("RD(%v) number = %d; want %d (preferred %d)", owners[k], got, tt.want[i], p)
				}
			}
			// Asking again, in reverse, changes nothing.
			for i := len(tt.order) - 1; i >= 0; i-- {
				if got := mustRD(t, a, owners[tt.order[i]]); got != tt.want[i] {
					t.Errorf("again: RD(%v) number = %d; want %d", owners[tt.order[i]], got, tt.want[i])
				}
			}
		})
	}
}

func TestCollisionAfterDisplaced(t *testing.T) {
	t.Parallel()
	// A displaced owner sits on someone else's preferred number: that owner,
	// coming later, is displaced in turn.
	owners, p := collidingOwners(t, "blue", 2)
	c := ownerPreferring(t, "red", next(p, 1))
	a := New(admin, nil)
	mustRD(t, a, owners[0])
	b := mustRD(t, a, owners[1])
	if got := mustRD(t, a, c); got != next(p, 2) {
		t.Errorf("RD(%v) number = %d; want %d, past %d that %v holds", c, got, next(p, 2), b, owners[1])
	}
	checkUnique(t, a, nil)
}

func TestWrapAround(t *testing.T) {
	t.Parallel()
	top := ownerPreferring(t, "blue", 0xffff)
	tests := []struct {
		name     string
		reserved []uint16
		first    []Owner // ask before top
		want     uint16
	}{
		{"65535 reserved", []uint16{0xffff}, nil, 1},
		{"65535 and 1 reserved", []uint16{0xffff, 1}, nil, 2},
		{"65535 held by another owner", nil, []Owner{ownerPreferring(t, "blue", 0xffff, top)}, 1},
		{"65535 free", []uint16{1}, nil, 0xffff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rds []evpn.RD
			for _, n := range tt.reserved {
				rds = append(rds, rdOf(n))
			}
			a := New(admin, rds)
			for _, o := range tt.first {
				mustRD(t, a, o)
			}
			if got := mustRD(t, a, top); got != tt.want {
				t.Errorf("RD(%v) number = %d; want %d", top, got, tt.want)
			}
		})
	}
}

func TestManyOwnersUnique(t *testing.T) {
	t.Parallel()
	// Reserve a block of 1000 numbers and every 7th number: many owners
	// prefer a reserved number and must skip it.
	reserved := map[uint16]bool{}
	var rds []evpn.RD
	for n := uint16(1); n != 0; n++ {
		if n%7 == 0 || (n >= 30000 && n < 31000) {
			reserved[n] = true
			rds = append(rds, rdOf(n))
		}
	}
	a := New(admin, rds)
	const n = 20000
	got := map[Owner]uint16{}
	for i := uint32(0); i < n; i++ {
		vrf := []string{"blue", "red", "green"}[i%3]
		o := Owner{VRF: vrf, Worker: worker(i)}
		if i%2 == 1 {
			o.Worker = netip.AddrFrom16([16]byte{0xfd, 0, 12: byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
		}
		got[o] = mustRD(t, a, o)
	}
	assigned := checkUnique(t, a, reserved)
	if len(assigned) != n {
		t.Fatalf("Assigned() has %d owners; want %d", len(assigned), n)
	}
	displaced := 0
	for o, num := range got {
		if assigned[o] != rdOf(num) {
			t.Errorf("Assigned()[%v] = %v; want %v as RD returned", o, assigned[o], rdOf(num))
		}
		if num != Preferred(o) {
			displaced++
		}
	}
	if d := len(a.Displaced()); d != displaced {
		t.Errorf("len(Displaced()) = %d; want %d, the owners not on their preferred number", d, displaced)
	}
	if displaced == 0 {
		t.Errorf("no owner of %d was displaced; the test exercises no collision", n)
	}
}

func TestReserved(t *testing.T) {
	t.Parallel()
	o := ownerPreferring(t, "blue", 4001)
	other := netip.MustParseAddr("192.0.2.2")
	tests := []struct {
		name     string
		vrfRDs   []evpn.RD
		wantSkip bool // whether 4001 is reserved
	}{
		{"admin:4001", []evpn.RD{{Kind: evpn.AdminIPv4, IP: admin, Number: 4001}}, true},
		{"admin:4001 among others", []evpn.RD{
			{Kind: evpn.AdminIPv4, IP: other, Number: 4001},
			{Kind: evpn.AdminIPv4, IP: admin, Number: 4001},
			{Kind: evpn.AdminAS2, ASN: 65000, Number: 4001},
		}, true},
		{"no RDs", nil, false},
		{"other administrator", []evpn.RD{{Kind: evpn.AdminIPv4, IP: other, Number: 4001}}, false},
		{"2-octet AS", []evpn.RD{{Kind: evpn.AdminAS2, ASN: 65000, Number: 4001}}, false},
		{"4-octet AS", []evpn.RD{{Kind: evpn.AdminAS4, ASN: 4200000000, Number: 4001}}, false},
		{"AS kind carrying the admin address", []evpn.RD{{Kind: evpn.AdminAS2, ASN: 65000, IP: admin, Number: 4001}}, false},
		{"admin with another number", []evpn.RD{{Kind: evpn.AdminIPv4, IP: admin, Number: 4002}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(admin, tt.vrfRDs)
			got := mustRD(t, a, o)
			if tt.wantSkip && got == 4001 {
				t.Errorf("RD(%v) number = 4001; want it skipped, %v reserves it", o, tt.vrfRDs)
			}
			if !tt.wantSkip && got != 4001 {
				t.Errorf("RD(%v) number = %d; want 4001, %v does not reserve it", o, got, tt.vrfRDs)
			}
		})
	}
}

func TestReservedNeverHandedOut(t *testing.T) {
	t.Parallel()
	// Every owner that prefers 4001, or lands on it by collision, goes past it.
	a := New(admin, []evpn.RD{rdOf(4001)})
	var asked []Owner
	for range 5 {
		o := ownerPreferring(t, "blue", 4001, asked...)
		asked = append(asked, o)
		if got := mustRD(t, a, o); got == 4001 {
			t.Errorf("RD(%v) number = 4001; want anything but the reserved 4001", o)
		}
	}
	// An owner displaced from 4000 steps over 4001 too.
	holder := ownerPreferring(t, "blue", 4000)
	if got := mustRD(t, a, holder); got != 4000 {
		t.Fatalf("RD(%v) number = %d; want its preferred 4000", holder, got)
	}
	below := ownerPreferring(t, "blue", 4000, holder)
	if got := mustRD(t, a, below); got == 4001 {
		t.Errorf("RD(%v) number = 4001; want anything but the reserved 4001", below)
	}
	checkUnique(t, a, map[uint16]bool{4001: true})
}

func TestDisplacedAndRestore(t *testing.T) {
	t.Parallel()
	owners, p := collidingOwners(t, "blue", 2)
	A, B := owners[0], owners[1]

	run1 := New(admin, nil)
	if got := mustRD(t, run1, A); got != p {
		t.Fatalf("run 1: RD(A) number = %d; want preferred %d", got, p)
	}
	kept := mustRD(t, run1, B)
	if kept == p {
		t.Fatalf("run 1: RD(B) number = %d; want anything but A's %d", kept, p)
	}
	displaced := run1.Displaced()
	if diff := cmp.Diff([]Assignment{{Owner: B, Number: kept}}, displaced, addrs); diff != "" {
		t.Fatalf("run 1: Displaced() mismatch (-want +got):\n%s", diff)
	}

	// Run 2: B comes back before A.
	run2 := New(admin, nil)
	run2.Restore(displaced)
	if diff := cmp.Diff(displaced, run2.Displaced(), addrs); diff != "" {
		t.Errorf("run 2 before anyone is back: Displaced() mismatch (-want +got):\n%s", diff)
	}
	// C prefers B's kept number and comes first: it must not take it.
	C := ownerPreferring(t, "red", kept)
	if got := mustRD(t, run2, C); got == kept {
		t.Errorf("run 2: RD(C) number = %d; want anything but B's kept %d", got, kept)
	}
	if got := mustRD(t, run2, B); got != kept {
		t.Errorf("run 2: RD(B) number = %d; want %d as in run 1", got, kept)
	}
	if got := mustRD(t, run2, A); got != p {
		t.Errorf("run 2: RD(A) number = %d; want preferred %d as in run 1", got, p)
	}
	checkUnique(t, run2, nil)
	// B is still displaced and C is now too; A is not.
	for _, x := range run2.Displaced() {
		if x.Owner == A {
			t.Errorf("run 2: Displaced() lists A %v; want only owners off their preferred number", x)
		}
	}
	if got := run2.Displaced(); len(got) != 2 {
		t.Errorf("run 2: Displaced() = %v; want B and C", got)
	}
}

func TestDisplacedSorted(t *testing.T) {
	t.Parallel()
	blue, pb := collidingOwners(t, "blue", 3)
	// Keep the red pair (on pr and pr+1) clear of the blue trio (pb..pb+2).
	red, _ := collidingOwnersExcept(t, "red", 2, map[uint16]bool{next(pb, 0xfffe): true, pb: true, next(pb, 1): true, next(pb, 2): true})
	a := New(admin, nil)
	// Ask in an order unrelated to the sort: red first, highest address first.
	for _, o := range []Owner{red[1], red[0], blue[2], blue[1], blue[0]} {
		mustRD(t, a, o)
	}
	got := a.Displaced()
	if len(got) != 3 {
		t.Fatalf("Displaced() = %v; want 3 assignments (2 blue, 1 red)", got)
	}
	for i := 1; i < len(got); i++ {
		x, y := got[i-1], got[i]
		if x.VRF > y.VRF || (x.VRF == y.VRF && x.Worker.Compare(y.Worker) >= 0) {
			t.Errorf("Displaced() = %v; want sorted by VRF then worker ([%d] before [%d])", got, i-1, i)
		}
	}
	if got[0].VRF != "blue" || got[2].VRF != "red" {
		t.Errorf("Displaced() = %v; want blue, blue, red", got)
	}
}

func TestRestoreDrops(t *testing.T) {
	t.Parallel()
	w := func(i uint32) Owner { return Owner{VRF: "blue", Worker: worker(i)} }
	tests := []struct {
		name     string
		reserved []uint16
		restore  []Assignment
		want     []Assignment // Displaced right after Restore, sorted
	}{
		{"none", nil, nil, nil},
		{"kept as given", nil, []Assignment{{w(2), 7}, {w(1), 9}}, []Assignment{{w(1), 9}, {w(2), 7}}},
		{"number 0", nil, []Assignment{{w(1), 0}, {w(2), 7}}, []Assignment{{w(2), 7}}},
		{"reserved number", []uint16{7}, []Assignment{{w(1), 7}, {w(2), 8}}, []Assignment{{w(2), 8}}},
		{"two owners, one number: the first wins", nil, []Assignment{{w(2), 7}, {w(1), 7}}, []Assignment{{w(2), 7}}},
		{"one owner, two numbers: the last wins", nil, []Assignment{{w(1), 7}, {w(1), 8}}, []Assignment{{w(1), 8}}},
		{"reserved under another admin is not reserved", nil, []Assignment{{w(1), 7}}, []Assignment{{w(1), 7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rds []evpn.RD
			for _, n := range tt.reserved {
				rds = append(rds, rdOf(n))
			}
			rds = append(rds, evpn.RD{Kind: evpn.AdminIPv4, IP: netip.MustParseAddr("192.0.2.99"), Number: 7})
			a := New(admin, rds)
			a.Restore(tt.restore)
			if diff := cmp.Diff(tt.want, a.Displaced(), addrs); diff != "" {
				t.Errorf("Displaced() after Restore(%v) mismatch (-want +got):\n%s", tt.restore, diff)
			}
			// Each kept owner gets its number back; nobody else gets it.
			for _, x := range tt.want {
				intruder := ownerPreferring(t, "intruder", x.Number)
				if got := mustRD(t, a, intruder); got == x.Number {
					t.Errorf("RD(%v) number = %d; want anything but %v's kept number", intruder, got, x.Owner)
				}
				if got := mustRD(t, a, x.Owner); got != x.Number {
					t.Errorf("RD(%v) number = %d; want the restored %d", x.Owner, got, x.Number)
				}
			}
			checkUnique(t, a, nil)
		})
	}
}

func TestRestoreSurvivesASecondRestart(t *testing.T) {
	t.Parallel()
	// A restored owner that has not come back yet is still displaced: the
	// next restart must keep its number too.
	owners, p := collidingOwners(t, "blue", 2)
	A, B := owners[0], owners[1]
	run1 := New(admin, nil)
	mustRD(t, run1, A)
	kept := mustRD(t, run1, B)

	run2 := New(admin, nil)
	run2.Restore(run1.Displaced())
	mustRD(t, run2, A)

	run3 := New(admin, nil)
	run3.Restore(run2.Displaced())
	if got := mustRD(t, run3, B); got != kept {
		t.Errorf("run 3: RD(B) number = %d; want %d as in run 1", got, kept)
	}
	if got := mustRD(t, run3, A); got != p {
		t.Errorf("run 3: RD(A) number = %d; want %d", got, p)
	}
}

func TestRelease(t *testing.T) {
	t.Parallel()
	owners, p := collidingOwners(t, "blue", 3)
	A, B, C := owners[0], owners[1], owners[2]
	a := New(admin, nil)
	mustRD(t, a, A)
	nb := mustRD(t, a, B)

	a.Release(A)
	if _, ok := a.Assigned()[A]; ok {
		t.Errorf("Assigned() still lists %v after Release", A)
	}
	if got := mustRD(t, a, C); got != p {
		t.Errorf("RD(C) number = %d; want %d, freed by Release(A)", got, p)
	}
	// B keeps its number: releasing A does not move anyone.
	if got := mustRD(t, a, B); got != nb {
		t.Errorf("RD(B) number = %d; want %d as before Release(A)", got, nb)
	}

	before := a.Assigned()
	a.Release(Owner{VRF: "blue", Worker: netip.MustParseAddr("203.0.113.9")})
	a.Release(A) // twice
	if diff := cmp.Diff(before, a.Assigned(), addrs); diff != "" {
		t.Errorf("Release of an unknown owner changed Assigned() (-before +after):\n%s", diff)
	}
	want := map[Owner]evpn.RD{B: rdOf(nb), C: rdOf(p)}
	if diff := cmp.Diff(want, a.Assigned(), addrs); diff != "" {
		t.Errorf("Assigned() mismatch (-want +got):\n%s", diff)
	}

	// A comes back: its number is C's now, so it takes the next free one.
	if got := mustRD(t, a, A); got == p || got == nb {
		t.Errorf("RD(A) number = %d; want neither C's %d nor B's %d", got, p, nb)
	}
	checkUnique(t, a, nil)
}

func TestExhaustion(t *testing.T) {
	t.Parallel()
	t.Run("all numbers held", func(t *testing.T) {
		t.Parallel()
		a := New(admin, nil)
		for i := uint32(0); i < 0xffff; i++ {
			mustRD(t, a, Owner{VRF: "blue", Worker: worker(i)})
		}
		if n := len(checkUnique(t, a, nil)); n != 0xffff {
			t.Fatalf("Assigned() has %d owners; want 65535", n)
		}
		extra := Owner{VRF: "blue", Worker: worker(0xffff)}
		if rd, ok := a.RD(extra); ok || rd != (evpn.RD{}) {
			t.Errorf("RD(%v) with every number held = %v, %v; want zero RD, false", extra, rd, ok)
		}
		if _, ok := a.Assigned()[extra]; ok {
			t.Errorf("Assigned() lists %v, which got no number", extra)
		}
		// Free one number: the extra owner gets exactly it.
		victim := Owner{VRF: "blue", Worker: worker(12345)}
		freed := a.Assigned()[victim].Number
		a.Release(victim)
		if got := mustRD(t, a, extra); uint32(got) != freed {
			t.Errorf("RD(%v) number = %d; want %d, the only free number", extra, got, freed)
		}
	})
	t.Run("the only free number is the last one tried", func(t *testing.T) {
		t.Parallel()
		// The search goes up from the preferred number, wrapping past 65535:
		// the number just below the preferred one is the 65535th tried.
		for _, o := range []Owner{ownerPreferring(t, "blue", 1), ownerPreferring(t, "blue", 4001), ownerPreferring(t, "blue", 0xffff)} {
			free := next(Preferred(o), 0xfffe)
			var rds []evpn.RD
			for n := uint16(1); n != 0; n++ {
				if n != free {
					rds = append(rds, rdOf(n))
				}
			}
			a := New(admin, rds)
			if got := mustRD(t, a, o); got != free {
				t.Errorf("RD(%v) (preferred %d) number = %d; want %d, the only number not reserved", o, Preferred(o), got, free)
			}
		}
	})
	t.Run("all but a few reserved", func(t *testing.T) {
		t.Parallel()
		var rds []evpn.RD
		for n := uint16(1); n != 0; n++ {
			if n != 7 && n != 9 {
				rds = append(rds, rdOf(n))
			}
		}
		a := New(admin, rds)
		x := Owner{VRF: "blue", Worker: worker(1)}
		a.Restore([]Assignment{{x, 9}})
		y := Owner{VRF: "blue", Worker: worker(2)}
		if got := mustRD(t, a, y); got != 7 {
			t.Errorf("RD(y) number = %d; want 7, the only number neither reserved nor kept", got)
		}
		z := Owner{VRF: "blue", Worker: worker(3)}
		if rd, ok := a.RD(z); ok {
			t.Errorf("RD(z) = %v, true; want false: 7 is held, 9 is kept, the rest reserved", rd)
		}
		if got := mustRD(t, a, x); got != 9 {
			t.Errorf("RD(x) number = %d; want its restored 9", got)
		}
	})
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	const goroutines, perG = 16, 400
	a := New(admin, []evpn.RD{rdOf(4001)})
	var wg sync.WaitGroup
	kept := make([]map[Owner]uint16, goroutines)
	errs := make(chan error, goroutines*perG)
	for g := range goroutines {
		kept[g] = map[Owner]uint16{}
		wg.Go(func() {
			for i := range perG {
				o := Owner{VRF: fmt.Sprintf("vrf%d", g%4), Worker: worker(uint32(g*perG + i))}
				rd, ok := a.RD(o)
				if !ok {
					errs <- fmt.Errorf("RD(%v) = _, false", o)
					continue
				}
				if again, _ := a.RD(o); again != rd {
					errs <- fmt.Errorf("RD(%v) = %v then %v; want the same", o, rd, again)
				}
				if i%3 == 0 {
					a.Release(o)
				} else {
					kept[g][o] = uint16(rd.Number)
				}
				if i%50 == 0 {
					a.Assigned()
					a.Displaced()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assigned := checkUnique(t, a, map[uint16]bool{4001: true})
	want := 0
	for _, m := range kept {
		want += len(m)
		for o, n := range m {
			if assigned[o] != rdOf(n) {
				t.Errorf("Assigned()[%v] = %v; want %v as RD returned", o, assigned[o], rdOf(n))
			}
		}
	}
	if len(assigned) != want {
		t.Errorf("Assigned() has %d owners; want %d (released ones gone)", len(assigned), want)
	}
}
