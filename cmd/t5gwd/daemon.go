package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/t5gw/t5gw/bgp"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn/rib"
	"github.com/t5gw/t5gw/vrf"
)

// daemon owns the running speakers: one fabric speaker, and per VRF a worker
// speaker feeding a rib pipeline that advertises through the fabric.
type daemon struct {
	log     *slog.Logger
	metrics *metrics
	http    *http.Server

	mu       sync.Mutex
	cfg      *config.Config
	fabric   *bgp.Fabric
	vrfs     map[string]*vrfInstance
	watchers map[string]context.CancelFunc // device watches, per VRF name
}

// vrfInstance is one running VRF.
type vrfInstance struct {
	cfg     config.VRF
	vtep    netip.Addr // the Type-5 next hop in use
	rib     *rib.VRF
	workers *bgp.Workers
	links   *vrf.Links // when the VRF has a device
	cancel  context.CancelFunc
	done    chan struct{}
}

func startDaemon(ctx context.Context, c *config.Config, log *slog.Logger) (*daemon, error) {
	d := &daemon{log: log, vrfs: map[string]*vrfInstance{}, watchers: map[string]context.CancelFunc{}}
	reg := prometheus.NewRegistry()
	// The Go runtime's and the process's own figures (go_*, process_*):
	// memory is what an operator of a large VRF watches first.
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.metrics = newMetrics(reg, d)
	if c.Metrics != "" {
		ln, err := net.Listen("tcp", c.Metrics)
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		d.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = d.http.Serve(ln) }()
	}
	if err := d.startAll(ctx, c); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

func (d *daemon) startAll(ctx context.Context, c *config.Config) error {
	fabric, err := bgp.NewFabric(ctx, c, d.log)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.cfg, d.fabric = c, fabric
	d.mu.Unlock()
	for _, v := range c.VRFs {
		if err := d.startVRF(ctx, c, v); err != nil {
			return err
		}
	}
	return nil
}

// deviceRetry is how long a VRF whose device is back, but which cannot start
// yet (its addresses not there), waits before trying again.
const deviceRetry = 2 * time.Second

// startVRF starts a VRF. One with a device must find it (a VRF with its
// L3VNI) now; then a watch follows the device: gone, the VRF stops and its
// routes are withdrawn; back, it starts again; a new VTEP address re-advertises
// every route with it as next hop.
func (d *daemon) startVRF(ctx context.Context, c *config.Config, v config.VRF) error {
	if v.Device == "" {
		return d.runVRF(ctx, c, v, c.VTEP, nil)
	}
	links, err := vrf.New()
	if err != nil {
		return fmt.Errorf("vrf %s: %w", v.Name, err)
	}
	tenant, err := links.Tenant(v.Device, v.L3VNI)
	if err != nil {
		links.Close()
		return fmt.Errorf("vrf %s (%s): %w", v.Name, v.File, err)
	}
	if err := d.runVRF(ctx, c, v, tenant.L3VNI.VTEP, links); err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	d.mu.Lock()
	d.watchers[v.Name] = cancel
	d.mu.Unlock()
	watch, err := vrf.New()
	if err == nil {
		go func() { <-wctx.Done(); watch.Close() }()
		err = watch.Watch(wctx, v.Device, v.L3VNI, func(t vrf.Tenant, err error) { d.deviceChanged(wctx, c, v, t, err) })
	}
	if err != nil {
		d.log.Warn("cannot watch the VRF device; changes to it will go unnoticed", "vrf", v.Name, "err", err)
	}
	return nil
}

func (d *daemon) deviceChanged(ctx context.Context, c *config.Config, v config.VRF, t vrf.Tenant, err error) {
	if ctx.Err() != nil {
		return
	}
	inst := d.vrf(v.Name)
	switch {
	case err != nil && inst != nil:
		d.log.Warn("vrf device gone: closing its sessions and withdrawing its routes", "vrf", v.Name, "err", err)
		d.stopVRF(v.Name)
	case err != nil:
	case inst == nil:
		d.log.Info("vrf device back: starting", "vrf", v.Name, "device", v.Device)
		links, lerr := vrf.New()
		if lerr == nil {
			lerr = d.runVRF(ctx, c, v, t.L3VNI.VTEP, links)
		}
		if lerr != nil {
			// Often the device is back before its addresses are: try again.
			d.log.Warn("vrf device back but the vrf does not start yet; retrying", "vrf", v.Name, "err", lerr, "in", deviceRetry)
			time.AfterFunc(deviceRetry, func() {
				links, err := vrf.New()
				if err != nil {
					return
				}
				defer links.Close()
				t, err := links.Tenant(v.Device, v.L3VNI)
				d.deviceChanged(ctx, c, v, t, err)
			})
		}
	case inst.vtep != t.L3VNI.VTEP:
		d.log.Info("VTEP address changed: re-advertising with it", "vrf", v.Name, "old", inst.vtep, "new", t.L3VNI.VTEP)
		ev := c.EVPN(v)
		ev.VTEP = t.L3VNI.VTEP
		inst.rib.SetVRF(ev)
		d.mu.Lock()
		inst.vtep = t.L3VNI.VTEP
		d.mu.Unlock()
	}
}

