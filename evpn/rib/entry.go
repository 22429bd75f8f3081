package rib

import (
	"net/netip"
	"slices"

	"github.com/t5gw/t5gw/evpn"
)

// entry is one worker's announcement of one prefix. Its Type-5 route is made
// when needed (Best), which costs less than holding one per announcement;
// the prefix is the key the entry is found under, and what the route carries
// besides is in attrs, shared with the worker's other routes of the same
// UPDATE: an entry is 64 bytes where a whole evpn.Route in it made 192.
type entry struct {
	worker  netip.Addr
	attrs   *attrs
	refusal *evpn.Refusal // nil when the route can be translated
	next    *entry        // the next worker's announcement of the prefix
	// stale is set while the worker restarts (graceful restart): the route
	// stays, and goes at the worker's End-of-RIB unless announced again.
	stale bool
}

// attrs is an evpn.Route without its worker and prefix.
type attrs struct {
	nextHop          netip.Addr
	asPath           []evpn.ASPathSegment
	communities      []uint32
	largeCommunities []evpn.LargeCommunity
	med              uint32
	hasMED           bool
	origin           uint8
	foreignFirstAS   bool
	asPathLen        int // for best-path selection, counted once
}

// route is the announcement e makes of prefix.
func (e *entry) route(prefix netip.Prefix) evpn.Route {
	a := e.attrs
	return evpn.Route{Worker: e.worker, Prefix: prefix, NextHop: a.nextHop, ASPath: a.asPath,
		Communities: a.communities, LargeCommunities: a.largeCommunities,
		MED: a.med, HasMED: a.hasMED, Origin: a.origin, ForeignFirstAS: a.foreignFirstAS}
}

// carries tells whether a holds r's attributes.
func (a *attrs) carries(r evpn.Route) bool {
	return a.nextHop == r.NextHop && a.med == r.MED && a.hasMED == r.HasMED &&
		a.origin == r.Origin && a.foreignFirstAS == r.ForeignFirstAS &&
		sameSlice(a.asPath, r.ASPath, func(x, y evpn.ASPathSegment) bool {
			return x.Set == y.Set && slices.Equal(x.ASNs, y.ASNs)
		}) &&
		sameSlice(a.communities, r.Communities, func(x, y uint32) bool { return x == y }) &&
		sameSlice(a.largeCommunities, r.LargeCommunities, func(x, y evpn.LargeCommunity) bool { return x == y })
}

// sameSlice is slices.EqualFunc, at once when both are the same memory, as
// the routes of one UPDATE are.
func sameSlice[T any](a, b []T, eq func(T, T) bool) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	return slices.EqualFunc(a, b, eq)
}

// attrsOf returns r's attributes: the last ones the table made when they
// are the same (the next route of the same UPDATE, most often), new ones
// otherwise.
func (t *Table) attrsOf(r evpn.Route) *attrs {
	if t.lastAttrs != nil && t.lastAttrs.carries(r) {
		return t.lastAttrs
	}
	t.lastAttrs = &attrs{nextHop: r.NextHop, asPath: r.ASPath, communities: r.Communities,
		largeCommunities: r.LargeCommunities, med: r.MED, hasMED: r.HasMED, origin: r.Origin,
		foreignFirstAS: r.ForeignFirstAS, asPathLen: r.ASPathLen()}
	return t.lastAttrs
}

// better tells whether a's announcement is preferred over b's: the shorter
// AS path, then the lower MED, then the lower worker address, so that the
// choice is stable.
func better(a, b *entry) bool {
	if la, lb := a.attrs.asPathLen, b.attrs.asPathLen; la != lb {
		return la < lb
	}
	if a.attrs.med != b.attrs.med {
		return a.attrs.med < b.attrs.med
	}
	return a.worker.Less(b.worker)
}
