package bgp

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn"
)

func TestWorkerFamiliesFollowAcceptRules(t *testing.T) {
	rule := func(p string) evpn.PrefixRule { return evpn.PrefixRule{Prefix: netip.MustParsePrefix(p), LE: 128} }
	for _, tc := range []struct {
		name   string
		accept []evpn.PrefixRule
		want   []string
	}{
		{"ipv4 only", []evpn.PrefixRule{rule("10.0.0.0/8")}, []string{"AFI_IP"}},
		{"ipv6 only", []evpn.PrefixRule{rule("2001:db8::/32")}, []string{"AFI_IP6"}},
		{"both", []evpn.PrefixRule{rule("2001:db8::/32"), rule("10.0.0.0/8")}, []string{"AFI_IP", "AFI_IP6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v4, v6 := config.Workers{Accept: tc.accept}.Families()
			var fams evpn.Families
			if v4 {
				fams |= evpn.IPv4
			}
			if v6 {
				fams |= evpn.IPv6
			}
			o := WorkersOptions{Families: fams, MaxPrefixes: 10}
			var got []string
			for _, a := range o.afiSafis() {
				got = append(got, a.Config.Family.Afi.String())
				if a.PrefixLimits.MaxPrefixes != 10*receivedFactor { // GoBGP's: refused routes too
					t.Errorf("%s: GoBGP's prefix limit %d, want %d", a.Config.Family.Afi, a.PrefixLimits.MaxPrefixes, 10*receivedFactor)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("families offered (-want +got):\n%s", diff)
			}
		})
	}
}
