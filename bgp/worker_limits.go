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

// overLimit keeps a worker that went over max-prefixes out (GoBGP has sent it
// the RFC 4486 Cease, maximum number of prefixes reached) and lets it back
// after max-prefixes-restart.
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
