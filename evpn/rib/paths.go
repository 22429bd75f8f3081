package rib

import (
	"net/netip"

	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rds"
)

// ownRDs is the allocator of a table that was given none: per-worker RDs
// under the VRF RD's administrator when it is an IPv4 address, otherwise
// none at all (the table then sends the best route only).
func ownRDs(vrfRD evpn.RD) RDs {
	if vrfRD.Kind != evpn.AdminIPv4 {
		return noRDs{}
	}
	return rds.New(vrfRD.IP, []evpn.RD{vrfRD})
}

type noRDs struct{}

func (noRDs) RD(rds.Owner) (evpn.RD, bool) { return evpn.RD{}, false }
func (noRDs) Release(rds.Owner)            {}

// assignRD gives a worker that has just announced its first route its RD.
func (t *Table) assignRD(worker netip.Addr) {
	if rd, ok := t.rds.RD(rds.Owner{VRF: t.vrf.Name, Worker: worker}); ok {
		t.workerRD[worker] = rd
	}
}

// forget drops a worker that has no route left, and gives its RD back.
func (t *Table) forget(worker netip.Addr) {
	delete(t.byWorker, worker)
	if _, ok := t.workerRD[worker]; ok {
		delete(t.workerRD, worker)
		t.rds.Release(rds.Owner{VRF: t.vrf.Name, Worker: worker})
	}
}

// RDOf is the worker's own RD, if it has one.
func (t *Table) RDOf(worker netip.Addr) (evpn.RD, bool) {
	rd, ok := t.workerRD[worker]
	return rd, ok
}

// SetResolver tells the table whether the fabric resolves a gateway IP, for
// the VRF's unresolved policy; nil resolves every one.
func (t *Table) SetResolver(resolved func(netip.Addr) bool) {
	if resolved == nil {
		resolved = func(netip.Addr) bool { return true }
	}
	t.resolved = resolved
}

// Gateways calls f with each gateway IP that admitted routes use, and how
// many do.
func (t *Table) Gateways(f func(gw netip.Addr, routes int)) {
	for gw, n := range t.gateways {
		f(gw, n)
	}
}

// TakeGatewaysChanged tells whether the set of gateway IPs in use changed
// since the last call (not only how many routes use them).
func (t *Table) TakeGatewaysChanged() bool {
	set := t.gatewaysChanged
	t.gatewaysChanged = false
	return set
}

// MarkGateway makes every prefix announced with gateway IP gw due for
// reconciliation, as when the fabric's view of gw changes.
func (t *Table) MarkGateway(gw netip.Addr) {
	if !t.vrf.AllowThirdPartyNextHop { // then a gateway IP is its worker's address
		for prefix, e := range t.byWorker[gw] {
			if e.refusal == nil {
				t.byPrefix[prefix] = t.markDirty(prefix, t.byPrefix[prefix])
			}
		}
		return
	}
	for _, routes := range t.byWorker {
		for prefix, e := range routes {
			if e.refusal == nil && e.attrs.nextHop == gw {
				t.byPrefix[prefix] = t.markDirty(prefix, t.byPrefix[prefix])
			}
		}
	}
}

// Desired appends to into the Type-5 routes prefix should have in the
// fabric. With PathsPerWorker, one per worker whose announcement can be
// translated, each under the worker's RD; with PathsBest, the best one's,
// under the VRF's RD. The unresolved policy then applies: a route whose
// gateway IP does not resolve is sent anyway, left out (withhold), or sent in
// its interface-less form (fallback).
func (t *Table) Desired(prefix netip.Prefix, into []evpn.Type5Route) []evpn.Type5Route {
	policy := t.vrf.Unresolved
	if t.vrf.Paths == evpn.PathsBest || len(t.workerRD) == 0 {
		return t.desiredBest(prefix, into, policy)
	}
	start := len(into)
	for e := t.byPrefix[prefix].first; e != nil; e = e.next {
		if e.refusal != nil {
			continue
		}
		type5, _ := evpn.Translate(t.vrf, e.route(prefix)) // admitted when entered
		rd, ok := t.workerRD[e.worker]
		switch {
		case ok && t.vrf.Paths == evpn.PathsAddPath: // the worker's number names its path
			type5.PathID = rd.Number
		case ok:
			type5.RD = rd
		}
		if !ok && containsKey(into[start:], type5) { // out of RDs: the first one
			continue
		}
		if policy != evpn.UnresolvedAdvertise && !t.resolved(type5.GatewayIP) {
			if policy == evpn.UnresolvedWithhold {
				continue
			}
			type5 = evpn.Fallback(t.vrf, type5)
		}
		into = append(into, type5)
	}
	return into
}

func containsKey(ts []evpn.Type5Route, t evpn.Type5Route) bool {
	for _, o := range ts {
		if o.Key() == t.Key() {
			return true
		}
	}
	return false
}

// desiredBest is Desired with PathsBest: the best announcement whose gateway
// IP resolves, or under fallback the best one's interface-less form when
// none resolves.
func (t *Table) desiredBest(prefix netip.Prefix, into []evpn.Type5Route, policy evpn.UnresolvedPolicy) []evpn.Type5Route {
	var best, bestResolved *entry
	for e := t.byPrefix[prefix].first; e != nil; e = e.next {
		if e.refusal != nil {
			continue
		}
		if best == nil || better(e, best) {
			best = e
		}
		if policy != evpn.UnresolvedAdvertise && t.resolved(e.attrs.nextHop) &&
			(bestResolved == nil || better(e, bestResolved)) {
			bestResolved = e
		}
	}
	switch {
	case best == nil:
		return into
	case policy == evpn.UnresolvedAdvertise:
	case bestResolved != nil:
		best = bestResolved
	case policy == evpn.UnresolvedWithhold:
		return into
	}
	type5, _ := evpn.Translate(t.vrf, best.route(prefix))
	if policy == evpn.UnresolvedFallback && bestResolved == nil {
		type5 = evpn.Fallback(t.vrf, type5)
	}
	return append(into, type5)
}
