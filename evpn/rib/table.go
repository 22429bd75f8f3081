package rib

import (
	"net/netip"

	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rds"
)

// prefixState is what the table knows of one prefix: who announces it, and
// whether it changed since the last TakeDirty. A prefix nobody announces
// any more stays until TakeDirty has handed it over, so that it is withdrawn.
type prefixState struct {
	first *entry
	dirty bool
}

// Table holds every route the workers of one VRF announce, refused ones
// included, so that several workers may announce one prefix and a worker's
// routes can all be dropped at once when its session ends. A route costs
// about 240 bytes here (BenchmarkReconcile).
type Table struct {
	vrf      evpn.VRF
	rds      RDs
	workerRD map[netip.Addr]evpn.RD // each worker's RD, for PathsPerWorker
	resolved func(netip.Addr) bool  // whether the fabric resolves a gateway IP
	// gateways counts the admitted announcements per gateway IP.
	gateways        map[netip.Addr]int
	gatewaysChanged bool // a gateway IP came into use or went out of it
	byWorker        map[netip.Addr]map[netip.Prefix]*entry
	byPrefix        map[netip.Prefix]prefixState
	dirty           []netip.Prefix // in the order they changed
	refused         map[evpn.Reason]int
	routes          int
	stale           int
	// accepted counts each worker's admitted announcements per family, for
	// max-prefixes; with limited (a limit is set), counted notes those whose
	// count changed since takeCounted.
	accepted map[workerFamily]int
	counted  map[workerFamily]struct{}
	limited  bool
	// lastAttrs is the attributes of the last route entered, for the next
	// one of the same UPDATE to share.
	lastAttrs *attrs
}

// RDs hands out the per-worker route distinguishers of a node's VRFs.
type RDs interface {
	RD(o rds.Owner) (evpn.RD, bool)
	Release(o rds.Owner)
}

// NewTable returns an empty table translating for vrf. Each worker's routes
// take their RD from rds when vrf has PathsPerWorker; nil rds is an
// allocator of the table's own, under the VRF RD's IPv4 administrator.
func NewTable(vrf evpn.VRF, rds RDs) *Table {
	if rds == nil {
		rds = ownRDs(vrf.RD)
	}
	return &Table{
		vrf:      vrf,
		rds:      rds,
		workerRD: make(map[netip.Addr]evpn.RD),
		resolved: func(netip.Addr) bool { return true },
		gateways: make(map[netip.Addr]int),
		byWorker: make(map[netip.Addr]map[netip.Prefix]*entry),
		byPrefix: make(map[netip.Prefix]prefixState),
		refused:  make(map[evpn.Reason]int),
		accepted: make(map[workerFamily]int),
		counted:  make(map[workerFamily]struct{}),
	}
}

// Update records a worker's announcement. It returns the refusal when the
// route cannot be advertised and fresh is true when that refusal is new for
// this worker and prefix (so the caller logs it once).
func (t *Table) Update(r evpn.Route) (refusal *evpn.Refusal, fresh bool) {
	r.Prefix = r.Prefix.Masked()
	routes := t.byWorker[r.Worker]
	if routes == nil {
		routes = make(map[netip.Prefix]*entry)
		t.byWorker[r.Worker] = routes
		t.assignRD(r.Worker)
	}
	e := routes[r.Prefix]
	if e != nil && e.attrs.carries(r) {
		t.fresh(e)
		return e.refusal, false
	}
	var was *evpn.Refusal
	st := t.byPrefix[r.Prefix]
	if e == nil {
		e = &entry{}
		routes[r.Prefix] = e
		e.next, st.first = st.first, e
		t.routes++
	} else {
		was = e.refusal
		t.count(r.Prefix, e, -1)
		t.fresh(e)
	}
	e.worker, e.attrs, e.refusal = r.Worker, t.attrsOf(r), t.admit(r)
	t.count(r.Prefix, e, +1)
	t.byPrefix[r.Prefix] = t.markDirty(r.Prefix, st)
	fresh = e.refusal != nil && (was == nil || was.Reason != e.refusal.Reason)
	return e.refusal, fresh
}

// admit returns why r cannot be advertised, or nil.
func (t *Table) admit(r evpn.Route) *evpn.Refusal {
	if err := evpn.Admit(t.vrf, r); err != nil {
		return err.(*evpn.Refusal)
	}
	return nil
}

func (t *Table) count(prefix netip.Prefix, e *entry, n int) {
	if e.refusal != nil {
		t.refused[e.refusal.Reason] += n
		return
	}
	wf := workerFamily{e.worker, evpn.FamilyOf(prefix)}
	if t.accepted[wf] += n; t.accepted[wf] == 0 {
		delete(t.accepted, wf)
	}
	if t.limited {
		t.counted[wf] = struct{}{}
	}
	gw := e.attrs.nextHop
	t.gateways[gw] += n
	switch t.gateways[gw] {
	case 0: // no route uses it any more
		delete(t.gateways, gw)
		t.gatewaysChanged = true
	case n: // the first route to use it
		t.gatewaysChanged = true
	}
}

