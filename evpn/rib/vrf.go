package rib

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/resolve"
)

// event is one thing that happened to the workers of a VRF, or to its
// settings. What only the rare kinds carry sits behind a pointer: the queue
// holds thousands of events, and each VRF has one.
type event struct {
	kind      eventKind
	families  evpn.Families // eventUp: preserved; eventEndOfRIB: done
	worker    netip.Addr
	announced []evpn.Route
	withdrawn []netip.Prefix
	keep      time.Duration // eventDown: how long a restarting worker's routes stay
	*rare
}

// rare is what settings, kernel, flush, located, query and limit events carry.
type rare struct {
	vrf     evpn.VRF      // eventSettings
	kernel  Fabric        // eventKernel
	flushed chan struct{} // eventFlush
	located []netip.Addr  // eventLocated
	query   func()        // eventQuery
	limit   Limit         // eventLimit
}

type eventKind uint8

const (
	eventLearn eventKind = iota
	eventDown
	eventUp
	eventEndOfRIB
	eventSettings
	eventKernel
	eventResync
	eventFlush
	eventLocated
	eventQuery
	eventLimit
)

// StalePathTime bounds how long a restarted worker's stale routes wait for
// its End-of-RIB once its session is back (FRR's stalepath-time): a worker
// that never sends one does not keep them forever.
const StalePathTime = 360 * time.Second

// Stats is a snapshot of one VRF, for metrics and status.
type Stats struct {
	Workers       int                 // workers announcing at least one route
	Received      int                 // announcements held, refused ones included
	Advertised    int                 // Type-5 routes the fabric holds
	Refused       map[evpn.Reason]int // announcements held but refused, per reason
	RefusalsTotal map[evpn.Reason]uint64
	Pending       int // prefixes the fabric has not taken yet (retrying)
	Stale         int // routes of restarting workers, kept until they are back
	Sent          Sent
	// GatewayIPs is how many gateway IPs the VRF's routes use (VRF.Gateways
	// lists them); Unresolved counts those the fabric does not resolve.
	GatewayIPs int
	Unresolved int
	Moves      uint64 // gateway IPs seen moving from one VTEP to another
	// NearLimit counts the workers' families past the max-prefixes warning;
	// Cutoffs, the workers cut off for going over max-prefixes.
	NearLimit int
	Cutoffs   uint64
}

// Gateway is one gateway IP of a VRF: how many routes use it, and where the
// fabric resolves it.
type Gateway struct {
	resolve.Location
	Routes int    `json:"announcements"`
	RD     string `json:"rd,omitempty"` // the worker's own RD, when the gateway IP is a worker's
	// Synced is false while the fabric has not sent its Type-2 routes once:
	// until then an unresolved gateway IP may just not be known yet.
	Synced bool `json:"fabric-synced"`
}

// Locator says where the fabric resolves gateway IPs, in the VRF of an
// L3VNI (a Type-2 route of symmetric IRB resolves only in its own). Synced
// is false until the fabric has sent its Type-2 routes once: before,
// nothing counts as unresolved.
type Locator interface {
	Lookup(ip netip.Addr, l3vni uint32) resolve.Location
	Synced() bool
}

// Option is a setting of a VRF pipeline.
type Option func(*VRF)

// WithRDs makes the pipeline take its workers' RDs from rds, which every VRF
// of the node shares, rather than from one of its own.
func WithRDs(r RDs) Option { return func(v *VRF) { v.rds = r } }

// WithReconcileTime makes the pipeline tell f how long each reconcile took;
// nil is nobody.
func WithReconcileTime(f func(time.Duration)) Option { return func(v *VRF) { v.reconciled = f } }

// WithLocator makes the pipeline follow where the fabric resolves its
// gateway IPs, for its unresolved policy, its logs and its stats.
func WithLocator(l Locator) Option { return func(v *VRF) { v.where = l } }

