package rib

import (
	"errors"
	"hash/maphash"
	"net/netip"
	"slices"

	"github.com/t5gw/t5gw/evpn"
)

// Fabric is what the reconciler needs of the fabric speaker. Advertise also
// replaces a route already advertised under the same key. Neither may keep
// the slice it is given: the reconciler reuses it.
type Fabric interface {
	Advertise(routes []evpn.Type5Route) error
	Withdraw(routes []evpn.Type5Route) error
}

// Reconciler makes the fabric hold exactly the desired Type-5 routes of one
// VRF. It remembers what it has advertised, so it only sends differences.
type Reconciler struct {
	fabric     Fabric
	advertised map[prefixKey]advert   // a prefix's first route
	more       map[prefixKey][]advert // its others, if any
	routes     int                    // advertised, over every prefix
	sent       Sent
	seed       maphash.Seed

	withdraw, advertise, want []evpn.Type5Route // reused by each chunk
	enc                       []byte
}

// Desired appends to into the Type-5 routes prefix should have, each under
// a key (RD and Ethernet tag) of its own, and returns the result.
type Desired func(prefix netip.Prefix, into []evpn.Type5Route) []evpn.Type5Route

// One makes a Desired of a function that gives at most one route a prefix.
func One(f func(netip.Prefix) (evpn.Type5Route, bool)) Desired {
	return func(p netip.Prefix, into []evpn.Type5Route) []evpn.Type5Route {
		if t, ok := f(p); ok {
			return append(into, t)
		}
		return into
	}
}

// none is the Desired of nothing at all.
func none(_ netip.Prefix, into []evpn.Type5Route) []evpn.Type5Route { return into }

// advert is what the reconciler remembers of a route it advertised: enough
// to withdraw it, and a fingerprint of the whole route to tell whether a
// desired route differs. A full copy would cost three times the memory,
// about 300 bytes per route more; two different routes share a 64-bit
// fingerprint with a chance of one in 2^64 per change.
type advert struct {
	key       routeKey
	label     uint32
	gatewayIP addrKey
	sum       uint64
}

// routeKey is what tells apart the routes of one prefix in the fabric.
type routeKey struct {
	rd          rdKey
	ethernetTag uint32
	pathID      uint32
}

func keyOf(t evpn.Type5Route) routeKey {
	return routeKey{rd: rdKeyOf(t.RD), ethernetTag: t.EthernetTag, pathID: t.PathID}
}

// adverts is what a prefix has in the fabric: mostly one route, held in
// the advertised map; the others, when several workers announce the prefix
// under their own RDs, in a slice of a second map that prefixes with one
// route do not pay for.
type adverts struct {
	first advert
	more  []advert
}

// adverts returns what prefix has in the fabric; had is false for nothing.
func (r *Reconciler) adverts(p netip.Prefix) (a adverts, had bool) {
	k := prefixKeyOf(p)
	a.first, had = r.advertised[k]
	if had && len(r.more) > 0 { // mostly empty: one route a prefix
		a.more = r.more[k]
	}
	return a, had
}

// setAdverts records what prefix has in the fabric.
func (r *Reconciler) setAdverts(p netip.Prefix, a adverts) {
	k := prefixKeyOf(p)
	r.advertised[k] = a.first
	if len(a.more) > 0 {
		r.more[k] = a.more
	} else if len(r.more) > 0 {
		delete(r.more, k)
	}
}

func (a *adverts) find(k routeKey) (advert, bool) {
	if a.first.key == k {
		return a.first, true
	}
	for _, m := range a.more {
		if m.key == k {
			return m, true
		}
	}
	return advert{}, false
}

// put adds ad, or replaces the route with its key; added tells which.
func (a *adverts) put(ad advert) (added bool) {
	if a.first.key == ad.key {
		a.first = ad
		return false
	}
	for i, m := range a.more {
		if m.key == ad.key {
			a.more[i] = ad
			return false
		}
	}
	a.more = append(a.more, ad)
	return true
}

// drop removes the route with the key; empty tells whether none is left.
func (a *adverts) drop(k routeKey) (dropped, empty bool) {
	switch {
	case a.first.key == k:
		if len(a.more) == 0 {
			return true, true
		}
		a.first = a.more[len(a.more)-1]
	default:
		i := slices.IndexFunc(a.more, func(m advert) bool { return m.key == k })
		if i < 0 {
			return false, false
		}
		a.more[i] = a.more[len(a.more)-1]
	}
	a.more = a.more[:len(a.more)-1]
	if len(a.more) == 0 {
		a.more = nil
	}
	return true, false
}

func (a *adverts) all(yield func(advert) bool) {
	if !yield(a.first) {
		return
	}
	for _, m := range a.more {
		if !yield(m) {
			return
		}
	}
}

// withdrawal is the route that takes back a, an advertisement of prefix.
func (a advert) withdrawal(prefix netip.Prefix) evpn.Type5Route {
	return evpn.Type5Route{RD: a.key.rd.rd(), EthernetTag: a.key.ethernetTag, PathID: a.key.pathID, Prefix: prefix,
		GatewayIP: a.gatewayIP.addr(), Label: a.label}
}

