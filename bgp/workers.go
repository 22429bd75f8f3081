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
	"github.com/osrg/gobgp/v4/pkg/server"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn"
)

// Sink receives what the workers of one VRF announce. Learn gets each UPDATE's
// announcements and withdrawals; WorkerDown says a worker's session ended.
type Sink interface {
	Learn(worker netip.Addr, announced []evpn.Route, withdrawn []netip.Prefix)
	WorkerDown(worker netip.Addr)
}

// Workers is the speaker that meets the workers of one VRF: ipv4 and ipv6
// unicast, static peers and dynamic ranges. It keeps no Loc-RIB (every route is
// rejected at import) and advertises nothing to workers: it only follows what
// each of them announces, straight from the received UPDATEs.
type Workers struct {
	vrf      config.VRF
	srv      *server.BgpServer
	sessions *sessions
	sink     Sink
	log      *slog.Logger
	static   map[netip.Addr]config.Peer

	mu        sync.Mutex
	penalized map[netip.Addr]*time.Timer // over max-prefixes, waiting to be let back
	limitHits uint64
}

// NewWorkers starts the worker speaker of vrf, handing what workers announce to sink.
func NewWorkers(ctx context.Context, c *config.Config, vrf config.VRF, sink Sink, log *slog.Logger) (*Workers, error) {
	log = log.With("speaker", "workers", "vrf", vrf.Name)
	srv, err := newServer(ctx, log, &api.Global{
		Asn: vrf.Workers.ASN, RouterId: c.RouterID.String(),
		ListenPort: int32(vrf.Workers.Port), ListenAddresses: listenAddresses(vrf.Workers.Listen),
		BindToDevice: vrf.Device, Families: ribNone,
	})
	if err != nil {
		return nil, fmt.Errorf("vrf %s: worker speaker: %w", vrf.Name, err)
	}
	w := &Workers{vrf: vrf, srv: srv, sessions: newSessions(log), sink: sink, log: log,
		static: map[netip.Addr]config.Peer{}, penalized: map[netip.Addr]*time.Timer{}}
	w.sessions.onDown = w.down
	w.sessions.onUp = w.up
	if err := w.configure(ctx); err != nil {
		srv.Stop()
		return nil, fmt.Errorf("vrf %s: worker speaker: %w", vrf.Name, err)
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
	callbacks := server.WatchEventMessageCallbacks{OnPathUpdate: w.updates, OnPeerUpdate: w.peerEvent}
	// One watcher for both, so a worker's last UPDATE is handled before its session-down.
	if err := w.srv.WatchEvent(ctx, callbacks, server.WatchUpdate(false, "", ""), server.WatchPeer()); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	for i, p := range w.vrf.Workers.Peers {
		if p.Address.IsValid() {
			w.static[p.Address] = p
			if err := w.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: w.peer(p)}); err != nil {
				return fmt.Errorf("peer %s: %w", p.Address, err)
			}
			continue
		}
		group := fmt.Sprintf("range-%d", i)
		if err := w.srv.AddPeerGroup(ctx, &api.AddPeerGroupRequest{PeerGroup: w.peerGroup(group, p)}); err != nil {
			return fmt.Errorf("range %s: %w", p.Range, err)
		}
		if err := w.srv.AddDynamicNeighbor(ctx, &api.AddDynamicNeighborRequest{DynamicNeighbor: &api.DynamicNeighbor{
			Prefix: p.Range.String(), PeerGroup: group,
		}}); err != nil {
			return fmt.Errorf("range %s: %w", p.Range, err)
		}
	}
	return nil
}

// afiSafis are the families offered to workers: IPv4 and IPv6 unicast, each
// only if some accept rule is of that family. A family nothing could be
// accepted in would only cost a table per worker, and its routes would be
// refused anyway.
func (w *Workers) afiSafis() []*api.AfiSafi {
	var v4, v6 bool
	for _, r := range w.vrf.Workers.Accept {
		v4 = v4 || r.Prefix.Addr().Is4()
		v6 = v6 || r.Prefix.Addr().Is6()
	}
	var out []*api.AfiSafi
	for _, fam := range []*api.Family{familyIPv4, familyIPv6} {
		if fam == familyIPv4 && !v4 || fam == familyIPv6 && !v6 {
			continue
		}
		a := &api.AfiSafi{Config: &api.AfiSafiConfig{Family: fam, Enabled: true}}
		if max := w.vrf.Workers.MaxPrefixes; max > 0 {
			a.PrefixLimits = &api.PrefixLimit{Family: fam, MaxPrefixes: max}
		}
		out = append(out, a)
	}
	return out
}

func (w *Workers) transport(p config.Peer) (*api.Transport, *api.EbgpMultihop, *api.TtlSecurity) {
	t := &api.Transport{PassiveMode: p.Passive, BindInterface: w.vrf.Device, RemotePort: uint32(w.vrf.Workers.Port)}
	var mh *api.EbgpMultihop
	if p.Multihop > 0 {
		mh = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(p.Multihop)}
	}
	var ttl *api.TtlSecurity
	if p.TTLSecurity > 0 {
		ttl = &api.TtlSecurity{Enabled: true, TtlMin: 256 - uint32(p.TTLSecurity)}
	}
	return t, mh, ttl
}

