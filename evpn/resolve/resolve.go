// Package resolve follows the fabric's EVPN MAC/IP Advertisement routes
// (Type-2, RFC 7432 section 7.2) for the addresses of t5gw's workers and
// says, for each gateway IP, whether the fabric resolves it and where: behind
// which VTEP, with which MAC and MAC Mobility sequence number. It is what an
// ingress leaf will do with t5gw's Type-5 routes, seen from t5gw.
package resolve

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/t5gw/t5gw/evpn"
)

// MACIP is one Type-2 route with an IP address, as a fabric peer sent it.
type MACIP struct {
	Peer netip.Addr // the fabric peer it came from
	RD   evpn.RD
	MAC  evpn.MAC
	IP   netip.Addr
	VTEP netip.Addr // its BGP next hop: the leaf the host is behind
	Seq  uint32     // MAC Mobility sequence number (RFC 7432 section 15); 0 without one
	// L3VNI is the route's second label, the IP-VRF's L3VNI in symmetric
	// IRB (RFC 9135 section 5.1); 0 without one.
	L3VNI uint32
}

// key is what tells two Type-2 routes apart: RD, MAC and IP (the Ethernet
// tag is 0 in VLAN-based services), from one peer.
type key struct {
	peer netip.Addr
	rd   evpn.RD
	mac  evpn.MAC
}

type entry struct {
	MACIP
	stale bool // its peer's session ended; it goes unless sent again
}

// Location is what the fabric says of one IP address.
type Location struct {
	IP       netip.Addr `json:"ip"`
	Resolved bool       `json:"resolved"`
	VTEP     netip.Addr `json:"vtep,omitzero"`
	MAC      string     `json:"mac,omitempty"`
	Seq      uint32     `json:"seq"`
	Routes   int        `json:"routes"` // Type-2 routes that carry the IP, from every peer
}

// Change is how one IP's location changed.
type Change struct{ Was, Now Location }

// Moved tells whether the IP went from one VTEP to another.
func (c Change) Moved() bool {
	return c.Was.Resolved && c.Now.Resolved && c.Was.VTEP != c.Now.VTEP
}

// Table holds the Type-2 routes of the watched addresses. It is not safe
// for concurrent use.
type Table struct {
	watch []netip.Prefix
	byIP  map[netip.Addr]map[key]*entry
}

// NewTable returns a table that keeps the Type-2 routes whose IP is inside
// one of watch (the workers' subnets).
func NewTable(watch []netip.Prefix) *Table {
	return &Table{watch: watch, byIP: map[netip.Addr]map[key]*entry{}}
}