// VRF follows the workers of one tenant VRF and keeps the fabric holding
// exactly their translated routes. Learn and WorkerDown may be called from any
// goroutine; Run does the work in one.
type VRF struct {
	name   string
	log    *slog.Logger
	events chan event
	table  *Table
	rec    *Reconciler   // the fabric
	others []*Reconciler // further targets, such as the kernel's VRF table

	refusals   map[evpn.Reason]uint64   // owned by Run
	stale      map[netip.Addr]time.Time // owned by Run: when a worker's stale routes go
	flushed    []chan struct{}          // owned by Run: closed after the next reconcile
	keep       atomic.Bool              // at stop, leave the routes where they are
	rds        RDs
	where      Locator
	reconciled func(time.Duration)
	located    map[netip.Addr]sighting // owned by Run: gateway IPs in use, as last seen
	moves      uint64                  // owned by Run
	synced     bool                    // owned by Run: where was synced at the last look
	limit      Limit                   // owned by Run
	cutOff     CutOff
	cut        map[netip.Addr]struct{}   // owned by Run: workers cut off, until their session ends
	near       map[workerFamily]struct{} // owned by Run: past the warning
	cutoffs    uint64                    // owned by Run

	mu    sync.Mutex
	stats Stats
}

// eventQueue is how many events wait for Run before a sender blocks: enough
// for a burst of UPDATEs from many workers, at about 100 bytes each.
const eventQueue = 1024

// retryAfter is how long a prefix the fabric refused waits before another try.
const retryAfter = time.Second

// NewVRF returns a VRF pipeline for vrf that advertises through fabric.
func NewVRF(vrf evpn.VRF, fabric Fabric, log *slog.Logger, opts ...Option) *VRF {
	v := &VRF{
		name:     vrf.Name,
		log:      log.With("vrf", vrf.Name),
		events:   make(chan event, eventQueue),
		rec:      NewReconciler(fabric),
		refusals: map[evpn.Reason]uint64{},
		stale:    map[netip.Addr]time.Time{},
		located:  map[netip.Addr]sighting{},
		cut:      map[netip.Addr]struct{}{},
		near:     map[workerFamily]struct{}{},
		stats:    Stats{Refused: map[evpn.Reason]int{}, RefusalsTotal: map[evpn.Reason]uint64{}},
	}
	for _, o := range opts {
		o(v)
	}
	v.table = NewTable(vrf, v.rds)
	v.table.limited = v.limit.Max > 0
	if v.where != nil {
		v.table.SetResolver(v.resolves)
	}
	return v
}

// resolves tells whether the fabric resolves gw; before the fabric has sent
// its Type-2 routes once, every gateway IP counts as resolved.
func (v *VRF) resolves(gw netip.Addr) bool {
	return !v.where.Synced() || v.where.Lookup(gw, v.table.vrf.L3VNI).Resolved
}

// Located says the fabric's view of the gateway IPs ips changed (a Type-2
// route came or went, a worker moved), or with none that the fabric has
// sent all its Type-2 routes.
func (v *VRF) Located(ips []netip.Addr) {
	v.events <- event{kind: eventLocated, rare: &rare{located: ips}}
}

// Name is the VRF's name.
func (v *VRF) Name() string { return v.name }

// Learn hands over what one UPDATE from worker announced and withdrew.
func (v *VRF) Learn(worker netip.Addr, announced []evpn.Route, withdrawn []netip.Prefix) {
	v.events <- event{kind: eventLearn, worker: worker, announced: announced, withdrawn: withdrawn}
}

// WorkerDown says the worker's session ended. With keep 0 its routes go at
// once; otherwise the worker is restarting (RFC 4724) and its routes stay,
// marked stale, for keep or until it is back and sends End-of-RIB.
func (v *VRF) WorkerDown(worker netip.Addr, keep time.Duration) {
	v.events <- event{kind: eventDown, worker: worker, keep: keep}
}

// WorkerUp says the worker's session is established again; of its stale
// routes, those of the families it did not preserve go at once.
func (v *VRF) WorkerUp(worker netip.Addr, preserved evpn.Families) {
	v.events <- event{kind: eventUp, worker: worker, families: preserved}
}

// EndOfRIB says the worker has sent all its routes of the families: its
// routes of those families still stale go.
func (v *VRF) EndOfRIB(worker netip.Addr, families evpn.Families) {
	v.events <- event{kind: eventEndOfRIB, worker: worker, families: families}
}

// SetVRF changes the VRF's settings (a new VTEP address, say); every route is
// translated again and the fabric updated.
func (v *VRF) SetVRF(vrf evpn.VRF) {
	v.events <- event{kind: eventSettings, rare: &rare{vrf: vrf}}
}

