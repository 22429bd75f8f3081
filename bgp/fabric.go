package bgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/server"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn"
)

// Fabric is the EVPN speaker: it peers in l2vpn-evpn with route reflectors or
// leaves and holds the Type-5 routes it is told to.
type Fabric struct {
	srv      *server.BgpServer
	sessions *sessions

	mu     sync.Mutex // guards values: VRFs advertise from their own goroutines
	values *shared
}

// NewFabric starts the fabric speaker of c and its neighbors.
func NewFabric(ctx context.Context, c *config.Config, log *slog.Logger) (*Fabric, error) {
	log = log.With("speaker", "fabric")
	port := int32(c.Fabric.Port)
	if len(c.Fabric.Listen) == 0 {
		port = -1 // connect out only
	}
	srv, err := newServer(ctx, log, &api.Global{
		Asn: c.ASN, RouterId: c.RouterID.String(),
		ListenPort: port, ListenAddresses: listenAddresses(c.Fabric.Listen), Families: ribEVPN,
	})
	if err != nil {
		return nil, fmt.Errorf("fabric speaker: %w", err)
	}
	f := &Fabric{srv: srv, sessions: newSessions(log), values: newShared()}
	if err := srv.WatchEvent(ctx, server.WatchEventMessageCallbacks{OnPeerUpdate: f.sessions.peerEvent}, server.WatchPeer()); err != nil {
		srv.Stop()
		return nil, fmt.Errorf("fabric speaker: watch peers: %w", err)
	}
	for _, n := range c.Fabric.Neighbors {
		if err := srv.AddPeer(ctx, &api.AddPeerRequest{Peer: fabricPeer(n)}); err != nil {
			srv.Stop()
			return nil, fmt.Errorf("fabric neighbor %s: %w", n.Address, err)
		}
	}
	return f, nil
}

func fabricPeer(n config.Neighbor) *api.Peer {
	p := &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: n.Address.String(), PeerAsn: n.ASN, AuthPassword: n.Password},
		Transport: &api.Transport{RemotePort: uint32(n.Port), PassiveMode: n.Passive},
		Timers:    &api.Timers{Config: &api.TimersConfig{ConnectRetry: connectRetry}},
		AfiSafis:  []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: familyEVPN, Enabled: true}}},
	}
	if n.Multihop > 0 {
		p.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(n.Multihop)}
	}
	return p
}

// Advertise adds or replaces Type-5 routes.
func (f *Fabric) Advertise(routes []evpn.Type5Route) error {
	paths, err := f.paths(routes, type5Path)
	if err != nil {
		return err
	}
	resps, err := f.srv.AddPath(apiutil.AddPathRequest{Paths: paths})
	if err != nil {
		return fmt.Errorf("advertise: %w", err)
	}
	var errs []error
	for i, r := range resps {
		if r.Error != nil {
			errs = append(errs, fmt.Errorf("advertise %s: %w", routes[i].Prefix, r.Error))
		}
	}
	return errors.Join(errs...)
}

// Withdraw removes Type-5 routes.
func (f *Fabric) Withdraw(routes []evpn.Type5Route) error {
	paths, err := f.paths(routes, type5Withdrawal)
	if err != nil {
		return err
	}
	if err := f.srv.DeletePath(apiutil.DeletePathRequest{Paths: paths}); err != nil {
		return fmt.Errorf("withdraw: %w", err)
	}
	return nil
}

// paths builds a GoBGP path for each route with build, from the shared
// values that VRFs advertising from their own goroutines take turns on.
func (f *Fabric) paths(routes []evpn.Type5Route, build func(evpn.Type5Route, *shared) (*apiutil.Path, error)) ([]*apiutil.Path, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	paths := make([]*apiutil.Path, len(routes))
	for i, r := range routes {
		p, err := build(r, f.values)
		if err != nil {
			return nil, err
		}
		paths[i] = p
	}
	return paths, nil
}

// SessionsUp is how many fabric sessions are established.
func (f *Fabric) SessionsUp() int { return f.sessions.Up() }

// Stop closes every fabric session.
func (f *Fabric) Stop() { f.srv.Stop() }
