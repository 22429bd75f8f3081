package bgp

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"

	"github.com/osrg/gobgp/v4/pkg/apiutil"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/t5gw/t5gw/evpn"
)

// type5NLRI builds the EVPN IP Prefix NLRI of a Type-5 route, with its RD
// from values.
func type5NLRI(t evpn.Type5Route, values *shared) (*bgppkt.EVPNNLRI, error) {
	rd, err := values.rd(t.RD)
	if err != nil {
		return nil, err
	}
	gw := t.GatewayIP
	if !gw.IsValid() {
		gw = netip.IPv4Unspecified()
		if t.Prefix.Addr().Is6() {
			gw = netip.IPv6Unspecified()
		}
	}
	nlri, err := bgppkt.NewEVPNIPPrefixRoute(rd, bgppkt.EthernetSegmentIdentifier{}, t.EthernetTag,
		uint8(t.Prefix.Bits()), t.Prefix.Addr(), gw, t.Label)
	if err != nil {
		return nil, fmt.Errorf("type-5 %s: %w", t.Prefix, err)
	}
	r := nlri.RouteTypeData.(*bgppkt.EVPNIPPrefixRoute)
	nlri.RouteTypeData = &keyedPrefixRoute{EVPNIPPrefixRoute: r, key: prefixRouteKey(r)}
	return nlri, nil
}

// keyedPrefixRoute is an EVPN IP Prefix route that knows its String() by
// heart. GoBGP keys its tables by that string and builds it with
// fmt.Sprintf about five times for every path added or withdrawn, a third of
// the fabric speaker's CPU; t5gw builds it once per route. Everything else,
// the wire encoding included, is the embedded GoBGP route's.
type keyedPrefixRoute struct {
	*bgppkt.EVPNIPPrefixRoute
	key string
}

func (r *keyedPrefixRoute) String() string { return r.key }

// prefixRouteKey is GoBGP's EVPNIPPrefixRoute.String() without fmt: the
// same text, byte for byte (a unit test holds the two together), because
// routes received from fabric peers are keyed by GoBGP's own.
func prefixRouteKey(r *bgppkt.EVPNIPPrefixRoute) string {
	b := make([]byte, 0, 80)
	b = append(b, "[type:Prefix][rd:"...)
	switch rd := r.RD.(type) {
	case *bgppkt.RouteDistinguisherTwoOctetAS:
		b = strconv.AppendUint(b, uint64(rd.Admin), 10)
		b = strconv.AppendUint(append(b, ':'), uint64(rd.Assigned), 10)
	case *bgppkt.RouteDistinguisherIPAddressAS:
		b = rd.Admin.AppendTo(b)
		b = strconv.AppendUint(append(b, ':'), uint64(rd.Assigned), 10)
	case *bgppkt.RouteDistinguisherFourOctetAS:
		b = strconv.AppendUint(b, uint64(rd.Admin>>16), 10)
		b = strconv.AppendUint(append(b, '.'), uint64(rd.Admin&0xffff), 10)
		b = strconv.AppendUint(append(b, ':'), uint64(rd.Assigned), 10)
	default:
		return r.String()
	}
	b = strconv.AppendUint(append(b, "][etag:"...), uint64(r.ETag), 10)
	b = r.IPPrefix.AppendTo(append(b, "][prefix:"...))
	b = strconv.AppendUint(append(b, '/'), uint64(r.IPPrefixLength), 10)
	return string(append(b, ']'))
}

// type5Path builds the GoBGP path that carries a Type-5 route, with its path
// attributes, the next hop among them, from values.
func type5Path(t evpn.Type5Route, values *shared) (*apiutil.Path, error) {
	nlri, err := type5NLRI(t, values)
	if err != nil {
		return nil, err
	}
	attrs, err := values.attrs(t)
	if err != nil {
		return nil, err
	}
	return &apiutil.Path{Family: bgppkt.RF_EVPN, Nlri: nlri, Attrs: attrs, RemoteID: t.PathID}, nil
}

// type5Withdrawal builds the GoBGP path that withdraws a Type-5 route: the
// NLRI is all a withdrawal needs.
func type5Withdrawal(t evpn.Type5Route, values *shared) (*apiutil.Path, error) {
	nlri, err := type5NLRI(t, values)
	if err != nil {
		return nil, err
	}
	return &apiutil.Path{Family: bgppkt.RF_EVPN, Nlri: nlri, Withdrawal: true, RemoteID: t.PathID}, nil
}

// shared hands out the values Type-5 paths can share, one per distinct
// value: path attribute sets (the routes of one worker mostly carry the same
// AS path and communities, all carry the same next hop) and route
// distinguishers (one per VRF). GoBGP holds what it is given for as long as
// it holds the route, and only reads it (it builds each path's MP_REACH_NLRI
// from the NEXT_HOP in a set), so sharing saves a copy per route. It is
// bounded: when full it starts again. It is not safe for concurrent use.
type shared struct {
	ibgpOnly bool // every fabric neighbor is iBGP
	key      []byte
	sets     map[string][]bgppkt.PathAttributeInterface
	rds      map[evpn.RD]bgppkt.RouteDistinguisherInterface
}

const maxShared = 4096

func newShared() *shared {
	return &shared{sets: make(map[string][]bgppkt.PathAttributeInterface),
		rds: make(map[evpn.RD]bgppkt.RouteDistinguisherInterface)}
}

// attrs returns the path attributes of t.
func (a *shared) attrs(t evpn.Type5Route) ([]bgppkt.PathAttributeInterface, error) {
	a.key = t.AppendAttributes(a.key[:0]) // everything pathAttrs reads, with ibgpOnly
	if a.ibgpOnly {
		a.key = append(a.key, 1)
	}
	if set, ok := a.sets[string(a.key)]; ok {
		return set, nil
	}
	set, err := pathAttrs(t, a.ibgpOnly)
	if err != nil {
		return nil, err
	}
	if len(a.sets) >= maxShared {
		clear(a.sets)
	}
	a.sets[string(a.key)] = set
	return set, nil
}

