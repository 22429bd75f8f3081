package bgp

import (
	api "github.com/osrg/gobgp/v4/api"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn"
)

// The GoBGP peer and peer-group configs of the worker sessions.

func rangeGroup(p config.Peer) string { return "range " + p.Range.String() }

// settings returns the speaker's options as they are now.
func (w *Workers) settings() WorkersOptions {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.opts
}

// afiSafis are the families offered to workers, with GoBGP's limit on the
// routes received in all (receivedFactor).
func (o WorkersOptions) afiSafis() []*api.AfiSafi {
	var out []*api.AfiSafi
	for _, f := range []struct {
		fam *api.Family
		is  evpn.Families
	}{{familyIPv4, evpn.IPv4}, {familyIPv6, evpn.IPv6}} {
		if !o.Families.Has(f.is) {
			continue
		}
		a := &api.AfiSafi{Config: &api.AfiSafiConfig{Family: f.fam, Enabled: true}}
		if max := uint64(o.MaxPrefixes) * receivedFactor; max > 0 {
			a.PrefixLimits = &api.PrefixLimit{Family: f.fam, MaxPrefixes: uint32(min(max, 1<<32-1))}
		}
		out = append(out, a)
	}
	return out
}

// transport is how t5gw reaches a worker: bound to the VRF device, and, when
// it connects out, from its listen address of the worker's family, the
// stable address the worker peers with.
func (o WorkersOptions) transport(p config.Peer) (*api.Transport, *api.EbgpMultihop, *api.TtlSecurity) {
	t := &api.Transport{PassiveMode: p.Passive, BindInterface: o.Device, RemotePort: uint32(o.Port)}
	if p.Address.IsValid() {
		for _, a := range o.Listen {
			if a.Is4() == p.Address.Is4() {
				t.LocalAddress = a.String()
				break
			}
		}
	}
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

// helperRestartTime is the restart time t5gw announces to workers. As a
// helper it has nothing for them to keep, so the value only has to be fixed:
// GoBGP's default follows the hold time, and a change to it would reset the
// session when only the timers changed.
const helperRestartTime = 120

// gracefulRestart is the capability t5gw sends workers: a helper's, with no
// family of its own (t5gw sends workers nothing to keep).
func (o WorkersOptions) gracefulRestart() *api.GracefulRestart {
	if !o.GracefulRestart {
		return nil
	}
	return &api.GracefulRestart{Enabled: true, HelperOnly: true, RestartTime: helperRestartTime}
}

func (w *Workers) peer(p config.Peer) *api.Peer {
	o := w.settings()
	t, mh, ttl := o.transport(p)
	return &api.Peer{
		Bfd:             bfd(p),
		Conf:            &api.PeerConf{NeighborAddress: p.Address.String(), PeerAsn: p.ASN, AuthPassword: p.Password},
		Transport:       t,
		EbgpMultihop:    mh,
		TtlSecurity:     ttl,
		Timers:          sessionTimers(p.Timers),
		GracefulRestart: o.gracefulRestart(),
		AfiSafis:        o.afiSafis(),
	}
}

func (w *Workers) peerGroup(name string, p config.Peer) *api.PeerGroup {
	o := w.settings()
	t, mh, ttl := o.transport(p)
	return &api.PeerGroup{
		Conf:            &api.PeerGroupConf{PeerGroupName: name, PeerAsn: p.ASN, AuthPassword: p.Password},
		Transport:       t,
		EbgpMultihop:    mh,
		TtlSecurity:     ttl,
		Timers:          sessionTimers(p.Timers),
		GracefulRestart: o.gracefulRestart(),
		AfiSafis:        o.afiSafis(),
	}
}
