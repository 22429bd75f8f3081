package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/t5gw/t5gw/test/lab"
)

func TestMain(m *testing.M) { os.Exit(lab.RunWithT5gwd(m, "../..", &t5gwd)) }

const t5gwGlobal = `
router-id: 10.255.0.3
asn: 65000
fabric:
  neighbors: [{address: 10.255.0.1, asn: 65000}]
log-level: warn
state-dir: state
`

const t5gwVRF = `
name: blue
l3vni: 4001
workers:
  listen: [192.168.0.1]
  peers: [{range: 192.168.0.0/16, asn: 65011}]
  timers: {keepalive: 3s, hold: 9s}
  accept: ["10.0.0.0/8 le 32"]
`

// frrSameJob is FRR 8.4 doing t5gw's job, as set up in issue 4: worker
// sessions from a listen range, nothing sent back to them, and their routes
// advertised as Type-5 with the gateway IP. The L3VNI sits on the default VRF
// (as on the lab's leaf l3), which spares a namespace VRF.
const frrSameJob = `
frr defaults datacenter
hostname gw
log stdout warnings
vrf default
 vni 4001
exit-vrf
route-map DENYALL deny 10
router bgp 65000
 bgp router-id 10.255.0.3
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 bgp listen limit 5000
 neighbor W peer-group
 neighbor W remote-as 65011
 neighbor W timers 3 9
 bgp listen range 192.168.0.0/16 peer-group W
 neighbor 10.255.0.1 remote-as 65000
 neighbor 10.255.0.1 timers 3 9
 address-family ipv4 unicast
  neighbor W activate
  neighbor W route-map DENYALL out
 exit-address-family
 address-family l2vpn evpn
  neighbor 10.255.0.1 activate
  advertise-all-vni
  advertise ipv4 unicast gateway-ip
 exit-address-family
`

// startSystem starts t5gwd or FRR on gw and returns the processes to measure.
func startSystem(b *testing.B, sys string, gw *lab.Node) []*lab.Proc {
	switch {
	case isT5GW(sys):
		if vrfs > 0 {
			writeVRFs(gw, vrfs, vrfWorkers)
		} else {
			gw.Write("vrfs.d/blue.yaml", t5gwVRF)
		}
		global := t5gwGlobal
		if l := os.Getenv("T5GW_BENCH_MEMORY_LIMIT"); l != "" { // such as 600MiB, to measure its cost
			global += "memory-limit: " + l + "\n"
		}
		if apiSocket != "" {
			global += fmt.Sprintf("api: {socket: %q}\n", apiSocket)
		}
		args := []string{t5gwdOf(b, sys), "--config", gw.Write("t5gw.yaml", global)}
		if apiSocket != "" { // the heap profile, finer than Go's default
			args = append(args, "--memprofilerate", "4096")
		}
		if profilePath != "" {
			args = append(args, "--cpuprofile", profilePath)
		}
		return []*lab.Proc{gw.Start("t5gwd", args...)}
	case sys == sysFRR:
		gw.MustRun("ip", "link", "add", "br4001", "type", "bridge")
		gw.MustRun("ip", "link", "add", "vxlan4001", "type", "vxlan", "id", "4001", "local", "10.255.0.3", "dstport", "4789", "nolearning")
		gw.MustRun("ip", "link", "set", "vxlan4001", "master", "br4001")
		gw.MustRun("ip", "link", "set", "vxlan4001", "up")
		gw.MustRun("ip", "link", "set", "br4001", "up")
		gw.FRR(frrSameJob)
		return gw.Procs("zebra", "bgpd")
	}
	b.Fatalf("unknown system %q", sys)
	return nil
}
