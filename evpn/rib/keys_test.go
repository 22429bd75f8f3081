package rib

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/t5gw/t5gw/evpn"
)

// The reconciler's keys give back what they were made of: a withdrawal is
// built from them, and must name the route the fabric holds.
func TestKeysRoundTrip(t *testing.T) {
	for _, s := range []string{"192.168.10.11", "2001:db8::1", "::ffff:10.0.0.1", "0.0.0.0", "::"} {
		a := netip.MustParseAddr(s)
		if got := addrKeyOf(a).addr(); got != a {
			t.Errorf("address %s comes back as %s", a, got)
		}
	}
	if got := addrKeyOf(netip.Addr{}).addr(); got.IsValid() {
		t.Errorf("no address comes back as %s", got)
	}
	for _, s := range []string{"10.244.1.0/24", "10.0.0.1/32", "0.0.0.0/0", "2001:db8::/64", "::/0", "2001:db8::1/128"} {
		p := netip.MustParsePrefix(s)
		if got := prefixKeyOf(p).prefix(); got != p {
			t.Errorf("prefix %s comes back as %s", p, got)
		}
	}
	for _, s := range []string{"10.0.0.3:4001", "65000:4001", "4200000000:7", "255.255.255.255:65535", "65535:4294967295"} {
		rd, err := evpn.ParseRD(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := rdKeyOf(rd).rd(); got != rd {
			t.Errorf("RD %s (%+v) comes back as %+v", s, rd, got)
		}
	}
}

// What the reconciler holds per route has no pointer for the collector to
// follow, however large the VRF.
func TestReconcilerKeysHoldNoPointer(t *testing.T) {
	for _, v := range []any{prefixKey{}, advert{}} {
		if typ := reflect.TypeOf(v); hasPointer(typ) {
			t.Errorf("%s holds a pointer", typ)
		}
	}
}

func hasPointer(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointer(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Array:
		return hasPointer(t.Elem())
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.String, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	}
	return false
}
