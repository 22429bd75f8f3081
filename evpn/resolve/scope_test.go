package resolve

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTwoTenantsOneAddress: the same worker address in two VRFs, each host
// behind its own leaf. A Type-2 route of symmetric IRB (a second label, the
// L3VNI) resolves only in its VRF; one without resolves in every VRF. A
// change in one VRF is reported even when the view of every VRF stays.
func TestTwoTenantsOneAddress(t *testing.T) {
	tab := NewTable(watched)
	const host = "10.244.1.11"
	blue := fromLeafA(rr1, host)
	blue.L3VNI = 4001
	red := MACIP{Peer: rr1, RD: rdLeafB, MAC: mustMAC("02:00:00:00:40:02"), IP: ip(host), VTEP: leafB, L3VNI: 4002}
	if _, ok := tab.Update(blue); !ok {
		t.Fatal("blue's host: no change reported")
	}
	// leafA < leafB, so red's route does not change the view of every VRF,
	// only red's: it must still be reported.
	if _, ok := tab.Update(red); !ok {
		t.Error("red's host: no change reported, though red's view changed")
	}
	for _, c := range []struct {
		l3vni uint32
		want  Location
	}{
		{4001, resolved(host, leafA, vmMAC, 0, 1)},
		{4002, resolved(host, leafB, red.MAC, 0, 1)},
		{4003, Location{IP: ip(host)}},          // no route of its VRF
		{0, resolved(host, leafA, vmMAC, 0, 2)}, // any VRF
	} {
		if diff := cmp.Diff(c.want, tab.LookupIn(ip(host), c.l3vni), addrs); diff != "" {
			t.Errorf("L3VNI %d (-want +got):\n%s", c.l3vni, diff)
		}
	}
	// A route without a second label (asymmetric IRB) resolves in every VRF.
	plain := MACIP{Peer: rr1, RD: mustRD("10.0.0.20:2"), MAC: mustMAC("02:00:00:00:40:03"), IP: ip(host), VTEP: ip("10.0.0.20")}
	tab.Update(plain)
	if got := tab.LookupIn(ip(host), 4003); !got.Resolved || got.VTEP != plain.VTEP {
		t.Errorf("L3VNI 4003 with an unlabelled route: %+v", got)
	}
	if got := tab.LookupIn(ip(host), 4002); got.VTEP != leafB || got.Routes != 2 {
		t.Errorf("L3VNI 4002 with an unlabelled route too: %+v, want leaf B of 2 routes", got)
	}
	// Red's host goes: reported, and red falls back to the unlabelled route.
	if _, ok := tab.Withdraw(red.Peer, red.RD, red.MAC, red.IP); !ok {
		t.Error("red's withdrawal: no change reported")
	}
	if got := tab.LookupIn(ip(host), 4002); got.VTEP != plain.VTEP {
		t.Errorf("L3VNI 4002 after red's withdrawal: %+v", got)
	}
}