// runVRF starts a VRF's pipeline and worker speaker with vtep as next hop.
func (d *daemon) runVRF(ctx context.Context, c *config.Config, v config.VRF, vtep netip.Addr, links *vrf.Links) error {
	ev := c.EVPN(v)
	ev.VTEP = vtep
	var kernel []rib.Fabric
	if v.InstallRoutes {
		tenant, err := links.Lookup(v.Device)
		var routes *vrf.Routes
		if err == nil {
			routes, err = links.Routes(tenant.Table)
		}
		if err != nil {
			links.Close()
			return fmt.Errorf("vrf %s: install-routes: %w", v.Name, err)
		}
		kernel = append(kernel, routes)
	}
	vctx, cancel := context.WithCancel(ctx)
	pipe := rib.NewVRF(ev, d.fabric, d.log, kernel...)
	inst := &vrfInstance{cfg: v, vtep: vtep, rib: pipe, links: links, cancel: cancel, done: make(chan struct{})}
	go func() { pipe.Run(vctx); close(inst.done) }()
	workers, err := bgp.NewWorkers(vctx, c, v, pipe, d.log)
	if err != nil {
		cancel()
		<-inst.done
		if links != nil {
			links.Close()
		}
		return err
	}
	inst.workers = workers
	d.mu.Lock()
	d.vrfs[v.Name] = inst
	d.mu.Unlock()
	d.log.Info("vrf started", "vrf", v.Name, "l3vni", v.L3VNI, "rd", v.RD, "vtep", vtep, "listen", v.Workers.Listen)
	return nil
}

// removeVRF stops a VRF and its device watch, as when a reload removes it.
func (d *daemon) removeVRF(name string) {
	d.mu.Lock()
	cancel := d.watchers[name]
	delete(d.watchers, name)
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	d.stopVRF(name)
}

// stopVRF closes the VRF's worker sessions, then withdraws its routes.
func (d *daemon) stopVRF(name string) {
	d.mu.Lock()
	inst := d.vrfs[name]
	delete(d.vrfs, name)
	d.mu.Unlock()
	if inst == nil {
		return
	}
	inst.workers.Stop()
	inst.cancel()
	<-inst.done
	if inst.links != nil {
		inst.links.Close()
	}
}

// apply moves the running daemon to a new, valid config. VRFs whose files did
// not change keep their sessions; a change to the global file restarts all.
func (d *daemon) apply(ctx context.Context, next *config.Config) error {
	d.mu.Lock()
	cur := d.cfg
	d.mu.Unlock()
	if !sameGlobal(cur, next) {
		d.log.Info("reload: global settings changed, restarting every speaker")
		d.stopSpeakers()
		err := d.startAll(ctx, next)
		if err == nil {
			return nil
		}
		d.log.Error("reload: new config does not start; going back to the running one", "err", err)
		d.stopSpeakers()
		if back := d.startAll(ctx, cur); back != nil {
			return errors.Join(err, fmt.Errorf("restoring the running config: %w", back))
		}
		return err
	}
	running := map[string]config.VRF{}
	for _, v := range cur.VRFs {
		running[v.Name] = v
	}
	want := map[string]config.VRF{}
	for _, v := range next.VRFs {
		want[v.Name] = v
	}
	var errs []error
	for name, old := range running {
		if v, ok := want[name]; !ok || !reflect.DeepEqual(v, old) {
			d.log.Info("reload: stopping vrf", "vrf", name)
			d.removeVRF(name)
		}
	}
	for _, v := range next.VRFs {
		if d.active(v.Name) {
			continue // unchanged and running, or waiting for its device
		}
		if err := d.startVRF(ctx, next, v); err != nil {
			errs = append(errs, err)
		}
	}
	d.mu.Lock()
	d.cfg = next
	d.mu.Unlock()
	d.log.Info("reload done", "vrfs", len(next.VRFs))
	return errors.Join(errs...)
}

func sameGlobal(a, b *config.Config) bool {
	x, y := *a, *b
	x.VRFs, y.VRFs = nil, nil
	x.LogLevel, y.LogLevel = 0, 0
	return reflect.DeepEqual(x, y)
}

// active tells whether a VRF is running or watching for its device.
func (d *daemon) active(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, watched := d.watchers[name]
	return d.vrfs[name] != nil || watched
}

func (d *daemon) vrf(name string) *vrfInstance {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.vrfs[name]
}

func (d *daemon) vrfNames() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := make([]string, 0, len(d.vrfs))
	for n := range d.vrfs {
		names = append(names, n)
	}
	return names
}

func (d *daemon) stopSpeakers() {
	d.mu.Lock()
	names := make([]string, 0, len(d.watchers))
	for n := range d.watchers {
		names = append(names, n)
	}
	d.mu.Unlock()
	for _, name := range append(names, d.vrfNames()...) {
		d.removeVRF(name)
	}
	d.mu.Lock()
	fabric := d.fabric
	d.fabric = nil
	d.mu.Unlock()
	if fabric != nil {
		fabric.Stop()
	}
}

// stop withdraws every route, closes every session and the metrics endpoint.
func (d *daemon) stop() {
	d.stopSpeakers()
	if d.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = d.http.Shutdown(ctx)
	}
}