// Withdraw removes a worker's announcement of prefix.
func (t *Table) Withdraw(worker netip.Addr, prefix netip.Prefix) {
	prefix = prefix.Masked()
	routes := t.byWorker[worker]
	e := routes[prefix]
	if e == nil {
		return
	}
	delete(routes, prefix)
	if len(routes) == 0 {
		t.forget(worker)
	}
	t.remove(prefix, e)
}

// DropWorker removes every announcement of worker, as when its session ends,
// and returns how many there were.
func (t *Table) DropWorker(worker netip.Addr) int {
	routes := t.byWorker[worker]
	for prefix, e := range routes {
		t.remove(prefix, e)
	}
	if routes != nil {
		t.forget(worker)
	}
	return len(routes)
}

func (t *Table) remove(prefix netip.Prefix, e *entry) {
	st := t.byPrefix[prefix]
	for at := &st.first; *at != nil; at = &(*at).next {
		if *at == e {
			*at = e.next
			break
		}
	}
	t.byPrefix[prefix] = t.markDirty(prefix, st) // kept, even empty, until TakeDirty
	t.count(prefix, e, -1)
	t.fresh(e)
	t.routes--
}

// fresh clears e's stale mark: the worker announced it again.
func (t *Table) fresh(e *entry) {
	if e.stale {
		e.stale = false
		t.stale--
	}
}

// MarkStale marks every route of worker stale, as when its session ends in a
// graceful restart: the routes stay, and nothing is due for reconciliation.
// It returns how many routes the worker has.
func (t *Table) MarkStale(worker netip.Addr) int {
	routes := t.byWorker[worker]
	for _, e := range routes {
		if !e.stale {
			e.stale = true
			t.stale++
		}
	}
	return len(routes)
}

// SweepStale removes the worker's routes of the families fams that are still
// stale, as at its End-of-RIB, and returns how many it removed.
func (t *Table) SweepStale(worker netip.Addr, fams evpn.Families) int {
	routes := t.byWorker[worker]
	n := 0
	for prefix, e := range routes {
		if e.stale && fams.Has(evpn.FamilyOf(prefix)) {
			delete(routes, prefix)
			t.remove(prefix, e)
			n++
		}
	}
	if routes != nil && len(routes) == 0 {
		t.forget(worker)
	}
	return n
}

// StaleOf is how many of the worker's routes are stale.
func (t *Table) StaleOf(worker netip.Addr) int {
	n := 0
	for _, e := range t.byWorker[worker] {
		if e.stale {
			n++
		}
	}
	return n
}

// Stale is how many routes are stale, of every worker.
func (t *Table) Stale() int { return t.stale }

// markDirty returns st marked dirty, noting prefix once.
func (t *Table) markDirty(prefix netip.Prefix, st prefixState) prefixState {
	if !st.dirty {
		st.dirty = true
		t.dirty = append(t.dirty, prefix)
	}
	return st
}

// SetVRF changes the VRF's settings (a new VTEP address, say) and translates
// every route again; every prefix becomes due for reconciliation.
func (t *Table) SetVRF(vrf evpn.VRF) {
	t.vrf = vrf
	t.gatewaysChanged = true
	for prefix, st := range t.byPrefix {
		for e := st.first; e != nil; e = e.next {
			t.count(prefix, e, -1)
			e.refusal = t.admit(e.route(prefix))
			t.count(prefix, e, +1)
		}
		t.byPrefix[prefix] = t.markDirty(prefix, st)
	}
}

// Best returns the Type-5 route prefix should produce: among the workers whose
// announcement can be translated, the shortest AS path, then the lowest MED,
// then the lowest worker address, so the choice is stable.
func (t *Table) Best(prefix netip.Prefix) (evpn.Type5Route, bool) {
	var best *entry
	for e := t.byPrefix[prefix].first; e != nil; e = e.next {
		if e.refusal == nil && (best == nil || better(e, best)) {
			best = e
		}
	}
	if best == nil {
		return evpn.Type5Route{}, false
	}
	type5, err := evpn.Translate(t.vrf, best.route(prefix))
	return type5, err == nil // admitted when entered, so err is nil
}

// TakeDirty returns the prefixes changed since the last call and forgets
// them, and the prefixes nobody announces any more with them.
func (t *Table) TakeDirty() []netip.Prefix {
	out := t.dirty
	t.dirty = nil
	for _, p := range out {
		st := t.byPrefix[p]
		if st.first == nil {
			delete(t.byPrefix, p)
			continue
		}
		st.dirty = false
		t.byPrefix[p] = st
	}
	return out
}

// MarkDirty makes prefixes due for reconciliation again.
func (t *Table) MarkDirty(prefixes []netip.Prefix) {
	for _, p := range prefixes {
		t.byPrefix[p] = t.markDirty(p, t.byPrefix[p])
	}
}

// Prefixes returns every prefix some worker announces.
func (t *Table) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(t.byPrefix))
	for p, st := range t.byPrefix {
		if st.first != nil {
			out = append(out, p)
		}
	}
	return out
}

// Routes is how many announcements the table holds, refused ones included.
func (t *Table) Routes() int { return t.routes }

// Workers is how many workers announce at least one route.
func (t *Table) Workers() int { return len(t.byWorker) }

// Refused is how many held announcements are refused, per reason.
func (t *Table) Refused(reason evpn.Reason) int { return t.refused[reason] }
