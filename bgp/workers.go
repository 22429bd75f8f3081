package bgp

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn"
)

// Sink receives what the workers of one VRF announce. Learn gets each
// UPDATE's announcements and withdrawals. WorkerDown says a worker's session
// ended, and how long its routes stay (0: not at all; more while it
// restarts gracefully); WorkerUp says it is back, and in which families it
// kept its forwarding state; EndOfRIB says it has sent all its routes of the
// families.
type Sink interface {
	Learn(worker netip.Addr, announced []evpn.Route, withdrawn []netip.Prefix)
	WorkerDown(worker netip.Addr, keep time.Duration)
	WorkerUp(worker netip.Addr, preserved evpn.Families)
	EndOfRIB(worker netip.Addr, families evpn.Families)
}

// WorkersOptions is what the worker speaker of one VRF is made of.
type WorkersOptions struct {
	VRF      string
	RouterID netip.Addr
	ASN      uint32 // the AS t5gw shows to the workers
	Listen   []netip.Addr
	Port     uint16
	Device   string        // Linux VRF the sockets bind to; empty: none
	Families evpn.Families // offered to every worker
	Peers    []config.Peer
	// MaxPrefixes is per worker and family; 0 is no limit. The VRF pipeline
	// counts accepted routes and calls CutOff; GoBGP holds a worker to
	// receivedFactor times it in all. A worker cut off is let back after
	// MaxPrefixesRestart.
	MaxPrefixes        uint32
	MaxPrefixesRestart time.Duration
	// GracefulRestart makes t5gw a graceful-restart helper (RFC 4724): a
	// worker whose BGP daemon restarts keeps its routes for the restart time
	// it announced, and so does a worker whose session t5gw resets itself.
	GracefulRestart bool
	// Returning lists workers whose sessions t5gw has just closed itself (a
	// previous speaker of the VRF): when they are back, their routes kept
	// stale wait for End-of-RIB whatever their OPEN says of forwarding
	// state, since they did not restart.
	Returning []netip.Addr
	// SessionsChanged, if set, is called after a worker's session comes up
	// or goes down, from GoBGP's event goroutine: it must not block.
	SessionsChanged func()
	Log             *slog.Logger
}

// Workers is the speaker that meets the workers of one VRF: ipv4 and ipv6
// unicast, static peers and dynamic ranges. It keeps no Loc-RIB (every route is
// rejected at import) and advertises nothing to workers: it only follows what
// each of them announces, straight from the received UPDATEs.
type Workers struct {
	srv      *server.BgpServer
	sessions *sessions
	sink     Sink
	log      *slog.Logger

	mu         sync.Mutex
	opts       WorkersOptions
	static     map[netip.Addr]config.Peer
	ranges     map[string]config.Peer       // by range
	restarts   map[netip.Addr]restartCap    // what each worker announced in its OPEN
	resetting  map[netip.Addr]bool          // sessions t5gw is resetting itself
	eorPending map[netip.Addr]evpn.Families // families a worker has yet to send End-of-RIB in
	heard      map[netip.Addr]time.Time     // when a worker's session came up or it last sent an UPDATE
	penalized  map[netip.Addr]*time.Timer   // over max-prefixes, waiting to be let back
	limitHits  uint64
	stopping   bool

	// delivering is held for reading while an UPDATE or an End-of-RIB goes
	// to the sink, and for writing by Stop: nothing a worker sent arrives
	// after Stop has said the worker is gone.
	delivering sync.RWMutex
}

