package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rib"
)

// metrics exposes the daemon's state. Route and session figures are read from
// the running VRFs at scrape time, so the route path does no metric work.
type metrics struct {
	d   *daemon
	reg *prometheus.Registry

	reloadOK, reloadFailed atomic.Uint64

	// reconcile is how long each VRF takes to bring the fabric in line.
	reconcile *prometheus.HistogramVec

	mu       sync.Mutex
	speakers map[string]prometheus.Collector // GoBGP's collectors, by speaker

	fabricUp, workersUp, received, advertised, refused, refusals, cutoffs, reloads, updates,
	stale, downs, running, ready, gateways, unresolved, moves, hosts, accepted, nearLimit *prometheus.Desc
}

func newMetrics(d *daemon) *metrics {
	m := &metrics{
		d:   d,
		reg: prometheus.NewRegistry(),
		fabricUp: prometheus.NewDesc("t5gw_fabric_sessions_up",
			"EVPN fabric sessions established.", nil, nil),
		workersUp: prometheus.NewDesc("t5gw_vrf_worker_sessions_up",
			"Worker sessions established, per VRF.", []string{"vrf"}, nil),
		downs: prometheus.NewDesc("t5gw_vrf_worker_session_downs_total",
			"Worker sessions that ended, per VRF, since its worker speaker started.", []string{"vrf"}, nil),
		received: prometheus.NewDesc("t5gw_vrf_routes_received",
			"Routes the workers of a VRF announce now, refused ones included.", []string{"vrf"}, nil),
		accepted: prometheus.NewDesc("t5gw_vrf_routes_accepted",
			"Routes the workers of a VRF announce now that t5gw translates (received less refused).", []string{"vrf"}, nil),
		stale: prometheus.NewDesc("t5gw_vrf_routes_stale",
			"Routes of restarting workers, kept (graceful restart) until they are back.", []string{"vrf"}, nil),
		advertised: prometheus.NewDesc("t5gw_vrf_routes_advertised",
			"Type-5 routes advertised to the fabric for a VRF.", []string{"vrf"}, nil),
		refused: prometheus.NewDesc("t5gw_vrf_routes_refused",
			"Routes announced now but not advertised, per VRF and reason.", []string{"vrf", "reason"}, nil),
		refusals: prometheus.NewDesc("t5gw_vrf_route_refusals_total",
			"Announcements refused since the VRF started, per reason.", []string{"vrf", "reason"}, nil),
		cutoffs: prometheus.NewDesc("t5gw_vrf_max_prefix_cutoffs_total",
			"Worker sessions closed for going over max-prefixes.", []string{"vrf"}, nil),
		nearLimit: prometheus.NewDesc("t5gw_vrf_workers_near_max_prefixes",
			"Workers (counted per address family) whose accepted routes are past max-prefixes-warning percent of max-prefixes.", []string{"vrf"}, nil),
		updates: prometheus.NewDesc("t5gw_vrf_fabric_updates_total",
			"Type-5 advertisements and withdrawals the fabric speaker took, per VRF.", []string{"vrf", "op"}, nil),
		running: prometheus.NewDesc("t5gw_vrf_running",
			"1 when the VRF's worker speaker runs, 0 while it waits (for its device, say).", []string{"vrf"}, nil),
		reloads: prometheus.NewDesc("t5gw_config_reloads_total",
			"Config reloads (SIGHUP or a changed file), by result.", []string{"result"}, nil),
		gateways: prometheus.NewDesc("t5gw_vrf_gateway_ips",
			"Gateway IPs the VRF's Type-5 routes carry (its workers' addresses).", []string{"vrf"}, nil),
		unresolved: prometheus.NewDesc("t5gw_vrf_gateway_ips_unresolved",
			"Gateway IPs of the VRF that no Type-2 route in the fabric resolves: ingress leaves cannot forward to them.", []string{"vrf"}, nil),
		moves: prometheus.NewDesc("t5gw_vrf_worker_moves_total",
			"Times a worker's gateway IP was seen moving from one VTEP to another, per VRF.", []string{"vrf"}, nil),
		hosts: prometheus.NewDesc("t5gw_fabric_hosts_resolved",
			"Addresses in the workers' subnets that the fabric's Type-2 routes resolve.", nil, nil),
		ready: prometheus.NewDesc("t5gw_ready",
			"1 when t5gwd does its whole job (as /readyz says), else 0.", nil, nil),
	}
	m.speakers = map[string]prometheus.Collector{}
	m.reconcile = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "t5gw_vrf_reconcile_duration_seconds",
		Help: "Time a VRF takes to bring the fabric (and the kernel) in line with a batch of changes.",
		// 100 µs to 10 s: one change is sub-millisecond, a full table seconds.
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
	}, []string{"vrf"})
	// The Go runtime's and the process's own figures (go_*, process_*):
	// memory is what an operator of a large VRF watches first.
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), m, m.reconcile)
	return m
}

