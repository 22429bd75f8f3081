//go:build realkernel

// These tests need VRF devices, which only the real-kernel tier has: they run
// inside the VM that test/realkernel_test.go boots.

package vrf

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/evpn"
)

// tenantDevices lays out FRR's shape of an L3VNI: vrf-blue (table 10), and
// vxlan4001 in bridge br4001, which is enslaved to vrf-blue.
func tenantDevices(ip func(...string), vtep string) {
	ip("link", "add", "vrf-blue", "type", "vrf", "table", "10")
	ip("link", "add", "br4001", "type", "bridge")
	ip("link", "set", "br4001", "master", "vrf-blue")
	ip("link", "add", "vxlan4001", "type", "vxlan", "id", "4001", "local", vtep, "dstport", "4789", "nolearning")
	ip("link", "set", "vxlan4001", "master", "br4001")
	for _, d := range []string{"vrf-blue", "br4001", "vxlan4001"} {
		ip("link", "set", d, "up")
	}
}

func TestRealKernelTenant(t *testing.T) {
	links, ip := inNamespace(t)
	tenantDevices(ip, "10.0.0.3")
	got, err := links.Tenant("vrf-blue", 4001)
	if err != nil {
		t.Fatalf("Tenant: %v", err)
	}
	if got.Table != 10 || got.L3VNI.VXLAN != "vxlan4001" || got.L3VNI.Bridge != "br4001" ||
		got.L3VNI.VTEP != netip.MustParseAddr("10.0.0.3") || len(got.L3VNI.RouterMAC) != 6 {
		t.Errorf("Tenant = %+v", got)
	}
	if _, err := links.Tenant("vrf-blue", 4002); err == nil || !strings.Contains(err.Error(), "no VXLAN device carries VNI 4002") {
		t.Errorf("wrong VNI: got %v", err)
	}
	ip("link", "set", "br4001", "nomaster")
	if _, err := links.Tenant("vrf-blue", 4001); err == nil || !strings.Contains(err.Error(), "is in bridge br4001, which is not in VRF vrf-blue") {
		t.Errorf("bridge outside the VRF: got %v", err)
	}
}

func TestRealKernelRoutes(t *testing.T) {
	links, ip := inNamespace(t)
	tenantDevices(ip, "10.0.0.3")
	ip("link", "add", "eth1", "type", "dummy")
	ip("link", "set", "eth1", "master", "vrf-blue")
	ip("addr", "add", "192.168.10.3/24", "dev", "eth1")
	ip("link", "set", "eth1", "up")
	routes, err := links.Routes(10)
	if err != nil {
		t.Fatal(err)
	}
	r := evpn.Type5Route{Prefix: netip.MustParsePrefix("10.244.1.0/24"), GatewayIP: netip.MustParseAddr("192.168.10.11")}
	if err := routes.Advertise([]evpn.Type5Route{r}); err != nil {
		t.Fatalf("Advertise: %v", err)
	}
	out := show(t, "route", "show", "table", "10", "10.244.1.0/24")
	if !strings.Contains(out, "via 192.168.10.11 dev eth1 proto 200") {
		t.Errorf("table 10 holds %q, want the route via the worker with proto 200", out)
	}
	if err := routes.Withdraw([]evpn.Type5Route{r}); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	if out := show(t, "route", "show", "table", "10", "10.244.1.0/24"); out != "" {
		t.Errorf("after Withdraw table 10 holds %q", out)
	}
	// A route left by an earlier run is cleared when the installer starts.
	if err := routes.Advertise([]evpn.Type5Route{r}); err != nil {
		t.Fatalf("planting a stale route: %v", err)
	}
	if out := show(t, "route", "show", "table", "10", "proto", "200"); out == "" {
		t.Fatal("the stale route is not in table 10")
	}
	if _, err := links.Routes(10); err != nil {
		t.Fatal(err)
	}
	if out := show(t, "route", "show", "table", "10", "proto", "200"); out != "" {
		t.Errorf("stale routes not cleared: %q", out)
	}
}

func TestRealKernelWatch(t *testing.T) {
	links, ip := inNamespace(t)
	tenantDevices(ip, "10.0.0.3")
	type state struct {
		vtep netip.Addr
		err  error
	}
	states := make(chan state, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := links.Watch(ctx, "vrf-blue", 4001, func(tn Tenant, err error) { states <- state{tn.L3VNI.VTEP, err} }); err != nil {
		t.Fatal(err)
	}
	expect := func(what string, ok func(state) bool) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		var last state
		for {
			select {
			case last = <-states:
				if ok(last) {
					return
				}
			case <-deadline:
				t.Fatalf("%s: not reported; last state %+v", what, last)
			}
		}
	}
	expect("initial state", func(s state) bool { return s.err == nil && s.vtep == netip.MustParseAddr("10.0.0.3") })
	ip("link", "del", "vrf-blue")
	expect("VRF gone", func(s state) bool { return s.err != nil && strings.Contains(s.err.Error(), "not found") })
	ip("link", "add", "vrf-blue", "type", "vrf", "table", "10")
	ip("link", "set", "br4001", "master", "vrf-blue")
	expect("VRF back", func(s state) bool { return s.err == nil })
	ip("link", "del", "vxlan4001")
	ip("link", "add", "vxlan4001", "type", "vxlan", "id", "4001", "local", "10.0.0.33", "dstport", "4789", "nolearning")
	ip("link", "set", "vxlan4001", "master", "br4001")
	expect("new VTEP", func(s state) bool { return s.err == nil && s.vtep == netip.MustParseAddr("10.0.0.33") })
}

// show runs ip in the test's namespace and returns its output.
func show(t *testing.T, args ...string) string {
	t.Helper()
	name := "t5-vrf-" + strings.ReplaceAll(t.Name(), "/", "-")
	out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %v: %v %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}
