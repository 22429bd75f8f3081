package bgp

import (
	"net/netip"
	"testing"

	"github.com/osrg/gobgp/v4/pkg/apiutil"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// TestReadMACIPTakesTheL3VNI: a Type-2 route of symmetric IRB carries the
// IP-VRF's L3VNI as its second label, which scopes the host to that VRF;
// one with a single label is not scoped.
func TestReadMACIPTakesTheL3VNI(t *testing.T) {
	rd, _ := bgppkt.NewRouteDistinguisherIPAddressAS(netip.MustParseAddr("10.0.0.12"), 2)
	for _, tc := range []struct {
		labels []uint32
		want   uint32
	}{{[]uint32{100, 4001}, 4001}, {[]uint32{100}, 0}} {
		nlri, err := bgppkt.NewEVPNMacIPAdvertisementRoute(rd, bgppkt.EthernetSegmentIdentifier{}, 0,
			"02:00:00:00:40:01", netip.MustParseAddr("192.168.10.11"), tc.labels)
		if err != nil {
			t.Fatal(err)
		}
		nh, _ := bgppkt.NewPathAttributeMpReachNLRI(bgppkt.RF_EVPN, []bgppkt.PathNLRI{{NLRI: nlri}}, netip.MustParseAddr("10.0.0.12"))
		m, ok := readMACIP(&apiutil.Path{Family: bgppkt.RF_EVPN, Nlri: nlri, PeerAddress: netip.MustParseAddr("10.0.0.1"),
			Attrs: []bgppkt.PathAttributeInterface{nh}})
		if !ok || m.L3VNI != tc.want || m.VTEP != netip.MustParseAddr("10.0.0.12") {
			t.Errorf("labels %v: read %+v (ok %v), want L3VNI %d behind 10.0.0.12", tc.labels, m, ok, tc.want)
		}
	}
}