func (r *Reconciler) advert(t evpn.Type5Route) advert {
	r.enc, _ = t.AppendBinary(r.enc[:0])
	return advert{key: keyOf(t), label: t.Label, gatewayIP: addrKeyOf(t.GatewayIP),
		sum: maphash.Bytes(r.seed, r.enc)}
}

// chunk is how many prefixes one fabric call covers at most: large enough
// that a call's own cost vanishes, small enough that the batches are reused
// rather than grown, whatever the number of prefixes.
const chunk = 4096

// Sent counts the routes the fabric took, by operation.
type Sent struct{ Advertised, Withdrawn uint64 }

// NewReconciler returns a reconciler that has advertised nothing yet.
func NewReconciler(fabric Fabric) *Reconciler {
	return &Reconciler{fabric: fabric, advertised: make(map[prefixKey]advert), more: make(map[prefixKey][]advert),
		seed: maphash.MakeSeed()}
}

// Sent is how many advertisements and withdrawals the fabric has taken.
func (r *Reconciler) Sent() Sent { return r.sent }

// Advertised is how many routes the fabric holds from this reconciler.
func (r *Reconciler) Advertised() int { return r.routes }

// Prefixes returns the prefixes that have at least one route advertised.
func (r *Reconciler) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(r.advertised))
	for k := range r.advertised {
		out = append(out, k.prefix())
	}
	return out
}

// Reconcile brings the given prefixes in line with desired: it advertises
// what is new or changed, then withdraws what is no longer wanted. It
// returns the prefixes it could not bring in line; what it reports as
// advertised is what the fabric accepted, even after a partial failure.
func (r *Reconciler) Reconcile(prefixes []netip.Prefix, desired Desired) (failed []netip.Prefix, err error) {
	var errs []error
	for len(prefixes) > 0 {
		n := min(len(prefixes), chunk)
		f, err := r.reconcile(prefixes[:n], desired)
		failed = append(failed, f...)
		if err != nil {
			errs = append(errs, err)
		}
		prefixes = prefixes[n:]
	}
	return failed, errors.Join(errs...)
}

func (r *Reconciler) reconcile(prefixes []netip.Prefix, desired Desired) (failed []netip.Prefix, err error) {
	withdraw, advertise := r.withdraw[:0], r.advertise[:0]
	for _, p := range prefixes {
		want := desired(p, r.want[:0])
		have, had := r.adverts(p)
		for _, w := range want {
			if a, ok := have.find(keyOf(w)); !had || !ok || r.advert(w).sum != a.sum {
				advertise = append(advertise, w)
			}
		}
		if had {
			for a := range have.all {
				if !slices.ContainsFunc(want, func(w evpn.Type5Route) bool { return keyOf(w) == a.key }) {
					withdraw = append(withdraw, a.withdrawal(p))
				}
			}
		}
		clear(want)
		r.want = want[:0]
	}
	// Advertisements go first: a route that moves to another RD is in the
	// fabric under the new one before the old one is withdrawn, so the
	// prefix is never missing (make before break).
	f1, err1 := r.apply(advertise, r.fabric.Advertise, func(t evpn.Type5Route) {
		a, had := r.adverts(t.Prefix)
		if !had {
			a.first = r.advert(t)
			r.routes++
		} else if a.put(r.advert(t)) {
			r.routes++
		}
		r.setAdverts(t.Prefix, a)
		r.sent.Advertised++
	})
	f2, err2 := r.apply(withdraw, r.fabric.Withdraw, func(t evpn.Type5Route) {
		if a, ok := r.adverts(t.Prefix); ok {
			dropped, empty := a.drop(keyOf(t))
			switch {
			case empty:
				k := prefixKeyOf(t.Prefix)
				delete(r.advertised, k)
				if len(r.more) > 0 {
					delete(r.more, k)
				}
			case dropped:
				r.setAdverts(t.Prefix, a)
			}
			if dropped {
				r.routes--
			}
		}
		r.sent.Withdrawn++
	})
	clear(withdraw) // let go of what the routes point to
	clear(advertise)
	r.withdraw, r.advertise = withdraw, advertise
	return append(f1, f2...), errors.Join(err1, err2)
}

// apply sends routes in one batch; when the batch fails it sends them one by
// one to learn which the fabric took.
func (r *Reconciler) apply(routes []evpn.Type5Route, send func([]evpn.Type5Route) error, done func(evpn.Type5Route)) ([]netip.Prefix, error) {
	if len(routes) == 0 {
		return nil, nil
	}
	if err := send(routes); err == nil {
		for _, t := range routes {
			done(t)
		}
		return nil, nil
	}
	var failed []netip.Prefix
	var errs []error
	for _, t := range routes {
		if err := send([]evpn.Type5Route{t}); err != nil {
			failed = append(failed, t.Prefix)
			errs = append(errs, err)
			continue
		}
		done(t)
	}
	return failed, errors.Join(errs...)
}
