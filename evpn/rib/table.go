package rib

import (
	"net/netip"

	"github.com/t5gw/t5gw/evpn"
)

// entry is one worker's announcement of one prefix. Its Type-5 route is made
// when needed (Best), which costs less than holding one per announcement.
type entry struct {
	route   evpn.Route
	refusal *evpn.Refusal // nil when the route can be translated
}

// Table holds every route the workers of one VRF announce, refused ones
// included, so that several workers may announce one prefix and a worker's
// routes can all be dropped at once when its session ends.
type Table struct {
	vrf      evpn.VRF
	byWorker map[netip.Addr]map[netip.Prefix]*entry
	byPrefix map[netip.Prefix][]*entry
	dirty    map[netip.Prefix]struct{}
	refused  map[evpn.Reason]int
	routes   int
}

// NewTable returns an empty table translating for vrf.
func NewTable(vrf evpn.VRF) *Table {
	return &Table{
		vrf:      vrf,
		byWorker: make(map[netip.Addr]map[netip.Prefix]*entry),
		byPrefix: make(map[netip.Prefix][]*entry),
		dirty:    make(map[netip.Prefix]struct{}),
		refused:  make(map[evpn.Reason]int),
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
	}
	old := routes[r.Prefix]
	if old != nil && old.route.Equal(r) {
		return old.refusal, false
	}
	e := t.translate(r)
	if old != nil {
		t.count(old, -1)
		*old = *e
		e = old
	} else {
		routes[r.Prefix] = e
		t.byPrefix[r.Prefix] = append(t.byPrefix[r.Prefix], e)
		t.routes++
	}
	t.count(e, +1)
	t.dirty[r.Prefix] = struct{}{}
	fresh = e.refusal != nil && (old == nil || old.refusal == nil || old.refusal.Reason != e.refusal.Reason)
	return e.refusal, fresh
}

func (t *Table) translate(r evpn.Route) *entry {
	if err := evpn.Admit(t.vrf, r); err != nil {
		return &entry{route: r, refusal: err.(*evpn.Refusal)}
	}
	return &entry{route: r}
}

func (t *Table) count(e *entry, n int) {
	if e.refusal != nil {
		t.refused[e.refusal.Reason] += n
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
		delete(t.byWorker, worker)
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
	delete(t.byWorker, worker)
	return len(routes)
}

func (t *Table) remove(prefix netip.Prefix, e *entry) {
	cands := t.byPrefix[prefix]
	for i, c := range cands {
		if c == e {
			cands[i] = cands[len(cands)-1]
			cands = cands[:len(cands)-1]
			break
		}
	}
	if len(cands) == 0 {
		delete(t.byPrefix, prefix)
	} else {
		t.byPrefix[prefix] = cands
	}
	t.count(e, -1)
	t.routes--
	t.dirty[prefix] = struct{}{}
}

// SetVRF changes the VRF's settings (a new VTEP address, say) and translates
// every route again; every prefix becomes due for reconciliation.
func (t *Table) SetVRF(vrf evpn.VRF) {
	t.vrf = vrf
	for prefix, cands := range t.byPrefix {
		for _, e := range cands {
			t.count(e, -1)
			*e = *t.translate(e.route)
			t.count(e, +1)
		}
		t.dirty[prefix] = struct{}{}
	}
}

// Best returns the Type-5 route prefix should produce: among the workers whose
// announcement can be translated, the shortest AS path, then the lowest MED,
// then the lowest worker address, so the choice is stable.
func (t *Table) Best(prefix netip.Prefix) (evpn.Type5Route, bool) {
	var best *entry
	for _, e := range t.byPrefix[prefix] {
		if e.refusal == nil && (best == nil || better(e.route, best.route)) {
			best = e
		}
	}
	if best == nil {
		return evpn.Type5Route{}, false
	}
	type5, err := evpn.Translate(t.vrf, best.route)
	return type5, err == nil // admitted when entered, so err is nil
}

func better(a, b evpn.Route) bool {
	if la, lb := a.ASPathLen(), b.ASPathLen(); la != lb {
		return la < lb
	}
	if a.MED != b.MED {
		return a.MED < b.MED
	}
	return a.Worker.Less(b.Worker)
}

// TakeDirty returns the prefixes changed since the last call and forgets them.
func (t *Table) TakeDirty() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(t.dirty))
	for p := range t.dirty {
		out = append(out, p)
	}
	clear(t.dirty)
	return out
}

// MarkDirty makes prefixes due for reconciliation again.
func (t *Table) MarkDirty(prefixes []netip.Prefix) {
	for _, p := range prefixes {
		t.dirty[p] = struct{}{}
	}
}

// Prefixes returns every prefix some worker announces.
func (t *Table) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(t.byPrefix))
	for p := range t.byPrefix {
		out = append(out, p)
	}
	return out
}

// Routes is how many announcements the table holds, refused ones included.
func (t *Table) Routes() int { return t.routes }

// Workers is how many workers announce at least one route.
func (t *Table) Workers() int { return len(t.byWorker) }

// Refused is how many held announcements are refused, per reason.
func (t *Table) Refused(reason evpn.Reason) int { return t.refused[reason] }
