package rib

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/t5gw/t5gw/evpn"
)

// cuts records the workers a pipeline cuts off.
type cuts struct {
	mu  sync.Mutex
	got []string
}

func (c *cuts) cut(worker netip.Addr, why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, worker.String()+": "+why)
}

func (c *cuts) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

// TestMaxPrefixesCountsOnlyAcceptedRoutes: routes refused for any reason
// do not count toward max-prefixes; past the warning share a worker is
// logged once; one accepted route too many cuts the worker off, its routes
// leave the fabric before any over the limit reach it, and what it sends
// until its session ends is not read.
func TestMaxPrefixesCountsOnlyAcceptedRoutes(t *testing.T) {
	fab := newFakeFabric()
	var c cuts
	v, logs := startVRF(t, testVRF(), fab, WithLimit(Limit{Max: 3, WarnPercent: 60}, c.cut))

	var w1Routes []evpn.Route
	for i := range 3 {
		w1Routes = append(w1Routes, route(w1, fmt.Sprintf("10.244.%d.0/24", i+1)))
	}
	for i := range 5 { // outside accept: refused, not counted
		w1Routes = append(w1Routes, route(w1, fmt.Sprintf("10.99.%d.0/24", i)))
	}
	v.Learn(w1, w1Routes, nil)
	v.Learn(w2, []evpn.Route{route(w2, "10.244.20.0/24")}, nil)
	waitFor(t, func() (bool, any) { s := v.Stats(); return s.Advertised == 4 && s.NearLimit == 1, s })
	if got := c.list(); len(got) != 0 {
		t.Fatalf("cut off with 3 accepted routes and a limit of 3: %v", got)
	}
	v.Learn(w1, []evpn.Route{route(w1, "10.244.3.0/24", 65011)}, nil) // a change, still 3
	<-v.Flush()
	if n := logs.count("worker near max-prefixes"); n != 1 {
		t.Errorf("near-limit warning logged %d times, want once:\n%s", n, logs)
	}

	calls := len(fab.ops)
	v.Learn(w1, []evpn.Route{route(w1, "10.244.4.0/24")}, nil)
	waitFor(t, func() (bool, any) { return len(c.list()) == 1, c.list() })
	want := "192.168.10.11: max-prefixes: 4 accepted IPv4 routes, limit 3"
	if got := c.list()[0]; got != want {
		t.Errorf("cut off %q, want %q", got, want)
	}
	waitFor(t, func() (bool, any) {
		return cmp.Equal(fab.gateways(), map[string]string{"10.244.20.0/24": w2.String()}), fab.gateways()
	})
	for _, op := range fab.ops[calls:] {
		if strings.Contains(op, "10.244.4.0/24") {
			t.Errorf("the route over the limit reached the fabric: %v", fab.ops[calls:])
		}
	}
	// Until its session ends, nothing it sends is read.
	v.Learn(w1, []evpn.Route{route(w1, "10.244.5.0/24")}, nil)
	<-v.Flush()
	if s := v.Stats(); s.Advertised != 1 || s.Cutoffs != 1 || s.NearLimit != 0 {
		t.Errorf("after the cut: %+v", s)
	}
	// Its next session starts afresh.
	v.WorkerDown(w1, 0)
	v.Learn(w1, []evpn.Route{route(w1, "10.244.5.0/24")}, nil)
	waitFor(t, func() (bool, any) { return fab.gateways()["10.244.5.0/24"] == w1.String(), fab.gateways() })

	// A lower limit holds every worker to it at once.
	v.SetLimit(Limit{Max: 0})
	v.Learn(w2, []evpn.Route{route(w2, "10.244.21.0/24")}, nil)
	<-v.Flush()
	v.SetLimit(Limit{Max: 1})
	waitFor(t, func() (bool, any) { return len(c.list()) == 2, c.list() })
	if got := c.list()[1]; !strings.HasPrefix(got, w2.String()+": max-prefixes: 2 accepted IPv4 routes, limit 1") {
		t.Errorf("second cut %q", got)
	}
}
