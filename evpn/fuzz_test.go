package evpn

import (
	"net/netip"
	"slices"
	"testing"
)

// FuzzTranslate feeds Translate and Admit any route a worker could send: it
// must never panic, and a route it translates must keep the worker's prefix
// (masked) and next hop, carry no scoping community, and encode the same
// twice.
func FuzzTranslate(f *testing.F) {
	f.Add([]byte{10, 244, 1, 0}, uint8(24), []byte{192, 168, 10, 11}, []byte{192, 168, 10, 11}, uint32(0xFFFFFF01), uint32(65011), uint8(0))
	f.Add([]byte{0xfd, 0, 0, 0x10, 2, 0x44, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(64), []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7},
		[]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11}, uint32(65011<<16|7), uint32(65099), uint8(2))
	f.Add([]byte{10, 1, 0, 0}, uint8(16), []byte{0, 0, 0, 0}, []byte{192, 168, 10, 11}, uint32(0), uint32(0), uint8(1))
	vrf := VRF{Name: "blue", RD: RD{Kind: AdminIPv4, IP: netip.MustParseAddr("10.0.0.3"), Number: 4001}, L3VNI: 4001,
		VTEP: netip.MustParseAddr("10.0.0.3"), RouteTargets: []RouteTarget{{Kind: AdminAS2, ASN: 65000, Number: 4001}},
		Accept: []PrefixRule{
			{Prefix: netip.MustParsePrefix("10.244.0.0/16"), GE: 16, LE: 32},
			{Prefix: netip.MustParsePrefix("fd00:10:244::/48"), GE: 48, LE: 128},
		}}
	f.Fuzz(func(t *testing.T, pfx []byte, bits uint8, nh, worker []byte, community, firstAS uint32, origin uint8) {
		addr, ok := netip.AddrFromSlice(pfx)
		if !ok {
			return
		}
		prefix, err := addr.Prefix(int(bits) % (addr.BitLen() + 1))
		if err != nil {
			return
		}
		next, _ := netip.AddrFromSlice(nh)
		w, _ := netip.AddrFromSlice(worker)
		r := Route{Worker: w, Prefix: prefix, NextHop: next, Origin: origin % 3, Communities: []uint32{community},
			ASPath: []ASPathSegment{{ASNs: []uint32{firstAS}}}, ForeignFirstAS: firstAS == 65099}
		t5, err := Translate(vrf, r)
		if err != nil {
			if _, ok := err.(*Refusal); !ok {
				t.Fatalf("Translate returned %T, want a *Refusal", err)
			}
			return
		}
		if t5.Prefix != prefix.Masked() || t5.GatewayIP != next || t5.NextHop != vrf.VTEP {
			t.Fatalf("translated %v via %v into %+v", prefix, next, t5)
		}
		if slices.ContainsFunc(t5.Communities, scoping) {
			t.Fatalf("a scoping community reached the Type-5: %x", t5.Communities)
		}
		a, _ := t5.AppendBinary(nil)
		b, _ := t5.AppendBinary(nil)
		if string(a) != string(b) || !t5.Equal(t5) {
			t.Fatal("the same route encodes differently")
		}
	})
}
