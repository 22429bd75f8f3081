package bgp

import (
	"context"
	"net/netip"
	"time"

	api "github.com/osrg/gobgp/v4/api"
)

// closePenalized closes the session of a worker still serving its
// max-prefixes penalty: one that reconnected in the moment between GoBGP
// deleting its dynamic neighbor and hold putting the admin-down peer in place.
func (w *Workers) closePenalized(worker netip.Addr) {
	w.log.Warn("worker back before max-prefixes-restart: closing", "worker", worker)
	go func() {
		_ = w.srv.ShutdownPeer(context.Background(), &api.ShutdownPeerRequest{
			Address: worker.String(), Communication: "max-prefixes restart pending"})
	}()
}

// receivedFactor bounds what a worker may send in all, refused routes
// included, at this many times max-prefixes: GoBGP keeps every route it
// received, so without it a worker could fill memory with routes t5gw
// refuses. Reaching it ends the session with GoBGP's own Cease.
const receivedFactor = 10

// CutOff ends the session of a worker that went over max-prefixes (counted by
// the VRF pipeline, accepted routes only) with a Cease whose shutdown
// communication (RFC 9003) says why, and keeps it out for
// max-prefixes-restart. It returns at once: the work is GoBGP's.
func (w *Workers) CutOff(worker netip.Addr, why string) {
	go func() {
		ctx := context.Background()
		var asn uint32
		_ = w.srv.ListPeer(ctx, &api.ListPeerRequest{Address: worker.String()}, func(p *api.Peer) {
			if p.State != nil {
				asn = p.State.PeerAsn
			}
		})
		w.overLimit(worker, asn)
		if err := w.srv.DisablePeer(ctx, &api.DisablePeerRequest{Address: worker.String(), Communication: why}); err != nil {
			w.log.Warn("cannot close the session of a worker over max-prefixes", "worker", worker, "err", err)
		}
	}()
}

// overLimit keeps a worker that went over max-prefixes, or sent too many
// routes in all, out and lets it back after max-prefixes-restart.
func (w *Workers) overLimit(worker netip.Addr, asn uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.penalized[worker]; ok || w.stopping {
		return
	}
	w.limitHits++
	delay := w.opts.MaxPrefixesRestart
	w.log.Warn("worker over max-prefixes: session closed", "worker", worker,
		"max-prefixes", w.opts.MaxPrefixes, "back-in", delay)
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
		AfiSafis: w.settings().afiSafis(),
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

// MaxPrefixHits is how many times a worker was cut off for max-prefixes.
func (w *Workers) MaxPrefixHits() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.limitHits
}
