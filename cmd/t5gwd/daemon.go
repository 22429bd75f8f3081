package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/t5gw/t5gw/bgp"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rds"
	"github.com/t5gw/t5gw/evpn/rib"
)

// daemon owns the running speakers: one fabric speaker, and a tenant per VRF
// whose pipeline advertises through it. Its methods run on run's goroutine
// (main.go); metrics and readiness read it under mu.
type daemon struct {
	log     *slog.Logger
	level   *slog.LevelVar
	metrics *metrics
	http    *endpoint
	link    *fabricLink
	// workersBack receives once the workers a restart waits for are back
	// (or the wait is over): then the fabric neighbors are added.
	workersBack chan struct{}
	// workersChanged receives when a worker session comes up or goes down:
	// the restart state is written then, so that even a SIGKILL right after
	// leaves it up to date.
	workersChanged chan struct{}

	mu         sync.Mutex
	rds        *rds.Allocator // the workers' RDs, for every VRF
	where      *locator       // where the fabric resolves the workers
	cfg        *config.Config
	fabric     *bgp.Fabric
	tenants    map[string]*tenant
	connected  bool             // the fabric neighbors are added
	restarting bool             // this start is a restart: neighbors are told so
	saved      restartState     // what the state file holds
	savedRDs   []rds.Assignment // what the RD file holds; owned by run's goroutine
}

func startDaemon(ctx context.Context, c *config.Config, log *slog.Logger, level *slog.LevelVar) (*daemon, error) {
	d := &daemon{log: log, level: level, tenants: map[string]*tenant{}, link: &fabricLink{},
		workersChanged: make(chan struct{}, 1)}
	d.metrics = newMetrics(d)
	if c.Metrics != "" {
		ep, err := listen(c.Metrics, d.metrics.handler(d.ready))
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		d.http = ep
	}
	if err := d.start(ctx, c); err != nil {
		d.http.close()
		return nil, err
	}
	return d, nil
}

// start starts the fabric speaker and every VRF. When the state file says
// t5gwd is restarting, the fabric neighbors wait until the workers that were
// up are back (or worker-wait has passed); otherwise they are added at once.
func (d *daemon) start(ctx context.Context, c *config.Config) error {
	state, restarting, err := loadState(c.StateDir)
	if err != nil {
		d.log.Warn("restart state unreadable: starting cold", "err", err)
	}
	restarting = restarting && c.GracefulRestart.RestartTime > 0
	alloc := rds.New(c.RouterID, vrfRDs(c))
	if kept, err := loadRDs(c.StateDir); err != nil {
		d.log.Warn("worker RDs of the last run unreadable: colliding workers may get others", "err", err)
	} else {
		alloc.Restore(kept)
	}
	where := newLocator(watched(c), d.log, d.located)
	d.mu.Lock()
	d.rds, d.where = alloc, where
	d.mu.Unlock()
	fabric, err := bgp.NewFabric(ctx, d.fabricOptions(c))
	if err != nil {
		return err
	}
	d.metrics.setSpeaker("fabric", fabric.Collector())
	d.link.set(fabric)
	d.mu.Lock()
	d.cfg, d.fabric, d.connected, d.restarting, d.saved = c, fabric, false, restarting, state
	for _, v := range c.VRFs {
		d.tenants[v.Name] = startTenant(ctx, d.tenantSettings(c, v, config.VRFPlan{}), d.link, d.log)
	}
	d.mu.Unlock()
	d.workersBack = make(chan struct{}, 1)
	if !restarting {
		d.workersBack <- struct{}{}
		return nil
	}
	d.log.Info("restarting: waiting for the workers that were up before sending End-of-RIB to the fabric",
		"workers", state.Workers, "at-most", c.GracefulRestart.WorkerWait)
	go d.waitForWorkers(ctx, state, c.GracefulRestart.WorkerWait, d.workersBack)
	return nil
}

// waitForWorkers signals back once every worker of state has its session up
// and has sent End-of-RIB, or when wait has passed.
func (d *daemon) waitForWorkers(ctx context.Context, state restartState, wait time.Duration, back chan<- struct{}) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		missing := d.missingWorkers(state)
		if len(missing) == 0 {
			d.log.Info("restarting: every worker is back")
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			d.log.Warn("restarting: worker-wait is over; going on without these workers", "missing", missing)
			back <- struct{}{}
			return
		case <-tick.C:
		}
	}
	back <- struct{}{}
}

