package rib

import (
	"context"
	"net/netip"
	"slices"

	"github.com/t5gw/t5gw/evpn"
)

// Announcement is one worker's announcement of a prefix, as the VRF holds it.
type Announcement struct {
	Route   evpn.Route
	Refusal *evpn.Refusal // nil: translated
	Stale   bool          // the worker is restarting; kept until it is back
}

// Type5 is a Type-5 route the VRF wants in the fabric, and whether the
// fabric speaker holds it (false while a change waits to be applied).
type Type5 struct {
	evpn.Type5Route
	Advertised bool
}

// PrefixView is what a VRF knows of one prefix: every worker's announcement
// of it and the Type-5 routes made from them.
type PrefixView struct {
	Prefix        netip.Prefix
	Announcements []Announcement
	Type5         []Type5
}

// WorkerView is what a VRF knows of one worker's routes.
type WorkerView struct {
	Worker    netip.Addr
	RD        evpn.RD // the worker's own; zero when it has none
	Announced int     // routes it announces, refused ones included
	Accepted  int
	Stale     int
	Refused   map[evpn.Reason]int
}

// query runs fn on Run's goroutine, where the table and the reconciler
// live, and waits for it.
func (v *VRF) query(ctx context.Context, fn func()) error {
	done := make(chan struct{})
	select {
	case v.events <- event{kind: eventQuery, rare: &rare{query: func() { fn(); close(done) }}}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Prefix tells what the VRF knows of p; a prefix nobody announces has no
// announcements.
func (v *VRF) Prefix(ctx context.Context, p netip.Prefix) (view PrefixView, err error) {
	err = v.query(ctx, func() { view = v.prefixView(p.Masked()) })
	return view, err
}

// Prefixes lists what the VRF knows of every prefix inside within (every
// prefix when within is not valid), by prefix, at most limit of them (0: all).
func (v *VRF) Prefixes(ctx context.Context, within netip.Prefix, limit int) (views []PrefixView, err error) {
	err = v.query(ctx, func() {
		ps := v.table.Prefixes()
		if within.IsValid() {
			ps = slices.DeleteFunc(ps, func(p netip.Prefix) bool {
				return p.Addr().Is4() != within.Addr().Is4() || !within.Contains(p.Addr()) || p.Bits() < within.Bits()
			})
		}
		slices.SortFunc(ps, comparePrefixes)
		if limit > 0 && len(ps) > limit {
			ps = ps[:limit]
		}
		for _, p := range ps {
			views = append(views, v.prefixView(p))
		}
	})
	return views, err
}

// Workers lists what the VRF knows of each worker that announces routes.
func (v *VRF) Workers(ctx context.Context) (views []WorkerView, err error) {
	err = v.query(ctx, func() {
		for w, routes := range v.table.byWorker {
			wv := WorkerView{Worker: w, Refused: map[evpn.Reason]int{}}
			wv.RD = v.table.workerRD[w]
			for _, e := range routes {
				wv.Announced++
				if e.refusal != nil {
					wv.Refused[e.refusal.Reason]++
				} else {
					wv.Accepted++
				}
				if e.stale {
					wv.Stale++
				}
			}
			views = append(views, wv)
		}
		slices.SortFunc(views, func(a, b WorkerView) int { return a.Worker.Compare(b.Worker) })
	})
	return views, err
}

// Settings is what the VRF translates with now.
func (v *VRF) Settings(ctx context.Context) (vrf evpn.VRF, err error) {
	err = v.query(ctx, func() { vrf = v.table.vrf })
	return vrf, err
}

func (v *VRF) prefixView(p netip.Prefix) PrefixView {
	view := PrefixView{Prefix: p}
	for e := v.table.byPrefix[p].first; e != nil; e = e.next {
		view.Announcements = append(view.Announcements, Announcement{Route: e.route(p), Refusal: e.refusal, Stale: e.stale})
	}
	slices.SortFunc(view.Announcements, func(a, b Announcement) int { return a.Route.Worker.Compare(b.Route.Worker) })
	for _, t := range v.table.Desired(p, nil) {
		view.Type5 = append(view.Type5, Type5{Type5Route: t, Advertised: v.rec.Holds(t)})
	}
	return view
}

func comparePrefixes(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// Holds tells whether the fabric holds t exactly as it is.
func (r *Reconciler) Holds(t evpn.Type5Route) bool {
	a, had := r.adverts(t.Prefix)
	if !had {
		return false
	}
	have, ok := a.find(keyOf(t))
	return ok && have.sum == r.advert(t).sum
}