// SetKernel changes the second target that holds the VRF's routes (the
// kernel's VRF table): the old one gives back every route, the new one, if
// not nil, takes them all.
func (v *VRF) SetKernel(kernel Fabric) {
	v.events <- event{kind: eventKernel, rare: &rare{kernel: kernel}}
}

// Resync makes the pipeline advertise every route again, as to a fabric
// speaker that has just started and holds nothing.
func (v *VRF) Resync() {
	v.events <- event{kind: eventResync}
}

// Flush returns a channel that is closed once everything handed to the
// pipeline before the call has been reconciled.
func (v *VRF) Flush() <-chan struct{} {
	done := make(chan struct{})
	v.events <- event{kind: eventFlush, rare: &rare{flushed: done}}
	return done
}

// Keep makes Run leave the routes in the fabric and the kernel when it
// stops, as for a graceful restart: the fabric's helpers keep them until
// t5gwd is back.
func (v *VRF) Keep() { v.keep.Store(true) }

// Stats returns a snapshot of the VRF's counts.
func (v *VRF) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.stats
	s.Refused = make(map[evpn.Reason]int, len(v.stats.Refused))
	for k, n := range v.stats.Refused {
		s.Refused[k] = n
	}
	s.RefusalsTotal = make(map[evpn.Reason]uint64, len(v.stats.RefusalsTotal))
	for k, n := range v.stats.RefusalsTotal {
		s.RefusalsTotal[k] = n
	}
	return s
}

// Run applies events in batches until ctx ends. Before returning it
// withdraws every route it advertised, unless Keep was called, so a VRF that
// stops leaves nothing behind.
func (v *VRF) Run(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	expire := time.NewTimer(time.Hour)
	expire.Stop()
	for {
		select {
		case <-ctx.Done():
			if !v.keep.Load() {
				v.withdrawAll()
			}
			return
		case ev := <-v.events:
			v.apply(ev)
		drain:
			for range 1024 { // take what is queued, so a burst costs one reconcile
				select {
				case ev := <-v.events:
					v.apply(ev)
				default:
					break drain
				}
			}
		case <-retry.C:
		case <-expire.C:
			v.expireStale(time.Now())
		}
		v.checkLimits()
		v.resetExpiry(expire)
		start := time.Now()
		dirty := v.table.TakeDirty()
		failed, err := v.rec.Reconcile(dirty, v.table.Desired)
		if err != nil {
			v.log.Warn("fabric did not take every route; retrying", "failed", len(failed), "err", err)
		}
		for _, o := range v.others {
			f, err := o.Reconcile(dirty, One(v.table.Best))
			if err != nil {
				v.log.Warn("kernel did not take every route; retrying", "failed", len(f), "err", err)
			}
			failed = append(failed, f...)
		}
		if len(failed) > 0 {
			v.table.MarkDirty(failed)
			retry.Reset(retryAfter)
		}
		if v.reconciled != nil && len(dirty) > 0 {
			v.reconciled(time.Since(start))
		}
		v.publish(len(failed))
		for _, c := range v.flushed {
			close(c)
		}
		v.flushed = v.flushed[:0]
	}
}

