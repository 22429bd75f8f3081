package bgp

import (
	"context"
	"errors"
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

// FabricOptions is what the fabric speaker is made of.
type FabricOptions struct {
	RouterID netip.Addr
	ASN      uint32
	Listen   []netip.Addr // empty: only connect out
	Port     uint16
	// RestartTime is announced to every neighbor in the graceful restart
	// capability (RFC 4724) for l2vpn-evpn: a helper keeps t5gw's routes that
	// long when its session ends without a NOTIFICATION. 0 turns it off.
	RestartTime time.Duration
	// AddPath offers ADD-PATH (RFC 7911) send for l2vpn-evpn to every
	// neighbor, so that several routes of one RD and prefix (a VRF with
	// paths: add-path) reach those that take them.
	AddPath bool
	// MACIP, if set, receives the fabric's Type-2 MAC/IP routes, so that
	// t5gw knows where each worker's gateway IP resolves.
	MACIP MACIPSink
	Log   *slog.Logger
}

// Fabric is the EVPN speaker: it peers in l2vpn-evpn with route reflectors or
// leaves and holds the Type-5 routes it is told to. It advertises only those:
// nothing learned from one fabric peer reaches another.
type Fabric struct {
	opts     FabricOptions
	srv      *server.BgpServer
	sessions *sessions

	mu        sync.Mutex // guards values: VRFs advertise from their own goroutines
	values    *shared
	stopped   bool
	neighbors map[netip.Addr]uint32 // their AS
}

// AddPathSendMax is how many routes of one RD and prefix the fabric speaker
// sends a neighbor with ADD-PATH: as many workers as FRR's default
// maximum-paths can use.
const AddPathSendMax = 64

// errStopped is what a stopped fabric speaker answers an advertisement with.
var errStopped = errors.New("fabric speaker stopped")

// NewFabric starts the fabric speaker, without neighbors: AddNeighbor adds
// them once there is something to send.
func NewFabric(ctx context.Context, opts FabricOptions) (*Fabric, error) {
	log := opts.Log.With("speaker", "fabric")
	port := int32(opts.Port)
	if len(opts.Listen) == 0 {
		port = -1 // connect out only
	}
	srv, err := newServer(ctx, log, &api.Global{
		Asn: opts.ASN, RouterId: opts.RouterID.String(),
		ListenPort: port, ListenAddresses: listenAddresses(opts.Listen), Families: ribEVPN,
	})
	if err != nil {
		return nil, fmt.Errorf("fabric speaker: %w", err)
	}
	f := &Fabric{opts: opts, srv: srv, sessions: newSessions(log), values: newShared(), neighbors: map[netip.Addr]uint32{}}
	if err := onlyOwnRoutes(ctx, srv); err != nil {
		srv.Stop()
		return nil, fmt.Errorf("fabric speaker: %w", err)
	}
	if err := srv.WatchEvent(ctx, server.WatchEventMessageCallbacks{OnPeerUpdate: f.sessions.peerEvent}, server.WatchPeer()); err != nil {
		srv.Stop()
		return nil, fmt.Errorf("fabric speaker: watch peers: %w", err)
	}
	if opts.MACIP != nil {
		if err := f.watchMACIP(ctx, opts.MACIP); err != nil {
			srv.Stop()
			return nil, fmt.Errorf("fabric speaker: watch Type-2 routes: %w", err)
		}
	}
	return f, nil
}

// ownRoutes is the policy that keeps the fabric speaker from being a transit:
// only the routes t5gw adds itself (GoBGP's "local" routes) pass.
const ownRoutes = "t5gw-own-routes-only"

// onlyOwnRoutes sets ownRoutes on import and export: routes from fabric peers
// never enter the speaker's table, so they can be neither re-advertised nor
// held, and only t5gw's own Type-5 routes are sent. GoBGP applies the import
// policy to routes added locally too, hence the accept for them.
func onlyOwnRoutes(ctx context.Context, srv *server.BgpServer) error {
	if err := srv.AddPolicy(ctx, &api.AddPolicyRequest{Policy: &api.Policy{Name: ownRoutes, Statements: []*api.Statement{{
		Name:       ownRoutes + "-local",
		Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_LOCAL},
		Actions:    &api.Actions{RouteAction: api.RouteAction_ROUTE_ACTION_ACCEPT},
	}}}}); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	for _, dir := range []api.PolicyDirection{api.PolicyDirection_POLICY_DIRECTION_IMPORT, api.PolicyDirection_POLICY_DIRECTION_EXPORT} {
		if err := srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
			Name: "global", Direction: dir, Policies: []*api.Policy{{Name: ownRoutes}},
			DefaultAction: api.RouteAction_ROUTE_ACTION_REJECT,
		}}); err != nil {
			return fmt.Errorf("policy assignment: %w", err)
		}
	}
	return nil
}

