package vrf

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// L3VNI is the VXLAN device that carries a VRF's L3VNI, and what it tells.
type L3VNI struct {
	VXLAN     string
	VNI       uint32
	VTEP      netip.Addr // the VXLAN device's local address: the Type-5 next hop
	Bridge    string     // the L3VNI's bridge (its SVI), enslaved to the VRF
	RouterMAC net.HardwareAddr
}

// Tenant is a VRF device with its L3VNI.
type Tenant struct {
	Device
	L3VNI L3VNI
}

// Tenant finds VRF device name and the VXLAN device carrying vni, which must
// sit in a bridge that is enslaved to that VRF (FRR's layout of an L3VNI).
func (l *Links) Tenant(name string, vni uint32) (Tenant, error) {
	dev, err := l.Lookup(name)
	if err != nil {
		return Tenant{}, err
	}
	links, err := l.h.LinkList()
	if err != nil {
		return Tenant{}, fmt.Errorf("list devices: %w", err)
	}
	byIndex := map[int]netlink.Link{}
	var vx *netlink.Vxlan
	for _, link := range links {
		byIndex[link.Attrs().Index] = link
		if v, ok := link.(*netlink.Vxlan); ok && uint32(v.VxlanId) == vni {
			vx = v
		}
	}
	if vx == nil {
		return Tenant{}, fmt.Errorf("no VXLAN device carries VNI %d (l3vni)", vni)
	}
	br, ok := byIndex[vx.Attrs().MasterIndex]
	if !ok {
		return Tenant{}, fmt.Errorf("VXLAN %s (VNI %d) is in no bridge; its bridge must be in VRF %s", vx.Name, vni, name)
	}
	if br.Attrs().MasterIndex != dev.Index {
		return Tenant{}, fmt.Errorf("VXLAN %s (VNI %d) is in bridge %s, which is not in VRF %s", vx.Name, vni, br.Attrs().Name, name)
	}
	vtep, ok := netip.AddrFromSlice(vx.SrcAddr)
	if !ok || vtep.IsUnspecified() {
		return Tenant{}, fmt.Errorf("VXLAN %s (VNI %d) has no local address to be the VTEP", vx.Name, vni)
	}
	return Tenant{Device: dev, L3VNI: L3VNI{
		VXLAN: vx.Name, VNI: vni, VTEP: vtep.Unmap(), Bridge: br.Attrs().Name, RouterMAC: br.Attrs().HardwareAddr,
	}}, nil
}