// missingWorkers lists the workers of state that are not back yet.
func (d *daemon) missingWorkers(state restartState) []netip.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	var missing []netip.Addr
	for name, workers := range state.Workers {
		t := d.tenants[name]
		if t == nil {
			continue // the VRF is gone from the config
		}
		w := t.snapshot().workers
		for _, a := range workers {
			if w == nil || !w.Synced(a) {
				missing = append(missing, a)
			}
		}
	}
	return missing
}

// connect adds the fabric neighbors once every pipeline has handed its routes
// to the fabric speaker, so a neighbor gets them all before End-of-RIB. After a
// restart it tells them so: they keep what they hold of t5gw until then.
func (d *daemon) connect(ctx context.Context) {
	d.flushAll()
	d.mu.Lock()
	fabric, neighbors, restarting := d.fabric, d.cfg.Fabric.Neighbors, d.restarting
	d.connected = true
	d.mu.Unlock()
	for _, n := range neighbors {
		if err := fabric.AddNeighbor(ctx, n, restarting); err != nil {
			d.log.Error("fabric neighbor", "neighbor", n.Address, "err", err)
		}
	}
	d.log.Info("fabric neighbors added", "neighbors", len(neighbors), "restarting", restarting)
}

// flushAll waits until every pipeline has reconciled what it was handed.
func (d *daemon) flushAll() {
	d.mu.Lock()
	var flushed []<-chan struct{}
	for _, t := range d.tenants {
		flushed = append(flushed, t.pipe.Flush())
	}
	d.mu.Unlock()
	for _, f := range flushed {
		<-f
	}
}

// notifyWorkersChanged asks run's loop to write the restart state.
func (d *daemon) notifyWorkersChanged() {
	select {
	case d.workersChanged <- struct{}{}:
	default: // one is pending
	}
}

// saveState writes the workers that are up to the state file when they
// changed, so that a restart (even after SIGKILL) knows whom to wait for.
func (d *daemon) saveState() {
	d.mu.Lock()
	now := restartState{Workers: map[string][]netip.Addr{}}
	for name, t := range d.tenants {
		if w := t.snapshot().workers; w != nil {
			up := w.Established()
			slices.SortFunc(up, netip.Addr.Compare)
			now.Workers[name] = up
		}
	}
	dir, same := d.cfg.StateDir, now.equal(d.saved)
	waiting := !d.connected
	d.mu.Unlock()
	// While a restart waits, the fabric still holds, stale, the routes of
	// the workers the state lists: a stop now must leave them listed.
	if same || waiting {
		return
	}
	if err := now.save(dir); err != nil {
		d.log.Warn("cannot write the restart state; a restart will not wait for the workers", "err", err)
		return
	}
	d.mu.Lock()
	d.saved = now
	d.mu.Unlock()
}

// ready tells whether t5gwd is doing its whole job: every VRF runs, the
// restart wait is over and some fabric neighbor holds t5gw's routes.
func (d *daemon) ready() (bool, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.connected {
		return false, "waiting for the workers that were up before the restart"
	}
	for name, t := range d.tenants {
		if s := t.snapshot(); s.workers == nil {
			return false, fmt.Sprintf("vrf %s is not running: %v", name, s.err)
		}
	}
	if !d.fabric.Synced() {
		return false, "no fabric session has t5gw's routes yet"
	}
	return true, "ready"
}

// stop ends the daemon. With graceful (SIGTERM: a restart or an upgrade),
// fabric neighbors that do graceful restart keep t5gw's routes until it is
// back, and the state file tells the next start to wait for the workers.
// Without (stop for good) every route is withdrawn first and the state file
// goes.
func (d *daemon) stop(graceful bool) {
	d.mu.Lock()
	graceful = graceful && d.cfg.GracefulRestart.RestartTime > 0
	d.mu.Unlock()
	if graceful {
		d.saveState()
		d.stopSpeakers(true)
	} else {
		d.stopSpeakers(false)
		if err := removeState(d.cfg.StateDir); err != nil {
			d.log.Warn("cannot remove the restart state", "err", err)
		}
	}
	d.http.close()
}

// stopSpeakers stops the fabric speaker and every VRF. Gracefully, the
// fabric sessions close first, without a NOTIFICATION, and nothing is
// withdrawn; otherwise the VRFs withdraw their routes first.
func (d *daemon) stopSpeakers(graceful bool) {
	d.mu.Lock()
	fabric, tenants := d.fabric, d.tenants
	d.tenants = map[string]*tenant{}
	d.connected = false
	d.mu.Unlock()
	if graceful {
		fabric.Stop(true)
	}
	for _, t := range tenants {
		t.stop(graceful)
	}
	if !graceful {
		fabric.Stop(false)
	}
	d.where.stop()
	d.saveRDs()
}

