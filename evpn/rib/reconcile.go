package rib

import (
	"errors"
	"hash/maphash"
	"net/netip"

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
	advertised map[netip.Prefix]advert
	sent       Sent
	seed       maphash.Seed

	withdraw, advertise []evpn.Type5Route // reused by each chunk
	enc                 []byte
}

// advert is what the reconciler remembers of a route it advertised: enough
// to withdraw it, and a fingerprint of the whole route to tell whether a
// desired route differs. A full copy would cost three times the memory,
// about 300 bytes per route more; two different routes share a 64-bit
// fingerprint with a chance of one in 2^64 per change.
type advert struct {
	rd          evpn.RD
	ethernetTag uint32
	label       uint32
	gatewayIP   netip.Addr
	sum         uint64
}

// withdrawal is the route that takes back a, the prefix's advertisement.
func (a advert) withdrawal(prefix netip.Prefix) evpn.Type5Route {
	return evpn.Type5Route{RD: a.rd, EthernetTag: a.ethernetTag, Prefix: prefix, GatewayIP: a.gatewayIP, Label: a.label}
}

func (r *Reconciler) advert(t evpn.Type5Route) advert {
	r.enc, _ = t.AppendBinary(r.enc[:0])
	return advert{rd: t.RD, ethernetTag: t.EthernetTag, label: t.Label, gatewayIP: t.GatewayIP,
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
	return &Reconciler{fabric: fabric, advertised: make(map[netip.Prefix]advert), seed: maphash.MakeSeed()}
}

// Sent is how many advertisements and withdrawals the fabric has taken.
func (r *Reconciler) Sent() Sent { return r.sent }

// Advertised is how many routes the fabric holds from this reconciler.
func (r *Reconciler) Advertised() int { return len(r.advertised) }

// Prefixes returns the prefixes currently advertised.
func (r *Reconciler) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(r.advertised))
	for p := range r.advertised {
		out = append(out, p)
	}
	return out
}

// Reconcile brings the given prefixes in line with desired: it withdraws what
// is no longer wanted, then advertises what is new or changed. It returns the
// prefixes it could not bring in line; what it reports as advertised is what
// the fabric accepted, even after a partial failure.
func (r *Reconciler) Reconcile(prefixes []netip.Prefix, desired func(netip.Prefix) (evpn.Type5Route, bool)) (failed []netip.Prefix, err error) {
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

func (r *Reconciler) reconcile(prefixes []netip.Prefix, desired func(netip.Prefix) (evpn.Type5Route, bool)) (failed []netip.Prefix, err error) {
	withdraw, advertise := r.withdraw[:0], r.advertise[:0]
	for _, p := range prefixes {
		want, ok := desired(p)
		have, had := r.advertised[p]
		switch {
		case !ok && had:
			withdraw = append(withdraw, have.withdrawal(p))
		case ok && !had:
			advertise = append(advertise, want)
		case ok && had && r.advert(want).sum != have.sum:
			advertise = append(advertise, want)
			if want.RD != have.rd || want.EthernetTag != have.ethernetTag { // a different route
				withdraw = append(withdraw, have.withdrawal(p))
			}
		}
	}
	// Advertisements go first: a route that moves to another RD is in the
	// fabric under the new one before the old one is withdrawn, so the
	// prefix is never missing (make before break).
	f1, err1 := r.apply(advertise, r.fabric.Advertise, func(t evpn.Type5Route) {
		r.advertised[t.Prefix] = r.advert(t)
		r.sent.Advertised++
	})
	f2, err2 := r.apply(withdraw, r.fabric.Withdraw, func(t evpn.Type5Route) {
		if a, ok := r.advertised[t.Prefix]; ok && a.rd == t.RD && a.ethernetTag == t.EthernetTag {
			delete(r.advertised, t.Prefix) // not when it is the replacement's
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
