package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/t5gw/t5gw/bgp"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rib"
	"github.com/t5gw/t5gw/vrf"
)

// startRetry is how long a VRF that cannot start (its device or an address
// missing, a listener that does not bind) waits before it tries again.
const startRetry = 2 * time.Second

// tenant runs one VRF: its pipeline, which lives as long as the tenant, its
// worker speaker, and the watch on its device. One goroutine (run) owns all
// of it and selects on its inputs: settings from a reload, device events, the
// retry timer, the end. Others read its state through status.
type tenant struct {
	name     string
	log      *slog.Logger
	settings chan tenantUpdate
	done     chan struct{}
	cancel   context.CancelFunc
	keep     chan bool // at stop: true keeps the routes (graceful), false withdraws them

	// Owned by run.
	devices   chan deviceState   // what the device watch saw last
	stopWatch context.CancelFunc // ends the device watch
	cfg       tenantSettings
	pipe      *rib.VRF
	workers   *bgp.Workers
	tenant    vrf.Tenant // the device, when the VRF has one and it is there
	links     *vrf.Links

	mu     sync.Mutex // guards what status reads
	status tenantStatus
}

// tenantUpdate hands a tenant new settings; done is closed once it has
// applied them.
type tenantUpdate struct {
	settings tenantSettings
	done     chan struct{}
}

// tenantSettings is what a tenant runs with: its VRF, what translation
// needs, and the plan that led to them (empty at start).
type tenantSettings struct {
	vrf     config.VRF
	evpn    evpn.VRF // with the config's VTEP; a device's replaces it
	workers bgp.WorkersOptions
	plan    config.VRFPlan
	rds     rib.RDs     // the node's per-worker RDs
	where   rib.Locator // where the fabric resolves gateway IPs
	// speaker, if set, is told when the VRF's worker speaker starts (w) or
	// stops (nil), for its metrics; reconciled, how long each reconcile took.
	speaker    func(vrf string, w *bgp.Workers)
	reconciled func(time.Duration)
}

// tenantStatus is a tenant's state as metrics and readiness see it.
type tenantStatus struct {
	pipe    *rib.VRF
	workers *bgp.Workers // nil while the VRF is not running
	err     error        // why it is not running
	// What worker speakers that have stopped counted: the tenant's counters
	// go on across a restart of its worker speaker.
	downsBefore, cutoffsBefore uint64
	l3vni                      uint32 // the VRF's, for where its gateway IPs resolve
}

// downs is how many worker sessions have ended in the tenant's life.
func (s tenantStatus) downs() uint64 {
	if s.workers == nil {
		return s.downsBefore
	}
	return s.downsBefore + s.workers.SessionDowns()
}

// cutoffs is how many workers went over max-prefixes in the tenant's life.
func (s tenantStatus) cutoffs() uint64 {
	if s.workers == nil {
		return s.cutoffsBefore
	}
	return s.cutoffsBefore + s.workers.MaxPrefixHits()
}

// startTenant starts the VRF's supervisor.
func startTenant(ctx context.Context, s tenantSettings, fabric rib.Fabric, log *slog.Logger) *tenant {
	ctx, cancel := context.WithCancel(ctx)
	t := &tenant{name: s.vrf.Name, log: log.With("vrf", s.vrf.Name), settings: make(chan tenantUpdate),
		done: make(chan struct{}), cancel: cancel, keep: make(chan bool, 1), cfg: s}
	t.pipe = rib.NewVRF(s.evpn, fabric, log, rib.WithRDs(s.rds), rib.WithLocator(s.where),
		rib.WithReconcileTime(s.reconciled), rib.WithLimit(s.limit(), t.cutOff))
	t.status.pipe, t.status.l3vni = t.pipe, s.evpn.L3VNI
	go t.run(ctx)
	return t
}

// setCfg takes new settings (run's), and shows their L3VNI to readers.
func (t *tenant) setCfg(s tenantSettings) {
	t.cfg = s
	t.mu.Lock()
	t.status.l3vni = s.evpn.L3VNI
	t.mu.Unlock()
}

// l3vni is the tenant's L3VNI, as its last settings said.
func (t *tenant) l3vni() uint32 { return t.snapshot().l3vni }

// limit is max-prefixes as the pipeline counts it: accepted routes only.
func (s tenantSettings) limit() rib.Limit {
	return rib.Limit{Max: int(s.vrf.Workers.MaxPrefixes), WarnPercent: int(s.vrf.Workers.MaxPrefixesWarning)}
}

// cutOff closes the session of a worker the pipeline found over
// max-prefixes, through the worker speaker running now.
func (t *tenant) cutOff(worker netip.Addr, why string) {
	if w := t.snapshot().workers; w != nil {
		w.CutOff(worker, why)
	}
}

