package main

import (
	"context"
	"fmt"

	"github.com/t5gw/t5gw/bgp"
	"github.com/t5gw/t5gw/cmd/t5gwd/api"
	"github.com/t5gw/t5gw/config"
)

// reload reads the config again and applies what changed. A config with
// any error is refused whole: the running one stays and every problem is
// logged, naming file, field and value. With dryRun it only says what it
// would do. It returns the plan's steps and how it went, for t5gwctl.
func (d *daemon) reload(ctx context.Context, load func() (*config.Config, error), dryRun bool) api.Reload {
	res := api.Reload{DryRun: dryRun, Steps: []string{}}
	next, err := load()
	if err != nil {
		res.Error = "the config is refused; the running one stays:\n" + err.Error()
		if !dryRun {
			d.metrics.reload(false)
			d.log.Error("reload refused; the running config stays", "err", err)
		}
		return res
	}
	d.mu.Lock()
	running := d.cfg
	d.mu.Unlock()
	plan := config.Diff(running, next)
	res.Steps = append(res.Steps, plan.Steps()...)
	if dryRun {
		return res
	}
	if plan.Empty() {
		d.setConfig(next)
		d.metrics.reload(true)
		d.log.Info("reload: nothing changed")
		res.Applied = true
		return res
	}
	for _, step := range plan.Steps() {
		d.log.Info("reload", "step", step)
	}
	if err := d.apply(ctx, plan, next); err != nil {
		d.metrics.reload(false)
		d.log.Error("reload failed; the running config stays", "err", err)
		res.Error = err.Error()
		return res
	}
	d.metrics.reload(true)
	d.log.Info("reload done")
	res.Applied = true
	return res
}

func (d *daemon) setConfig(c *config.Config) {
	d.mu.Lock()
	d.cfg = c
	d.mu.Unlock()
}

// apply carries out a plan. Only a new router-id or AS restarts everything,
// and then gracefully, as a restart of t5gwd would.
func (d *daemon) apply(ctx context.Context, plan config.Plan, next *config.Config) error {
	d.mu.Lock()
	running := d.cfg
	d.mu.Unlock()
	if plan.Restart != "" {
		d.log.Warn("reload: restarting every speaker gracefully", "why", plan.Restart)
		d.saveState()
		d.stopSpeakers(true)
		err := d.start(ctx, next)
		if err == nil {
			return nil
		}
		if back := d.start(ctx, running); back != nil {
			return fmt.Errorf("%w; and the running config does not start again either: %v", err, back)
		}
		return fmt.Errorf("the new config does not start: %w; went back to the running one", err)
	}
	if plan.Fabric.Restart != "" {
		if err := d.restartFabric(ctx, running, next, plan.Fabric.Restart); err != nil {
			return err
		}
	}
	if plan.LogLevel {
		d.level.Set(next.LogLevel)
	}
	if plan.MemoryLimit != "" {
		setMemoryLimit(next.MemoryLimit, d.log)
	}
	if plan.Metrics {
		if err := d.moveMetrics(next.Metrics); err != nil {
			d.log.Error("reload: metrics listener stays where it is", "err", err)
			next.Metrics = running.Metrics // tried again at the next reload
		}
	}
	d.applyNeighbors(ctx, plan.Fabric)
	d.applyVRFs(ctx, plan.VRFs, next)
	d.where.setWatch(watched(next))
	d.setConfig(next)
	d.flushAll() // "reload done" means the fabric speaker has what changed
	return nil
}

// restartFabric moves the fabric speaker to a new listener: GoBGP cannot move
// one, so the speaker stops gracefully (helpers keep t5gw's routes), a new
// one starts, every pipeline hands it its routes, and the neighbors are
// added as after a restart. If the new one does not start, the old settings
// come back and the reload fails.
func (d *daemon) restartFabric(ctx context.Context, running, next *config.Config, why string) error {
	d.log.Warn("reload: restarting the fabric speaker gracefully", "why", why)
	d.mu.Lock()
	old, connected := d.fabric, d.connected
	d.mu.Unlock()
	old.Stop(true)
	d.where.sessionsEnded()
	fabric, err := bgp.NewFabric(ctx, d.fabricOptions(next))
	if err != nil {
		var back error
		if fabric, back = bgp.NewFabric(ctx, d.fabricOptions(running)); back != nil {
			return fmt.Errorf("%w; and the running fabric settings do not start again either: %v", err, back)
		}
		err = fmt.Errorf("new fabric speaker: %w; went back to the running one", err)
		next = running
	}
	d.link.set(fabric)
	d.metrics.setSpeaker("fabric", fabric.Collector())
	d.mu.Lock()
	d.fabric = fabric
	for _, t := range d.tenants {
		t.pipe.Resync()
	}
	d.restarting, d.connected = true, false
	neighbors := next.Fabric.Neighbors
	d.mu.Unlock()
	if connected {
		d.flushAll()
		d.mu.Lock()
		d.connected = true
		d.mu.Unlock()
		for _, n := range neighbors {
			if aerr := fabric.AddNeighbor(ctx, n, true); aerr != nil {
				d.log.Error("fabric neighbor", "neighbor", n.Address, "err", aerr)
			}
		}
	}
	return err
}

// applyNeighbors adds, removes and resets fabric neighbors, touching no other.
func (d *daemon) applyNeighbors(ctx context.Context, p config.FabricPlan) {
	d.mu.Lock()
	fabric, connected := d.fabric, d.connected
	d.mu.Unlock()
	if !connected {
		return // the neighbors of the config in force are added when the restart wait ends
	}
	for _, n := range p.Remove {
		if err := fabric.RemoveNeighbor(ctx, n.Address); err != nil {
			d.log.Error("reload: remove fabric neighbor", "neighbor", n.Address, "err", err)
		}
	}
	for _, n := range p.Add {
		if err := fabric.AddNeighbor(ctx, n, false); err != nil {
			d.log.Error("reload: add fabric neighbor", "neighbor", n.Address, "err", err)
		}
	}
	for _, n := range p.Reset {
		if err := fabric.ResetNeighbor(ctx, n); err != nil {
			d.log.Error("reload: reset fabric neighbor", "neighbor", n.Address, "err", err)
		}
	}
}

// applyVRFs stops removed VRFs (withdrawing their routes), starts new ones
// and hands the others their new settings.
func (d *daemon) applyVRFs(ctx context.Context, plans []config.VRFPlan, next *config.Config) {
	for _, vp := range plans {
		d.mu.Lock()
		t := d.tenants[vp.Name]
		d.mu.Unlock()
		switch vp.Op {
		case config.VRFStop:
			if t != nil {
				t.stop(false)
			}
			d.mu.Lock()
			delete(d.tenants, vp.Name)
			d.mu.Unlock()
		case config.VRFStart:
			t = startTenant(ctx, d.tenantSettings(next, vp.Next, vp), d.link, d.log)
			d.mu.Lock()
			d.tenants[vp.Name] = t
			d.mu.Unlock()
		case config.VRFUpdate:
			if t != nil {
				t.update(d.tenantSettings(next, vp.Next, vp))
			}
		}
	}
}