// setIBGPOnly says whether every fabric neighbor is iBGP; the sets made
// under the other answer are dropped.
func (a *shared) setIBGPOnly(v bool) {
	if v != a.ibgpOnly {
		a.ibgpOnly = v
		clear(a.sets)
	}
}

// rd returns rd in GoBGP's form.
func (a *shared) rd(rd evpn.RD) (bgppkt.RouteDistinguisherInterface, error) {
	if v, ok := a.rds[rd]; ok {
		return v, nil
	}
	v, err := routeDistinguisher(rd)
	if err != nil {
		return nil, err
	}
	if len(a.rds) >= maxShared {
		clear(a.rds)
	}
	a.rds[rd] = v
	return v, nil
}

// pathAttrs builds the path attributes of a Type-5 route.
// With ibgpOnly (every fabric neighbor is iBGP) a route in graceful
// shutdown also carries LOCAL_PREF 0 (RFC 8326 section 4.2): GoBGP would
// send the attribute to eBGP neighbors too, which must not get it; they
// lower the preference themselves on seeing the community.
func pathAttrs(t evpn.Type5Route, ibgpOnly bool) ([]bgppkt.PathAttributeInterface, error) {
	nh, err := bgppkt.NewPathAttributeNextHop(t.NextHop)
	if err != nil {
		return nil, fmt.Errorf("type-5 %s: next hop %s: %w", t.Prefix, t.NextHop, err)
	}
	ecs := make([]bgppkt.ExtendedCommunityInterface, 0, len(t.RouteTargets)+1)
	for _, rt := range t.RouteTargets {
		ec, err := routeTarget(rt)
		if err != nil {
			return nil, err
		}
		ecs = append(ecs, ec)
	}
	ecs = append(ecs, bgppkt.NewEncapExtended(bgppkt.TunnelType(t.Encap)))
	if !t.RouterMAC.IsZero() {
		ecs = append(ecs, &bgppkt.RouterMacExtended{Mac: net.HardwareAddr(t.RouterMAC[:])})
	}
	attrs := []bgppkt.PathAttributeInterface{
		nh,
		bgppkt.NewPathAttributeOrigin(t.Origin),
		bgppkt.NewPathAttributeAsPath(asPathParams(t.ASPath)),
		bgppkt.NewPathAttributeExtendedCommunities(ecs),
	}
	if t.HasMED {
		attrs = append(attrs, bgppkt.NewPathAttributeMultiExitDisc(t.MED))
	}
	communities := t.Communities
	if t.GracefulShutdown {
		if !slices.Contains(communities, evpn.GracefulShutdownCommunity) {
			communities = append(slices.Clip(communities), evpn.GracefulShutdownCommunity)
		}
		if ibgpOnly {
			attrs = append(attrs, bgppkt.NewPathAttributeLocalPref(0))
		}
	}
	if len(communities) > 0 {
		attrs = append(attrs, bgppkt.NewPathAttributeCommunities(communities))
	}
	if len(t.LargeCommunities) > 0 {
		lcs := make([]*bgppkt.LargeCommunity, len(t.LargeCommunities))
		for i, c := range t.LargeCommunities {
			lcs[i] = bgppkt.NewLargeCommunity(c.Global, c.Local1, c.Local2)
		}
		attrs = append(attrs, bgppkt.NewPathAttributeLargeCommunities(lcs))
	}
	return attrs, nil
}

func routeDistinguisher(rd evpn.RD) (bgppkt.RouteDistinguisherInterface, error) {
	switch rd.Kind {
	case evpn.AdminAS2:
		return bgppkt.NewRouteDistinguisherTwoOctetAS(uint16(rd.ASN), rd.Number), nil
	case evpn.AdminIPv4:
		return bgppkt.NewRouteDistinguisherIPAddressAS(rd.IP, uint16(rd.Number))
	case evpn.AdminAS4:
		return bgppkt.NewRouteDistinguisherFourOctetAS(rd.ASN, uint16(rd.Number)), nil
	}
	return nil, fmt.Errorf("route distinguisher %v: unknown kind", rd)
}

func routeTarget(rt evpn.RouteTarget) (bgppkt.ExtendedCommunityInterface, error) {
	switch rt.Kind {
	case evpn.AdminAS2:
		return bgppkt.NewTwoOctetAsSpecificExtended(bgppkt.EC_SUBTYPE_ROUTE_TARGET, uint16(rt.ASN), rt.Number, true), nil
	case evpn.AdminIPv4:
		return bgppkt.NewIPv4AddressSpecificExtended(bgppkt.EC_SUBTYPE_ROUTE_TARGET, rt.IP, uint16(rt.Number), true)
	case evpn.AdminAS4:
		return bgppkt.NewFourOctetAsSpecificExtended(bgppkt.EC_SUBTYPE_ROUTE_TARGET, rt.ASN, uint16(rt.Number), true), nil
	}
	return nil, fmt.Errorf("route target %v: unknown kind", rt)
}

func asPathParams(segs []evpn.ASPathSegment) []bgppkt.AsPathParamInterface {
	out := make([]bgppkt.AsPathParamInterface, 0, len(segs))
	for _, s := range segs {
		typ := uint8(bgppkt.BGP_ASPATH_ATTR_TYPE_SEQ)
		if s.Set {
			typ = bgppkt.BGP_ASPATH_ATTR_TYPE_SET
		}
		out = append(out, bgppkt.NewAs4PathParam(typ, s.ASNs))
	}
	return out
}
