package config

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/t5gw/t5gw/evpn"
)

// Config is a validated t5gw configuration: the global file and every VRF file.
type Config struct {
	File     string // the global file it came from
	RouterID netip.Addr
	ASN      uint32
	VTEP     netip.Addr // BGP next hop of every Type-5 route
	Fabric   Fabric
	VRFDir   string // resolved against the global file's directory
	Metrics  string // host:port of /metrics; empty turns it off
	LogLevel slog.Level
	// LogFormat is "text" (logfmt, the default) or "json"; read at start.
	LogFormat string
	// API is the local API t5gwctl talks to; read at start.
	API API
	// MemoryLimit is the garbage collector's soft limit; a reload applies it.
	MemoryLimit MemoryLimit
	// StateDir holds what survives a restart: the workers that were up, so
	// that a restarted t5gwd knows it is restarting and whom to wait for.
	StateDir        string
	GracefulRestart GracefulRestart
	// GracefulShutdown tags every Type-5 route with the RFC 8326
	// GRACEFUL_SHUTDOWN community (and LOCAL_PREF 0 toward iBGP peers), so
	// that the fabric prefers the other node of a pair before maintenance.
	GracefulShutdown bool
	VRFs             []VRF
}

// GracefulRestart is RFC 4724 toward the fabric: how long fabric peers keep
// t5gw's routes while it restarts, and how long a restarted t5gw waits for
// its workers before it sends End-of-RIB.
type GracefulRestart struct {
	RestartTime time.Duration // announced to fabric peers; 0 turns it off
	WorkerWait  time.Duration
}

// Fabric is the EVPN side: the route reflectors or leaves t5gw peers with.
type Fabric struct {
	Listen    []netip.Addr // empty: do not listen, only connect out
	Port      uint16
	Neighbors []Neighbor
}

// Neighbor is one l2vpn-evpn peer.
type Neighbor struct {
	Address  netip.Addr
	ASN      uint32
	Port     uint16
	Password string // TCP MD5
	Multihop uint8  // eBGP multihop TTL; 0 is off
	Passive  bool
}

// VRF is one tenant VRF: its EVPN identity and the workers that peer in it.
type VRF struct {
	File         string
	Name         string
	Device       string // Linux VRF device; empty when t5gw is not on the leaf itself
	L3VNI        uint32
	RD           evpn.RD
	RouteTargets []evpn.RouteTarget // export
	Label        evpn.LabelMode
	// InstallRoutes also puts each worker prefix in the VRF's kernel table,
	// via the worker, so the host running t5gw forwards to workers too.
	InstallRoutes bool
	// Paths: one Type-5 route per worker that announces a prefix (the
	// default), or one per prefix, the best worker's.
	Paths evpn.PathMode
	// Unresolved is what happens to a worker's routes while the fabric has
	// no Type-2 route for its gateway IP; RouterMAC is this node's router
	// MAC on the L3VNI, which fallback needs.
	Unresolved evpn.UnresolvedPolicy
	RouterMAC  evpn.MAC
	// Origin is the ORIGIN of the Type-5 routes: igp (the default), the
	// worker's (keep), egp or incomplete.
	Origin  evpn.OriginPolicy
	Workers Workers
}

// Workers is how t5gw meets the workers of one VRF.
type Workers struct {
	ASN                    uint32 // the AS t5gw shows to workers
	Listen                 []netip.Addr
	Port                   uint16
	Peers                  []Peer
	Accept                 []evpn.PrefixRule
	MaxPrefixes            uint32 // accepted routes per worker and address family; 0 is no limit
	MaxPrefixesRestart     time.Duration
	MaxPrefixesWarning     uint8 // percent of MaxPrefixes past which a worker is logged as near it
	AllowThirdPartyNextHop bool
	// EnforceFirstAS refuses a route from an eBGP worker whose AS path does
	// not start with the worker's own AS (as FRR does by default).
	EnforceFirstAS bool
	Timers         Timers // default for every peer
	BFD            BFD    // for the peers with bfd: true
	// GracefulRestart makes t5gw a graceful-restart helper (RFC 4724) for
	// the workers: a worker whose BGP daemon restarts keeps its routes for
	// the restart time it announced, until it sends End-of-RIB.
	GracefulRestart bool
}

// Timers are a BGP session's keepalive interval and hold time.
type Timers struct {
	Keepalive, Hold time.Duration
}

// Peer is a static worker (Address) or a range any worker may connect from.
type Peer struct {
	Address     netip.Addr
	Range       netip.Prefix
	ASN         uint32
	Password    string
	Multihop    uint8 // eBGP multihop TTL; 0 is off
	TTLSecurity uint8 // GTSM: accept only packets this many hops away or less; 0 is off
	Passive     bool
	Timers      Timers // the VRF's unless the peer sets its own
	BFD         BFD    // single-hop BFD (RFC 5881) with the worker; zero: off
}

// BFD is how a BFD session (RFC 5880) detects a dead worker: it declares
// the worker down after Multiplier intervals without a packet.
type BFD struct {
	Interval   time.Duration // desired transmit and required receive interval
	Multiplier uint8
}

// Enabled tells whether the peer runs BFD.
func (b BFD) Enabled() bool { return b.Multiplier > 0 }

// Key is what names a peer in a VRF: its address or its range.
func (p Peer) Key() string {
	if p.Address.IsValid() {
		return p.Address.String()
	}
	return p.Range.String()
}

// EVPN returns what translation needs to know of the VRF.
func (c *Config) EVPN(v VRF) evpn.VRF {
	return evpn.VRF{
		Name:                   v.Name,
		RD:                     v.RD,
		L3VNI:                  v.L3VNI,
		RouteTargets:           v.RouteTargets,
		Label:                  v.Label,
		VTEP:                   c.VTEP,
		Accept:                 v.Workers.Accept,
		AllowThirdPartyNextHop: v.Workers.AllowThirdPartyNextHop,
		AllowForeignFirstAS:    !v.Workers.EnforceFirstAS,
		GracefulShutdown:       c.GracefulShutdown,
		Paths:                  v.Paths,
		Unresolved:             v.Unresolved,
		RouterMAC:              v.RouterMAC,
		Origin:                 v.Origin,
	}
}

// AddPath tells whether some VRF sends its workers' routes with ADD-PATH:
// then every fabric session offers it.
func (c *Config) AddPath() bool {
	for _, v := range c.VRFs {
		if v.Paths == evpn.PathsAddPath {
			return true
		}
	}
	return false
}

// API is where t5gwd serves its local API: a unix socket (empty: off) that
// root, and the members of Group when set, may use.
type API struct {
	Socket string
	Group  string
}

// DefaultAPISocket is where the local API listens unless the config says.
const DefaultAPISocket = "/run/t5gw/t5gwd.sock"