// NewWorkers starts the worker speaker, handing what workers announce to sink.
func NewWorkers(ctx context.Context, opts WorkersOptions, sink Sink) (*Workers, error) {
	log := opts.Log.With("speaker", "workers", "vrf", opts.VRF)
	srv, err := newServer(ctx, log, &api.Global{
		Asn: opts.ASN, RouterId: opts.RouterID.String(),
		ListenPort: int32(opts.Port), ListenAddresses: listenAddresses(opts.Listen),
		BindToDevice: opts.Device, Families: ribNone,
	})
	if err != nil {
		return nil, fmt.Errorf("vrf %s: worker speaker: %w", opts.VRF, err)
	}
	w := &Workers{opts: opts, srv: srv, sessions: newSessions(log), sink: sink, log: log,
		static: map[netip.Addr]config.Peer{}, ranges: map[string]config.Peer{},
		restarts: map[netip.Addr]restartCap{}, resetting: map[netip.Addr]bool{}, eorPending: map[netip.Addr]evpn.Families{},
		heard: map[netip.Addr]time.Time{}, penalized: map[netip.Addr]*time.Timer{}}
	for _, a := range opts.Returning {
		w.resetting[a] = true
	}
	w.sessions.onDown = w.down
	w.sessions.onUp = w.up
	if err := w.configure(ctx); err != nil {
		srv.Stop()
		return nil, fmt.Errorf("vrf %s: worker speaker: %w", opts.VRF, err)
	}
	return w, nil
}

func (w *Workers) configure(ctx context.Context) error {
	// Reject everything at import: no Loc-RIB, nothing sent back to workers,
	// no per-peer export work. Routes are followed from the UPDATEs instead.
	if err := w.srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Name: "global", Direction: api.PolicyDirection_POLICY_DIRECTION_IMPORT,
		DefaultAction: api.RouteAction_ROUTE_ACTION_REJECT,
	}}); err != nil {
		return fmt.Errorf("import policy: %w", err)
	}
	callbacks := server.WatchEventMessageCallbacks{OnPathUpdate: w.updates, OnPeerUpdate: w.peerEvent, OnPathEor: w.endOfRIB}
	// One watcher for all three, so a worker's UPDATEs, its End-of-RIB and
	// its session's end are handled in the order they happened.
	if err := w.srv.WatchEvent(ctx, callbacks, server.WatchUpdate(false, "", ""), server.WatchPeer(), server.WatchEor(false)); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	for _, p := range w.opts.Peers {
		if err := w.AddPeer(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// AddPeer starts accepting (and, for a static peer, making) the session of a
// worker or a range of them.
func (w *Workers) AddPeer(ctx context.Context, p config.Peer) error {
	if p.Address.IsValid() {
		if err := w.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: w.peer(p)}); err != nil {
			return fmt.Errorf("peer %s: %w", p.Address, err)
		}
		w.mu.Lock()
		w.static[p.Address] = p
		w.mu.Unlock()
		return nil
	}
	group := rangeGroup(p)
	if err := w.srv.AddPeerGroup(ctx, &api.AddPeerGroupRequest{PeerGroup: w.peerGroup(group, p)}); err != nil {
		return fmt.Errorf("range %s: %w", p.Range, err)
	}
	if err := w.srv.AddDynamicNeighbor(ctx, &api.AddDynamicNeighborRequest{DynamicNeighbor: &api.DynamicNeighbor{
		Prefix: p.Range.String(), PeerGroup: group,
	}}); err != nil {
		return fmt.Errorf("range %s: %w", p.Range, err)
	}
	w.mu.Lock()
	w.ranges[p.Range.String()] = p
	w.mu.Unlock()
	return nil
}

// RemovePeer closes the sessions of a worker or a range and forgets it: its
// routes are withdrawn.
func (w *Workers) RemovePeer(ctx context.Context, p config.Peer) error {
	return w.remove(ctx, p, false)
}

// ResetPeer closes the sessions of a worker or a range and starts them again
// under p's settings. Workers that do graceful restart keep their routes
// until they are back and have sent End-of-RIB, for the restart time they
// announced: a reset made for a config change costs the fabric nothing.
func (w *Workers) ResetPeer(ctx context.Context, p config.Peer) error {
	if err := w.remove(ctx, p, true); err != nil {
		return err
	}
	return w.AddPeer(ctx, p)
}

