package bench

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/t5gw/t5gw/test/lab"
)

// vrfs, when set, makes t5gw run that many VRFs of vrfWorkers workers each
// (static peers, each VRF on its own listen address) instead of one VRF
// with a range: the cost per VRF.
var vrfs, vrfWorkers int

// vrfListen is the listen address of VRF v.
func vrfListen(v int) netip.Addr {
	return netip.AddrFrom4([4]byte{192, 168, 254, byte(v + 1)})
}

// writeVRFs gives gw the VRFs' listen addresses and writes their files.
func writeVRFs(gw *lab.Node, n, workers int) {
	var addrs strings.Builder
	for v := range n {
		fmt.Fprintf(&addrs, "addr add %s/16 dev eth0\n", vrfListen(v))
		var peers strings.Builder
		for i := v * workers; i < (v+1)*workers; i++ {
			fmt.Fprintf(&peers, "    - {address: %s, asn: 65011}\n", WorkerAddr(i))
		}
		gw.Write(fmt.Sprintf("vrfs.d/vrf%d.yaml", v), fmt.Sprintf(`name: vrf%d
l3vni: %d
workers:
  listen: [%s]
  timers: {keepalive: 3s, hold: 9s}
  accept: ["10.0.0.0/8 le 32"]
  peers:
%s`, v, 10000+v, vrfListen(v), peers.String()))
	}
	gw.MustRun("ip", "-batch", gw.Write("vrf-addrs.batch", addrs.String()))
}
