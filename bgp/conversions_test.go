package bgp

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/osrg/gobgp/v4/pkg/apiutil"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/t5gw/t5gw/evpn"
)

func type5(prefix string, med uint32) evpn.Type5Route {
	return evpn.Type5Route{
		RD:           evpn.RD{Kind: evpn.AdminIPv4, IP: netip.MustParseAddr("10.255.0.3"), Number: 4001},
		Prefix:       netip.MustParsePrefix(prefix),
		GatewayIP:    netip.MustParseAddr("192.168.1.1"),
		Label:        4001,
		NextHop:      netip.MustParseAddr("10.255.0.3"),
		RouteTargets: []evpn.RouteTarget{{Kind: evpn.AdminAS2, ASN: 65000, Number: 4001}},
		Encap:        evpn.TunnelVXLAN,
		ASPath:       []evpn.ASPathSegment{{ASNs: []uint32{65011}}},
		MED:          med, HasMED: med > 0,
	}
}

func TestSharedAttributeSets(t *testing.T) {
	a := newShared()
	get := func(r evpn.Type5Route) string {
		set, err := a.attrs(r)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%p", &set[0])
	}
	first, second := get(type5("10.0.0.1/32", 0)), get(type5("10.0.0.2/32", 0))
	if first != second {
		t.Errorf("routes with equal attributes got sets %s and %s, want one shared set", first, second)
	}
	if withMED := get(type5("10.0.0.3/32", 5)); withMED == first {
		t.Errorf("a route with a MED got the set of routes without one")
	}
	otherVTEP := type5("10.0.0.4/32", 0)
	otherVTEP.NextHop = netip.MustParseAddr("10.255.0.4")
	if got := get(otherVTEP); got == first {
		t.Errorf("a route with another next hop got the set of routes with 10.255.0.3")
	}
	for i := range maxShared + 10 { // over the bound: starts again, still right
		r := type5("10.0.0.1/32", uint32(i+1))
		set, err := a.attrs(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(set); !strings.Contains(got, fmt.Sprintf("{Med: %d}", i+1)) {
			t.Fatalf("MED %d: got set %s", i+1, got)
		}
	}
	if len(a.sets) > maxShared {
		t.Errorf("%d sets held, want at most %d", len(a.sets), maxShared)
	}
}

// GoBGP keys its tables by the route's String(): t5gw's precomputed key must
// be GoBGP's text exactly, or a route received from the fabric for the same
// RD and prefix would sit in another destination.
func TestPrefixRouteKeyIsGoBGPs(t *testing.T) {
	rds := []evpn.RD{
		{Kind: evpn.AdminAS2, ASN: 65000, Number: 4001},
		{Kind: evpn.AdminIPv4, IP: netip.MustParseAddr("10.255.0.3"), Number: 65535},
		{Kind: evpn.AdminAS4, ASN: 4200000001, Number: 7},
		{Kind: evpn.AdminAS4, ASN: 70000, Number: 0},
	}
	for _, rd := range rds {
		for _, pfx := range []string{"10.244.1.0/24", "0.0.0.0/0", "2001:db8::/48", "2001:db8::1/128"} {
			r := type5(pfx, 0)
			r.RD, r.EthernetTag = rd, uint32(len(pfx))
			nlri, err := type5NLRI(r, newShared())
			if err != nil {
				t.Fatal(err)
			}
			keyed, ok := nlri.RouteTypeData.(*keyedPrefixRoute)
			if !ok {
				t.Fatalf("%v %s: route is a %T", rd, pfx, nlri.RouteTypeData)
			}
			if got, want := nlri.String(), keyed.EVPNIPPrefixRoute.String(); got != want {
				t.Errorf("%v %s: key %q, GoBGP's %q", rd, pfx, got, want)
			}
		}
	}
}

// The routes of one UPDATE share their AS path: the reader converts it once.
func TestRouteReaderSharesAnUpdatesAttributes(t *testing.T) {
	asPath := bgppkt.NewPathAttributeAsPath([]bgppkt.AsPathParamInterface{
		bgppkt.NewAs4PathParam(bgppkt.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{65011, 65100})})
	large := bgppkt.NewPathAttributeLargeCommunities([]*bgppkt.LargeCommunity{bgppkt.NewLargeCommunity(65011, 1, 2)})
	nh, _ := bgppkt.NewPathAttributeNextHop(netip.MustParseAddr("192.168.1.11"))
	path := func(prefix string, as *bgppkt.PathAttributeAsPath) *apiutil.Path {
		nlri, _ := bgppkt.NewIPAddrPrefix(netip.MustParsePrefix(prefix))
		return &apiutil.Path{Family: bgppkt.RF_IPv4_UC, Nlri: nlri, PeerAddress: netip.MustParseAddr("192.168.1.11"),
			Attrs: []bgppkt.PathAttributeInterface{bgppkt.NewPathAttributeOrigin(0), as, nh, large}}
	}
	var rd routeReader
	a, _, _ := rd.read(path("10.244.1.0/24", asPath))
	b, _, _ := rd.read(path("10.244.2.0/24", asPath))
	want := []evpn.ASPathSegment{{ASNs: []uint32{65011, 65100}}}
	if fmt.Sprint(a.ASPath) != fmt.Sprint(want) || a.LargeCommunities[0] != (evpn.LargeCommunity{Global: 65011, Local1: 1, Local2: 2}) {
		t.Fatalf("AS path %v, want %v", a.ASPath, want)
	}
	if &a.ASPath[0] != &b.ASPath[0] || &a.LargeCommunities[0] != &b.LargeCommunities[0] {
		t.Errorf("two routes of one UPDATE got their own copies of its AS path or large communities")
	}
	other := bgppkt.NewPathAttributeAsPath([]bgppkt.AsPathParamInterface{
		bgppkt.NewAs4PathParam(bgppkt.BGP_ASPATH_ATTR_TYPE_SET, []uint32{65012})})
	c, _, _ := rd.read(path("10.244.3.0/24", other))
	if want := []evpn.ASPathSegment{{Set: true, ASNs: []uint32{65012}}}; fmt.Sprint(c.ASPath) != fmt.Sprint(want) {
		t.Errorf("AS path of a later UPDATE %v, want %v", c.ASPath, want)
	}
}

// TestRouteReaderChecks: an eBGP worker's AS path must start with its own AS
// (enforce-first-as), an iBGP one's need not; empty COMMUNITIES and LARGE
// COMMUNITIES make the route a withdrawal (RFC 7606 section 7.8, RFC 8092),
// and so does AS 0 in the AS path (RFC 7607).
func TestRouteReaderChecks(t *testing.T) {
	nh, _ := bgppkt.NewPathAttributeNextHop(netip.MustParseAddr("192.168.1.11"))
	path := func(peerAS uint32, asns []uint32, extra ...bgppkt.PathAttributeInterface) *apiutil.Path {
		nlri, _ := bgppkt.NewIPAddrPrefix(netip.MustParsePrefix("10.244.1.0/24"))
		var segs []bgppkt.AsPathParamInterface
		if asns != nil {
			segs = append(segs, bgppkt.NewAs4PathParam(bgppkt.BGP_ASPATH_ATTR_TYPE_SEQ, asns))
		}
		attrs := append([]bgppkt.PathAttributeInterface{bgppkt.NewPathAttributeOrigin(0), bgppkt.NewPathAttributeAsPath(segs), nh}, extra...)
		return &apiutil.Path{Family: bgppkt.RF_IPv4_UC, Nlri: nlri, PeerAddress: netip.MustParseAddr("192.168.1.11"), PeerASN: peerAS, Attrs: attrs}
	}
	rd := routeReader{localAS: 65000}
	for _, tc := range []struct {
		name              string
		p                 *apiutil.Path
		foreign, withdraw bool
	}{
		{"eBGP, its own AS first", path(65011, []uint32{65011, 65100}), false, false},
		{"eBGP, another AS first", path(65011, []uint32{65099, 65011}), true, false},
		{"eBGP, an empty AS path", path(65011, nil), true, false},
		{"iBGP, an empty AS path", path(65000, nil), false, false},
		{"empty COMMUNITIES", path(65011, []uint32{65011}, bgppkt.NewPathAttributeCommunities(nil)), false, true},
		{"empty LARGE_COMMUNITIES", path(65011, []uint32{65011}, bgppkt.NewPathAttributeLargeCommunities(nil)), false, true},
		{"AS 0 in the AS path", path(65011, []uint32{65011, 0}), false, true}, // RFC 7607
	} {
		r, withdrawn, ok := rd.read(tc.p)
		if !ok || withdrawn != tc.withdraw || (!withdrawn && r.ForeignFirstAS != tc.foreign) {
			t.Errorf("%s: withdrawn %v, foreign first AS %v; want %v, %v", tc.name, withdrawn, r.ForeignFirstAS, tc.withdraw, tc.foreign)
		}
	}
}

// A route in graceful shutdown carries GRACEFUL_SHUTDOWN once, whatever the
// worker sent, and LOCAL_PREF 0 only when every fabric neighbor is iBGP.
func TestGracefulShutdownAttributes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		worker     []uint32
		ibgpOnly   bool
		want       []uint32
		localPref0 bool
	}{
		{"iBGP fabric", []uint32{65011<<16 | 1}, true, []uint32{65011<<16 | 1, evpn.GracefulShutdownCommunity}, true},
		{"eBGP neighbor", nil, false, []uint32{evpn.GracefulShutdownCommunity}, false},
		{"the worker sent it already", []uint32{evpn.GracefulShutdownCommunity}, true, []uint32{evpn.GracefulShutdownCommunity}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			worker := slices.Clone(tc.worker)
			r := evpn.Type5Route{NextHop: netip.MustParseAddr("10.0.0.3"), Prefix: netip.MustParsePrefix("10.244.1.0/24"),
				Communities: worker, GracefulShutdown: true}
			attrs, err := pathAttrs(r, tc.ibgpOnly)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint32
			localPref0 := false
			for _, a := range attrs {
				switch a := a.(type) {
				case *bgppkt.PathAttributeCommunities:
					got = a.Value
				case *bgppkt.PathAttributeLocalPref:
					localPref0 = a.Value == 0
				}
			}
			if !slices.Equal(got, tc.want) || localPref0 != tc.localPref0 {
				t.Errorf("communities %x, LOCAL_PREF 0 %v; want %x, %v", got, localPref0, tc.want, tc.localPref0)
			}
			if !slices.Equal(worker, tc.worker) {
				t.Errorf("the worker's communities changed: %x", worker)
			}
		})
	}
}
