package bgp

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/server"
)

// Session is one BGP session as an operator sees it.
type Session struct {
	Peer  netip.Addr
	ASN   uint32
	State string    // "established", "active", "connect", "idle", ...
	Since time.Time // when it was established, or went down; zero: never
	Flaps uint32    // times it went down after being established
}

// Sessions lists the worker sessions, static peers and the range workers
// that have connected.
func (w *Workers) Sessions(ctx context.Context) []Session { return listSessions(ctx, w.srv) }

// Sessions lists the fabric sessions.
func (f *Fabric) Sessions(ctx context.Context) []Session { return listSessions(ctx, f.srv) }

func listSessions(ctx context.Context, srv *server.BgpServer) []Session {
	var out []Session
	_ = srv.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) {
		if p.State == nil {
			return
		}
		a := p.State.NeighborAddress
		if a == "" {
			a = p.GetConf().GetNeighborAddress()
		}
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return
		}
		s := Session{Peer: addr.Unmap(), ASN: p.State.PeerAsn, Flaps: p.State.Flops,
			State: strings.ToLower(strings.TrimPrefix(p.State.SessionState.String(), "SESSION_STATE_"))}
		if s.ASN == 0 {
			s.ASN = p.GetConf().GetPeerAsn()
		}
		if t := p.Timers.GetState(); t != nil {
			if s.State == "established" && t.Uptime != nil {
				s.Since = t.Uptime.AsTime()
			} else if t.Downtime != nil && t.Downtime.AsTime().Unix() > 0 {
				s.Since = t.Downtime.AsTime()
			}
		}
		out = append(out, s)
	})
	slices.SortFunc(out, func(a, b Session) int { return a.Peer.Compare(b.Peer) })
	return out
}
