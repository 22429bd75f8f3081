package evpn

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// AdminKind says which of the three RFC 4364 encodings a route distinguisher
// or route target uses.
type AdminKind uint8

// The three encodings of RFC 4364 section 4.2 (and RFC 4360 for targets).
const (
	AdminAS2  AdminKind = 0 // 2-octet AS : 4-octet number
	AdminIPv4 AdminKind = 1 // IPv4 address : 2-octet number
	AdminAS4  AdminKind = 2 // 4-octet AS : 2-octet number
)

// RD is a route distinguisher such as 10.0.0.3:4001 or 65000:4001.
type RD struct {
	Kind   AdminKind
	ASN    uint32     // AdminAS2, AdminAS4
	IP     netip.Addr // AdminIPv4
	Number uint32
}

// RouteTarget is a route-target extended community such as 65000:4001.
type RouteTarget RD

// ParseRD reads "ASN:number" or "IPv4:number".
func ParseRD(s string) (RD, error) { return parseAdmin(s) }

// ParseRouteTarget reads "ASN:number" or "IPv4:number".
func ParseRouteTarget(s string) (RouteTarget, error) {
	a, err := parseAdmin(s)
	return RouteTarget(a), err
}

// NewRD builds the RD <ip>:<number>, the form t5gw uses by default.
func NewRD(ip netip.Addr, number uint32) (RD, error) {
	return parseAdmin(fmt.Sprintf("%s:%d", ip, number))
}

// NewRouteTarget builds <asn>:<number>, choosing the encoding that fits.
func NewRouteTarget(asn, number uint32) (RouteTarget, error) {
	a, err := parseAdmin(fmt.Sprintf("%d:%d", asn, number))
	return RouteTarget(a), err
}

func parseAdmin(s string) (RD, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return RD{}, fmt.Errorf("%q is not <asn>:<number> or <ipv4>:<number>", s)
	}
	admin, num := s[:i], s[i+1:]
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return RD{}, fmt.Errorf("%q: number %q is not a 32-bit unsigned integer", s, num)
	}
	if ip, err := netip.ParseAddr(admin); err == nil {
		if !ip.Is4() {
			return RD{}, fmt.Errorf("%q: only an IPv4 address can be the administrator", s)
		}
		if n > 0xffff {
			return RD{}, fmt.Errorf("%q: number %d does not fit 16 bits after an IPv4 address", s, n)
		}
		return RD{Kind: AdminIPv4, IP: ip, Number: uint32(n)}, nil
	}
	asn, err := strconv.ParseUint(admin, 10, 32)
	if err != nil {
		return RD{}, fmt.Errorf("%q: administrator %q is neither an AS number nor an IPv4 address", s, admin)
	}
	if asn <= 0xffff {
		return RD{Kind: AdminAS2, ASN: uint32(asn), Number: uint32(n)}, nil
	}
	if n > 0xffff {
		return RD{}, fmt.Errorf("%q: number %d does not fit 16 bits after a 4-octet AS", s, n)
	}
	return RD{Kind: AdminAS4, ASN: uint32(asn), Number: uint32(n)}, nil
}

// String gives the usual text form, the one ParseRD reads.
func (rd RD) String() string {
	if rd.Kind == AdminIPv4 {
		return fmt.Sprintf("%s:%d", rd.IP, rd.Number)
	}
	return fmt.Sprintf("%d:%d", rd.ASN, rd.Number)
}

// String gives the usual text form, the one ParseRouteTarget reads.
func (rt RouteTarget) String() string { return RD(rt).String() }
