package rib

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/t5gw/t5gw/evpn/resolve"
)

// sighting is what a VRF last saw of one of its gateway IPs: where the
// fabric resolved it, and the VTEP it was last resolved behind, kept while
// it is unresolved so that a move through a moment unresolved still shows.
type sighting struct {
	resolve.Location
	lastVTEP netip.Addr
}

// follow looks again at where the fabric resolves each gateway IP in use,
// when that set or the fabric's view changed, and logs what an operator
// wants to know: a worker that moves to another VTEP, and a gateway IP that
// stops resolving, once when it starts and once when it ends. It returns the
// gateway IPs as they are now (Resolved counts only once the fabric is
// synced), or nil when nothing was looked at.
func (v *VRF) follow() []Gateway {
	if v.where == nil {
		return nil
	}
	set, counts := v.table.TakeGatewaysChanged()
	switch {
	case set:
	case counts: // the same gateway IPs, seen as before: no need to ask the locator
		return v.recount()
	default:
		return nil
	}
	synced := v.where.Synced()
	if synced && !v.synced { // what was seen before the fabric had sent everything does not count
		clear(v.located)
	}
	v.synced = synced
	out := []Gateway{}
	seen := make(map[netip.Addr]bool, len(v.located))
	v.table.Gateways(func(gw netip.Addr, routes int) {
		seen[gw] = true
		now := v.where.Lookup(gw, v.table.vrf.L3VNI)
		was, known := v.located[gw]
		next := sighting{Location: now, lastVTEP: was.lastVTEP}
		if now.Resolved {
			next.lastVTEP = now.VTEP
		}
		v.located[gw] = next
		g := Gateway{Location: now, Routes: routes, Synced: synced}
		if rd, ok := v.table.RDOf(gw); ok {
			g.RD = rd.String()
		}
		out = append(out, g)
		if !synced {
			return
		}
		switch {
		case !now.Resolved && (!known || was.Resolved):
			v.log.Warn("gateway IP unresolved: no Type-2 route in the fabric; ingress leaves cannot forward to it",
				"gateway", gw, "routes", routes, "policy", v.table.vrf.Unresolved.String())
		case now.Resolved && known && !was.Resolved:
			v.log.Info("gateway IP resolved again", "gateway", gw, "vtep", now.VTEP, "mac", now.MAC, "seq", now.Seq)
		}
		// A move shows as a new VTEP, with or without a moment unresolved
		// in between (the old leaf may withdraw before the new one announces).
		if from := was.lastVTEP; known && now.Resolved && from.IsValid() && from != now.VTEP {
			v.moves++
			v.log.Info(fmt.Sprintf("worker %s moved from VTEP %s to %s", gw, from, now.VTEP),
				"worker", gw, "from", from, "to", now.VTEP, "mac", now.MAC, "seq", now.Seq)
		}
	})
	for gw, was := range v.located {
		if seen[gw] {
			continue
		}
		delete(v.located, gw)
		if synced && !was.Resolved {
			v.log.Info("gateway IP no longer unresolved: no route uses it any more", "gateway", gw)
		}
	}
	slices.SortFunc(out, func(a, b Gateway) int { return a.IP.Compare(b.IP) })
	return out
}

// recount is the gateway IPs as last seen, with how many routes use each now.
func (v *VRF) recount() []Gateway {
	out := make([]Gateway, 0, len(v.located))
	v.table.Gateways(func(gw netip.Addr, routes int) {
		g := Gateway{Location: v.located[gw].Location, Routes: routes, Synced: v.synced}
		if rd, ok := v.table.RDOf(gw); ok {
			g.RD = rd.String()
		}
		out = append(out, g)
	})
	slices.SortFunc(out, func(a, b Gateway) int { return a.IP.Compare(b.IP) })
	return out
}
