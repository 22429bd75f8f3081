package bgp

import (
	"net/netip"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/t5gw/t5gw/evpn"
)

// restartCap is what a worker's OPEN said of graceful restart (RFC 4724).
type restartCap struct {
	time      time.Duration // how long to keep its routes while it restarts
	families  evpn.Families // the families it restarts gracefully in
	preserved evpn.Families // those whose forwarding state it kept (F bit)
	helper    bool          // t5gw offered to help in this session
	announced bool          // its OPEN carried the capability: it sends End-of-RIB
}

// restartCapOf reads the graceful restart capability a peer sent.
func restartCapOf(peer *apiutil.Peer) restartCap {
	var c restartCap
	for _, cap := range peer.State.RemoteCap {
		gr, ok := cap.(*bgppkt.CapGracefulRestart)
		if !ok {
			continue
		}
		c.announced = true
		c.time = time.Duration(gr.Time) * time.Second
		for _, t := range gr.Tuples {
			var f evpn.Families
			switch bgppkt.NewFamily(t.AFI, t.SAFI) {
			case bgppkt.RF_IPv4_UC:
				f = evpn.IPv4
			case bgppkt.RF_IPv6_UC:
				f = evpn.IPv6
			}
			c.families |= f
			if t.Flags&0x80 != 0 {
				c.preserved |= f
			}
		}
	}
	return c
}

// up is called when a worker's session is established: it notes what the
// worker said of graceful restart, closes it if it is serving a max-prefixes
// penalty, and tells the sink which of its stale routes may stay. After a
// reset t5gw made itself the worker did not restart, so all may; after the
// worker restarted, only the families it kept forwarding in (RFC 4724 4.2).
func (w *Workers) up(worker netip.Addr, peer *apiutil.Peer) {
	c := restartCapOf(peer)
	w.mu.Lock()
	c.helper = w.opts.GracefulRestart
	w.restarts[worker] = c
	w.eorPending[worker] = negotiated(peer) & w.opts.Families
	w.heard[worker] = time.Now()
	reset := w.resetting[worker]
	delete(w.resetting, worker)
	_, penalized := w.penalized[worker]
	w.mu.Unlock()
	if penalized {
		w.closePenalized(worker)
		return
	}
	preserved := c.preserved
	if reset {
		preserved = c.families
	}
	w.sink.WorkerUp(worker, preserved)
	w.changed()
}

// changed tells whoever asked that the set of established workers changed.
func (w *Workers) changed() {
	if f := w.settings().SessionsChanged; f != nil {
		f()
	}
}

// down is called when a worker's session ends: its routes stay while it
// restarts gracefully, or while t5gw resets its session on purpose, if it
// does graceful restart; otherwise they go at once.
func (w *Workers) down(worker netip.Addr, reason api.PeerState_DisconnectReason) {
	w.mu.Lock()
	stopping := w.stopping
	reset := w.resetting[worker]
	w.mu.Unlock()
	if stopping {
		return // Stop has told the sink already
	}
	w.mu.Lock()
	delete(w.eorPending, worker)
	delete(w.heard, worker)
	w.mu.Unlock()
	graceful := reason == api.PeerState_DISCONNECT_REASON_GRACEFUL_RESTART
	w.sink.WorkerDown(worker, w.keepFor(worker, graceful || reset))
	w.changed()
}

// keepFor is how long a worker's routes stay after its session ends: the
// restart time it announced, when the end is graceful (its restart, or a
// reset of t5gw's own) and graceful restart was agreed in the session that
// ended (a reset that turns the helper off still keeps them); else 0.
func (w *Workers) keepFor(worker netip.Addr, graceful bool) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.restarts[worker]
	if !graceful || !c.helper || c.families == 0 {
		return 0
	}
	return c.time
}

// negotiated is the families a peer's OPEN offered.
func negotiated(peer *apiutil.Peer) evpn.Families {
	var f evpn.Families
	for _, cap := range peer.State.RemoteCap {
		if mp, ok := cap.(*bgppkt.CapMultiProtocol); ok {
			switch mp.CapValue {
			case bgppkt.RF_IPv4_UC:
				f |= evpn.IPv4
			case bgppkt.RF_IPv6_UC:
				f |= evpn.IPv6
			}
		}
	}
	return f
}

// quietSync is how long a worker without graceful restart, which need not
// send End-of-RIB (RFC 4724 makes the marker part of that capability; BIRD
// sends none without it), must have been silent after its session came up
// for t5gw to count its routes as all there.
const quietSync = time.Second

// Synced tells whether the worker's session is established and t5gw has all
// its routes: it has sent End-of-RIB in every family of the session, or,
// without graceful restart, it has sent nothing for quietSync.
func (w *Workers) Synced(worker netip.Addr) bool {
	if !w.sessions.IsUp(worker) {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	pending, ok := w.eorPending[worker]
	if ok && pending == 0 {
		return true
	}
	heard, up := w.heard[worker]
	return ok && up && !w.restarts[worker].announced && time.Since(heard) >= quietSync
}

// Established lists the workers whose session is up.
func (w *Workers) Established() []netip.Addr { return w.sessions.Established() }
