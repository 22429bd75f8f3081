package bgp

import (
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/t5gw/t5gw/evpn"
)

// routeReader reads the unicast paths workers send into evpn.Routes. The
// paths of one UPDATE share their attribute values, so it converts an AS path
// or a set of large communities once and hands the same slice to every route
// that carries it: one allocation per UPDATE rather than per route, and the
// table holds one copy. It is not safe for concurrent use.
type routeReader struct {
	asPath      *bgppkt.PathAttributeAsPath
	segments    []evpn.ASPathSegment
	large       *bgppkt.PathAttributeLargeCommunities
	communities []evpn.LargeCommunity
}

// read reads a path a worker sent. ok is false for a path that is not an IPv4
// or IPv6 unicast prefix.
func (rd *routeReader) read(p *apiutil.Path) (r evpn.Route, ok bool) {
	if p.Family != bgppkt.RF_IPv4_UC && p.Family != bgppkt.RF_IPv6_UC {
		return r, false
	}
	pfx, ok := p.Nlri.(*bgppkt.IPAddrPrefix)
	if !ok {
		return r, false
	}
	r = evpn.Route{Worker: p.PeerAddress.Unmap(), Prefix: pfx.Prefix}
	if p.Withdrawal {
		return r, true
	}
	for _, a := range p.Attrs {
		switch a := a.(type) {
		case *bgppkt.PathAttributeOrigin:
			r.Origin = a.Value
		case *bgppkt.PathAttributeAsPath:
			r.ASPath = rd.segmentsOf(a)
		case *bgppkt.PathAttributeNextHop:
			r.NextHop = a.Value
		case *bgppkt.PathAttributeMpReachNLRI:
			r.NextHop = a.Nexthop
			if (!r.NextHop.IsValid() || r.NextHop.IsUnspecified()) && a.LinkLocalNexthop.IsValid() {
				r.NextHop = a.LinkLocalNexthop // only a link-local next hop: refused later, by name
			}
		case *bgppkt.PathAttributeMultiExitDisc:
			r.MED, r.HasMED = a.Value, true
		case *bgppkt.PathAttributeCommunities:
			r.Communities = a.Value
		case *bgppkt.PathAttributeLargeCommunities:
			r.LargeCommunities = rd.largeOf(a)
		}
	}
	if r.NextHop.IsValid() {
		r.NextHop = r.NextHop.WithZone("")
	}
	return r, true
}

func (rd *routeReader) segmentsOf(a *bgppkt.PathAttributeAsPath) []evpn.ASPathSegment {
	if a == rd.asPath {
		return rd.segments
	}
	segs := make([]evpn.ASPathSegment, 0, len(a.Value))
	for _, seg := range a.Value {
		segs = append(segs, evpn.ASPathSegment{Set: seg.GetType() == bgppkt.BGP_ASPATH_ATTR_TYPE_SET, ASNs: seg.GetAS()})
	}
	rd.asPath, rd.segments = a, segs
	return segs
}

func (rd *routeReader) largeOf(a *bgppkt.PathAttributeLargeCommunities) []evpn.LargeCommunity {
	if a == rd.large {
		return rd.communities
	}
	lcs := make([]evpn.LargeCommunity, 0, len(a.Values))
	for _, c := range a.Values {
		lcs = append(lcs, evpn.LargeCommunity{Global: c.ASN, Local1: c.LocalData1, Local2: c.LocalData2})
	}
	rd.large, rd.communities = a, lcs
	return lcs
}
