package main

import (
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/t5gw/t5gw/bgp"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn/resolve"
	"github.com/t5gw/t5gw/evpn/rib"
)

// syncWait is how long after the first fabric session comes up the locator
// counts the fabric's Type-2 routes as complete when no peer sends
// End-of-RIB (a fabric without graceful restart).
const syncWait = 10 * time.Second

// locator is t5gw's view of where the fabric resolves its workers' gateway
// IPs: the fabric speaker hands it the Type-2 routes of the workers'
// subnets, the VRF pipelines read it and are told what changed.
type locator struct {
	log    *slog.Logger
	notify func(ips []netip.Addr) // tells the VRF pipelines; nil ips: synced

	mu      sync.Mutex
	table   *resolve.Table
	synced  bool
	syncing *time.Timer                // started with the first fabric session
	stale   map[netip.Addr]*time.Timer // fabric peers whose routes are kept stale
	up      map[netip.Addr]bool        // fabric peers whose session is established
}

var (
	_ bgp.MACIPSink = (*locator)(nil)
	_ rib.Locator   = (*locator)(nil)
)

func newLocator(watch []netip.Prefix, log *slog.Logger, notify func([]netip.Addr)) *locator {
	return &locator{log: log, notify: notify, table: resolve.NewTable(watch),
		stale: map[netip.Addr]*time.Timer{}, up: map[netip.Addr]bool{}}
}

// watched is what the locator follows for c: every VRF's worker ranges and
// static worker addresses.
func watched(c *config.Config) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range c.VRFs {
		for _, p := range v.Workers.Peers {
			if p.Range.IsValid() {
				out = append(out, p.Range.Masked())
			} else {
				out = append(out, netip.PrefixFrom(p.Address, p.Address.BitLen()))
			}
		}
	}
	return out
}

// setWatch follows the subnets of a new config.
func (l *locator) setWatch(watch []netip.Prefix) {
	l.mu.Lock()
	changes := l.table.SetWatch(watch)
	l.mu.Unlock()
	l.tell(changes)
}

// Lookup implements rib.Locator: where the fabric resolves ip in the VRF of
// l3vni (0: any).
func (l *locator) Lookup(ip netip.Addr, l3vni uint32) resolve.Location {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.table.LookupIn(ip, l3vni)
}

// Synced implements rib.Locator.
func (l *locator) Synced() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.synced
}

// All is every watched address the fabric resolves.
func (l *locator) All() []resolve.Location {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.table.All()
}

// MACIPs implements bgp.MACIPSink.
func (l *locator) MACIPs(announced, withdrawn []resolve.MACIP) {
	var changes []resolve.Change
	l.mu.Lock()
	for _, r := range withdrawn {
		if c, ok := l.table.Withdraw(r.Peer, r.RD, r.MAC, r.IP); ok {
			changes = append(changes, c)
		}
	}
	for _, r := range announced {
		if c, ok := l.table.Update(r); ok {
			changes = append(changes, c)
		}
	}
	l.mu.Unlock()
	l.tell(changes)
}

// FabricPeer implements bgp.MACIPSink. A peer whose session ends keeps its
// routes, stale, until it is back and sends End-of-RIB, or StalePathTime
// has passed: a route reflector's restart does not make every worker
// unresolved.
func (l *locator) FabricPeer(peer netip.Addr, up bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.up[peer] == up {
		return
	}
	if !up {
		delete(l.up, peer)
	} else {
		l.up[peer] = true
		if l.syncing == nil && !l.synced {
			l.syncing = time.AfterFunc(syncWait, l.sync)
		}
		return
	}
	l.table.MarkStale(peer)
	if t := l.stale[peer]; t != nil {
		t.Stop()
	}
	l.stale[peer] = time.AfterFunc(rib.StalePathTime, func() { l.sweep(peer) })
}

// sessionsEnded says every fabric session has ended without the speaker
// saying so (it was stopped to start another): each peer's routes are kept
// stale as for a session that ended.
func (l *locator) sessionsEnded() {
	l.mu.Lock()
	var peers []netip.Addr
	for p := range l.up {
		peers = append(peers, p)
	}
	l.mu.Unlock()
	for _, p := range peers {
		l.FabricPeer(p, false)
	}
}

// FabricEndOfRIB implements bgp.MACIPSink.
func (l *locator) FabricEndOfRIB(peer netip.Addr) {
	l.sweep(peer)
	l.sync()
}

// sweep removes what peer has not sent again since its session ended.
func (l *locator) sweep(peer netip.Addr) {
	l.mu.Lock()
	if t := l.stale[peer]; t != nil {
		t.Stop()
		delete(l.stale, peer)
	}
	changes := l.table.Sweep(peer, false)
	l.mu.Unlock()
	l.tell(changes)
}

// sync counts the fabric's Type-2 routes as complete: from now on a gateway
// IP without one is unresolved.
func (l *locator) sync() {
	l.mu.Lock()
	was := l.synced
	l.synced = true
	if l.syncing != nil {
		l.syncing.Stop()
	}
	n := len(l.table.All())
	l.mu.Unlock()
	if !was {
		l.log.Info("fabric Type-2 routes received: gateway IP resolution known", "hosts", n)
		l.notify(nil)
	}
}

func (l *locator) tell(changes []resolve.Change) {
	if len(changes) == 0 {
		return
	}
	ips := make([]netip.Addr, len(changes))
	for i, c := range changes {
		ips[i] = c.Now.IP
	}
	l.notify(ips)
}

// stop ends the timers.
func (l *locator) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.stale {
		t.Stop()
	}
	if l.syncing != nil {
		l.syncing.Stop()
	}
}
