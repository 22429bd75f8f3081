package test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
)

// outcome is how a speaker handles a malformed UPDATE (RFC 7606 section 2).
type outcome string

const (
	withdraw outcome = "treat-as-withdraw" // the UPDATE's prefixes are withdrawn, the session stays
	keep     outcome = "route kept"        // attribute discard, or nothing wrong: the route is taken
	reset    outcome = "session reset"     // a NOTIFICATION, and every route of the session goes
)

// rfc7606Case is one malformed UPDATE (or message) of the corpus. A raw
// case is written byte for byte by test/rawbgp after a well-formed UPDATE
// for the victim prefix; an ExaBGP case is the attributes of an ExaBGP
// announcement of the victim prefix.
type rfc7606Case struct {
	name   string
	rfc    string  // the section that governs the case
	should outcome // what that section asks for
	want   outcome // what t5gwd does, as this test asserts it
	notify [2]byte // for a reset: the NOTIFICATION's code and subcode
	raw    []byte  // the bytes the raw speaker writes
	exabgp string  // or what follows "announce route <victim>" for ExaBGP
	origin string  // if set, the origin t5gw must show for the victim
	note   string  // what the case is about
	// deviation says how t5gwd's handling differs from the RFC's, and why.
	deviation string
}

// The raw speaker's prefixes: the victim, announced well-formed and then
// by the malformed UPDATE, and the marker, announced last.
const (
	rawAddr   = "192.168.10.141"
	rawVictim = "10.244.50.0/24"
	rawMarker = "10.244.51.0/24"
)

// bgpMessage frames body with the marker, length and type.
func bgpMessage(typ byte, body ...[]byte) []byte {
	b := cat(body...)
	m := bytes.Repeat([]byte{0xff}, 16)
	m = binary.BigEndian.AppendUint16(m, uint16(19+len(b)))
	return append(append(m, typ), b...)
}

// update is an UPDATE with the given withdrawn routes, attributes and NLRI.
func update(withdrawn, attrs, nlri []byte) []byte {
	return bgpMessage(2, u16(len(withdrawn)), withdrawn, u16(len(attrs)), attrs, nlri)
}

// attr encodes one path attribute; flag 0x10 gives it a 2-octet length.
func attr(flags, code byte, value ...byte) []byte {
	if flags&0x10 != 0 {
		return cat([]byte{flags, code}, u16(len(value)), value)
	}
	return append([]byte{flags, code, byte(len(value))}, value...)
}

func u16(n int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(n)) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// nlri4 encodes an IPv4 prefix as UPDATE NLRI.
func nlri4(prefix string) []byte {
	p := netip.MustParsePrefix(prefix)
	a := p.Addr().As4()
	return append([]byte{byte(p.Bits())}, a[:(p.Bits()+7)/8]...)
}

// The well-formed attributes of the raw speaker's UPDATEs: ORIGIN IGP,
// AS_PATH [65013], NEXT_HOP its own address.
var (
	origin     = attr(0x40, 1, 0)
	asPath     = attr(0x40, 2, 2, 1, 0, 0, 0xfd, 0xf5)
	nextHop    = attr(0x40, 3, 192, 168, 10, 141)
	wellFormed = cat(origin, asPath, nextHop)
)

// announceRaw is an UPDATE for prefix with the given attributes.
func announceRaw(prefix string, attrs ...[]byte) []byte {
	return update(nil, cat(attrs...), nlri4(prefix))
}

// victim is an UPDATE for the victim prefix with the given attributes.
func victim(attrs ...[]byte) []byte { return announceRaw(rawVictim, attrs...) }

// mpReach is an MP_REACH_NLRI attribute: AFI, SAFI, next hop, NLRI.
func mpReach(afi uint16, safi byte, nh, nlri []byte) []byte {
	v := cat(u16(int(afi)), []byte{safi, byte(len(nh))}, nh, []byte{0}, nlri)
	return attr(0x90, 14, v...)
}

var ownNH = []byte{192, 168, 10, 141}

