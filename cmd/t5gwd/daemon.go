package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

	mu     sync.Mutex
	cfg    *config.Config
	fabric *bgp.Fabric
	vrfs   map[string]*vrfInstance
}

// vrfInstance is one running VRF.
type vrfInstance struct {
	cfg     config.VRF
	rib     *rib.VRF
	workers *bgp.Workers
	cancel  context.CancelFunc
	done    chan struct{}
}

func startDaemon(ctx context.Context, c *config.Config, log *slog.Logger) (*daemon, error) {
	d := &daemon{log: log, vrfs: map[string]*vrfInstance{}}
	reg := prometheus.NewRegistry()
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

// checkDevice makes sure a VRF's Linux device exists and is a VRF before any
// socket is bound to it.
func checkDevice(v config.VRF) error {
	if v.Device == "" {
		return nil
	}
	links, err := vrf.New()
	if err != nil {
		return fmt.Errorf("vrf %s: %w", v.Name, err)
	}
	defer links.Close()
	if _, err := links.Lookup(v.Device); err != nil {
		return fmt.Errorf("vrf %s (%s): %w", v.Name, v.File, err)
	}
	return nil
}

func (d *daemon) startVRF(ctx context.Context, c *config.Config, v config.VRF) error {
	if err := checkDevice(v); err != nil {
		return err
	}
	vctx, cancel := context.WithCancel(ctx)
	pipe := rib.NewVRF(c.EVPN(v), d.fabric, d.log)
	inst := &vrfInstance{cfg: v, rib: pipe, cancel: cancel, done: make(chan struct{})}
	go func() { pipe.Run(vctx); close(inst.done) }()
	workers, err := bgp.NewWorkers(vctx, c, v, pipe, d.log)
	if err != nil {
		cancel()
		<-inst.done
		return err
	}
	inst.workers = workers
	d.mu.Lock()
	d.vrfs[v.Name] = inst
	d.mu.Unlock()
	d.log.Info("vrf started", "vrf", v.Name, "l3vni", v.L3VNI, "rd", v.RD, "listen", v.Workers.Listen)
	return nil
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
	want := map[string]config.VRF{}
	for _, v := range next.VRFs {
		want[v.Name] = v
	}
	var errs []error
	for _, name := range d.vrfNames() {
		if v, ok := want[name]; !ok || !reflect.DeepEqual(v, d.vrf(name).cfg) {
			d.log.Info("reload: stopping vrf", "vrf", name)
			d.stopVRF(name)
		}
	}
	for _, v := range next.VRFs {
		if d.vrf(v.Name) == nil {
			if err := d.startVRF(ctx, next, v); err != nil {
				errs = append(errs, err)
			}
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
	for _, name := range d.vrfNames() {
		d.stopVRF(name)
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