// located tells every VRF pipeline that the fabric's view of ips changed
// (nil: the fabric has sent all its Type-2 routes).
func (d *daemon) located(ips []netip.Addr) {
	d.mu.Lock()
	pipes := make([]*rib.VRF, 0, len(d.tenants))
	for _, t := range d.tenants {
		pipes = append(pipes, t.pipe)
	}
	d.mu.Unlock()
	for _, p := range pipes {
		p.Located(ips)
	}
}

// tenantSettings is what the tenant of v runs with under c.
func (d *daemon) tenantSettings(c *config.Config, v config.VRF, plan config.VRFPlan) tenantSettings {
	var fams evpn.Families
	v4, v6 := v.Workers.Families()
	if v4 {
		fams |= evpn.IPv4
	}
	if v6 {
		fams |= evpn.IPv6
	}
	return tenantSettings{vrf: v, evpn: c.EVPN(v), plan: plan, rds: d.rds, where: d.where,
		speaker: func(vrf string, w *bgp.Workers) {
			if w == nil {
				d.metrics.setSpeaker("vrf/"+vrf, nil)
			} else {
				d.metrics.setSpeaker("vrf/"+vrf, w.Collector())
			}
		},
		reconciled: d.metrics.observeReconcile(v.Name), workers: bgp.WorkersOptions{
			VRF: v.Name, RouterID: c.RouterID, ASN: v.Workers.ASN, Listen: v.Workers.Listen, Port: v.Workers.Port,
			Device: v.Device, Families: fams, Peers: v.Workers.Peers,
			MaxPrefixes: v.Workers.MaxPrefixes, MaxPrefixesRestart: v.Workers.MaxPrefixesRestart,
			GracefulRestart: v.Workers.GracefulRestart, Log: d.log, SessionsChanged: d.notifyWorkersChanged,
		}}
}

func (d *daemon) fabricOptions(c *config.Config) bgp.FabricOptions {
	d.mu.Lock()
	defer d.mu.Unlock()
	return bgp.FabricOptions{RouterID: c.RouterID, ASN: c.ASN, Listen: c.Fabric.Listen, Port: c.Fabric.Port,
		RestartTime: c.GracefulRestart.RestartTime, AddPath: c.AddPath(), MACIP: d.where, Log: d.log}
}

// fabricLink is the fabric speaker as the pipelines see it: the daemon can
// put a new speaker behind it (when the fabric listener moves) without them
// knowing; they only resync.
type fabricLink struct {
	mu sync.RWMutex
	f  *bgp.Fabric
}

var _ rib.Fabric = (*fabricLink)(nil)

func (l *fabricLink) set(f *bgp.Fabric) {
	l.mu.Lock()
	l.f = f
	l.mu.Unlock()
}

func (l *fabricLink) get() *bgp.Fabric {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.f
}

func (l *fabricLink) Advertise(routes []evpn.Type5Route) error { return l.get().Advertise(routes) }
func (l *fabricLink) Withdraw(routes []evpn.Type5Route) error  { return l.get().Withdraw(routes) }

// stateSaveEvery bounds how often the restart state is written while workers
// come and go. A worker up for less than this when t5gwd is killed (SIGKILL;
// SIGTERM writes the state) may be missing from the state: the next start
// does not wait for it, and its routes go at End-of-RIB until it is back.
const stateSaveEvery = 200 * time.Millisecond

// rdsSaveEvery is how often t5gwd looks whether the displaced workers' RDs
// changed, to write them to the state-dir.
const rdsSaveEvery = 5 * time.Second

// saveRDs writes the RDs of the workers that do not hold their preferred
// number, when they changed since the last write.
func (d *daemon) saveRDs() {
	d.mu.Lock()
	alloc, dir := d.rds, d.cfg.StateDir
	d.mu.Unlock()
	now := alloc.Displaced()
	if slices.Equal(now, d.savedRDs) {
		return
	}
	if err := saveRDs(dir, now); err != nil {
		d.log.Warn("cannot write the workers' RDs; after a restart colliding workers may get others", "err", err)
		return
	}
	d.savedRDs = now
}

// vrfRDs lists the RD of every VRF, which no worker's RD may take.
func vrfRDs(c *config.Config) []evpn.RD {
	out := make([]evpn.RD, len(c.VRFs))
	for i, v := range c.VRFs {
		out[i] = v.RD
	}
	return out
}