func (v *VRF) apply(ev event) {
	switch ev.kind {
	case eventSettings:
		v.table.SetVRF(ev.vrf)
	case eventKernel:
		v.setKernel(ev.kernel)
	case eventResync:
		rec := NewReconciler(v.rec.fabric)
		rec.sent = v.rec.sent // counters go on
		v.rec = rec
		v.table.MarkDirty(v.table.Prefixes())
	case eventFlush:
		v.flushed = append(v.flushed, ev.flushed)
	case eventQuery:
		ev.query()
	case eventLimit:
		v.setLimit(ev.limit)
	case eventLocated:
		v.table.gatewaysChanged = true // look again at every gateway IP
		if v.table.vrf.Unresolved == evpn.UnresolvedAdvertise {
			return
		}
		if len(ev.located) == 0 { // synced: every gateway IP may have changed
			for _, r := range v.located {
				v.table.MarkGateway(r.IP)
			}
		}
		for _, ip := range ev.located {
			v.table.MarkGateway(ip)
		}
	case eventDown:
		delete(v.cut, ev.worker) // what it sends from now on is a new session's
		v.down(ev.worker, ev.keep)
	case eventUp:
		if n := v.table.SweepStale(ev.worker, evpn.AllFamilies&^ev.families); n > 0 {
			v.log.Info("worker back without preserving some families: their stale routes withdrawn", "worker", ev.worker, "routes", n)
		}
		if v.table.StaleOf(ev.worker) > 0 {
			v.stale[ev.worker] = time.Now().Add(StalePathTime)
		} else {
			delete(v.stale, ev.worker)
		}
	case eventEndOfRIB:
		if _, restarting := v.stale[ev.worker]; !restarting {
			return
		}
		n := v.table.SweepStale(ev.worker, ev.families)
		v.log.Info("worker End-of-RIB: routes it did not announce again withdrawn", "worker", ev.worker, "routes", n)
		if v.table.StaleOf(ev.worker) == 0 {
			delete(v.stale, ev.worker)
		}
	default:
		if _, cut := v.cut[ev.worker]; cut {
			return // over max-prefixes: its session is ending
		}
		for _, p := range ev.withdrawn {
			v.table.Withdraw(ev.worker, p)
		}
		for _, r := range ev.announced {
			ref, fresh := v.table.Update(r)
			if ref == nil {
				continue
			}
			v.refusals[ref.Reason]++
			if fresh {
				v.log.Warn("route not advertised", "worker", r.Worker, "prefix", r.Prefix,
					"reason", ref.Reason, "detail", ref.Detail)
			}
		}
	}
}

// down handles the end of a worker's session: its routes go, or with keep
// they stay stale until the worker is back or keep has passed.
func (v *VRF) down(worker netip.Addr, keep time.Duration) {
	if keep <= 0 {
		delete(v.stale, worker)
		if n := v.table.DropWorker(worker); n > 0 {
			v.log.Info("worker down: withdrawing its routes", "worker", worker, "routes", n)
		}
		return
	}
	if n := v.table.MarkStale(worker); n > 0 {
		v.stale[worker] = time.Now().Add(keep)
		v.log.Info("worker restarting: its routes stay, marked stale", "worker", worker, "routes", n, "for", keep)
	}
}

// expireStale withdraws the stale routes of workers whose time is up.
func (v *VRF) expireStale(now time.Time) {
	for worker, at := range v.stale {
		if now.Before(at) {
			continue
		}
		delete(v.stale, worker)
		n := v.table.SweepStale(worker, evpn.AllFamilies)
		v.log.Warn("worker not back in time: its stale routes withdrawn", "worker", worker, "routes", n)
	}
}

// resetExpiry sets t to fire when the next worker's stale routes are due.
func (v *VRF) resetExpiry(t *time.Timer) {
	var next time.Time
	for _, at := range v.stale {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	t.Stop()
	if !next.IsZero() {
		t.Reset(time.Until(next))
	}
}

// setKernel replaces the kernel target: the old one gives back its routes,
// the new one takes every prefix.
func (v *VRF) setKernel(kernel Fabric) {
	for _, o := range v.others {
		if _, err := o.Reconcile(o.Prefixes(), none); err != nil {
			v.log.Warn("removing routes from the kernel", "err", err)
		}
	}
	v.others = nil
	if kernel != nil {
		v.others = []*Reconciler{NewReconciler(kernel)}
		v.table.MarkDirty(v.table.Prefixes())
	}
}

func (v *VRF) publish(pending int) {
	inUse, unresolved, looked := v.follow()
	v.mu.Lock()
	if looked {
		v.stats.GatewayIPs, v.stats.Unresolved = inUse, unresolved
	}
	v.stats.Moves = v.moves
	defer v.mu.Unlock()
	v.stats.Workers = v.table.Workers()
	v.stats.Received = v.table.Routes()
	v.stats.Advertised = v.rec.Advertised()
	v.stats.Pending = pending
	v.stats.Sent = v.rec.Sent()
	v.stats.Stale = v.table.Stale()
	v.stats.NearLimit, v.stats.Cutoffs = len(v.near), v.cutoffs
	for _, r := range evpn.Reasons {
		v.stats.Refused[r] = v.table.Refused(r)
		v.stats.RefusalsTotal[r] = v.refusals[r]
	}
}

func (v *VRF) withdrawAll() {
	for _, r := range append([]*Reconciler{v.rec}, v.others...) {
		if _, err := r.Reconcile(r.Prefixes(), none); err != nil {
			v.log.Warn("withdrawing routes at stop", "err", err)
		}
	}
	v.publish(0)
}
