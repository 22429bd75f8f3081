package vrf

import (
	"errors"
	"fmt"
	"net"

	"github.com/t5gw/t5gw/evpn"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Proto marks the kernel routes t5gw installs (rtnetlink protocol number).
const Proto netlink.RouteProtocol = 200

// Routes installs worker prefixes in a VRF's kernel table, each via the
// worker's address, so the host running t5gw forwards to workers too. It
// takes the same routes the fabric gets: Advertise installs or replaces,
// Withdraw removes.
type Routes struct {
	h     *netlink.Handle
	table int
}

// Routes returns the installer for table, after removing what an earlier
// t5gw left there.
func (l *Links) Routes(table uint32) (*Routes, error) {
	r := &Routes{h: l.h, table: int(table)}
	stale, err := l.h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: r.table, Protocol: Proto},
		netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return nil, fmt.Errorf("table %d: list routes: %w", table, err)
	}
	for _, s := range stale {
		_ = l.h.RouteDel(&s)
	}
	return r, nil
}

func (r *Routes) route(t evpn.Type5Route) *netlink.Route {
	return &netlink.Route{
		Dst:      &net.IPNet{IP: t.Prefix.Addr().AsSlice(), Mask: net.CIDRMask(t.Prefix.Bits(), t.Prefix.Addr().BitLen())},
		Gw:       t.GatewayIP.AsSlice(),
		Table:    r.table,
		Protocol: Proto,
	}
}

// Advertise installs or replaces each route in the table.
func (r *Routes) Advertise(routes []evpn.Type5Route) error {
	var errs []error
	for _, t := range routes {
		if err := r.h.RouteReplace(r.route(t)); err != nil {
			errs = append(errs, fmt.Errorf("install %s via %s in table %d: %w", t.Prefix, t.GatewayIP, r.table, err))
		}
	}
	return errors.Join(errs...)
}

// Withdraw removes each route from the table; one already gone is not an error.
func (r *Routes) Withdraw(routes []evpn.Type5Route) error {
	var errs []error
	for _, t := range routes {
		if err := r.h.RouteDel(r.route(t)); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("remove %s from table %d: %w", t.Prefix, r.table, err))
		}
	}
	return errors.Join(errs...)
}