// AddNeighbor starts the session with n. With restarting, t5gw tells n it
// has restarted (the R and F bits of RFC 4724): n keeps the routes it holds
// from t5gw's last session, stale, until t5gw sends End-of-RIB, and then
// removes only those t5gw did not send again.
func (f *Fabric) AddNeighbor(ctx context.Context, n config.Neighbor, restarting bool) error {
	if err := f.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: f.peer(n, restarting)}); err != nil {
		return fmt.Errorf("fabric neighbor %s: %w", n.Address, err)
	}
	f.setNeighbor(n.Address, n.ASN)
	return nil
}

// setNeighbor notes a neighbor's AS (0: removed), for what iBGP-only sends.
func (f *Fabric) setNeighbor(addr netip.Addr, asn uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if asn == 0 {
		delete(f.neighbors, addr)
	} else {
		f.neighbors[addr] = asn
	}
	ibgp := true
	for _, a := range f.neighbors {
		ibgp = ibgp && a == f.opts.ASN
	}
	f.values.setIBGPOnly(ibgp)
}

// RemoveNeighbor ends the session with the neighbor at addr.
func (f *Fabric) RemoveNeighbor(ctx context.Context, addr netip.Addr) error {
	if err := f.srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: addr.String()}); err != nil {
		return fmt.Errorf("fabric neighbor %s: %w", addr, err)
	}
	f.setNeighbor(addr, 0)
	return nil
}

// ResetNeighbor restarts the session with n under its new settings.
func (f *Fabric) ResetNeighbor(ctx context.Context, n config.Neighbor) error {
	if err := f.RemoveNeighbor(ctx, n.Address); err != nil {
		return err
	}
	return f.AddNeighbor(ctx, n, false)
}

func (f *Fabric) peer(n config.Neighbor, restarting bool) *api.Peer {
	p := &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: n.Address.String(), PeerAsn: n.ASN, AuthPassword: n.Password},
		Transport: &api.Transport{RemotePort: uint32(n.Port), PassiveMode: n.Passive},
		Timers:    &api.Timers{Config: &api.TimersConfig{ConnectRetry: connectRetry}},
		AfiSafis:  []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: familyEVPN, Enabled: true}}},
	}
	if f.opts.AddPath {
		p.AfiSafis[0].AddPaths = &api.AddPaths{Config: &api.AddPathsConfig{SendMax: AddPathSendMax}}
	}
	if n.Multihop > 0 {
		p.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(n.Multihop)}
	}
	if rt := f.opts.RestartTime; rt > 0 {
		p.GracefulRestart = &api.GracefulRestart{
			Enabled:     true,
			RestartTime: uint32(rt / time.Second),
			// t5gw selects nothing from the fabric, so it need not wait for
			// its neighbors' End-of-RIB: its routes are all in place before
			// the session starts. GoBGP reads 0 as 360 s.
			DeferralTime:        1,
			NotificationEnabled: true, // RFC 8538
			LocalRestarting:     restarting,
		}
		p.AfiSafis[0].MpGracefulRestart = &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}
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

// Withdraw removes Type-5 routes. A stopped speaker holds none: withdrawing
// from it succeeds.
func (f *Fabric) Withdraw(routes []evpn.Type5Route) error {
	paths, err := f.paths(routes, type5Withdrawal)
	if errors.Is(err, errStopped) {
		return nil
	}
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
	if f.stopped {
		return nil, errStopped
	}
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

// Stop closes every fabric session. With graceful, the sessions of
// neighbors that negotiated graceful restart close without a NOTIFICATION,
// so they keep t5gw's routes until it is back; otherwise every neighbor gets
// a Cease and drops them.
func (f *Fabric) Stop(graceful bool) {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	if !graceful {
		f.srv.Stop()
		return
	}
	// Not Stop, which would stop BGP a second time and log an error; this
	// leaves GoBGP's idle BFD goroutine behind, one per graceful stop.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = f.srv.StopBgp(ctx, &api.StopBgpRequest{AllowGracefulRestart: true})
}

// Synced tells whether some fabric neighbor's session is established and has
// been sent t5gw's routes: after a restart, that is once GoBGP has ended the
// restart for it and sent them with End-of-RIB.
func (f *Fabric) Synced() bool {
	synced := false
	_ = f.srv.ListPeer(context.Background(), &api.ListPeerRequest{}, func(p *api.Peer) {
		if p.State != nil && p.State.SessionState == api.PeerState_SESSION_STATE_ESTABLISHED &&
			(p.GracefulRestart == nil || !p.GracefulRestart.LocalRestarting) {
			synced = true
		}
	})
	return synced
}
