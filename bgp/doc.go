// Package bgp is t5gw's adapter to GoBGP, and the only package that imports
// it: a fabric speaker that holds Type-5 routes in l2vpn-evpn, and per VRF a
// worker speaker that follows what each worker announces.
package bgp