func (w *Workers) peer(p config.Peer) *api.Peer {
	t, mh, ttl := w.transport(p)
	return &api.Peer{
		Conf:         &api.PeerConf{NeighborAddress: p.Address.String(), PeerAsn: p.ASN, AuthPassword: p.Password},
		Transport:    t,
		EbgpMultihop: mh,
		TtlSecurity:  ttl,
		Timers:       &api.Timers{Config: &api.TimersConfig{ConnectRetry: connectRetry}},
		AfiSafis:     w.afiSafis(),
	}
}

func (w *Workers) peerGroup(name string, p config.Peer) *api.PeerGroup {
	t, mh, ttl := w.transport(p)
	return &api.PeerGroup{
		Conf:         &api.PeerGroupConf{PeerGroupName: name, PeerAsn: p.ASN, AuthPassword: p.Password},
		Transport:    t,
		EbgpMultihop: mh,
		TtlSecurity:  ttl,
		AfiSafis:     w.afiSafis(),
	}
}

// updates hands one received UPDATE (or several) to the sink, per worker.
// An UPDATE comes from one worker, so a batch is sized for the paths left
// when it takes its first route, rather than grown.
func (w *Workers) updates(paths []*apiutil.Path, _ time.Time) {
	type batch struct {
		announced []evpn.Route
		withdrawn []netip.Prefix
	}
	var order []netip.Addr
	byWorker := map[netip.Addr]*batch{}
	var reader routeReader
	for i, p := range paths {
		r, ok := reader.read(p)
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
		if p.Withdrawal {
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
	for _, worker := range order {
		b := byWorker[worker]
		w.sink.Learn(worker, b.announced, b.withdrawn)
	}
}

func (w *Workers) peerEvent(ev *apiutil.WatchEventMessage_PeerEvent, t time.Time) {
	if ev.Type == apiutil.PEER_EVENT_STATE && ev.Peer.State.AdminState == api.PeerState_ADMIN_STATE_PFX_CT {
		w.overLimit(ev.Peer.State.NeighborAddress.Unmap().WithZone(""), ev.Peer.State.PeerASN)
	}
	w.sessions.peerEvent(ev, t)
}

func (w *Workers) down(worker netip.Addr, _ string) { w.sink.WorkerDown(worker) }

// up closes the session of a worker still serving its max-prefixes penalty:
// one that reconnected in the moment between GoBGP deleting its dynamic
// neighbor and hold putting the admin-down peer in place.
func (w *Workers) up(worker netip.Addr) {
	w.mu.Lock()
	_, penalized := w.penalized[worker]
	w.mu.Unlock()
	if !penalized {
		return
	}
	w.log.Warn("worker back before max-prefixes-restart: closing", "worker", worker)
	go func() {
		_ = w.srv.ShutdownPeer(context.Background(), &api.ShutdownPeerRequest{
			Address: worker.String(), Communication: "max-prefixes restart pending"})
	}()
}

// overLimit keeps a worker that went over max-prefixes out (GoBGP has sent it
// the RFC 4486 Cease, maximum number of prefixes reached) and lets it back
// after max-prefixes-restart.
func (w *Workers) overLimit(worker netip.Addr, asn uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.penalized[worker]; ok {
		return
	}
	w.limitHits++
	delay := w.vrf.Workers.MaxPrefixesRestart
	w.log.Warn("worker over max-prefixes: session closed", "worker", worker,
		"max-prefixes", w.vrf.Workers.MaxPrefixes, "back-in", delay)
	_, static := w.static[worker]
	if !static {
		go w.hold(worker, asn)
	}
	w.penalized[worker] = time.AfterFunc(delay, func() { w.release(worker, static) })
}

// hold keeps a dynamic worker's address out with an administratively down
// peer: GoBGP deletes a dynamic neighbor when its session ends, after which the
// worker could come straight back. The down peer can only be added once that
// deletion is done, so it tries for a few seconds.
func (w *Workers) hold(worker netip.Addr, asn uint32) {
	req := &api.AddPeerRequest{Peer: &api.Peer{
		Conf:     &api.PeerConf{NeighborAddress: worker.String(), PeerAsn: asn, AdminDown: true},
		AfiSafis: w.afiSafis(),
	}}
	var err error
	for range 500 {
		if err = w.srv.AddPeer(context.Background(), req); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.log.Warn("cannot hold back worker over max-prefixes", "worker", worker, "err", err)
}

func (w *Workers) release(worker netip.Addr, static bool) {
	w.mu.Lock()
	delete(w.penalized, worker)
	w.mu.Unlock()
	var err error
	if static {
		err = w.srv.EnablePeer(context.Background(), &api.EnablePeerRequest{Address: worker.String()})
	} else {
		err = w.srv.DeletePeer(context.Background(), &api.DeletePeerRequest{Address: worker.String()})
	}
	if err != nil {
		w.log.Warn("cannot let worker back", "worker", worker, "err", err)
		return
	}
	w.log.Info("worker let back after max-prefixes", "worker", worker)
}

// SessionsUp is how many worker sessions are established.
func (w *Workers) SessionsUp() int { return w.sessions.Up() }

// MaxPrefixHits is how many times a worker was cut off for max-prefixes.
func (w *Workers) MaxPrefixHits() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.limitHits
}

// Stop closes every worker session and cancels pending releases.
func (w *Workers) Stop() {
	w.mu.Lock()
	for _, t := range w.penalized {
		t.Stop()
	}
	w.mu.Unlock()
	w.srv.Stop()
}
