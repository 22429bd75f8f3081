package bgp

import (
	"context"
	"net/netip"
	"time"

	"github.com/osrg/gobgp/v4/pkg/apiutil"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/resolve"
)

// MACIPSink receives what the fabric says of hosts: each Type-2 MAC/IP
// route with an IP address that a fabric peer announces or withdraws, the
// end of a peer's session, and its End-of-RIB. Calls come from one GoBGP
// goroutine, in the order things happened, and must not block for long.
type MACIPSink interface {
	MACIPs(announced, withdrawn []resolve.MACIP)
	FabricPeer(peer netip.Addr, up bool)
	FabricEndOfRIB(peer netip.Addr)
}

// watchMACIP hands sink the Type-2 routes fabric peers send. They are read
// before the import policy, which keeps them out of the speaker's table:
// t5gw follows them, it never selects or re-advertises them.
func (f *Fabric) watchMACIP(ctx context.Context, sink MACIPSink) error {
	return f.srv.WatchEvent(ctx, server.WatchEventMessageCallbacks{
		OnPathUpdate: func(paths []*apiutil.Path, _ time.Time) {
			var announced, withdrawn []resolve.MACIP
			for _, p := range paths {
				r, ok := readMACIP(p)
				switch {
				case !ok:
				case p.Withdrawal:
					withdrawn = append(withdrawn, r)
				default:
					announced = append(announced, r)
				}
			}
			if len(announced)+len(withdrawn) > 0 {
				sink.MACIPs(announced, withdrawn)
			}
		},
		OnPathEor: func(p *apiutil.Path, _ time.Time) {
			if p.Family == bgppkt.RF_EVPN {
				sink.FabricEndOfRIB(p.PeerAddress.Unmap().WithZone(""))
			}
		},
		OnPeerUpdate: func(ev *apiutil.WatchEventMessage_PeerEvent, _ time.Time) {
			if ev.Type == apiutil.PEER_EVENT_STATE {
				sink.FabricPeer(ev.Peer.State.NeighborAddress.Unmap().WithZone(""),
					ev.Peer.State.SessionState == bgppkt.BGP_FSM_ESTABLISHED)
			}
		},
	}, server.WatchUpdate(false, "", ""), server.WatchEor(false), server.WatchPeer())
}

// readMACIP reads a Type-2 route that carries an IP address.
func readMACIP(p *apiutil.Path) (resolve.MACIP, bool) {
	if p.Family != bgppkt.RF_EVPN {
		return resolve.MACIP{}, false
	}
	nlri, ok := p.Nlri.(*bgppkt.EVPNNLRI)
	if !ok {
		return resolve.MACIP{}, false
	}
	r, ok := nlri.RouteTypeData.(*bgppkt.EVPNMacIPAdvertisementRoute)
	if !ok || !r.IPAddress.IsValid() || r.IPAddress.IsUnspecified() || len(r.MacAddress) != 6 {
		return resolve.MACIP{}, false
	}
	rd, ok := evpnRD(r.RD)
	if !ok {
		return resolve.MACIP{}, false
	}
	m := resolve.MACIP{Peer: p.PeerAddress.Unmap().WithZone(""), RD: rd, MAC: evpn.MAC(r.MacAddress), IP: r.IPAddress.Unmap()}
	if len(r.Labels) > 1 { // symmetric IRB: the second label is the IP-VRF's L3VNI
		m.L3VNI = r.Labels[1]
	}
	if p.Withdrawal {
		return m, true
	}
	for _, a := range p.Attrs {
		switch a := a.(type) {
		case *bgppkt.PathAttributeNextHop:
			m.VTEP = a.Value
		case *bgppkt.PathAttributeMpReachNLRI:
			m.VTEP = a.Nexthop
		case *bgppkt.PathAttributeExtendedCommunities:
			for _, ec := range a.Value {
				if mm, ok := ec.(*bgppkt.MacMobilityExtended); ok {
					m.Seq = mm.Sequence
				}
			}
		}
	}
	m.VTEP = m.VTEP.Unmap().WithZone("")
	return m, true
}

// evpnRD reads a GoBGP route distinguisher.
func evpnRD(rd bgppkt.RouteDistinguisherInterface) (evpn.RD, bool) {
	switch rd := rd.(type) {
	case *bgppkt.RouteDistinguisherTwoOctetAS:
		return evpn.RD{Kind: evpn.AdminAS2, ASN: uint32(rd.Admin), Number: rd.Assigned}, true
	case *bgppkt.RouteDistinguisherIPAddressAS:
		return evpn.RD{Kind: evpn.AdminIPv4, IP: rd.Admin, Number: uint32(rd.Assigned)}, true
	case *bgppkt.RouteDistinguisherFourOctetAS:
		return evpn.RD{Kind: evpn.AdminAS4, ASN: rd.Admin, Number: uint32(rd.Assigned)}, true
	}
	return evpn.RD{}, false
}
