//go:build realkernel

// This test needs a VRF device, which only the real-kernel tier has: it runs
// inside the VM that TestVMTier boots.

package test

import (
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// vmWait is longer than wait: the VM emulates its CPU.
const vmWait = 90 * time.Second

const vrfDeviceBlue = `
name: blue
device: vrf-blue
install-routes: true
l3vni: 4001
workers:
  listen: [192.168.10.3]
  peers:
    # passive: false: t5gw connects out too, through the VRF device
    - {address: 192.168.10.11, asn: 65011, passive: false}
  accept: ["10.244.0.0/16 le 32"]
`

const vrfDeviceWorker = `
log stderr all;
router id 192.168.10.11;
protocol device {}
protocol static pods4 { ipv4; route 10.244.1.0/24 blackhole; }
protocol bgp t5gw {
  local 192.168.10.11 as 65011;
  neighbor 192.168.10.3 as 65000;
  passive on; # t5gw dials, so that its own connection is the one to look at
  connect retry time 2;
  ipv4 { import none; export where proto = "pods4"; };
}
`

// l3vniDevices gives gw the tenant's VRF the way FRR lays it out: vrf-blue
// (table 10) with the L3VNI's bridge and VXLAN device, and the worker-facing
// eth1 enslaved to it.
func l3vniDevices(gw *lab.Node, vtep string) {
	gw.MustRun("ip", "link", "add", "vrf-blue", "type", "vrf", "table", "10")
	gw.MustRun("ip", "link", "set", "vrf-blue", "up")
	gw.MustRun("ip", "link", "add", "br4001", "type", "bridge")
	gw.MustRun("ip", "link", "set", "br4001", "master", "vrf-blue", "up")
	vxlan(gw, vtep)
	gw.MustRun("ip", "link", "set", "eth1", "master", "vrf-blue")
}

func vxlan(gw *lab.Node, vtep string) {
	gw.MustRun("ip", "link", "add", "vxlan4001", "type", "vxlan", "id", "4001", "local", vtep, "dstport", "4789", "nolearning")
	gw.MustRun("ip", "link", "set", "vxlan4001", "master", "br4001", "up")
}

func TestRealKernelVRFDevice(t *testing.T) {
	lab.Require(t, "ip", "vtysh", "bird", "ss")
	l := lab.New(t)
	fab, gw, w1 := l.Node("fab"), l.Node("gw"), l.Node("w1")
	l.Link(fab, "eth0", gw, "eth0")
	l.Link(gw, "eth1", w1, "eth0")
	fab.MustRun("ip", "addr", "add", "10.0.0.1/24", "dev", "eth0")
	gw.MustRun("ip", "addr", "add", "10.0.0.3/24", "dev", "eth0")
	w1.MustRun("ip", "addr", "add", "192.168.10.11/24", "dev", "eth0")
	l3vniDevices(gw, "10.0.0.3")
	gw.MustRun("ip", "addr", "add", "192.168.10.3/24", "dev", "eth1")
	fab.FRR(labFile(t, "fab/frr.conf"))

	gw.Write("vrfs.d/blue.yaml", vrfDeviceBlue)
	daemon := gw.Start("t5gwd", t5gwd, "--config", gw.Write("t5gw.yaml", labFile(t, "gw/t5gw.yaml")))
	w1.BIRD(vrfDeviceWorker)

	expect := func(t *testing.T, what, nextHop string) {
		t.Helper()
		lab.WaitFor(t, what, vmWait, func() (bool, string) {
			routes, last := frrType5(fab)
			r, ok := routes["10.244.1.0/24"]
			return ok && r.GatewayIP == "192.168.10.11" && r.NextHop == nextHop, last + "\n" + daemon.Tail(5)
		})
	}
	expect(t, "the worker's prefix at the fabric peer, next hop the VXLAN's local address", "10.0.0.3")

	t.Run("worker listener and session bound to the VRF device", func(t *testing.T) {
		// 192.168.10.3 lives in vrf-blue: only sockets bound to it can use it.
		// ss shows the binding of the listener and of t5gw's own connection.
		out, err := gw.Output("ss", "-tlnpeH")
		if err != nil || !strings.Contains(out, "192.168.10.3%vrf-blue:179") {
			t.Errorf("listeners: %v\n%s\nt5gwd:\n%s", err, out, daemon.Tail(30))
		}
		lab.WaitFor(t, "t5gw's outgoing connection bound to vrf-blue", vmWait, func() (bool, string) {
			out, _ := gw.Output("ss", "-tnH", "dst", "192.168.10.11:179")
			return strings.Contains(out, "%vrf-blue"), out
		})
	})

	t.Run("install-routes puts the prefix in the VRF's table", func(t *testing.T) {
		lab.WaitFor(t, "route in table 10", vmWait, func() (bool, string) {
			out, _ := gw.Output("ip", "route", "show", "table", "10", "proto", "200")
			return strings.Contains(out, "10.244.1.0/24 via 192.168.10.11 dev eth1"), out
		})
	})

	t.Run("install-routes off and on again by a reload", func(t *testing.T) {
		gw.Write("vrfs.d/blue.yaml", strings.Replace(vrfDeviceBlue, "install-routes: true", "install-routes: false", 1))
		lab.WaitFor(t, "route gone from table 10, still at the fabric peer", vmWait, func() (bool, string) {
			out, _ := gw.Output("ip", "route", "show", "table", "10", "proto", "200")
			routes, last := frrType5(fab)
			_, atFab := routes["10.244.1.0/24"]
			return out == "" && atFab, out + last + "\n" + daemon.Tail(5)
		})
		gw.Write("vrfs.d/blue.yaml", vrfDeviceBlue)
		lab.WaitFor(t, "route back in table 10", vmWait, func() (bool, string) {
			out, _ := gw.Output("ip", "route", "show", "table", "10", "proto", "200")
			return strings.Contains(out, "10.244.1.0/24 via 192.168.10.11 dev eth1"), out + daemon.Tail(5)
		})
	})

	t.Run("a new VTEP address re-advertises", func(t *testing.T) {
		gw.MustRun("ip", "link", "del", "vxlan4001")
		vxlan(gw, "10.0.0.33")
		expect(t, "next hop follows the VTEP", "10.0.0.33")
	})

	t.Run("the VRF device going takes its sessions and routes", func(t *testing.T) {
		gw.MustRun("ip", "link", "del", "vrf-blue")
		lab.WaitFor(t, "routes withdrawn", vmWait, func() (bool, string) {
			routes, last := frrType5(fab)
			return len(routes) == 0, last + "\n" + daemon.Tail(5)
		})
		gw.MustRun("ip", "link", "add", "vrf-blue", "type", "vrf", "table", "10")
		gw.MustRun("ip", "link", "set", "vrf-blue", "up")
		gw.MustRun("ip", "link", "set", "br4001", "master", "vrf-blue")
		gw.MustRun("ip", "link", "set", "eth1", "master", "vrf-blue")
		expect(t, "back with the device", "10.0.0.33")
	})
}
