package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/t5gw/t5gw/evpn"
)

func addr(p *problems, f, field, s string, required bool) netip.Addr {
	if s == "" {
		if required {
			p.add(f, field, "", "is required")
		}
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		p.add(f, field, s, "is not an IP address")
		return netip.Addr{}
	}
	if a.IsUnspecified() {
		p.add(f, field, s, "is the unspecified address")
	}
	return a.Unmap()
}

func asn(p *problems, f, field, s string, required bool) uint32 {
	if s == "" {
		if required {
			p.add(f, field, "", "is required")
		}
		return 0
	}
	n := number(p, f, field, s, 0, 1, 1<<32-1)
	if n == 23456 {
		p.add(f, field, s, "is AS_TRANS (RFC 6793), not a real AS")
	}
	return uint32(n)
}

func port(p *problems, f, field, s string) uint16 {
	return uint16(number(p, f, field, s, DefaultPort, 1, 65535))
}

// number reads an unsigned integer in min..max; an empty string gives def.
func number(p *problems, f, field, s string, def, min, max uint64) uint64 {
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		p.add(f, field, s, "is not a whole number")
		return def
	}
	if n < min || n > max {
		p.add(f, field, s, fmt.Sprintf("is outside %d..%d", min, max))
		return def
	}
	return n
}

// duration reads a duration such as 30s in min..max; an empty string gives def.
func duration(p *problems, f, field, s string, def, min, max time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		p.add(f, field, s, "is not a duration such as 30s or 2m")
		return def
	}
	if d < min || d > max {
		p.add(f, field, s, fmt.Sprintf("is outside %s..%s", min, max))
		return def
	}
	return d
}

// timers reads a session's keepalive and hold time in whole seconds: hold 0
// (no keepalives, RFC 4271) or at least 3 s, keepalive below hold. An unset
// hold is def's; an unset keepalive is a third of the hold time.
func timers(p *problems, f, field string, raw rawTimers, def Timers) Timers {
	t := def
	if raw.Hold != "" {
		t.Hold = duration(p, f, field+".hold", raw.Hold, def.Hold, 0, 65535*time.Second)
		t.Keepalive = t.Hold / 3
	}
	if raw.Keepalive != "" {
		t.Keepalive = duration(p, f, field+".keepalive", raw.Keepalive, t.Keepalive, 0, 21845*time.Second)
	}
	for _, v := range []struct {
		name, raw string
		d         time.Duration
	}{{"hold", raw.Hold, t.Hold}, {"keepalive", raw.Keepalive, t.Keepalive}} {
		if v.d%time.Second != 0 {
			p.add(f, field+"."+v.name, v.raw, "is not a whole number of seconds (BGP counts in seconds)")
		}
	}
	switch {
	case t.Hold > 0 && t.Hold < 3*time.Second:
		p.add(f, field+".hold", raw.Hold, "is below 3s (RFC 4271: 0 or at least 3 seconds)")
	case t.Hold > 0 && t.Keepalive >= t.Hold:
		p.add(f, field+".keepalive", raw.Keepalive, fmt.Sprintf("is not below the hold time %s", t.Hold))
	}
	return t
}

func boolean(p *problems, f, field, s string, def bool) bool {
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.add(f, field, s, "is not true or false")
		return def
	}
	return b
}

// parseRule reads "10.244.0.0/16", "10.244.0.0/16 le 32" or
// "10.96.0.0/12 ge 24 le 32". Without le, only the prefix itself matches
// (as in a prefix list); with ge alone, le is the family's full length.
func parseRule(s string) (evpn.PrefixRule, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return evpn.PrefixRule{}, fmt.Errorf("is empty")
	}
	pfx, err := netip.ParsePrefix(fields[0])
	if err != nil {
		return evpn.PrefixRule{}, fmt.Errorf("does not start with a prefix such as 10.244.0.0/16")
	}
	pfx = pfx.Masked()
	r := evpn.PrefixRule{Prefix: pfx, GE: pfx.Bits(), LE: pfx.Bits()}
	max := pfx.Addr().BitLen()
	sawGE, sawLE := false, false
	for rest := fields[1:]; len(rest) > 0; rest = rest[2:] {
		if len(rest) < 2 {
			return r, fmt.Errorf("%q needs a length after it", rest[0])
		}
		n, err := strconv.Atoi(rest[1])
		if err != nil || n < pfx.Bits() || n > max {
			return r, fmt.Errorf("%s %s is not a length in %d..%d", rest[0], rest[1], pfx.Bits(), max)
		}
		switch rest[0] {
		case "ge":
			r.GE, sawGE = n, true
		case "le":
			r.LE, sawLE = n, true
		default:
			return r, fmt.Errorf("%q is not ge or le", rest[0])
		}
	}
	if sawGE && !sawLE {
		r.LE = max
	}
	if r.GE > r.LE {
		return r, fmt.Errorf("ge %d is greater than le %d", r.GE, r.LE)
	}
	if what := admitsReserved(r); len(what) > 0 {
		return r, fmt.Errorf("admits %s; accept only the tenant's prefixes", list(what))
	}
	return r, nil
}

