package main

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/t5gw/t5gw/evpn"
)

// metrics exposes the daemon's state. Route and session figures are read from
// the running VRFs at scrape time, so the route path does no metric work.
type metrics struct {
	d *daemon

	reloadOK, reloadFailed atomic.Uint64

	fabricUp, workersUp, received, advertised, refused, refusals, cutoffs, reloads, updates *prometheus.Desc
}

func newMetrics(reg prometheus.Registerer, d *daemon) *metrics {
	m := &metrics{
		d: d,
		fabricUp: prometheus.NewDesc("t5gw_fabric_sessions_up",
			"EVPN fabric sessions established.", nil, nil),
		workersUp: prometheus.NewDesc("t5gw_vrf_worker_sessions_up",
			"Worker sessions established, per VRF.", []string{"vrf"}, nil),
		received: prometheus.NewDesc("t5gw_vrf_routes_received",
			"Routes the workers of a VRF announce now, refused ones included.", []string{"vrf"}, nil),
		advertised: prometheus.NewDesc("t5gw_vrf_routes_advertised",
			"Type-5 routes advertised to the fabric for a VRF.", []string{"vrf"}, nil),
		refused: prometheus.NewDesc("t5gw_vrf_routes_refused",
			"Routes announced now but not advertised, per VRF and reason.", []string{"vrf", "reason"}, nil),
		refusals: prometheus.NewDesc("t5gw_vrf_route_refusals_total",
			"Announcements refused since the VRF started, per reason.", []string{"vrf", "reason"}, nil),
		cutoffs: prometheus.NewDesc("t5gw_vrf_max_prefix_cutoffs_total",
			"Worker sessions closed for going over max-prefixes.", []string{"vrf"}, nil),
		updates: prometheus.NewDesc("t5gw_vrf_fabric_updates_total",
			"Type-5 advertisements and withdrawals the fabric speaker took, per VRF.", []string{"vrf", "op"}, nil),
		reloads: prometheus.NewDesc("t5gw_config_reloads_total",
			"Config reloads on SIGHUP, by result.", []string{"result"}, nil),
	}
	reg.MustRegister(m)
	return m
}

func (m *metrics) reload(ok bool) {
	if ok {
		m.reloadOK.Add(1)
	} else {
		m.reloadFailed.Add(1)
	}
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.fabricUp, m.workersUp, m.received, m.advertised, m.refused, m.refusals, m.cutoffs, m.reloads, m.updates} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(m.reloads, prometheus.CounterValue, float64(m.reloadOK.Load()), "success")
	ch <- prometheus.MustNewConstMetric(m.reloads, prometheus.CounterValue, float64(m.reloadFailed.Load()), "failure")
	m.d.mu.Lock()
	fabric := m.d.fabric
	vrfs := make([]*vrfInstance, 0, len(m.d.vrfs))
	for _, v := range m.d.vrfs {
		vrfs = append(vrfs, v)
	}
	m.d.mu.Unlock()
	if fabric != nil {
		ch <- prometheus.MustNewConstMetric(m.fabricUp, prometheus.GaugeValue, float64(fabric.SessionsUp()))
	}
	for _, v := range vrfs {
		name := v.cfg.Name
		s := v.rib.Stats()
		ch <- prometheus.MustNewConstMetric(m.workersUp, prometheus.GaugeValue, float64(v.workers.SessionsUp()), name)
		ch <- prometheus.MustNewConstMetric(m.received, prometheus.GaugeValue, float64(s.Received), name)
		ch <- prometheus.MustNewConstMetric(m.advertised, prometheus.GaugeValue, float64(s.Advertised), name)
		ch <- prometheus.MustNewConstMetric(m.updates, prometheus.CounterValue, float64(s.Sent.Advertised), name, "advertise")
		ch <- prometheus.MustNewConstMetric(m.updates, prometheus.CounterValue, float64(s.Sent.Withdrawn), name, "withdraw")
		ch <- prometheus.MustNewConstMetric(m.cutoffs, prometheus.CounterValue, float64(v.workers.MaxPrefixHits()), name)
		for _, r := range evpn.Reasons {
			ch <- prometheus.MustNewConstMetric(m.refused, prometheus.GaugeValue, float64(s.Refused[r]), name, string(r))
			ch <- prometheus.MustNewConstMetric(m.refusals, prometheus.CounterValue, float64(s.RefusalsTotal[r]), name, string(r))
		}
	}
}
