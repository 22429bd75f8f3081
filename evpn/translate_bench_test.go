package evpn

import (
	"net/netip"
	"testing"
)

// BenchmarkTranslate is the cost of turning one learned route into its Type-5
// route, all checks included.
func BenchmarkTranslate(b *testing.B) {
	rd, _ := ParseRD("10.0.0.3:4001")
	rt, _ := ParseRouteTarget("65000:4001")
	vrf := VRF{Name: "blue", RD: rd, L3VNI: 4001, RouteTargets: []RouteTarget{rt}, VTEP: netip.MustParseAddr("10.0.0.3"),
		Accept: []PrefixRule{{Prefix: netip.MustParsePrefix("10.244.0.0/16"), GE: 16, LE: 32},
			{Prefix: netip.MustParsePrefix("10.96.0.0/12"), GE: 12, LE: 32}}}
	w := netip.MustParseAddr("192.168.10.11")
	r := Route{Worker: w, Prefix: netip.MustParsePrefix("10.96.1.0/24"), NextHop: w,
		ASPath: []ASPathSegment{{ASNs: []uint32{65011}}}, Communities: []uint32{1}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Translate(vrf, r); err != nil {
			b.Fatal(err)
		}
	}
}
