package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// TestDemo is what `make demo` shows: a BIRD worker announcing a pod prefix,
// t5gwd, and the FRR EVPN peer holding the Type-5 route whose gateway IP is the
// worker. It asserts what it prints, so the demo cannot silently break.
func TestDemo(t *testing.T) {
	tp := newTopo(t)
	tp.w1.BIRD(labFile(t, "w1/bird.conf"))
	want := map[string]string{"10.244.1.0/24": "192.168.10.11", "fd00:10:244:1::/64": "fd00:192:168:10::11"}
	expectGateways(t, tp, "the worker's pod prefixes at the fabric peer", want)
	lab.WaitFor(t, "metrics settled", 10*time.Second, func() (bool, string) {
		m := tp.metrics(t)
		return m[`t5gw_vrf_routes_advertised{vrf="blue"}`] == 2, fmt.Sprint(m)
	})

	show := func(title, out string, err error) {
		if err != nil {
			t.Fatalf("%s: %v\n%s", title, err, out)
		}
		fmt.Printf("\n===== %s\n%s\n", title, strings.TrimRight(out, "\n"))
	}
	out, err := tp.w1.Birdc("show", "route", "export", "t5gw4")
	show("w1 (BIRD, as Calico): what the worker announces to t5gw", out, err)
	out, err = tp.fab.Vtysh("show bgp l2vpn evpn route type prefix")
	show("fab (FRR 8.4): the Type-5 routes it received", out, err)
	out, err = tp.fab.Vtysh("show bgp l2vpn evpn route detail type prefix json")
	if err == nil {
		for _, line := range strings.Split(out, ",") {
			if strings.Contains(line, "gatewayIP") {
				fmt.Println("   ", strings.TrimSpace(line))
			}
		}
	}
	out, err = tp.gw.Output("sh", "-c", "curl -s http://127.0.0.1:9179/metrics | grep '^t5gw_' | grep -v ' 0$' | grep -v _bucket")
	show("gw (t5gwd): its metrics", out, err)
}
