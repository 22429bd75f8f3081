package bgp

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/config/oc"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
	"github.com/t5gw/t5gw/config"
)

// connectRetry is how often an active session that is down tries again. GoBGP's
// default of 120 s would leave a fabric peer that starts late waiting minutes.
const connectRetry = 5

// ribFamilies are the families a server's global RIB (Loc-RIB) has tables for,
// as GoBGP numbers them in api.Global.Families. GoBGP's default is every family.
var (
	ribEVPN = []uint32{uint32(oc.AfiSafiTypeToIntMap[oc.AFI_SAFI_TYPE_L2VPN_EVPN])}
	// ribNone is for the worker speaker: a family no worker negotiates, so a
	// received path finds no table. GoBGP then neither selects a best path
	// nor walks every peer for it (propagateUpdateToNeighbors), on receipt and
	// again when a session's Adj-RIB-In is dropped: that walk was O(peers) per
	// path on one event loop, most of t5gw's CPU with 1,000 workers.
	ribNone = []uint32{uint32(oc.AfiSafiTypeToIntMap[oc.AFI_SAFI_TYPE_OPAQUE])}
)

var (
	familyEVPN = &api.Family{Afi: api.Family_AFI_L2VPN, Safi: api.Family_SAFI_EVPN}
	familyIPv4 = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	familyIPv6 = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
)

// newServer starts a GoBGP server logging through log.
func newServer(ctx context.Context, log *slog.Logger, global *api.Global) (*server.BgpServer, error) {
	s := server.NewBgpServer(server.LoggerOption(engineLogger(log), nil))
	go s.Serve()
	if err := s.StartBgp(ctx, &api.StartBgpRequest{Global: global}); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func listenAddresses(addrs []netip.Addr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

// sessions counts the established sessions of one GoBGP server from its peer
// events, and calls onUp and onDown when one starts or ends.
type sessions struct {
	mu     sync.Mutex
	up     map[netip.Addr]bool
	downs  uint64
	log    *slog.Logger
	onUp   func(addr netip.Addr, peer *apiutil.Peer)
	onDown func(addr netip.Addr, reason api.PeerState_DisconnectReason)
}

func newSessions(log *slog.Logger) *sessions {
	return &sessions{up: map[netip.Addr]bool{}, log: log}
}

func (s *sessions) peerEvent(ev *apiutil.WatchEventMessage_PeerEvent, _ time.Time) {
	if ev.Type != apiutil.PEER_EVENT_STATE {
		return
	}
	addr := ev.Peer.State.NeighborAddress.Unmap().WithZone("")
	established := ev.Peer.State.SessionState == bgppkt.BGP_FSM_ESTABLISHED
	s.mu.Lock()
	was := s.up[addr]
	if established {
		s.up[addr] = true
	} else {
		delete(s.up, addr)
		if was {
			s.downs++
		}
	}
	s.mu.Unlock()
	switch {
	case established && !was:
		s.log.Info("session up", "peer", addr, "asn", ev.Peer.State.PeerASN)
		if s.onUp != nil {
			s.onUp(addr, &ev.Peer)
		}
	case !established && was:
		reason := strings.TrimSpace(fmt.Sprintf("%s %s", disconnectReason(ev.Peer.State.DisconnectReason), ev.Peer.State.DisconnectMessage))
		s.log.Info("session down", "peer", addr, "reason", reason)
		if s.onDown != nil {
			s.onDown(addr, ev.Peer.State.DisconnectReason)
		}
	}
}

func disconnectReason(r api.PeerState_DisconnectReason) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "DISCONNECT_REASON_"))
}

// Up is how many sessions are established.
func (s *sessions) Up() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.up)
}

// Downs is how many established sessions have ended.
func (s *sessions) Downs() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downs
}

// IsUp tells whether the session with addr is established.
func (s *sessions) IsUp(addr netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.up[addr]
}

// closeAll counts every established session as ended, now, and returns their
// peers: for a speaker that stops, whose own peer events may come late or
// not at all. Later events for them count nothing more.
func (s *sessions) closeAll() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]netip.Addr, 0, len(s.up))
	for a := range s.up {
		out = append(out, a)
	}
	clear(s.up)
	s.downs += uint64(len(out))
	return out
}

// Established lists the peers whose session is established.
func (s *sessions) Established() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]netip.Addr, 0, len(s.up))
	for a := range s.up {
		out = append(out, a)
	}
	return out
}

// idleAfterReset is how long a session that t5gw reset (BFD down, a
// prefix limit) refuses to come back: GoBGP's default, 30 s, keeps a worker
// whose link only flapped out for half a minute.
const idleAfterReset = 5

// sessionTimers are a worker session's GoBGP timers: t's keepalive and hold
// time, and a connect retry short enough that a peer that starts late is
// not waited for for minutes.
func sessionTimers(t config.Timers) *api.Timers {
	return &api.Timers{Config: &api.TimersConfig{
		ConnectRetry:           connectRetry,
		IdleHoldTimeAfterReset: idleAfterReset,
		HoldTime:               uint64(t.Hold / time.Second),
		KeepaliveInterval:      uint64(t.Keepalive / time.Second),
	}}
}
