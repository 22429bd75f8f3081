package bgp

import (
	"net/netip"
	"testing"

	"github.com/osrg/gobgp/v4/pkg/apiutil"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rib"
)

// pathsOf turns an UPDATE into the paths GoBGP's watch would hand t5gw: its
// withdrawn routes and NLRI (IPv4) and those of MP_REACH and MP_UNREACH.
func pathsOf(u *bgppkt.BGPUpdate, peer netip.Addr, peerAS uint32) []*apiutil.Path {
	var out []*apiutil.Path
	var attrs []bgppkt.PathAttributeInterface
	for _, a := range u.PathAttributes {
		switch a := a.(type) {
		case *bgppkt.PathAttributeMpReachNLRI:
			for _, n := range a.Value {
				out = append(out, &apiutil.Path{Family: bgppkt.NewFamily(a.AFI, a.SAFI), Nlri: n.NLRI, PeerAddress: peer, PeerASN: peerAS,
					Attrs: u.PathAttributes})
			}
		case *bgppkt.PathAttributeMpUnreachNLRI:
			for _, n := range a.Value {
				out = append(out, &apiutil.Path{Family: bgppkt.NewFamily(a.AFI, a.SAFI), Nlri: n.NLRI, PeerAddress: peer, Withdrawal: true})
			}
		default:
			attrs = append(attrs, a)
		}
	}
	for _, n := range u.WithdrawnRoutes {
		out = append(out, &apiutil.Path{Family: bgppkt.RF_IPv4_UC, Nlri: n.NLRI, PeerAddress: peer, Withdrawal: true})
	}
	for _, n := range u.NLRI {
		out = append(out, &apiutil.Path{Family: bgppkt.RF_IPv4_UC, Nlri: n.NLRI, PeerAddress: peer, PeerASN: peerAS, Attrs: attrs})
	}
	return out
}

// nopFabric takes every route.
type nopFabric struct{ routes int }

func (f *nopFabric) Advertise(routes []evpn.Type5Route) error { f.routes += len(routes); return nil }
func (f *nopFabric) Withdraw(routes []evpn.Type5Route) error  { return nil }

