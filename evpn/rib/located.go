package rib

import (
	"context"
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
// when that set or the fabric's view changed (not when only how many routes
// use them did: that costs nothing per route), and logs what an operator
// wants to know: a worker that moves to another VTEP, and a gateway IP that
// stops resolving, once when it starts and once when it ends. It returns
// how many gateway IPs are in use and how many of them are unresolved (only
// once the fabric is synced), with ok false when nothing was looked at.
func (v *VRF) follow() (inUse, unresolved int, ok bool) {
	if v.where == nil {
		return 0, 0, false
	}
	if !v.table.TakeGatewaysChanged() {
		return 0, 0, false
	}
	synced := v.where.Synced()
	if synced && !v.synced { // what was seen before the fabric had sent everything does not count
		clear(v.located)
	}
	v.synced = synced
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
		inUse++
		if !synced {
			return
		}
		if !now.Resolved {
			unresolved++
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
	return inUse, unresolved, true
}

// Gateways lists the VRF's gateway IPs as last seen, with how many routes
// use each now; it is built when asked, not on every change.
func (v *VRF) Gateways(ctx context.Context) ([]Gateway, error) {
	var out []Gateway
	err := v.query(ctx, func() { out = v.gateways() })
	return out, err
}

func (v *VRF) gateways() []Gateway {
	if v.where == nil {
		return nil
	}
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
