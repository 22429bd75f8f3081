package evpn

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustRD(t *testing.T, s string) RD {
	t.Helper()
	rd, err := ParseRD(s)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func testVRF(t *testing.T) VRF {
	rt, err := ParseRouteTarget("65000:4001")
	if err != nil {
		t.Fatal(err)
	}
	return VRF{
		Name: "blue", RD: mustRD(t, "10.0.0.3:4001"), L3VNI: 4001,
		RouteTargets: []RouteTarget{rt}, VTEP: netip.MustParseAddr("10.0.0.3"),
		Accept: []PrefixRule{
			{Prefix: netip.MustParsePrefix("10.244.0.0/16"), GE: 16, LE: 32},
			{Prefix: netip.MustParsePrefix("fd00:10:244::/48"), GE: 48, LE: 128},
		},
	}
}

func TestTranslate(t *testing.T) {
	vrf := testVRF(t)
	zero := vrf
	zero.Label = LabelZero
	keep, incomplete := vrf, vrf
	keep.Origin, incomplete.Origin = OriginKeep, OriginIncomplete
	w4, w6 := netip.MustParseAddr("192.168.10.11"), netip.MustParseAddr("fd00:192:168:10::11")
	path := []ASPathSegment{{ASNs: []uint32{65011}}}
	tests := []struct {
		name string
		vrf  VRF
		in   Route
		want Type5Route
	}{
		{
			name: "ipv4 with l3vni label",
			vrf:  vrf,
			in: Route{Worker: w4, Prefix: netip.MustParsePrefix("10.244.1.0/24"), NextHop: w4, ASPath: path,
				Communities: []uint32{65011<<16 | 7}, LargeCommunities: []LargeCommunity{{65011, 1, 2}}, MED: 5, HasMED: true},
			want: Type5Route{RD: vrf.RD, Prefix: netip.MustParsePrefix("10.244.1.0/24"), GatewayIP: w4, Label: 4001,
				NextHop: vrf.VTEP, RouteTargets: vrf.RouteTargets, Encap: 8, ASPath: path,
				Communities: []uint32{65011<<16 | 7}, LargeCommunities: []LargeCommunity{{65011, 1, 2}}, MED: 5, HasMED: true, Worker: w4},
		},
		{
			name: "ipv4 with zero label",
			vrf:  zero,
			in:   Route{Worker: w4, Prefix: netip.MustParsePrefix("10.244.1.7/32"), NextHop: w4},
			want: Type5Route{RD: vrf.RD, Prefix: netip.MustParsePrefix("10.244.1.7/32"), GatewayIP: w4, Label: 0,
				NextHop: vrf.VTEP, RouteTargets: vrf.RouteTargets, Encap: 8, Worker: w4},
		},
		{
			name: "ipv6, the worker's origin replaced by igp",
			vrf:  vrf,
			in:   Route{Worker: w6, Prefix: netip.MustParsePrefix("fd00:10:244:1::/64"), NextHop: w6, Origin: 2},
			want: Type5Route{RD: vrf.RD, Prefix: netip.MustParsePrefix("fd00:10:244:1::/64"), GatewayIP: w6, Label: 4001,
				NextHop: vrf.VTEP, RouteTargets: vrf.RouteTargets, Encap: 8, Origin: 0, Worker: w6},
		},
		{
			name: "origin: keep passes the worker's on",
			vrf:  keep,
			in:   Route{Worker: w4, Prefix: netip.MustParsePrefix("10.244.1.0/24"), NextHop: w4, Origin: 2},
			want: Type5Route{RD: vrf.RD, Prefix: netip.MustParsePrefix("10.244.1.0/24"), GatewayIP: w4, Label: 4001,
				NextHop: vrf.VTEP, RouteTargets: vrf.RouteTargets, Encap: 8, Origin: 2, Worker: w4},
		},
		{
			name: "origin: incomplete",
			vrf:  incomplete,
			in:   Route{Worker: w4, Prefix: netip.MustParsePrefix("10.244.1.0/24"), NextHop: w4},
			want: Type5Route{RD: vrf.RD, Prefix: netip.MustParsePrefix("10.244.1.0/24"), GatewayIP: w4, Label: 4001,
				NextHop: vrf.VTEP, RouteTargets: vrf.RouteTargets, Encap: 8, Origin: 2, Worker: w4},
		},
		{
			name: "ipv6 with zero label",
			vrf:  zero,
			in:   Route{Worker: w6, Prefix: netip.MustParsePrefix("fd00:10:244:1::5/128"), NextHop: w6},
			want: Type5Route{RD: vrf.RD, Prefix: netip.MustParsePrefix("fd00:10:244:1::5/128"), GatewayIP: w6,
				NextHop: vrf.VTEP, RouteTargets: vrf.RouteTargets, Encap: 8, Worker: w6},
		},
		{
			name: "host bits are cleared",
			vrf:  vrf,
			in:   Route{Worker: w4, Prefix: netip.MustParsePrefix("10.244.1.9/24"), NextHop: w4},
			want: Type5Route{RD: vrf.RD, Prefix: netip.MustParsePrefix("10.244.1.0/24"), GatewayIP: w4, Label: 4001,
				NextHop: vrf.VTEP, RouteTargets: vrf.RouteTargets, Encap: 8, Worker: w4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Translate(tc.vrf, tc.in)
			if err != nil {
				t.Fatalf("Translate: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("Translate mismatch (-want +got):\n%s", diff)
			}
			if !got.Equal(tc.want) {
				t.Errorf("Equal says the routes differ")
			}
		})
	}
}

func TestTranslateRefusals(t *testing.T) {
	vrf := testVRF(t)
	thirdOK := vrf
	thirdOK.AllowThirdPartyNextHop = true
	w4, w6 := netip.MustParseAddr("192.168.10.11"), netip.MustParseAddr("fd00:192:168:10::11")
	p4, p6 := netip.MustParsePrefix("10.244.1.0/24"), netip.MustParsePrefix("fd00:10:244:1::/64")
	tests := []struct {
		name string
		vrf  VRF
		in   Route
		want Reason
	}{
		{"outside accept", vrf, Route{Worker: w4, Prefix: netip.MustParsePrefix("10.1.0.0/16"), NextHop: w4}, ReasonNotAccepted},
		{"shorter than accept", vrf, Route{Worker: w4, Prefix: netip.MustParsePrefix("10.0.0.0/8"), NextHop: w4}, ReasonNotAccepted},
		{"ipv4 prefix over ipv6 next hop", thirdOK, Route{Worker: w4, Prefix: p4, NextHop: w6}, ReasonFamilyMismatch},
		{"ipv6 prefix over ipv4 next hop", thirdOK, Route{Worker: w6, Prefix: p6, NextHop: w4}, ReasonFamilyMismatch},
		{"ipv4-mapped next hop", thirdOK, Route{Worker: w4, Prefix: p4, NextHop: netip.MustParseAddr("::ffff:192.168.10.11")}, ReasonFamilyMismatch},
		{"link-local only", thirdOK, Route{Worker: w6, Prefix: p6, NextHop: netip.MustParseAddr("fe80::1")}, ReasonLinkLocal},
		{"next hop 0.0.0.0", vrf, Route{Worker: w4, Prefix: p4, NextHop: netip.IPv4Unspecified()}, ReasonNoNextHop},
		{"next hop ::", vrf, Route{Worker: w6, Prefix: p6, NextHop: netip.IPv6Unspecified()}, ReasonNoNextHop},
		{"no next hop", vrf, Route{Worker: w4, Prefix: p4}, ReasonNoNextHop},
		{"third party", vrf, Route{Worker: w4, Prefix: p4, NextHop: netip.MustParseAddr("192.168.10.12")}, ReasonThirdParty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Translate(tc.vrf, tc.in)
			var ref *Refusal
			if !errors.As(err, &ref) {
				t.Fatalf("Translate(%+v) = %v, want refusal %s", tc.in, err, tc.want)
			}
			if ref.Reason != tc.want {
				t.Errorf("reason = %s (%v), want %s", ref.Reason, err, tc.want)
			}
		})
	}
	third := Route{Worker: w4, Prefix: p4, NextHop: netip.MustParseAddr("192.168.10.12")}
	if got, err := Translate(thirdOK, third); err != nil || got.GatewayIP != third.NextHop {
		t.Errorf("third party allowed: got %+v, %v; want GW IP %s", got, err, third.NextHop)
	}
}

func TestParseRD(t *testing.T) {
	tests := []struct {
		in      string
		want    RD
		wantErr bool
	}{
		{in: "10.0.0.3:4001", want: RD{Kind: AdminIPv4, IP: netip.MustParseAddr("10.0.0.3"), Number: 4001}},
		{in: "65000:100000", want: RD{Kind: AdminAS2, ASN: 65000, Number: 100000}},
		{in: "4200000000:7", want: RD{Kind: AdminAS4, ASN: 4200000000, Number: 7}},
		{in: "10.0.0.3:70000", wantErr: true},
		{in: "4200000000:70000", wantErr: true},
		{in: "fd00::1:5", wantErr: true},
		{in: "blue", wantErr: true},
		{in: "65000:", wantErr: true},
		{in: "x:1", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseRD(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseRD(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && (got != tc.want || got.String() != tc.in) {
			t.Errorf("ParseRD(%q) = %+v (%s), want %+v", tc.in, got, got, tc.want)
		}
	}
}

func TestPrefixRule(t *testing.T) {
	r := PrefixRule{Prefix: netip.MustParsePrefix("10.96.0.0/12"), GE: 24, LE: 32}
	for p, want := range map[string]bool{
		"10.96.0.0/12": false, "10.100.1.0/24": true, "10.111.255.255/32": true,
		"10.112.0.0/24": false, "10.0.0.0/8": false, "::/0": false,
	} {
		if got := r.Admits(netip.MustParsePrefix(p)); got != want {
			t.Errorf("Admits(%s) = %v, want %v", p, got, want)
		}
	}
}

// The reconciler tells changed routes by their encoding: it must differ
// whenever Equal does, whichever field changed.
func TestType5EncodingFollowsEqual(t *testing.T) {
	base := Type5Route{
		RD:     RD{Kind: AdminIPv4, IP: netip.MustParseAddr("10.0.0.3"), Number: 4001},
		Prefix: netip.MustParsePrefix("10.244.1.0/24"), GatewayIP: netip.MustParseAddr("192.168.1.11"),
		Label: 4001, NextHop: netip.MustParseAddr("10.0.0.3"), Encap: TunnelVXLAN,
		RouteTargets: []RouteTarget{{Kind: AdminAS2, ASN: 65000, Number: 4001}},
		ASPath:       []ASPathSegment{{ASNs: []uint32{65011}}},
	}
	changes := map[string]func(*Type5Route){
		"rd":                func(r *Type5Route) { r.RD.Number++ },
		"rd kind":           func(r *Type5Route) { r.RD = RD{Kind: AdminAS2, ASN: 10, Number: 4001} },
		"ethernet tag":      func(r *Type5Route) { r.EthernetTag = 1 },
		"prefix length":     func(r *Type5Route) { r.Prefix = netip.MustParsePrefix("10.244.1.0/25") },
		"gateway ip":        func(r *Type5Route) { r.GatewayIP = netip.MustParseAddr("192.168.1.12") },
		"no gateway ip":     func(r *Type5Route) { r.GatewayIP = netip.Addr{} },
		"ipv6 gateway ip":   func(r *Type5Route) { r.GatewayIP = netip.MustParseAddr("::ffff:192.168.1.11") },
		"label":             func(r *Type5Route) { r.Label = 0 },
		"next hop":          func(r *Type5Route) { r.NextHop = netip.MustParseAddr("10.0.0.4") },
		"route target":      func(r *Type5Route) { r.RouteTargets = []RouteTarget{{Kind: AdminAS2, ASN: 65000, Number: 4002}} },
		"no route target":   func(r *Type5Route) { r.RouteTargets = nil },
		"encap":             func(r *Type5Route) { r.Encap = 10 },
		"origin":            func(r *Type5Route) { r.Origin = 2 },
		"as path":           func(r *Type5Route) { r.ASPath = []ASPathSegment{{ASNs: []uint32{65011, 65011}}} },
		"as set":            func(r *Type5Route) { r.ASPath = []ASPathSegment{{Set: true, ASNs: []uint32{65011}}} },
		"has med":           func(r *Type5Route) { r.MED, r.HasMED = 0, true },
		"med value":         func(r *Type5Route) { r.MED = 7 },
		"community":         func(r *Type5Route) { r.Communities = []uint32{1} },
		"large community":   func(r *Type5Route) { r.LargeCommunities = []LargeCommunity{{1, 2, 3}} },
		"community shifted": func(r *Type5Route) { r.Communities, r.ASPath = []uint32{65011}, nil },
		"graceful shutdown": func(r *Type5Route) { r.GracefulShutdown = true },
	}
	enc := func(r Type5Route) string {
		b, err := r.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	same := base
	same.Worker = netip.MustParseAddr("192.168.1.99") // not sent, not compared
	if enc(same) != enc(base) || !same.Equal(base) {
		t.Errorf("equal routes encode differently")
	}
	for name, change := range changes {
		r := base
		change(&r)
		if r.Equal(base) {
			t.Fatalf("%s: the change leaves the route Equal; fix the test", name)
		}
		if enc(r) == enc(base) {
			t.Errorf("%s: a different route encodes like the original", name)
		}
	}
}

func TestPrefixRuleStringAndAcceptedBy(t *testing.T) {
	p := netip.MustParsePrefix
	rules := []PrefixRule{
		{Prefix: p("10.244.0.0/16"), GE: 16, LE: 32},
		{Prefix: p("10.96.0.0/12"), GE: 24, LE: 32},
		{Prefix: p("10.0.0.0/8"), GE: 8, LE: 8},
	}
	for i, want := range []string{"10.244.0.0/16 le 32", "10.96.0.0/12 ge 24 le 32", "10.0.0.0/8"} {
		if got := rules[i].String(); got != want {
			t.Errorf("rule %d: %q, want %q", i, got, want)
		}
	}
	for prefix, want := range map[string]string{"10.244.1.0/24": "10.244.0.0/16 le 32", "10.96.0.10/32": "10.96.0.0/12 ge 24 le 32",
		"10.0.0.0/8": "10.0.0.0/8", "10.96.0.0/16": ""} {
		r, ok := AcceptedBy(rules, p(prefix))
		if got := map[bool]string{true: r.String(), false: ""}[ok]; got != want {
			t.Errorf("%s accepted by %q, want %q", prefix, got, want)
		}
	}
}

// TestScopingCommunitiesStayWithTheWorker: NO_EXPORT, NO_ADVERTISE,
// NO_EXPORT_SUBCONFED and NOPEER from a worker do not reach the Type-5, where
// they would keep route reflectors from passing it on; other communities do.
func TestScopingCommunitiesStayWithTheWorker(t *testing.T) {
	vrf := testVRF(t)
	w := netip.MustParseAddr("192.168.10.11")
	in := []uint32{65011<<16 | 7, NoExport, NoAdvertise, NoExportSubconfed, NoPeer, GracefulShutdownCommunity}
	r := Route{Worker: w, Prefix: netip.MustParsePrefix("10.244.1.0/24"), NextHop: w, Communities: in}
	got, err := Translate(vrf, r)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint32{65011<<16 | 7, GracefulShutdownCommunity}; !slices.Equal(got.Communities, want) {
		t.Errorf("communities %x, want %x", got.Communities, want)
	}
	if len(in) != 6 || in[1] != NoExport {
		t.Errorf("the worker's own communities were changed: %x", in)
	}
	r.Communities = []uint32{65011<<16 | 7}
	if got, _ := Translate(vrf, r); &got.Communities[0] != &r.Communities[0] {
		t.Error("communities without scoping ones were copied")
	}
}

// TestEnforceFirstAS: a route whose AS path does not start with the eBGP
// worker's own AS is refused, unless the VRF allows it.
func TestEnforceFirstAS(t *testing.T) {
	vrf := testVRF(t)
	w := netip.MustParseAddr("192.168.10.11")
	r := Route{Worker: w, Prefix: netip.MustParsePrefix("10.244.1.0/24"), NextHop: w, ForeignFirstAS: true,
		ASPath: []ASPathSegment{{ASNs: []uint32{65099, 65011}}}}
	err := Admit(vrf, r)
	var ref *Refusal
	if !errors.As(err, &ref) || ref.Reason != ReasonFirstAS || ref.Detail != `10.244.1.0/24 has AS path "65099 65011", which does not start with the worker's own AS` {
		t.Errorf("Admit: %v", err)
	}
	vrf.AllowForeignFirstAS = true
	if err := Admit(vrf, r); err != nil {
		t.Errorf("allowed: %v", err)
	}
}