// FuzzUpdate drives the receive path with any bytes a worker could send:
// GoBGP's parser and its RFC 7606 checks, t5gw's reader, the table, the
// reconciler, and the conversion of every resulting Type-5 route into the
// GoBGP path the fabric speaker sends. Nothing may panic; what is
// reconciled once is not sent again; every route converts and serializes.
func FuzzUpdate(f *testing.F) {
	worker := netip.MustParseAddr("192.168.10.11")
	seed := func(attrs []bgppkt.PathAttributeInterface, nlri ...string) {
		var ns []bgppkt.PathNLRI
		for _, p := range nlri {
			n, _ := bgppkt.NewIPAddrPrefix(netip.MustParsePrefix(p))
			ns = append(ns, bgppkt.PathNLRI{NLRI: n})
		}
		b, err := bgppkt.NewBGPUpdateMessage(nil, attrs, ns).Serialize()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	nh, _ := bgppkt.NewPathAttributeNextHop(worker)
	origin := bgppkt.NewPathAttributeOrigin(0)
	path := bgppkt.NewPathAttributeAsPath([]bgppkt.AsPathParamInterface{bgppkt.NewAs4PathParam(bgppkt.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{65011})})
	seed([]bgppkt.PathAttributeInterface{origin, path, nh}, "10.244.1.0/24", "10.244.2.7/32")
	seed([]bgppkt.PathAttributeInterface{origin, path, nh, bgppkt.NewPathAttributeCommunities([]uint32{0xFFFFFF01, 65011<<16 | 7}),
		bgppkt.NewPathAttributeMultiExitDisc(5)}, "10.244.3.0/24")
	seed([]bgppkt.PathAttributeInterface{origin, path, nh, bgppkt.NewPathAttributeCommunities(nil)}, "10.244.4.0/24")
	v6, _ := bgppkt.NewIPAddrPrefix(netip.MustParsePrefix("fd00:10:244:1::/64"))
	reach, _ := bgppkt.NewPathAttributeMpReachNLRI(bgppkt.RF_IPv6_UC, []bgppkt.PathNLRI{{NLRI: v6}}, netip.MustParseAddr("fe80::7"))
	seed([]bgppkt.PathAttributeInterface{origin, path, reach})
	f.Add(malformedUpdate())
	f.Add(updateWithEmptyCommunities(65011, "192.168.10.11", "10.244.5.0/24"))

	f.Fuzz(func(t *testing.T, data []byte) { receive(t, data) })
}

// receive runs an UPDATE's bytes through the receive path and returns how
// many Type-5 routes the fabric took; -1 when GoBGP would not pass it on.
func receive(t *testing.T, data []byte) int {
	worker := netip.MustParseAddr("192.168.10.11")
	vrf := evpn.VRF{Name: "blue", RD: evpn.RD{Kind: evpn.AdminIPv4, IP: netip.MustParseAddr("10.0.0.3"), Number: 4001}, L3VNI: 4001,
		VTEP: netip.MustParseAddr("10.0.0.3"), RouteTargets: []evpn.RouteTarget{{Kind: evpn.AdminAS2, ASN: 65000, Number: 4001}},
		Accept: []evpn.PrefixRule{
			{Prefix: netip.MustParsePrefix("10.244.0.0/16"), GE: 16, LE: 32},
			{Prefix: netip.MustParsePrefix("fd00:10:244::/48"), GE: 48, LE: 128},
		}}
	rfs := map[bgppkt.Family]bgppkt.BGPAddPathMode{bgppkt.RF_IPv4_UC: bgppkt.BGP_ADD_PATH_NONE, bgppkt.RF_IPv6_UC: bgppkt.BGP_ADD_PATH_NONE}
	{
		m, err := bgppkt.ParseBGPMessage(data)
		if err != nil {
			return -1
		}
		u, ok := m.Body.(*bgppkt.BGPUpdate)
		if !ok {
			return -1
		}
		if ok, err := bgppkt.ValidateUpdateMsg(u, rfs, true, false, false); !ok && err != nil {
			return -1 // GoBGP resets the session or drops the UPDATE
		}
		reader := routeReader{localAS: 65000}
		tab := rib.NewTable(vrf, nil)
		for _, p := range pathsOf(u, worker, 65011) {
			r, withdrawn, ok := reader.read(p)
			switch {
			case !ok:
			case withdrawn:
				tab.Withdraw(r.Worker, r.Prefix)
			default:
				tab.Update(r)
			}
		}
		fab := &nopFabric{}
		rec := rib.NewReconciler(fab)
		dirty := tab.TakeDirty()
		if _, err := rec.Reconcile(dirty, tab.Desired); err != nil {
			t.Fatal(err)
		}
		sent := rec.Sent()
		if _, err := rec.Reconcile(dirty, tab.Desired); err != nil || rec.Sent() != sent {
			t.Fatalf("a second reconcile sent more: %+v after %+v", rec.Sent(), sent)
		}
		values := newShared()
		for _, prefix := range dirty {
			for _, r := range tab.Desired(prefix, nil) {
				p, err := type5Path(r, values)
				if err != nil {
					t.Fatalf("%+v: %v", r, err)
				}
				for _, a := range p.Attrs {
					if _, err := a.Serialize(); err != nil {
						t.Fatalf("%+v: attribute %v: %v", r, a, err)
					}
				}
			}
		}
		return fab.routes
	}
}

// TestReceiveSeeds: the fuzz seeds go where they should, so that the fuzz
// target cannot pass on routes that never reach the fabric.
func TestReceiveSeeds(t *testing.T) {
	worker := netip.MustParseAddr("192.168.10.11")
	nh, _ := bgppkt.NewPathAttributeNextHop(worker)
	path := bgppkt.NewPathAttributeAsPath([]bgppkt.AsPathParamInterface{bgppkt.NewAs4PathParam(bgppkt.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{65011})})
	var ns []bgppkt.PathNLRI
	for _, p := range []string{"10.244.1.0/24", "10.244.2.7/32", "10.1.0.0/16"} {
		n, _ := bgppkt.NewIPAddrPrefix(netip.MustParsePrefix(p))
		ns = append(ns, bgppkt.PathNLRI{NLRI: n})
	}
	b, _ := bgppkt.NewBGPUpdateMessage(nil, []bgppkt.PathAttributeInterface{bgppkt.NewPathAttributeOrigin(0), path, nh}, ns).Serialize()
	if n := receive(t, b); n != 2 {
		t.Errorf("an UPDATE with two accepted prefixes and one refused gave %d Type-5 routes, want 2", n)
	}
	if n := receive(t, updateWithEmptyCommunities(65011, "192.168.10.11", "10.244.5.0/24")); n != 0 {
		t.Errorf("empty COMMUNITIES gave %d Type-5 routes, want 0", n)
	}
	if n := receive(t, malformedUpdate()); n != -1 {
		t.Errorf("a malformed UPDATE gave %d, want -1 (GoBGP stops it)", n)
	}
}
