package bgp

import (
	"context"
	"log/slog"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/pkg/apiutil"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"

	"github.com/t5gw/t5gw/evpn"
)

// BenchmarkFabricAdvertise measures the fabric speaker's cost per Type-5
// route: the conversion to GoBGP paths and GoBGP's own AddPath and
// DeletePath, in the reconciler's chunks, with no peer to send to.
func BenchmarkFabricAdvertise(b *testing.B) {
	rt, _ := evpn.ParseRouteTarget("65000:4001")
	rd, _ := evpn.ParseRD("10.0.0.3:4001")
	opts := FabricOptions{RouterID: netip.MustParseAddr("10.0.0.3"), ASN: 65000, Port: 179, Log: slog.New(slog.DiscardHandler)}
	vtep := netip.MustParseAddr("10.0.0.3")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const chunk = 4096
	routes := make([]evpn.Type5Route, 100_000)
	base := netip.MustParseAddr("10.244.0.0").As4()
	for i := range routes {
		a := base
		a[2], a[3] = byte(i>>8), byte(i)
		a[1] += byte(i >> 16)
		routes[i] = evpn.Type5Route{RD: rd, Prefix: netip.PrefixFrom(netip.AddrFrom4(a), 32),
			GatewayIP: netip.AddrFrom4([4]byte{10, 1, byte(i % 100), 1}), Label: 4001,
			NextHop: vtep, RouteTargets: []evpn.RouteTarget{rt}, Encap: evpn.TunnelVXLAN,
			ASPath: []evpn.ASPathSegment{{ASNs: []uint32{65011}}}}
	}
	var held uint64
	for b.Loop() {
		b.StopTimer() // a fresh speaker each time: its tables grow from empty, as in a real start
		f, err := NewFabric(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		before := heapInUse()
		b.StartTimer()
		for i := 0; i < len(routes); i += chunk {
			if err := f.Advertise(routes[i:min(i+chunk, len(routes))]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		held = heapInUse() - before
		b.StartTimer()
		for i := 0; i < len(routes); i += chunk {
			if err := f.Withdraw(routes[i:min(i+chunk, len(routes))]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		f.Stop(false)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(routes)), "ns/route")
	b.ReportMetric(float64(held)/float64(len(routes)), "heldB/route")
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

type countingSink struct{ routes int }

func (s *countingSink) Learn(_ netip.Addr, announced []evpn.Route, withdrawn []netip.Prefix) {
	s.routes += len(announced) + len(withdrawn)
}
func (s *countingSink) WorkerDown(netip.Addr, time.Duration) {}
func (s *countingSink) WorkerUp(netip.Addr, evpn.Families)   {}
func (s *countingSink) EndOfRIB(netip.Addr, evpn.Families)   {}

// BenchmarkWorkerUpdates measures reading what a worker UPDATE of 1,000
// prefixes (as GoBGP's watcher hands it over) into routes for the VRF.
func BenchmarkWorkerUpdates(b *testing.B) {
	asPath := bgppkt.NewPathAttributeAsPath([]bgppkt.AsPathParamInterface{
		bgppkt.NewAs4PathParam(bgppkt.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{65011})})
	nh, _ := bgppkt.NewPathAttributeNextHop(netip.MustParseAddr("192.168.1.11"))
	attrs := []bgppkt.PathAttributeInterface{bgppkt.NewPathAttributeOrigin(0), asPath, nh}
	paths := make([]*apiutil.Path, 1000)
	for i := range paths {
		nlri, _ := bgppkt.NewIPAddrPrefix(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}), 32))
		paths[i] = &apiutil.Path{Family: bgppkt.RF_IPv4_UC, Nlri: nlri, Attrs: attrs,
			PeerAddress: netip.MustParseAddr("192.168.1.11")}
	}
	sink := &countingSink{}
	w := &Workers{sink: sink}
	b.ReportAllocs()
	for b.Loop() {
		w.updates(paths, time.Time{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(paths)), "ns/route")
	if sink.routes != b.N*len(paths) {
		b.Fatalf("sink took %d routes, want %d", sink.routes, b.N*len(paths))
	}
}