// prefixSID is a Prefix-SID attribute holding one SRv6 L3 Service TLV whose
// SID Information Sub-TLV has the given declared length and body.
func prefixSID(infoLen int, info []byte) []byte {
	sub := cat([]byte{1}, u16(infoLen), info)
	tlv := cat([]byte{5}, u16(1+len(sub)), []byte{0}, sub)
	return attr(0xd0, 40, tlv...)
}

var sid = []byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}

// rawCases are the cases only a raw speaker can send.
var rawCases = []rfc7606Case{
	// Message header and UPDATE framing: RFC 7606 section 4 keeps RFC 4271's
	// session reset where the NLRI cannot be located.
	{name: "message-length-4097", rfc: "RFC 4271 6.1", should: reset, want: reset, notify: [2]byte{1, 2},
		raw: cat(bytes.Repeat([]byte{0xff}, 16), u16(4097), []byte{2}, make([]byte, 4097-19))},
	{name: "message-length-18", rfc: "RFC 4271 6.1", should: reset, want: reset, notify: [2]byte{1, 2},
		raw: cat(bytes.Repeat([]byte{0xff}, 16), u16(18), []byte{4})},
	{name: "marker-not-all-ones", rfc: "RFC 4271 4.1, 6.1", should: reset, want: reset, notify: [2]byte{1, 1},
		raw: cat(make([]byte, 16), u16(19), []byte{4})},
	{name: "message-type-200", rfc: "RFC 4271 6.1", should: reset, want: reset, notify: [2]byte{1, 3},
		raw: bgpMessage(200)},
	{name: "keepalive-with-body", rfc: "RFC 4271 6.1", should: reset, want: keep,
		raw:       bgpMessage(4, []byte{0}),
		deviation: "GoBGP takes a KEEPALIVE longer than 19 octets (no per-type length check in recvMessageWithError/ParseBGPBody); RFC 4271 asks for NOTIFICATION 1/2"},
	{name: "update-length-21", rfc: "RFC 4271 6.1", should: reset, want: reset, notify: [2]byte{3, 1},
		raw:       bgpMessage(2, []byte{0, 0}),
		deviation: "reset as asked, but with 3/1 (BGPUpdate.DecodeFromBytes) where RFC 4271 6.1 asks for 1/2 for an UPDATE shorter than 23 octets"},
	{name: "withdrawn-length-overrun", rfc: "RFC 7606 4", should: reset, want: reset, notify: [2]byte{3, 1},
		raw: bgpMessage(2, u16(255), u16(0))},
	{name: "withdrawn-length-splits-prefix", rfc: "RFC 7606 5.3", should: reset, want: reset, notify: [2]byte{3, 1},
		raw:  bgpMessage(2, u16(2), nlri4("10.244.50.0/32"), u16(0)),
		note: "the uint16 underflow class of CVE-2026-37462 (BGPUpdate.DecodeFromBytes)"},
	{name: "total-attribute-length-overrun", rfc: "RFC 7606 4", should: reset, want: reset, notify: [2]byte{3, 1},
		raw: bgpMessage(2, u16(0), u16(255), origin)},
	{name: "attribute-length-past-total", rfc: "RFC 7606 4", should: withdraw, want: keep,
		raw:       bgpMessage(2, u16(0), u16(len(wellFormed)+3), wellFormed, []byte{0xc0, 8, 4}, nlri4(rawVictim)),
		deviation: "BGPUpdate.DecodeFromBytes returns at the overrunning attribute before it reads the NLRI, so treat-as-withdraw withdraws nothing and the victim stays with its old attributes"},
	{name: "attribute-header-truncated", rfc: "RFC 7606 4", should: withdraw, want: withdraw,
		raw: bgpMessage(2, u16(0), u16(len(wellFormed)+2), wellFormed, []byte{0x40, 1}, nlri4(rawVictim))},
	{name: "nlri-prefix-truncated", rfc: "RFC 7606 5.3", should: reset, want: reset, notify: [2]byte{3, 10},
		raw: update(nil, wellFormed, []byte{24, 10, 244})},
	{name: "nlri-prefix-length-33", rfc: "RFC 7606 5.3", should: reset, want: reset, notify: [2]byte{3, 10},
		raw: update(nil, wellFormed, []byte{33, 10, 244, 50, 0, 0})},

	// ORIGIN, RFC 7606 section 7.1.
	{name: "origin-value-3", rfc: "RFC 7606 7.1", should: withdraw, want: withdraw, raw: victim(attr(0x40, 1, 3), asPath, nextHop)},
	{name: "origin-length-2", rfc: "RFC 7606 7.1", should: withdraw, want: withdraw, raw: victim(attr(0x40, 1, 0, 0), asPath, nextHop)},
	{name: "origin-length-0", rfc: "RFC 7606 7.1", should: withdraw, want: withdraw, raw: victim(attr(0x40, 1), asPath, nextHop)},
	{name: "origin-flags-optional", rfc: "RFC 7606 3(c)", should: withdraw, want: withdraw, raw: victim(attr(0xc0, 1, 0), asPath, nextHop)},
	{name: "origin-missing", rfc: "RFC 7606 3(d)", should: withdraw, want: withdraw, raw: victim(asPath, nextHop)},
	{name: "origin-extended-length", rfc: "RFC 4271 4.3", should: keep, want: keep, raw: victim(attr(0x50, 1, 0), asPath, nextHop),
		note: "well-formed: any attribute may use a 2-octet length"},

	// AS_PATH, RFC 7606 section 7.2.
	{name: "as-path-segment-type-0", rfc: "RFC 7606 7.2", should: withdraw, want: withdraw, raw: victim(origin, attr(0x40, 2, 0, 1, 0, 0, 0xfd, 0xf5), nextHop)},
	{name: "as-path-segment-count-0", rfc: "RFC 7606 7.2", should: withdraw, want: withdraw, raw: victim(origin, attr(0x40, 2, 2, 0), nextHop)},
	{name: "as-path-segment-overrun", rfc: "RFC 7606 7.2", should: withdraw, want: withdraw, raw: victim(origin, attr(0x40, 2, 2, 5, 0, 0, 0xfd, 0xf5), nextHop)},
	{name: "as-path-trailing-octet", rfc: "RFC 7606 7.2", should: withdraw, want: withdraw, raw: victim(origin, attr(0x40, 2, 2, 1, 0, 0, 0xfd, 0xf5, 0), nextHop)},
	{name: "as-path-confed-sequence", rfc: "RFC 5065 5, RFC 7606 7.2", should: withdraw, want: withdraw, raw: victim(origin, attr(0x40, 2, 3, 1, 0, 0, 0xfd, 0xf5), nextHop)},
	{name: "as-path-missing", rfc: "RFC 7606 3(d)", should: withdraw, want: withdraw, raw: victim(origin, nextHop)},
	{name: "as-path-as-0", rfc: "RFC 7607 2", should: withdraw, want: withdraw, raw: victim(origin, attr(0x40, 2, 2, 2, 0, 0, 0xfd, 0xf5, 0, 0, 0, 0), nextHop),
		note: "GoBGP's ValidateAttribute does not look for AS 0; t5gw's reader does"},

	// AS4_PATH, RFC 6793 section 6: attribute discard.
	{name: "as4-path-segment-type-0", rfc: "RFC 6793 6", should: keep, want: withdraw, raw: victim(wellFormed, attr(0xc0, 17, 0, 1, 0, 0, 0xfd, 0xf5)),
		deviation: "getErrorHandlingFromPathAttribute maps AS4_PATH to treat-as-withdraw (and BGPUpdate.DecodeFromBytes every flags error); RFC 6793 asks for attribute discard"},
	{name: "as4-path-segment-overrun", rfc: "RFC 6793 6", should: keep, want: withdraw, raw: victim(wellFormed, attr(0xc0, 17, 2, 5, 0, 0, 0xfd, 0xf5)),
		deviation: "getErrorHandlingFromPathAttribute maps AS4_PATH to treat-as-withdraw (and BGPUpdate.DecodeFromBytes every flags error); RFC 6793 asks for attribute discard"},
	{name: "as4-path-flags-nontransitive", rfc: "RFC 6793 6, RFC 7606 3(c)", should: keep, want: withdraw, raw: victim(wellFormed, attr(0x80, 17, 2, 1, 0, 0, 0xfd, 0xf5)),
		deviation: "getErrorHandlingFromPathAttribute maps AS4_PATH to treat-as-withdraw (and BGPUpdate.DecodeFromBytes every flags error); RFC 6793 asks for attribute discard"},
	{name: "cve-2026-41643-as4-path-before-as-path", rfc: "RFC 7606 7.2", should: withdraw, want: withdraw,
		raw:  victim(origin, attr(0x40, 17, 2), attr(0x40, 2, 0xff, 0xff, 0xde, 0xad), nextHop),
		note: "GHSA-8rxh-r2p6-7f2q: panic in UpdatePathAttrs4ByteAs, fixed in GoBGP 4.3.0"},

	// NEXT_HOP, RFC 7606 section 7.3.
	{name: "next-hop-length-5", rfc: "RFC 7606 7.3", should: withdraw, want: withdraw, raw: victim(origin, asPath, attr(0x40, 3, 192, 168, 10, 141, 0))},
	{name: "next-hop-length-0", rfc: "RFC 7606 7.3", should: withdraw, want: withdraw, raw: victim(origin, asPath, attr(0x40, 3))},
	{name: "next-hop-flags-optional", rfc: "RFC 7606 3(c)", should: withdraw, want: withdraw, raw: victim(origin, asPath, attr(0xc0, 3, ownNH...))},
	{name: "next-hop-missing", rfc: "RFC 7606 3(d)", should: withdraw, want: withdraw, raw: victim(origin, asPath)},
	{name: "cve-2026-30405-next-hop-length-1", rfc: "RFC 7606 7.3", should: withdraw, want: withdraw,
		raw:  victim(origin, asPath, attr(0x00, 3, 192)),
		note: "CVE-2026-30405: panic in ValidateAttribute on a NEXT_HOP shorter than 4, fixed in GoBGP 4.3.0"},

	// MULTI_EXIT_DISC and LOCAL_PREF, RFC 7606 sections 7.4 and 7.5.
	{name: "med-length-3", rfc: "RFC 7606 7.4", should: withdraw, want: withdraw, raw: victim(wellFormed, attr(0x80, 4, 0, 0, 0))},
	{name: "local-pref-length-3-from-ebgp", rfc: "RFC 7606 7.5", should: keep, want: withdraw, raw: victim(wellFormed, attr(0x40, 5, 0, 0, 0)),
		deviation: "getErrorHandlingFromPathAttribute maps LOCAL_PREF to treat-as-withdraw whatever the peer; from an external peer RFC 7606 7.5 discards it"},

	// ATOMIC_AGGREGATE and AGGREGATOR, RFC 7606 sections 7.6 and 7.7.
	{name: "atomic-aggregate-length-1", rfc: "RFC 7606 7.6", should: keep, want: keep, raw: victim(wellFormed, attr(0x40, 6, 0))},
	{name: "aggregator-length-5", rfc: "RFC 7606 7.7", should: keep, want: keep, raw: victim(wellFormed, attr(0xc0, 7, 0, 0, 0xfd, 0xf5, 10))},

	// COMMUNITIES, RFC 7606 section 7.8.
	{name: "communities-length-5", rfc: "RFC 7606 7.8", should: withdraw, want: withdraw, raw: victim(wellFormed, attr(0xc0, 8, 0xff, 0xff, 0, 1, 0))},
	{name: "communities-length-0", rfc: "RFC 7606 7.8", should: withdraw, want: withdraw, raw: victim(wellFormed, attr(0xc0, 8))},
	{name: "communities-flags-nontransitive", rfc: "RFC 7606 3(c)", should: withdraw, want: withdraw, raw: victim(wellFormed, attr(0x80, 8, 0xfd, 0xf5, 0, 1))},

	// ORIGINATOR_ID and CLUSTER_LIST from an external peer, RFC 7606
	// sections 7.9 and 7.10.
	{name: "originator-id-length-3", rfc: "RFC 7606 7.9", should: keep, want: withdraw, raw: victim(wellFormed, attr(0x80, 9, 10, 0, 0)),
		deviation: "getErrorHandlingFromPathAttribute maps ORIGINATOR_ID to treat-as-withdraw whatever the peer; from an external peer RFC 7606 7.9 discards it"},
	{name: "cluster-list-length-5", rfc: "RFC 7606 7.10", should: keep, want: withdraw, raw: victim(wellFormed, attr(0x80, 10, 10, 0, 0, 2, 0)),
		deviation: "getErrorHandlingFromPathAttribute maps CLUSTER_LIST to treat-as-withdraw whatever the peer; from an external peer RFC 7606 7.10 discards it"},

	// MP_REACH_NLRI and MP_UNREACH_NLRI, RFC 7606 sections 3(g), 5.3, 7.11.
	{name: "mp-reach-ipv4-well-formed", rfc: "RFC 4760 3", should: keep, want: keep,
		raw: update(nil, cat(origin, asPath, mpReach(1, 1, ownNH, nlri4(rawVictim))), nil), note: "control: IPv4 unicast in MP_REACH_NLRI"},
	{name: "mp-reach-next-hop-length-9", rfc: "RFC 7606 7.11", should: reset, want: reset, notify: [2]byte{3, 5},
		raw: update(nil, cat(origin, asPath, attr(0x80, 14, cat(u16(2), []byte{1, 9}, make([]byte, 9), []byte{0, 64, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 1})...)), nil)},
	{name: "mp-reach-next-hop-length-overrun", rfc: "RFC 7606 7.11", should: reset, want: reset, notify: [2]byte{3, 5},
		raw: update(nil, cat(origin, asPath, attr(0x80, 14, cat(u16(2), []byte{1, 64}, sid, []byte{0})...)), nil)},
	{name: "mp-reach-truncated", rfc: "RFC 7606 7.11", should: reset, want: reset, notify: [2]byte{3, 5},
		raw: update(nil, cat(origin, asPath, attr(0x80, 14, cat(u16(2), []byte{1, 16}, sid[:8])...)), nil)},
	{name: "mp-reach-empty", rfc: "RFC 7606 7.11", should: reset, want: reset, notify: [2]byte{3, 5},
		raw: update(nil, cat(origin, asPath, attr(0x80, 14)), nil), note: "osrg/gobgp#2330: panic on an empty MP_REACH_NLRI"},
	{name: "mp-reach-twice", rfc: "RFC 7606 3(g)", should: reset, want: reset, notify: [2]byte{3, 1},
		raw: update(nil, cat(origin, asPath, mpReach(1, 1, ownNH, nlri4(rawVictim)), mpReach(1, 1, ownNH, nlri4(rawVictim))), nil)},
	{name: "mp-unreach-truncated", rfc: "RFC 7606 5.3", should: reset, want: reset, notify: [2]byte{3, 10},
		raw: update(nil, attr(0x80, 15, 0, 2, 1, 64, 0x20, 1, 0xd, 0xb8), nil)},
	{name: "mp-reach-vpnv4-not-negotiated", rfc: "RFC 4760 7", should: reset, want: reset, notify: [2]byte{0, 0},
		raw:       update(nil, cat(origin, asPath, mpReach(1, 128, cat(make([]byte, 8), ownNH), cat([]byte{112, 0, 0, 1}, make([]byte, 8), []byte{10, 244, 50}))), nil),
		deviation: "the reset is right, but ValidateAttribute (checkPrefix) builds it with NewMessageError(0, 0, ...): a NOTIFICATION with error code 0, which RFC 4271 does not define"},

	// EXTENDED_COMMUNITIES and LARGE_COMMUNITY, RFC 7606 section 7.14 and
	// RFC 8092 section 6.
	{name: "ext-communities-length-9", rfc: "RFC 7606 7.14", should: withdraw, want: withdraw, raw: victim(wellFormed, attr(0xc0, 16, 0, 2, 0xfd, 0xf5, 0, 0, 0, 1, 0))},
	{name: "large-communities-length-13", rfc: "RFC 8092 6", should: withdraw, want: withdraw, raw: victim(wellFormed, attr(0xc0, 32, 0, 0, 0xfd, 0xf5, 0, 0, 0, 1, 0, 0, 0, 2, 0))},
	{name: "large-communities-length-0", rfc: "RFC 8092 6", should: withdraw, want: withdraw, raw: victim(wellFormed, attr(0xc0, 32))},

	// Repeated attributes, RFC 7606 section 3(g): all but the first discarded.
	{name: "duplicate-origin", rfc: "RFC 7606 3(g)", should: keep, want: keep, origin: "igp", raw: victim(wellFormed, attr(0x40, 1, 2))},
	{name: "duplicate-communities", rfc: "RFC 7606 3(g)", should: keep, want: keep, raw: victim(wellFormed, attr(0xc0, 8, 0xfd, 0xf5, 0, 1), attr(0xc0, 8))},

	// Unrecognized well-known attribute, RFC 4271 section 6.3, which RFC 7606
	// leaves as it is.
	{name: "cve-2026-41642-unknown-well-known", rfc: "RFC 4271 6.3", should: reset, want: reset, notify: [2]byte{3, 2},
		raw: victim(wellFormed, attr(0x40, 0xfe, 1, 2, 3, 4)), note: "CVE-2026-41642: nil dereference, fixed in GoBGP 4.4.0"},

	// Attributes of other features, with the decoders behind GoBGP's crash
	// fixes, and NLRI of families a worker never negotiates: the UPDATE is
	// decoded before the family is checked.
	{name: "prefix-sid-srv6-structure-length-1", rfc: "RFC 8669 6, RFC 9252 7", should: keep, want: keep,
		raw:  victim(wellFormed, prefixSID(21+4, cat([]byte{0}, sid, []byte{0, 0, 0x13, 0}, []byte{1, 0, 1, 0x3c}))),
		note: "osrg/gobgp#3517: panic re-serializing a short SRv6 SID Structure"},
	{name: "prefix-sid-srv6-info-length-16", rfc: "RFC 8669 6, RFC 9252 7", should: keep, want: keep,
		raw:  victim(wellFormed, prefixSID(16, cat([]byte{0}, sid[:15]))),
		note: "osrg/gobgp#3517: SRv6 SID Information shorter than 21"},
	{name: "tunnel-encap-length-3", rfc: "RFC 9012 13", should: keep, want: keep, raw: victim(wellFormed, attr(0xc0, 23, 0, 7, 0))},
	{name: "pmsi-tunnel-length-4", rfc: "RFC 6514 (silent)", should: withdraw, want: withdraw, raw: victim(wellFormed, attr(0xc0, 22, 0, 6, 0, 0))},
	{name: "aigp-length-0", rfc: "RFC 7311 4", should: keep, want: keep, raw: victim(wellFormed, attr(0x80, 26))},
	{name: "link-state-attribute-truncated", rfc: "RFC 9552 6.3.2", should: keep, want: keep, raw: victim(wellFormed, attr(0x80, 29, 4, 0))},
	{name: "mp-reach-evpn-prefix-length-255", rfc: "RFC 4760 7", should: reset, want: reset, notify: [2]byte{3, 10},
		raw: update(nil, cat(origin, asPath, mpReach(25, 70, ownNH,
			cat([]byte{5, 34}, make([]byte, 8+10+4), []byte{255, 10, 244, 50, 0}, make([]byte, 4), []byte{0, 0x0f, 0xa1}))), nil),
		note: "osrg/gobgp#3497: EVPN Type-5 prefix length unchecked"},
	{name: "mp-reach-vpls-length-12", rfc: "RFC 4760 7", should: reset, want: reset, notify: [2]byte{3, 5},
		raw:  update(nil, cat(origin, asPath, mpReach(25, 65, ownNH, cat(u16(12), make([]byte, 12)))), nil),
		note: "osrg/gobgp#3542: VPLS NLRI of length 12, nil RD"},
	{name: "mp-reach-bgp-ls-short", rfc: "RFC 4760 7", should: reset, want: reset, notify: [2]byte{3, 10},
		raw:  update(nil, cat(origin, asPath, mpReach(16388, 71, ownNH, cat(u16(1), u16(4), []byte{3, 0, 0, 0}))), nil),
		note: "osrg/gobgp#3417: BGP-LS NLRI shorter than its header"},
	{name: "mp-reach-flowspec-prefix-overrun", rfc: "RFC 4760 7", should: reset, want: reset, notify: [2]byte{0, 0},
		raw:       update(nil, cat(origin, asPath, mpReach(1, 133, nil, []byte{3, 1, 128, 10})), nil),
		note:      "osrg/gobgp#2326: flowspec prefix longer than its family",
		deviation: "the reset is right, but ValidateAttribute (checkPrefix) builds it with NewMessageError(0, 0, ...): a NOTIFICATION with error code 0, which RFC 4271 does not define"},
	{name: "mp-reach-mup-truncated", rfc: "RFC 4760 7", should: reset, want: reset, notify: [2]byte{3, 10},
		raw:  update(nil, cat(origin, asPath, mpReach(1, 85, ownNH, []byte{1, 0, 1, 16, 0, 0})), nil),
		note: "MUP NLRI shorter than its length"},
}

