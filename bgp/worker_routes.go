package bgp

import (
	"slices"

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
	localAS     uint32 // the AS t5gw shows workers: a worker in it is iBGP
	asPath      *bgppkt.PathAttributeAsPath
	segments    []evpn.ASPathSegment
	large       *bgppkt.PathAttributeLargeCommunities
	communities []evpn.LargeCommunity
}

// read reads a path a worker sent. ok is false for a path that is not an IPv4
// or IPv6 unicast prefix; withdrawn is true for a withdrawal, and for an
// announcement RFC 7606 says to treat as one.
func (rd *routeReader) read(p *apiutil.Path) (r evpn.Route, withdrawn, ok bool) {
	if p.Family != bgppkt.RF_IPv4_UC && p.Family != bgppkt.RF_IPv6_UC {
		return r, false, false
	}
	pfx, ok := p.Nlri.(*bgppkt.IPAddrPrefix)
	if !ok {
		return r, false, false
	}
	r = evpn.Route{Worker: p.PeerAddress.Unmap(), Prefix: pfx.Prefix}
	if p.Withdrawal {
		return r, true, true
	}
	for _, a := range p.Attrs {
		switch a := a.(type) {
		case *bgppkt.PathAttributeOrigin:
			r.Origin = a.Value
		case *bgppkt.PathAttributeAsPath:
			r.ASPath = rd.segmentsOf(a)
			if hasAS0(r.ASPath) { // RFC 7607 section 2
				return r, true, true
			}
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
			if len(a.Value) == 0 { // RFC 7606 section 7.8
				return r, true, true
			}
			r.Communities = a.Value
		case *bgppkt.PathAttributeLargeCommunities:
			if len(a.Values) == 0 { // RFC 8092 section 5
				return r, true, true
			}
			r.LargeCommunities = rd.largeOf(a)
		}
	}
	if r.NextHop.IsValid() {
		r.NextHop = r.NextHop.WithZone("")
	}
	r.ForeignFirstAS = p.PeerASN != 0 && p.PeerASN != rd.localAS && !startsWith(r.ASPath, p.PeerASN)
	return r, false, true
}

// hasAS0 tells whether an AS path holds AS 0, which RFC 7607 makes a
// malformed AS_PATH: the UPDATE is treated as a withdrawal (RFC 7606).
func hasAS0(path []evpn.ASPathSegment) bool {
	for _, seg := range path {
		if slices.Contains(seg.ASNs, 0) {
			return true
		}
	}
	return false
}

// startsWith tells whether an AS path starts with asn (RFC 4271 section
// 6.3: an eBGP speaker's path starts with its own AS).
func startsWith(path []evpn.ASPathSegment, asn uint32) bool {
	return len(path) > 0 && !path[0].Set && len(path[0].ASNs) > 0 && path[0].ASNs[0] == asn
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