// handler serves /metrics, /healthz (the process answers) and /readyz (ready
// says the daemon does its whole job; 503 with the reason when not).
func (m *metrics) handler(ready func() (bool, string)) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/gateways", m.gatewaysJSON)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := ready()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, why)
	})
	return mux
}

// setSpeaker exposes GoBGP's own collector of a speaker (c nil: the
// speaker stopped), its series labelled speaker="fabric" or
// speaker="vrf/<name>".
func (m *metrics) setSpeaker(name string, c prometheus.Collector) {
	m.mu.Lock()
	defer m.mu.Unlock()
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"speaker": name}, m.reg)
	if old := m.speakers[name]; old != nil {
		reg.Unregister(old)
		delete(m.speakers, name)
	}
	if c != nil && reg.Register(c) == nil {
		m.speakers[name] = c
	}
}

// observeReconcile records how long one reconcile of vrf took.
func (m *metrics) observeReconcile(vrf string) func(time.Duration) {
	h := m.reconcile.WithLabelValues(vrf)
	return func(d time.Duration) { h.Observe(d.Seconds()) }
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
	for _, d := range []*prometheus.Desc{m.fabricUp, m.workersUp, m.downs, m.received, m.stale, m.advertised, m.refused,
		m.refusals, m.cutoffs, m.reloads, m.updates, m.running, m.ready, m.gateways, m.unresolved, m.moves, m.hosts, m.accepted, m.nearLimit} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	counter(m.reloads, float64(m.reloadOK.Load()), "success")
	counter(m.reloads, float64(m.reloadFailed.Load()), "failure")
	ready, _ := m.d.ready()
	gauge(m.ready, bool01(ready))
	m.d.mu.Lock()
	fabric, where := m.d.fabric, m.d.where
	tenants := make([]*tenant, 0, len(m.d.tenants))
	for _, t := range m.d.tenants {
		tenants = append(tenants, t)
	}
	m.d.mu.Unlock()
	if fabric != nil {
		gauge(m.fabricUp, float64(fabric.SessionsUp()))
	}
	if where != nil {
		gauge(m.hosts, float64(len(where.All())))
	}
	for _, t := range tenants {
		name, st := t.name, t.snapshot()
		s := st.pipe.Stats()
		gauge(m.running, bool01(st.workers != nil), name)
		up := 0
		if st.workers != nil {
			up = st.workers.SessionsUp()
		}
		gauge(m.workersUp, float64(up), name)
		counter(m.downs, float64(st.downs()), name)
		counter(m.cutoffs, float64(st.cutoffs()), name)
		gauge(m.nearLimit, float64(s.NearLimit), name)
		gauge(m.received, float64(s.Received), name)
		refused := 0
		for _, n := range s.Refused {
			refused += n
		}
		gauge(m.accepted, float64(s.Received-refused), name)
		gauge(m.stale, float64(s.Stale), name)
		gauge(m.advertised, float64(s.Advertised), name)
		counter(m.updates, float64(s.Sent.Advertised), name, "advertise")
		counter(m.updates, float64(s.Sent.Withdrawn), name, "withdraw")
		gauge(m.gateways, float64(s.GatewayIPs), name)
		gauge(m.unresolved, float64(s.Unresolved), name)
		counter(m.moves, float64(s.Moves), name)
		for _, r := range evpn.Reasons {
			gauge(m.refused, float64(s.Refused[r]), name, string(r))
			counter(m.refusals, float64(s.RefusalsTotal[r]), name, string(r))
		}
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// gatewaysJSON serves /gateways: for each VRF, each gateway IP its routes
// carry, with where the fabric resolves it, as JSON (the CLI's source).
func (m *metrics) gatewaysJSON(w http.ResponseWriter, r *http.Request) {
	m.d.mu.Lock()
	pipes := map[string]*rib.VRF{}
	for name, t := range m.d.tenants {
		pipes[name] = t.snapshot().pipe
	}
	m.d.mu.Unlock()
	out := map[string][]rib.Gateway{}
	for name, p := range pipes {
		gws, err := p.Gateways(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		out[name] = gws
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}
