// Package vrf connects t5gw to Linux VRF devices through netlink: it finds the
// device a VRF file names and checks that it is a VRF.
package vrf

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Device is a Linux VRF device.
type Device struct {
	Name  string
	Index int
	Table uint32 // its routing table
}

// Links reads network devices through one netlink handle.
type Links struct {
	h  *netlink.Handle
	ns *netns.NsHandle // nil: the current namespace
}

// New reads the devices of the current network namespace.
func New() (*Links, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return &Links{h: h}, nil
}

// NewIn reads the devices of the network namespace ns.
func NewIn(ns netns.NsHandle) (*Links, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return &Links{h: h, ns: &ns}, nil
}

// Close releases the netlink handle.
func (l *Links) Close() { l.h.Close() }

// Lookup finds the VRF device name.
func (l *Links) Lookup(name string) (Device, error) {
	link, err := l.h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return Device{}, fmt.Errorf("device %s: not found (create it with: ip link add %s type vrf table <N>)", name, name)
		}
		return Device{}, fmt.Errorf("device %s: %w", name, err)
	}
	v, ok := link.(*netlink.Vrf)
	if !ok {
		return Device{}, fmt.Errorf("device %s: is a %s device, not a VRF", name, link.Type())
	}
	return Device{Name: name, Index: v.Attrs().Index, Table: v.Table}, nil
}
