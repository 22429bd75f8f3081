package rib

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/t5gw/t5gw/evpn"
)

// fakeFabric holds what a real fabric speaker would hold and enforces the
// reconciler's contract: no identical re-advertisement, no withdrawal of a
// route it does not hold. fail makes it refuse chosen prefixes.
type fakeFabric struct {
	mu     sync.Mutex
	routes map[evpn.Key]evpn.Type5Route
	calls  int
	fail   map[netip.Prefix]bool
	ops    []string // "advertise <rd> <prefix>", "withdraw <rd> <prefix>", in order
}

func newFakeFabric() *fakeFabric {
	return &fakeFabric{routes: map[evpn.Key]evpn.Type5Route{}, fail: map[netip.Prefix]bool{}}
}

func (f *fakeFabric) Advertise(routes []evpn.Type5Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	for _, r := range routes {
		if f.fail[r.Prefix] {
			return fmt.Errorf("injected failure for %s", r.Prefix)
		}
		if have, ok := f.routes[r.Key()]; ok && have.Equal(r) {
			return fmt.Errorf("duplicate advertisement of %s", r.Prefix)
		}
	}
	for _, r := range routes {
		f.routes[r.Key()] = r
		f.ops = append(f.ops, fmt.Sprintf("advertise %s %s", r.RD, r.Prefix))
	}
	return nil
}

func (f *fakeFabric) Withdraw(routes []evpn.Type5Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	for _, r := range routes {
		if _, ok := f.routes[r.Key()]; !ok {
			return fmt.Errorf("withdrawal of %s, which is not advertised", r.Prefix)
		}
	}
	for _, r := range routes {
		delete(f.routes, r.Key())
		f.ops = append(f.ops, fmt.Sprintf("withdraw %s %s", r.RD, r.Prefix))
	}
	return nil
}

// gateways returns prefix -> gateway IP of what the fabric holds.
func (f *fakeFabric) gateways() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for _, r := range f.routes {
		out[r.Prefix.String()] = r.GatewayIP.String()
	}
	return out
}
