package rib

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/t5gw/t5gw/evpn"
)

// event is one thing that happened to the workers of a VRF.
type event struct {
	worker    netip.Addr
	announced []evpn.Route
	withdrawn []netip.Prefix
	down      bool      // the worker's session ended: drop all its routes
	vrf       *evpn.VRF // new VRF settings
}

// Stats is a snapshot of one VRF, for metrics and status.
type Stats struct {
	Workers       int                 // workers announcing at least one route
	Received      int                 // announcements held, refused ones included
	Advertised    int                 // Type-5 routes the fabric holds
	Refused       map[evpn.Reason]int // announcements held but refused, per reason
	RefusalsTotal map[evpn.Reason]uint64
	Pending       int // prefixes the fabric has not taken yet (retrying)
	Sent          Sent
}

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

	refusals map[evpn.Reason]uint64 // owned by Run

	mu    sync.Mutex
	stats Stats
}

// retryAfter is how long a prefix the fabric refused waits before another try.
const retryAfter = time.Second

// NewVRF returns a VRF pipeline for vrf that advertises through fabric and
// keeps each of others (the kernel's VRF table, say) holding the same routes.
func NewVRF(vrf evpn.VRF, fabric Fabric, log *slog.Logger, others ...Fabric) *VRF {
	var recs []*Reconciler
	for _, o := range others {
		recs = append(recs, NewReconciler(o))
	}
	return &VRF{
		others:   recs,
		name:     vrf.Name,
		log:      log.With("vrf", vrf.Name),
		events:   make(chan event, 4096),
		table:    NewTable(vrf),
		rec:      NewReconciler(fabric),
		refusals: map[evpn.Reason]uint64{},
		stats:    Stats{Refused: map[evpn.Reason]int{}, RefusalsTotal: map[evpn.Reason]uint64{}},
	}
}

// Name is the VRF's name.
func (v *VRF) Name() string { return v.name }

// Learn hands over what one UPDATE from worker announced and withdrew.
func (v *VRF) Learn(worker netip.Addr, announced []evpn.Route, withdrawn []netip.Prefix) {
	v.events <- event{worker: worker, announced: announced, withdrawn: withdrawn}
}

// WorkerDown says the worker's session ended; all its routes go at once.
func (v *VRF) WorkerDown(worker netip.Addr) {
	v.events <- event{worker: worker, down: true}
}

// SetVRF changes the VRF's settings (a new VTEP address, say); every route is
// translated again and the fabric updated.
func (v *VRF) SetVRF(vrf evpn.VRF) {
	v.events <- event{vrf: &vrf}
}

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

// Run applies events in batches until ctx ends. Before returning it withdraws
// every route it advertised, so a VRF that stops leaves nothing behind.
func (v *VRF) Run(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		select {
		case <-ctx.Done():
			v.withdrawAll()
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
		}
		dirty := v.table.TakeDirty()
		failed, err := v.rec.Reconcile(dirty, v.table.Best)
		if err != nil {
			v.log.Warn("fabric did not take every route; retrying", "failed", len(failed), "err", err)
		}
		for _, o := range v.others {
			f, err := o.Reconcile(dirty, v.table.Best)
			if err != nil {
				v.log.Warn("kernel did not take every route; retrying", "failed", len(f), "err", err)
			}
			failed = append(failed, f...)
		}
		if len(failed) > 0 {
			v.table.MarkDirty(failed)
			retry.Reset(retryAfter)
		}
		v.publish(len(failed))
	}
}

func (v *VRF) apply(ev event) {
	switch {
	case ev.vrf != nil:
		v.table.SetVRF(*ev.vrf)
	case ev.down:
		if n := v.table.DropWorker(ev.worker); n > 0 {
			v.log.Info("worker down: withdrawing its routes", "worker", ev.worker, "routes", n)
		}
	default:
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

func (v *VRF) publish(pending int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.stats.Workers = v.table.Workers()
	v.stats.Received = v.table.Routes()
	v.stats.Advertised = v.rec.Advertised()
	v.stats.Pending = pending
	v.stats.Sent = v.rec.Sent()
	for _, r := range evpn.Reasons {
		v.stats.Refused[r] = v.table.Refused(r)
		v.stats.RefusalsTotal[r] = v.refusals[r]
	}
}

func (v *VRF) withdrawAll() {
	none := func(netip.Prefix) (evpn.Type5Route, bool) { return evpn.Type5Route{}, false }
	for _, r := range append([]*Reconciler{v.rec}, v.others...) {
		if _, err := r.Reconcile(r.Prefixes(), none); err != nil {
			v.log.Warn("withdrawing routes at stop", "err", err)
		}
	}
	v.publish(0)
}
