package bgp

import (
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/t5gw/t5gw/config"
)

// bfd is a static peer's BFD (RFC 5881, single-hop) in GoBGP's terms; nil
// when off. GoBGP runs it from the moment the peer is added; when BFD goes
// down, GoBGP resets the BGP session with a Cease, so the worker's routes go
// at once, graceful restart or not: that is what BFD is for.
//
// Against FRR's bfdd, GoBGP v4.8.0 loses the first BFD session: bfdd starts
// it again, with a new discriminator, when the BGP session comes up, and
// GoBGP drops packets with a discriminator it has not bound, expires after
// the detection time and resets the BGP session once (see
// docs/upstream/gobgp-bfd-rebind.md). BIRD's BFD keeps its discriminator.
func bfd(p config.Peer) *api.BfdPeerConfig {
	if !p.BFD.Enabled() {
		return nil
	}
	us := uint32(p.BFD.Interval / time.Microsecond)
	return &api.BfdPeerConfig{Enabled: true, DesiredMinimumTxInterval: us, RequiredMinimumReceive: us,
		DetectionMultiplier: uint32(p.BFD.Multiplier)}
}