// update hands the tenant new settings and waits until it has applied them
// (handed its pipeline what changed, started or reset what had to).
func (t *tenant) update(s tenantSettings) {
	u := tenantUpdate{settings: s, done: make(chan struct{})}
	select {
	case t.settings <- u:
		<-u.done
	case <-t.done:
	}
}

// stop ends the tenant; with keep its routes stay in the fabric (a graceful
// restart of t5gwd), otherwise its sessions close and its routes go.
func (t *tenant) stop(keep bool) {
	t.keep <- keep
	t.cancel()
	<-t.done
}

func (t *tenant) snapshot() tenantStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

func (t *tenant) setStatus(w *bgp.Workers, err error) {
	t.mu.Lock()
	t.status.workers, t.status.err = w, err
	t.mu.Unlock()
}

func (t *tenant) run(ctx context.Context) {
	defer close(t.done)
	pipeCtx, stopPipe := context.WithCancel(context.Background())
	pipeDone := make(chan struct{})
	go func() { t.pipe.Run(pipeCtx); close(pipeDone) }()

	t.devices = make(chan deviceState, 1)
	t.watch(ctx)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	t.start(retry)
	for {
		select {
		case <-ctx.Done():
			t.stopWatch()
			keep := <-t.keep
			if keep {
				t.pipe.Keep()
			}
			t.stopWorkers(keep)
			stopPipe()
			<-pipeDone
			if t.links != nil {
				t.links.Close()
			}
			return
		case u := <-t.settings:
			t.applySettings(ctx, u.settings, retry)
			close(u.done)
		case d := <-t.devices:
			t.deviceChanged(d, retry)
		case <-retry.C:
			t.start(retry)
		}
	}
}

// applySettings takes new settings: another device starts the VRF over on it,
// anything else is applied in place.
func (t *tenant) applySettings(ctx context.Context, s tenantSettings, retry *time.Timer) {
	if s.vrf.Device != t.cfg.vrf.Device {
		t.stopWatch()
		t.setCfg(s)
		t.stopWorkers(false) // another Linux VRF: its sessions and routes start over
		t.tenant = vrf.Tenant{}
		t.watch(ctx)
		t.start(retry)
		return
	}
	t.apply(ctx, s, retry)
}

// deviceState is what the watch last saw of the VRF device.
type deviceState struct {
	tenant vrf.Tenant
	err    error
}

// watch follows the VRF device, if the VRF has one, sending its state to
// t.devices (the latest only), until stopWatch.
func (t *tenant) watch(ctx context.Context) {
	ctx, t.stopWatch = context.WithCancel(ctx)
	devices := t.devices
	if t.cfg.vrf.Device == "" {
		return
	}
	links, err := vrf.New()
	if err == nil {
		go func() { <-ctx.Done(); links.Close() }()
		err = links.Watch(ctx, t.cfg.vrf.Device, t.cfg.vrf.L3VNI, func(tn vrf.Tenant, err error) {
			select { // keep only the latest state
			case <-devices:
			default:
			}
			devices <- deviceState{tn, err}
		})
	}
	if err != nil {
		t.log.Warn("cannot watch the VRF device; changes to it will go unnoticed", "err", err)
	}
}

// start starts the worker speaker if it is not running, or arms retry.
func (t *tenant) start(retry *time.Timer) {
	if t.workers != nil {
		return
	}
	if err := t.startWorkers(); err != nil {
		t.setStatus(nil, err)
		t.log.Warn("vrf cannot start yet; retrying", "err", err, "in", startRetry)
		retry.Reset(startRetry)
		return
	}
	retry.Stop()
}

// startWorkers finds the device (if any), points the pipeline at it and
// starts the worker speaker.
func (t *tenant) startWorkers() error {
	settings := t.cfg.evpn
	if dev := t.cfg.vrf.Device; dev != "" {
		links, err := vrf.New()
		if err != nil {
			return err
		}
		tn, err := links.Tenant(dev, t.cfg.vrf.L3VNI)
		if err != nil {
			links.Close()
			return fmt.Errorf("vrf %s (%s): %w", t.name, t.cfg.vrf.File, err)
		}
		if t.links != nil {
			t.links.Close()
		}
		t.links, t.tenant = links, tn
		settings.VTEP = tn.L3VNI.VTEP
	}
	t.pipe.SetVRF(settings)
	if err := t.setKernel(); err != nil {
		return err
	}
	w, err := bgp.NewWorkers(context.Background(), t.cfg.workers, t.pipe)
	if err != nil {
		return err
	}
	t.workers = w
	t.setStatus(w, nil)
	if t.cfg.speaker != nil {
		t.cfg.speaker(t.name, w)
	}
	t.log.Info("vrf started", "l3vni", t.cfg.vrf.L3VNI, "rd", t.cfg.vrf.RD, "vtep", settings.VTEP, "listen", t.cfg.vrf.Workers.Listen)
	return nil
}

