package bench

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"time"

	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// helper makes the monitor a graceful-restart helper (RFC 4724) for EVPN:
// when the system's session ends it keeps the routes, stale, and at the
// End-of-RIB of the next session drops those not announced again. It also
// remembers a fingerprint of every route (its NLRI, with RD, gateway IP and
// label, and its attributes), so that a restart can be judged by what it
// changed, not only by how many UPDATEs it cost. Guarded by the monitor's mu.
type helper struct {
	restart time.Duration
	seed    maphash.Seed
	stale   map[netip.Prefix]bool
	fp      map[netip.Prefix]uint64

	// Counted since the last reset.
	again, changed, swept int
	eor                   time.Time
}

// HelpRestart makes the monitor a graceful-restart helper from its next
// session on.
func (m *Monitor) HelpRestart(restart time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.help = &helper{restart: restart, seed: maphash.MakeSeed(), stale: map[netip.Prefix]bool{}, fp: map[netip.Prefix]uint64{}}
}

// RestartSeen is what the helper has seen since ResetRestart: routes
// announced again unchanged and changed, stale routes dropped at End-of-RIB,
// and when that End-of-RIB came (zero: not yet).
func (m *Monitor) RestartSeen() (same, changed, swept int, eor time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.help
	return h.again - h.changed, h.changed, h.swept, h.eor
}

// ResetRestart starts counting anew.
func (m *Monitor) ResetRestart() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.help.again, m.help.changed, m.help.swept, m.help.eor = 0, 0, 0, time.Time{}
}

func (h *helper) capability() bgppkt.ParameterCapabilityInterface {
	return bgppkt.NewCapGracefulRestart(false, false, uint16(h.restart.Seconds()),
		[]*bgppkt.CapGracefulRestartTuple{bgppkt.NewCapGracefulRestartTuple(bgppkt.RF_EVPN, true)})
}

// fingerprints records the fingerprint of every route u announces and counts
// those it announces again, and those of them that changed.
func (h *helper) fingerprints(u *bgppkt.BGPUpdate) {
	var attrs maphash.Hash
	attrs.SetSeed(h.seed)
	var reach *bgppkt.PathAttributeMpReachNLRI
	for _, a := range u.PathAttributes {
		if r, ok := a.(*bgppkt.PathAttributeMpReachNLRI); ok {
			reach = r
			continue
		}
		if b, err := a.Serialize(); err == nil {
			attrs.Write(b)
		}
	}
	if reach == nil {
		return
	}
	attrs.Write(reach.Nexthop.AsSlice())
	common := attrs.Sum64()
	for _, n := range reach.Value {
		b, err := n.NLRI.Serialize()
		if err != nil {
			continue
		}
		var h1 maphash.Hash
		h1.SetSeed(h.seed)
		h1.Write(b)
		h1.Write(binary.BigEndian.AppendUint64(nil, common))
		p, sum := prefixOf(n.NLRI), h1.Sum64()
		if was, ok := h.fp[p]; ok {
			h.again++
			if was != sum {
				h.changed++
			}
		}
		h.fp[p] = sum
	}
}

// endOfRIB drops the stale routes not announced again.
func (h *helper) endOfRIB(m *Monitor, at time.Time) {
	for p := range h.stale {
		m.drop(p)
		delete(h.fp, p)
		h.swept++
	}
	clear(h.stale)
	h.eor = at
}
