package evpn

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// Route is one prefix as a worker announced it inside a VRF: the plain value the
// BGP adapter hands over, free of any BGP engine type.
type Route struct {
	Worker           netip.Addr // the worker's BGP session address
	Prefix           netip.Prefix
	NextHop          netip.Addr // BGP next hop the worker sent; becomes the Gateway IP
	ASPath           []ASPathSegment
	Communities      []uint32
	LargeCommunities []LargeCommunity
	MED              uint32
	HasMED           bool
	Origin           uint8 // 0 IGP, 1 EGP, 2 incomplete
	// ForeignFirstAS says the AS path, from an eBGP worker, does not start
	// with the worker's own AS (or is empty): the worker passes on a path it
	// did not make, or claims another AS's.
	ForeignFirstAS bool
	// The small fields come last: a table holds one Route per announcement,
	// and this order keeps it at 160 bytes instead of 168.
}

// Families is a set of the address families workers announce in.
type Families uint8

// The address families of worker routes.
const (
	IPv4 Families = 1 << iota
	IPv6
	AllFamilies = IPv4 | IPv6
)

// FamilyOf is the family of p.
func FamilyOf(p netip.Prefix) Families {
	if p.Addr().Is4() {
		return IPv4
	}
	return IPv6
}

// Has tells whether f holds every family of o.
func (f Families) Has(o Families) bool { return f&o == o }

// ASPathSegment is one AS_SEQUENCE or AS_SET of an AS path.
type ASPathSegment struct {
	Set  bool // AS_SET; otherwise AS_SEQUENCE
	ASNs []uint32
}

// LargeCommunity is an RFC 8092 large community.
type LargeCommunity struct{ Global, Local1, Local2 uint32 }

// ASPathLen is the path length used for best-path selection (an AS_SET counts
// once, RFC 4271 section 9.1.2.2).
func (r Route) ASPathLen() int {
	n := 0
	for _, s := range r.ASPath {
		if s.Set {
			n++
		} else {
			n += len(s.ASNs)
		}
	}
	return n
}

// Equal tells whether two routes carry the same announcement.
func (r Route) Equal(o Route) bool {
	return r.Worker == o.Worker && r.Prefix == o.Prefix && r.NextHop == o.NextHop &&
		r.Origin == o.Origin && r.MED == o.MED && r.HasMED == o.HasMED && r.ForeignFirstAS == o.ForeignFirstAS &&
		slices.EqualFunc(r.ASPath, o.ASPath, func(a, b ASPathSegment) bool {
			return a.Set == b.Set && slices.Equal(a.ASNs, b.ASNs)
		}) &&
		slices.Equal(r.Communities, o.Communities) &&
		slices.Equal(r.LargeCommunities, o.LargeCommunities)
}

// TunnelVXLAN is the BGP encapsulation extended community value for VXLAN
// (RFC 9012 tunnel type 8), the data plane of RFC 8365 EVPN.
const TunnelVXLAN uint16 = 8

// Type5Route is one EVPN IP Prefix route (RFC 9136 section 3.1) with the path
// attributes t5gw sends with it.
type Type5Route struct {
	RD          RD
	EthernetTag uint32 // always 0 here
	// PathID tells apart the routes of one RD and prefix on a session with
	// ADD-PATH (RFC 7911); 0 without.
	PathID uint32
	// ESI is always zero: RFC 9136 forbids a non-zero ESI together with a
	// non-zero Gateway IP, and the Gateway IP is the overlay index t5gw uses.
	Prefix       netip.Prefix
	GatewayIP    netip.Addr
	Label        uint32 // 24-bit; the L3VNI or 0
	NextHop      netip.Addr
	RouteTargets []RouteTarget
	Encap        uint16 // tunnel type of the encapsulation extended community

	Origin           uint8
	ASPath           []ASPathSegment
	MED              uint32
	HasMED           bool
	Communities      []uint32
	LargeCommunities []LargeCommunity
	// GracefulShutdown adds the RFC 8326 GRACEFUL_SHUTDOWN community, and
	// LOCAL_PREF 0 toward iBGP peers, so the fabric prefers other paths.
	GracefulShutdown bool
	// RouterMAC, when set, is sent as the EVPN Router's MAC extended
	// community (RFC 9135): the interface-less model of RFC 9136 section
	// 4.4.1, where the route has no gateway IP and traffic goes to NextHop.
	RouterMAC MAC

	Worker netip.Addr // which worker it stands for; not sent
}

// MAC is an Ethernet address; the zero value is none.
type MAC [6]byte

// IsZero tells whether m is no address.
func (m MAC) IsZero() bool { return m == MAC{} }

// String gives the usual colon form, 02:00:00:00:40:01.
func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// ParseMAC reads an Ethernet address in the colon form.
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return MAC{}, fmt.Errorf("%q is not an Ethernet address like 02:00:00:00:40:01", s)
	}
	return MAC(hw), nil
}

