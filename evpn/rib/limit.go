package rib

import (
	"fmt"
	"net/netip"

	"github.com/t5gw/t5gw/evpn"
)

// Limit bounds each worker's accepted routes per address family (a route
// refused for any reason does not count, as FRR's maximum-prefix counts
// what passed its inbound policy): a worker over Max is cut off, and one
// past WarnPercent of Max is logged once as near it.
type Limit struct {
	Max         int // 0 is no limit
	WarnPercent int // 0 is no warning
}

// CutOff ends the session of a worker over its limit; why says so to the
// worker and the log. It is called from Run and must not block on the
// pipeline: the end of the session comes back to it as WorkerDown.
type CutOff func(worker netip.Addr, why string)

// WithLimit makes the pipeline hold its workers to l, cutting off through
// cut those that go over it.
func WithLimit(l Limit, cut CutOff) Option {
	return func(v *VRF) { v.limit, v.cutOff = l, cut }
}

// SetLimit changes the limit; every worker is held to it at once.
func (v *VRF) SetLimit(l Limit) {
	v.events <- event{kind: eventLimit, rare: &rare{limit: l}}
}

// workerFamily is one worker's routes of one address family.
type workerFamily struct {
	worker netip.Addr
	family evpn.Families
}

func (wf workerFamily) familyName() string {
	if wf.family == evpn.IPv4 {
		return "IPv4"
	}
	return "IPv6"
}

// takeCounted returns the worker families whose accepted count changed since
// the last call, with their counts now.
func (t *Table) takeCounted() map[workerFamily]int {
	if len(t.counted) == 0 {
		return nil
	}
	out := make(map[workerFamily]int, len(t.counted))
	for wf := range t.counted {
		out[wf] = t.accepted[wf]
	}
	clear(t.counted)
	return out
}

// Accepted is how many of worker's announcements of family are admitted.
func (t *Table) Accepted(worker netip.Addr, family evpn.Families) int {
	return t.accepted[workerFamily{worker, family}]
}

// setLimit takes a new limit and looks at every worker again.
func (v *VRF) setLimit(l Limit) {
	v.limit = l
	clear(v.near)
	clear(v.table.counted)
	v.table.limited = l.Max > 0
	if v.table.limited {
		for wf := range v.table.accepted {
			v.table.counted[wf] = struct{}{}
		}
	}
}

// checkLimits holds the workers whose accepted routes changed to the limit:
// one over it loses its routes at once (they never reach the fabric) and
// its session, and nothing more it sent is read until that session ends.
func (v *VRF) checkLimits() {
	if v.limit.Max <= 0 {
		return
	}
	counts := v.table.takeCounted()
	for wf, n := range counts {
		if _, cut := v.cut[wf.worker]; cut {
			continue
		}
		switch {
		case n > v.limit.Max:
			v.cutWorker(wf, n)
		case v.limit.WarnPercent > 0 && n*100 > v.limit.Max*v.limit.WarnPercent:
			if _, warned := v.near[wf]; !warned {
				v.near[wf] = struct{}{}
				v.log.Warn("worker near max-prefixes", "worker", wf.worker, "family", wf.familyName(),
					"accepted", n, "max-prefixes", v.limit.Max, "warning-percent", v.limit.WarnPercent)
			}
		default:
			delete(v.near, wf)
		}
	}
}

func (v *VRF) cutWorker(wf workerFamily, n int) {
	v.cut[wf.worker] = struct{}{}
	v.cutoffs++
	delete(v.near, workerFamily{wf.worker, evpn.IPv4})
	delete(v.near, workerFamily{wf.worker, evpn.IPv6})
	dropped := v.table.DropWorker(wf.worker)
	delete(v.stale, wf.worker)
	why := fmt.Sprintf("max-prefixes: %d accepted %s routes, limit %d", n, wf.familyName(), v.limit.Max)
	v.log.Warn("worker over max-prefixes: closing its session, withdrawing its routes", "worker", wf.worker,
		"family", wf.familyName(), "accepted", n, "max-prefixes", v.limit.Max, "routes", dropped)
	if v.cutOff != nil {
		v.cutOff(wf.worker, why)
	}
}
