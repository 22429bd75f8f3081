package rib

import (
	"net/netip"

	"github.com/t5gw/t5gw/evpn"
)

// The reconciler remembers every route it advertised, so its maps are as
// large as the VRF. These are its keys and values in a form with no pointer
// in it (netip.Addr holds one, for its zone): smaller, and a map of them is
// not scanned by the garbage collector. Addresses lose their zone, which
// neither a prefix nor a gateway IP has.

// addrKey is an address as 16 bytes and its family.
type addrKey struct {
	a    [16]byte
	kind uint8 // 0 none, 4 IPv4, 6 IPv6
}

func addrKeyOf(a netip.Addr) addrKey {
	switch {
	case a.Is4():
		return addrKey{a: a.As16(), kind: 4}
	case a.Is6():
		return addrKey{a: a.As16(), kind: 6}
	}
	return addrKey{}
}

func (k addrKey) addr() netip.Addr {
	switch k.kind {
	case 4:
		return netip.AddrFrom16(k.a).Unmap()
	case 6:
		return netip.AddrFrom16(k.a)
	}
	return netip.Addr{}
}

// prefixKey is a prefix as its address and length.
type prefixKey struct {
	addr addrKey
	bits uint8
}

func prefixKeyOf(p netip.Prefix) prefixKey {
	return prefixKey{addr: addrKeyOf(p.Addr()), bits: uint8(p.Bits())}
}

func (k prefixKey) prefix() netip.Prefix {
	return netip.PrefixFrom(k.addr.addr(), int(k.bits))
}

// rdKey is a route distinguisher as its kind, administrator (the AS number
// or the IPv4 address) and assigned number.
type rdKey struct {
	kind          evpn.AdminKind
	admin, number uint32
}

func rdKeyOf(rd evpn.RD) rdKey {
	k := rdKey{kind: rd.Kind, admin: rd.ASN, number: rd.Number}
	if rd.Kind == evpn.AdminIPv4 {
		ip := rd.IP.As4()
		k.admin = uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
	}
	return k
}

func (k rdKey) rd() evpn.RD {
	if k.kind == evpn.AdminIPv4 {
		a := k.admin
		return evpn.RD{Kind: k.kind, IP: netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), Number: k.number}
	}
	return evpn.RD{Kind: k.kind, ASN: k.admin, Number: k.number}
}