// Watches tells whether the table keeps routes for ip.
func (t *Table) Watches(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range t.watch {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// SetWatch changes the watched subnets; the routes of addresses no longer
// watched go, and their changes are returned.
func (t *Table) SetWatch(watch []netip.Prefix) []Change {
	t.watch = watch
	var out []Change
	for ip, es := range t.byIP {
		if t.Watches(ip) {
			continue
		}
		was := locate(ip, es, 0)
		delete(t.byIP, ip)
		out = append(out, Change{was, Location{IP: ip}})
	}
	return out
}

// Update records a Type-2 route, or replaces the one with its key. It
// returns the IP's change when its location changed.
func (t *Table) Update(r MACIP) (Change, bool) {
	r.IP = r.IP.Unmap()
	if !t.Watches(r.IP) {
		return Change{}, false
	}
	es := t.byIP[r.IP]
	if es == nil {
		es = map[key]*entry{}
		t.byIP[r.IP] = es
	}
	was := maps.Clone(es)
	es[key{r.Peer, r.RD, r.MAC}] = &entry{MACIP: r}
	return changed(r.IP, was, es)
}

// Withdraw removes a Type-2 route.
func (t *Table) Withdraw(peer netip.Addr, rd evpn.RD, mac evpn.MAC, ip netip.Addr) (Change, bool) {
	ip = ip.Unmap()
	es := t.byIP[ip]
	k := key{peer, rd, mac}
	if es[k] == nil {
		return Change{}, false
	}
	was := maps.Clone(es)
	delete(es, k)
	if len(es) == 0 {
		delete(t.byIP, ip)
	}
	return changed(ip, was, es)
}

// MarkStale marks every route from peer stale, as when its session ends: they
// keep resolving until Sweep, so that a fabric peer's restart does not make
// every worker unresolved.
func (t *Table) MarkStale(peer netip.Addr) {
	for _, es := range t.byIP {
		for k, e := range es {
			if k.peer == peer {
				e.stale = true
			}
		}
	}
}

// Sweep removes the routes from peer still stale (at its End-of-RIB, or when
// it is not back in time), and with all, every route from peer.
func (t *Table) Sweep(peer netip.Addr, all bool) []Change {
	var out []Change
	for ip, es := range t.byIP {
		was := maps.Clone(es)
		for k, e := range es {
			if k.peer == peer && (all || e.stale) {
				delete(es, k)
			}
		}
		if len(es) == 0 {
			delete(t.byIP, ip)
		}
		if c, ok := changed(ip, was, es); ok {
			out = append(out, c)
		}
	}
	return out
}

// Lookup is what the fabric says of ip, in any VRF.
func (t *Table) Lookup(ip netip.Addr) Location { return t.LookupIn(ip, 0) }

// LookupIn is what the fabric says of ip in the IP-VRF whose L3VNI is
// l3vni: a Type-2 route with a second label (symmetric IRB) resolves only
// in the VRF of that L3VNI, one without (asymmetric IRB, a bridged-only
// fabric) in every VRF. Two tenants may then use one address, each
// resolved where it is. l3vni 0 looks in every VRF.
func (t *Table) LookupIn(ip netip.Addr, l3vni uint32) Location {
	ip = ip.Unmap()
	return locate(ip, t.byIP[ip], l3vni)
}

// All lists every watched address the fabric has a Type-2 route for, by address.
func (t *Table) All() []Location {
	out := make([]Location, 0, len(t.byIP))
	for ip, es := range t.byIP {
		out = append(out, locate(ip, es, 0))
	}
	slices.SortFunc(out, func(a, b Location) int { return a.IP.Compare(b.IP) })
	return out
}

// locate picks, among the routes of ip in the VRF of l3vni (0: any), the one
// the fabric follows: the highest MAC Mobility sequence number (RFC 7432
// section 15), then the lowest VTEP, then the lowest peer, so that the
// choice is stable.
func locate(ip netip.Addr, es map[key]*entry, l3vni uint32) Location {
	var best *entry
	n := 0
	for _, e := range es {
		if l3vni != 0 && e.L3VNI != 0 && e.L3VNI != l3vni {
			continue
		}
		n++
		if best == nil || e.Seq > best.Seq ||
			e.Seq == best.Seq && (e.VTEP.Less(best.VTEP) || e.VTEP == best.VTEP && e.Peer.Less(best.Peer)) {
			best = e
		}
	}
	if best == nil {
		return Location{IP: ip}
	}
	return Location{IP: ip, Resolved: true, VTEP: best.VTEP, MAC: best.MAC.String(), Seq: best.Seq, Routes: n}
}

// changed tells whether ip's location moved, in any VRF, when its routes
// went from was to now; the change it returns is the view of every VRF.
func changed(ip netip.Addr, was, now map[key]*entry) (Change, bool) {
	c := Change{locate(ip, was, 0), locate(ip, now, 0)}
	if c.Was != c.Now {
		return c, true
	}
	for _, es := range []map[key]*entry{was, now} {
		for _, e := range es {
			if e.L3VNI != 0 && locate(ip, was, e.L3VNI) != locate(ip, now, e.L3VNI) {
				return c, true
			}
		}
	}
	return c, false
}
