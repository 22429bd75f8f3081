package bgp

import (
	gobgpmetrics "github.com/osrg/gobgp/v4/pkg/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is GoBGP's own Prometheus collector for the worker speaker's
// sessions: per worker, its state, uptime, flaps and messages (bgp_peer_*,
// bgp_received_*, bgp_sent_*, bgp_routes_*).
func (w *Workers) Collector() prometheus.Collector { return gobgpmetrics.NewBgpCollector(w.srv) }

// Collector is GoBGP's own Prometheus collector for the fabric sessions.
func (f *Fabric) Collector() prometheus.Collector { return gobgpmetrics.NewBgpCollector(f.srv) }