// remove deletes a peer or a range with its dynamic sessions; with reset the
// workers' routes are kept as for a graceful restart.
func (w *Workers) remove(ctx context.Context, p config.Peer, reset bool) error {
	members := []netip.Addr{p.Address}
	if !p.Address.IsValid() {
		members = w.rangeMembers(ctx, rangeGroup(p))
	}
	w.mu.Lock()
	for _, m := range members {
		if reset && w.sessions.IsUp(m) {
			w.resetting[m] = true
		}
	}
	if p.Address.IsValid() {
		delete(w.static, p.Address)
		if t := w.penalized[p.Address]; t != nil {
			t.Stop()
			delete(w.penalized, p.Address)
		}
	} else {
		delete(w.ranges, p.Range.String())
	}
	w.mu.Unlock()
	if p.Address.IsValid() {
		if err := w.srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: p.Address.String()}); err != nil {
			return fmt.Errorf("peer %s: %w", p.Address, err)
		}
		if !reset { // also when it was restarting: its stale routes go
			w.sink.WorkerDown(p.Address, 0)
		}
		return nil
	}
	// Deleting a range leaves its sessions up: close them too.
	if err := w.srv.DeleteDynamicNeighbor(ctx, &api.DeleteDynamicNeighborRequest{
		Prefix: p.Range.String(), PeerGroup: rangeGroup(p)}); err != nil {
		return fmt.Errorf("range %s: %w", p.Range, err)
	}
	for _, m := range members {
		_ = w.srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: m.String()})
	}
	if err := w.srv.DeletePeerGroup(ctx, &api.DeletePeerGroupRequest{Name: rangeGroup(p)}); err != nil {
		return fmt.Errorf("range %s: %w", p.Range, err)
	}
	return nil
}

// rangeMembers lists the dynamic neighbors of a range's peer group.
func (w *Workers) rangeMembers(ctx context.Context, group string) []netip.Addr {
	var out []netip.Addr
	_ = w.srv.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) {
		if p.Conf != nil && p.Conf.PeerGroup == group && p.State != nil {
			if a, err := netip.ParseAddr(p.State.NeighborAddress); err == nil {
				out = append(out, a.Unmap())
			}
		}
	})
	return out
}

// UpdatePeer gives a peer new keepalive and hold timers, from its next
// session on (the session that is up keeps what it negotiated), and new BFD
// settings at once; no session resets.
func (w *Workers) UpdatePeer(ctx context.Context, p config.Peer) error {
	w.mu.Lock()
	if p.Address.IsValid() {
		w.static[p.Address] = p
	} else {
		w.ranges[p.Range.String()] = p
	}
	w.mu.Unlock()
	return w.update(ctx, p)
}

// update hands GoBGP a peer's or a range's settings that change without a
// reset (timers, prefix limits).
func (w *Workers) update(ctx context.Context, p config.Peer) error {
	var err error
	if p.Address.IsValid() {
		_, err = w.srv.UpdatePeer(ctx, &api.UpdatePeerRequest{Peer: w.peer(p)})
	} else {
		_, err = w.srv.UpdatePeerGroup(ctx, &api.UpdatePeerGroupRequest{PeerGroup: w.peerGroup(rangeGroup(p), p)})
	}
	if err != nil {
		return fmt.Errorf("peer %s: %w", p.Key(), err)
	}
	return nil
}

// Reconfigure takes the options that shape each session (families, prefix
// limits, graceful restart, the peers) for the sessions it starts from now
// on; it touches none. The server's own (listen addresses, port, AS,
// device) stay: changing those takes a new speaker.
func (w *Workers) Reconfigure(o WorkersOptions) {
	w.mu.Lock()
	defer w.mu.Unlock()
	o.VRF, o.RouterID, o.ASN, o.Listen, o.Port, o.Device, o.Log = w.opts.VRF, w.opts.RouterID, w.opts.ASN, w.opts.Listen, w.opts.Port, w.opts.Device, w.opts.Log
	w.opts = o
}