// setKernel points the pipeline's second target at the VRF's kernel table
// when install-routes is on, and at nothing otherwise.
func (t *tenant) setKernel() error {
	if !t.cfg.vrf.InstallRoutes || t.links == nil {
		t.pipe.SetKernel(nil)
		return nil
	}
	routes, err := t.links.Routes(t.tenant.Table)
	if err != nil {
		return fmt.Errorf("vrf %s: install-routes: %w", t.name, err)
	}
	t.pipe.SetKernel(routes)
	return nil
}

// stopWorkers closes the worker sessions; with keep, workers that do
// graceful restart keep their routes until they are back.
func (t *tenant) stopWorkers(keep bool) {
	if t.workers == nil {
		return
	}
	t.workers.Stop(keep)
	if t.cfg.speaker != nil {
		t.cfg.speaker(t.name, nil)
	}
	t.mu.Lock()
	t.status.downsBefore += t.workers.SessionDowns()
	t.status.cutoffsBefore += t.workers.MaxPrefixHits()
	t.mu.Unlock()
	t.workers = nil
	t.setStatus(nil, fmt.Errorf("stopped"))
}

func (t *tenant) deviceChanged(d deviceState, retry *time.Timer) {
	switch {
	case d.err != nil && t.workers != nil:
		t.log.Warn("vrf device gone: closing its sessions and withdrawing its routes", "err", d.err)
		t.stopWorkers(false)
		t.pipe.SetKernel(nil)
		t.setStatus(nil, d.err)
	case d.err != nil:
	case t.workers == nil:
		t.log.Info("vrf device back: starting", "device", t.cfg.vrf.Device)
		t.start(retry)
	case t.tenant.L3VNI.VTEP != d.tenant.L3VNI.VTEP:
		t.log.Info("VTEP address changed: re-advertising with it", "old", t.tenant.L3VNI.VTEP, "new", d.tenant.L3VNI.VTEP)
		t.tenant = d.tenant
		settings := t.cfg.evpn
		settings.VTEP = d.tenant.L3VNI.VTEP
		t.pipe.SetVRF(settings)
	}
}

// vtep is the Type-5 next hop the tenant uses: its device's, or the config's.
func (t *tenant) vtep() netip.Addr {
	if t.cfg.vrf.Device != "" && t.tenant.L3VNI.VTEP.IsValid() {
		return t.tenant.L3VNI.VTEP
	}
	return t.cfg.evpn.VTEP
}

// apply moves the tenant to new settings, doing only what their plan says:
// translation settings change the routes in place, a peer change touches
// only that peer, and only a new listener or local AS restarts the worker
// speaker (keeping the routes of workers that do graceful restart).
func (t *tenant) apply(ctx context.Context, s tenantSettings, retry *time.Timer) {
	old, p := t.cfg, s.plan
	t.setCfg(s)
	if len(p.Translate) > 0 {
		settings := s.evpn
		settings.VTEP = t.vtep()
		t.pipe.SetVRF(settings)
	}
	if p.Limits {
		t.pipe.SetLimit(s.limit())
	}
	if p.InstallRoutes {
		if err := t.setKernel(); err != nil {
			t.log.Error("install-routes", "err", err)
		}
	}
	if t.workers == nil {
		t.start(retry) // not running: the new settings are tried now
		return
	}
	if p.RestartWorkers != "" {
		t.log.Info("restarting the worker speaker; routes of workers that do graceful restart stay", "why", p.RestartWorkers)
		t.cfg.workers.Returning = t.workers.Established()
		t.stopWorkers(true)
		t.start(retry)
		t.cfg.workers.Returning = nil
		return
	}
	w := t.workers
	w.Reconfigure(s.workers)
	try := func(what string, peer config.Peer, err error) {
		if err != nil {
			t.log.Error("reload: "+what, "peer", peer.Key(), "err", err)
		}
	}
	for _, pr := range p.Peers.Remove {
		try("remove peer", pr, w.RemovePeer(ctx, pr))
	}
	for _, pr := range p.Peers.Add {
		try("add peer", pr, w.AddPeer(ctx, pr))
	}
	for i, pr := range p.Peers.Reset {
		t.log.Info("resetting a worker session", "peer", pr.Key(), "why", p.Peers.Why[i])
		try("reset peer", pr, w.ResetPeer(ctx, pr))
	}
	for _, pr := range p.Peers.Soft {
		try("timers and BFD", pr, w.UpdatePeer(ctx, pr))
	}
	if p.Limits || old.vrf.Workers.MaxPrefixesRestart != s.vrf.Workers.MaxPrefixesRestart {
		if err := w.PushLimits(ctx); err != nil {
			t.log.Error("reload: max-prefixes", "err", err)
		}
	}
}