// GracefulShutdownCommunity is RFC 8326's GRACEFUL_SHUTDOWN, 65535:0.
const GracefulShutdownCommunity uint32 = 0xFFFF0000

// Key is what identifies a Type-5 route in BGP: RD, Ethernet Tag and prefix
// (RFC 9136 section 3.1). Gateway IP and label are attributes of the route.
type Key struct {
	RD          RD
	EthernetTag uint32
	Prefix      netip.Prefix
	PathID      uint32 // with ADD-PATH (RFC 7911)
}

// Key returns the route's BGP identity.
func (t Type5Route) Key() Key {
	return Key{RD: t.RD, EthernetTag: t.EthernetTag, Prefix: t.Prefix, PathID: t.PathID}
}

// Equal tells whether two Type-5 routes would be sent identically.
func (t Type5Route) Equal(o Type5Route) bool {
	return t.Key() == o.Key() && t.GatewayIP == o.GatewayIP && t.Label == o.Label &&
		t.NextHop == o.NextHop && t.Encap == o.Encap && t.Origin == o.Origin &&
		t.MED == o.MED && t.HasMED == o.HasMED &&
		slices.Equal(t.RouteTargets, o.RouteTargets) &&
		slices.EqualFunc(t.ASPath, o.ASPath, func(a, b ASPathSegment) bool {
			return a.Set == b.Set && slices.Equal(a.ASNs, b.ASNs)
		}) &&
		slices.Equal(t.Communities, o.Communities) &&
		slices.Equal(t.LargeCommunities, o.LargeCommunities) &&
		t.GracefulShutdown == o.GracefulShutdown && t.RouterMAC == o.RouterMAC
}

// AppendBinary appends to b an encoding of everything Equal compares: two
// routes are Equal exactly when their encodings are the same bytes.
func (t Type5Route) AppendBinary(b []byte) ([]byte, error) {
	b = appendRD(b, t.RD)
	b = binary.BigEndian.AppendUint32(b, t.EthernetTag)
	b = binary.BigEndian.AppendUint32(b, t.PathID)
	b = appendPrefix(b, t.Prefix)
	b = appendAddr(b, t.GatewayIP)
	b = binary.BigEndian.AppendUint32(b, t.Label)
	return t.AppendAttributes(b), nil
}

// AppendAttributes appends to b an encoding of the route's path attributes,
// its next hop included: everything Equal compares but the NLRI (RD,
// Ethernet tag, prefix, gateway IP, label). Routes with the same encoding
// can share one set of path attributes.
func (t Type5Route) AppendAttributes(b []byte) []byte {
	b = appendAddr(b, t.NextHop)
	b = binary.AppendUvarint(b, uint64(len(t.RouteTargets)))
	for _, rt := range t.RouteTargets {
		b = appendRD(b, RD(rt))
	}
	b = binary.BigEndian.AppendUint16(b, t.Encap)
	b = append(b, t.Origin)
	b = binary.AppendUvarint(b, uint64(len(t.ASPath)))
	for _, s := range t.ASPath {
		b = appendBool(b, s.Set)
		b = binary.AppendUvarint(b, uint64(len(s.ASNs)))
		for _, as := range s.ASNs {
			b = binary.BigEndian.AppendUint32(b, as)
		}
	}
	b = appendBool(binary.BigEndian.AppendUint32(b, t.MED), t.HasMED)
	b = binary.AppendUvarint(b, uint64(len(t.Communities)))
	for _, c := range t.Communities {
		b = binary.BigEndian.AppendUint32(b, c)
	}
	b = binary.AppendUvarint(b, uint64(len(t.LargeCommunities)))
	for _, c := range t.LargeCommunities {
		b = binary.BigEndian.AppendUint32(b, c.Global)
		b = binary.BigEndian.AppendUint32(b, c.Local1)
		b = binary.BigEndian.AppendUint32(b, c.Local2)
	}
	b = append(b, t.RouterMAC[:]...)
	return appendBool(b, t.GracefulShutdown)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendRD(b []byte, rd RD) []byte {
	b = append(b, byte(rd.Kind))
	b = binary.BigEndian.AppendUint32(b, rd.ASN)
	b = appendAddr(b, rd.IP)
	return binary.BigEndian.AppendUint32(b, rd.Number)
}

// appendAddr encodes an address (and zone) with its length first, so that
// no encoding, the invalid address's included, is a prefix of another.
func appendAddr(b []byte, a netip.Addr) []byte {
	at := len(b)
	b, _ = a.AppendBinary(append(b, 0))
	b[at] = byte(len(b) - at - 1)
	return b
}

func appendPrefix(b []byte, p netip.Prefix) []byte {
	return append(appendAddr(b, p.Addr()), byte(p.Bits()))
}