// ExaBGP's prefixes and the attributes it expresses itself.
const (
	exaAddr   = "192.168.10.140"
	exaVictim = "10.244.60.0/24"
	exaMarker = "10.244.61.0/24"
	exaSteady = "10.244.4.0/24"
)

// exabgpCases are the cases ExaBGP sends with its own keywords, and
// optional attributes of unknown type codes, which it sends as given.
var exabgpCases = []rfc7606Case{
	{name: "exabgp-next-hop-0.0.0.0", rfc: "RFC 7606 7.3", should: withdraw, want: withdraw, exabgp: "next-hop 0.0.0.0"},
	{name: "exabgp-next-hop-loopback", rfc: "RFC 7606 7.3", should: withdraw, want: withdraw, exabgp: "next-hop 127.0.0.1"},
	{name: "exabgp-next-hop-multicast", rfc: "RFC 7606 7.3", should: withdraw, want: withdraw, exabgp: "next-hop 224.0.0.1"},
	{name: "exabgp-next-hop-class-e", rfc: "RFC 7606 7.3", should: withdraw, want: withdraw, exabgp: "next-hop 240.0.0.1"},
	{name: "exabgp-unknown-optional-transitive", rfc: "RFC 4271 5", should: keep, want: keep,
		exabgp: "next-hop " + exaAddr + " attribute [ 0xf0 0xc0 0xdeadbeef ]"},
	{name: "exabgp-unknown-optional-non-transitive", rfc: "RFC 4271 5", should: keep, want: keep,
		exabgp: "next-hop " + exaAddr + " attribute [ 0xf1 0x80 0xdeadbeef ]"},
	{name: "exabgp-unknown-optional-partial", rfc: "RFC 4271 5", should: keep, want: keep,
		exabgp: "next-hop " + exaAddr + " attribute [ 0xf2 0xe0 0xdeadbeef ]"},
	{name: "exabgp-large-communities-repeated", rfc: "RFC 8092 5", should: keep, want: keep,
		exabgp: "next-hop " + exaAddr + " large-community [ 65013:1:1 65013:1:1 ]"},
}