// reserved is address space no tenant announces to a gateway: a rule that
// reaches into it is a rule written too wide.
var reserved = []struct {
	name   string
	prefix netip.Prefix
}{
	{`"this network"`, netip.MustParsePrefix("0.0.0.0/8")},
	{"loopback", netip.MustParsePrefix("127.0.0.0/8")},
	{"link-local", netip.MustParsePrefix("169.254.0.0/16")},
	{"multicast", netip.MustParsePrefix("224.0.0.0/4")},
	{"class E", netip.MustParsePrefix("240.0.0.0/4")}, // with the broadcast address
	{"loopback", netip.MustParsePrefix("::1/128")},
	{"link-local", netip.MustParsePrefix("fe80::/10")},
	{"multicast", netip.MustParsePrefix("ff00::/8")},
}

// admitsReserved names what a rule admits that no tenant means to announce:
// the default route itself, and the reserved blocks it overlaps. A rule
// admits a prefix overlapping a block exactly when the rule's prefix
// overlaps it: either the rule lies inside the block, or the block lies
// inside the rule and the rule's longest prefixes reach it.
func admitsReserved(r evpn.PrefixRule) []string {
	var what []string
	if r.GE == 0 {
		what = append(what, "the default route")
	}
	for _, b := range reserved {
		if r.Prefix.Overlaps(b.prefix) {
			what = append(what, b.name+" "+b.prefix.String())
		}
	}
	return what
}

// list joins names as a sentence does: "a", "a and b", "a, b and c".
func list(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// crossCheck finds what no single file can show: two VRFs with one name, one
// L3VNI or one RD, two listeners on one address and port, and BFD in two
// VRFs without a device.
func (c *Config) crossCheck(p *problems) {
	names, vnis, rds := map[string]string{}, map[uint32]string{}, map[evpn.RD]string{}
	type socket struct {
		a    netip.Addr
		port uint16
	}
	listeners := map[socket]string{}
	bfdOutsideVRF := ""
	for _, a := range c.Fabric.Listen {
		listeners[socket{a, c.Fabric.Port}] = c.File + " fabric.listen"
	}
	for _, v := range c.VRFs {
		if other, ok := names[v.Name]; ok && v.Name != "" {
			p.add(v.File, "name", v.Name, "is also the name of the VRF in "+other)
		}
		names[v.Name] = v.File
		if other, ok := vnis[v.L3VNI]; ok && v.L3VNI != 0 {
			p.add(v.File, "l3vni", fmt.Sprint(v.L3VNI), "is also the L3VNI of the VRF in "+other)
		}
		vnis[v.L3VNI] = v.File
		if other, ok := rds[v.RD]; ok && v.RD != (evpn.RD{}) {
			p.add(v.File, "rd", v.RD.String(), "is also the RD of the VRF in "+other)
		}
		rds[v.RD] = v.File
		if v.Device != "" {
			continue // sockets bound to a VRF device do not collide with other VRFs
		}
		for i, pr := range v.Workers.Peers {
			if !pr.BFD.Enabled() {
				continue
			}
			// Each VRF's speaker listens for BFD on UDP 3784 of every
			// address; two of them outside VRF devices would take each
			// other's packets.
			if bfdOutsideVRF != "" && bfdOutsideVRF != v.File {
				p.add(v.File, fmt.Sprintf("workers.peers[%d].bfd", i), "true",
					"BFD is also on in "+bfdOutsideVRF+": without a device, only one VRF may use BFD")
			}
			bfdOutsideVRF = v.File
		}
		for i, a := range v.Workers.Listen {
			s := socket{a, v.Workers.Port}
			if other, ok := listeners[s]; ok && a.IsValid() {
				p.add(v.File, fmt.Sprintf("workers.listen[%d]", i), a.String(),
					fmt.Sprintf("port %d is also used by %s", s.port, other))
			}
			listeners[s] = v.File + " workers.listen"
		}
	}
}

// oneOf reads a value that must be one of names; it returns its index (the
// first name, the default, when the value is empty), or 0 after reporting
// anything else.
func oneOf(p *problems, f, field, raw string, names ...string) uint8 {
	if raw == "" {
		return 0
	}
	if i := slices.Index(names, raw); i >= 0 {
		return uint8(i)
	}
	list := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	p.add(f, field, raw, "is not "+list)
	return 0
}