// PushLimits hands every peer the prefix limit of the options. Static
// workers take it at once (a worker already over it is closed); the workers
// of a range from their next session.
func (w *Workers) PushLimits(ctx context.Context) error {
	w.mu.Lock()
	peers := make([]config.Peer, 0, len(w.static)+len(w.ranges))
	for _, p := range w.static {
		peers = append(peers, p)
	}
	for _, p := range w.ranges {
		peers = append(peers, p)
	}
	w.mu.Unlock()
	for _, p := range peers {
		if err := w.update(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// updates hands one received UPDATE (or several) to the sink, per worker.
// An UPDATE comes from one worker, so a batch is sized for the paths left
// when it takes its first route, rather than grown.
func (w *Workers) updates(paths []*apiutil.Path, _ time.Time) {
	if !w.startDelivery() {
		return
	}
	defer w.delivering.RUnlock()
	type batch struct {
		announced []evpn.Route
		withdrawn []netip.Prefix
	}
	var order []netip.Addr
	byWorker := map[netip.Addr]*batch{}
	w.mu.Lock()
	reader := routeReader{localAS: w.opts.ASN}
	w.mu.Unlock()
	for i, p := range paths {
		r, withdrawn, ok := reader.read(p)
		if !ok {
			continue
		}
		b := byWorker[r.Worker]
		if b == nil {
			b = &batch{}
			byWorker[r.Worker] = b
			order = append(order, r.Worker)
		}
		left := len(paths) - i
		if withdrawn {
			if b.withdrawn == nil {
				b.withdrawn = make([]netip.Prefix, 0, left)
			}
			b.withdrawn = append(b.withdrawn, r.Prefix)
		} else {
			if b.announced == nil {
				b.announced = make([]evpn.Route, 0, left)
			}
			b.announced = append(b.announced, r)
		}
	}
	now := time.Now()
	w.mu.Lock()
	for _, worker := range order {
		if _, up := w.heard[worker]; up {
			w.heard[worker] = now
		}
	}
	w.mu.Unlock()
	for _, worker := range order {
		b := byWorker[worker]
		w.sink.Learn(worker, b.announced, b.withdrawn)
	}
}

// startDelivery tells whether what GoBGP hands over may still go to the
// sink: not once Stop has told it that the workers are gone. On true the
// caller holds delivering for reading until it is done.
func (w *Workers) startDelivery() bool {
	w.delivering.RLock()
	w.mu.Lock()
	stopping := w.stopping
	w.mu.Unlock()
	if stopping {
		w.delivering.RUnlock()
		return false
	}
	return true
}

// endOfRIB passes a worker's End-of-RIB marker on.
func (w *Workers) endOfRIB(p *apiutil.Path, _ time.Time) {
	if !w.startDelivery() {
		return
	}
	defer w.delivering.RUnlock()
	var fam evpn.Families
	switch p.Family {
	case bgppkt.RF_IPv4_UC:
		fam = evpn.IPv4
	case bgppkt.RF_IPv6_UC:
		fam = evpn.IPv6
	default:
		return
	}
	worker := p.PeerAddress.Unmap().WithZone("")
	w.mu.Lock()
	if pending, ok := w.eorPending[worker]; ok {
		w.eorPending[worker] = pending &^ fam
	}
	w.mu.Unlock()
	w.sink.EndOfRIB(worker, fam)
}

func (w *Workers) peerEvent(ev *apiutil.WatchEventMessage_PeerEvent, t time.Time) {
	if ev.Type == apiutil.PEER_EVENT_STATE && ev.Peer.State.AdminState == api.PeerState_ADMIN_STATE_PFX_CT {
		w.overLimit(ev.Peer.State.NeighborAddress.Unmap().WithZone(""), ev.Peer.State.PeerASN)
	}
	w.sessions.peerEvent(ev, t)
}

// SessionsUp is how many worker sessions are established.
func (w *Workers) SessionsUp() int { return w.sessions.Up() }

// SessionDowns is how many worker sessions have ended.
func (w *Workers) SessionDowns() uint64 { return w.sessions.Downs() }

// Stop closes every worker session and cancels pending releases. With keep,
// workers that do graceful restart keep their routes as for a reset (the
// worker speaker restarts, or t5gwd does).
func (w *Workers) Stop(keep bool) {
	w.delivering.Lock() // what GoBGP is handing over now reaches the sink first
	w.mu.Lock()
	w.stopping = true
	w.delivering.Unlock()
	for _, t := range w.penalized {
		t.Stop()
	}
	w.mu.Unlock()
	for _, worker := range w.sessions.closeAll() {
		w.sink.WorkerDown(worker, w.keepFor(worker, keep))
	}
	w.srv.Stop()
}
