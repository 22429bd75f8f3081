// Package evpn translates routes that workers announce inside a tenant VRF into
// the EVPN Type-5 (IP Prefix) routes of RFC 9136 whose Gateway IP is the
// worker's own address. It is pure: no BGP engine, no netlink, no files.
package evpn
