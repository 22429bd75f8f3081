package bgp

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rds"
	"github.com/t5gw/t5gw/evpn/rib"
	"github.com/t5gw/t5gw/test/poll"
)

// These tests run t5gw's speakers against GoBGP peers on 127.0.0.x: no root,
// a second or two each. Real routers are exercised in test/.

func freePort(t *testing.T) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

func testLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// peerServer starts a plain GoBGP speaker to stand for a fabric peer or a worker.
func peerServer(t *testing.T, asn uint32, id string, listen string, port int32) *server.BgpServer {
	t.Helper()
	s := server.NewBgpServer(server.LoggerOption(slog.New(slog.DiscardHandler), nil))
	go s.Serve()
	g := &api.Global{Asn: asn, RouterId: id, ListenPort: port}
	if listen != "" {
		g.ListenAddresses = []string{listen}
	}
	if err := s.StartBgp(context.Background(), &api.StartBgpRequest{Global: g}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func addPeer(t *testing.T, s *server.BgpServer, p *api.Peer) {
	t.Helper()
	if err := s.AddPeer(context.Background(), &api.AddPeerRequest{Peer: p}); err != nil {
		t.Fatal(err)
	}
}

// type5s lists the Type-5 routes a speaker holds as "prefix gw=... label=... rd=... ec=... nh=...".
func type5s(s *server.BgpServer) []string {
	var out []string
	_ = s.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL, Family: bgppkt.RF_EVPN},
		func(_ bgppkt.NLRI, paths []*apiutil.Path) {
			for _, p := range paths {
				n, ok := p.Nlri.(*bgppkt.EVPNNLRI)
				if !ok {
					continue
				}
				r, ok := n.RouteTypeData.(*bgppkt.EVPNIPPrefixRoute)
				if !ok {
					continue
				}
				var rts []string
				var nh netip.Addr
				for _, a := range p.Attrs {
					switch a := a.(type) {
					case *bgppkt.PathAttributeExtendedCommunities:
						for _, c := range a.Value {
							rts = append(rts, c.String())
						}
					case *bgppkt.PathAttributeMpReachNLRI:
						nh = a.Nexthop
					}
				}
				out = append(out, fmt.Sprintf("%s/%d gw=%s label=%d rd=%s ec=%s nh=%s", r.IPPrefix, r.IPPrefixLength,
					r.GWIPAddress, r.Label, r.RD, strings.Join(rts, ","), nh))
			}
		})
	sort.Strings(out)
	return out
}

func announce(t *testing.T, s *server.BgpServer, prefix, nexthop string, withdraw bool) {
	t.Helper()
	pfx := netip.MustParsePrefix(prefix)
	nlri, _ := bgppkt.NewIPAddrPrefix(pfx)
	nh, _ := bgppkt.NewPathAttributeNextHop(netip.MustParseAddr(nexthop))
	p := &apiutil.Path{Family: bgppkt.RF_IPv4_UC, Nlri: nlri, Attrs: []bgppkt.PathAttributeInterface{
		bgppkt.NewPathAttributeOrigin(0), nh}}
	if withdraw {
		if err := s.DeletePath(apiutil.DeletePathRequest{Paths: []*apiutil.Path{p}}); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := s.AddPath(apiutil.AddPathRequest{Paths: []*apiutil.Path{p}}); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() (bool, any)) {
	t.Helper()
	poll.Until(t, what, 20*time.Second, cond)
}

// gateway starts t5gw's fabric and worker speakers for one VRF on loopback.
type gateway struct {
	fabric  *Fabric
	workers *Workers
	rib     *rib.VRF
}

func startGateway(t *testing.T, fabricPort, workerPort uint16, maxPrefixes uint32, restart time.Duration) *gateway {
	t.Helper()
	rt, _ := evpn.ParseRouteTarget("65000:4001")
	rd, _ := evpn.ParseRD("10.0.0.3:4001")
	accept := []evpn.PrefixRule{{Prefix: netip.MustParsePrefix("10.244.0.0/16"), GE: 16, LE: 32}}
	ctx, cancel := context.WithCancel(context.Background())
	log := testLog(t)
	fabric, err := NewFabric(ctx, FabricOptions{RouterID: netip.MustParseAddr("10.0.0.3"), ASN: 65000, Port: 179, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := fabric.AddNeighbor(ctx, config.Neighbor{Address: netip.MustParseAddr("127.0.0.2"), ASN: 65000, Port: fabricPort}, false); err != nil {
		t.Fatal(err)
	}
	var cutter atomic.Pointer[Workers]
	pipe := rib.NewVRF(evpn.VRF{Name: "blue", L3VNI: 4001, RD: rd, RouteTargets: []evpn.RouteTarget{rt},
		VTEP: netip.MustParseAddr("10.0.0.3"), Accept: accept}, fabric, log,
		rib.WithLimit(rib.Limit{Max: int(maxPrefixes)}, func(w netip.Addr, why string) { cutter.Load().CutOff(w, why) }))
	done := make(chan struct{})
	go func() { pipe.Run(ctx); close(done) }()
	workers, err := NewWorkers(ctx, WorkersOptions{
		VRF: "blue", RouterID: netip.MustParseAddr("10.0.0.3"), ASN: 65000,
		Listen: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, Port: workerPort, Families: evpn.IPv4,
		Peers: []config.Peer{
			{Address: netip.MustParseAddr("127.0.0.11"), ASN: 65011, Passive: true, Timers: config.DefaultTimers},
			{Address: netip.MustParseAddr("127.0.0.15"), ASN: 65015, Passive: true, Timers: config.DefaultTimers},
			{Range: netip.MustParsePrefix("127.0.0.0/24"), ASN: 65012, Passive: true, Timers: config.DefaultTimers},
		},
		MaxPrefixes: maxPrefixes, MaxPrefixesRestart: restart, GracefulRestart: true, Log: log,
	}, pipe)
	if err != nil {
		t.Fatal(err)
	}
	cutter.Store(workers)
	t.Cleanup(func() { workers.Stop(false); cancel(); <-done; fabric.Stop(false) })
	return &gateway{fabric: fabric, workers: workers, rib: pipe}
}

// worker starts a GoBGP worker at addr peering with t5gw on 127.0.0.1:port.
func worker(t *testing.T, addr string, asn uint32, port uint16) *server.BgpServer {
	w := peerServer(t, asn, addr, "", -1)
	addPeer(t, w, &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: "127.0.0.1", PeerAsn: 65000},
		Transport: &api.Transport{LocalAddress: addr, RemotePort: uint32(port)},
		Timers:    &api.Timers{Config: &api.TimersConfig{ConnectRetry: 1}},
		AfiSafis:  []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: familyIPv4, Enabled: true}}},
	})
	return w
}

func startFabricPeer(t *testing.T) (*server.BgpServer, uint16) {
	port := freePort(t)
	fp := peerServer(t, 65000, "10.0.0.1", "127.0.0.2", int32(port))
	addPeer(t, fp, &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: "127.0.0.1", PeerAsn: 65000},
		Transport: &api.Transport{PassiveMode: true},
		AfiSafis:  []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: familyEVPN, Enabled: true}}},
	})
	return fp, port
}

func TestWorkerRoutesBecomeType5(t *testing.T) {
	fp, fport := startFabricPeer(t)
	wport := freePort(t)
	gw := startGateway(t, fport, wport, 0, time.Hour)
	w1 := worker(t, "127.0.0.11", 65011, wport)

	announce(t, w1, "10.244.1.0/24", "127.0.0.11", false)
	announce(t, w1, "10.1.0.0/16", "127.0.0.11", false)   // outside accept
	announce(t, w1, "10.244.9.0/24", "127.0.0.99", false) // third-party next hop
	// The worker's own RD: <router-id>:<its preferred number>.
	rd := rds.Preferred(rds.Owner{VRF: "blue", Worker: netip.MustParseAddr("127.0.0.11")})
	want := fmt.Sprintf("10.244.1.0/24 gw=127.0.0.11 label=4001 rd=10.0.0.3:%d ec=65000:4001,VXLAN nh=10.0.0.3", rd)
	waitFor(t, "type-5 at the fabric peer", func() (bool, any) {
		got := type5s(fp)
		return len(got) == 1 && got[0] == want, got
	})
	// The worker speaker has no Loc-RIB table for unicast routes, so GoBGP
	// neither selects nor propagates what workers send (bgp/server.go, ribNone).
	err := gw.workers.srv.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL,
		Family: bgppkt.RF_IPv4_UC}, func(bgppkt.NLRI, []*apiutil.Path) {})
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("worker speaker's Loc-RIB for ipv4 unicast: err %v, want no such table", err)
	}
	waitFor(t, "refusals counted", func() (bool, any) {
		s := gw.rib.Stats()
		return s.Refused[evpn.ReasonNotAccepted] == 1 && s.Refused[evpn.ReasonThirdParty] == 1 && s.Received == 3, s
	})

	announce(t, w1, "10.244.1.0/24", "127.0.0.11", true)
	waitFor(t, "withdrawal reaches the fabric peer", func() (bool, any) { got := type5s(fp); return len(got) == 0, got })

	// A second worker, from the dynamic range, and the first stopping.
	w2 := worker(t, "127.0.0.12", 65012, wport)
	announce(t, w1, "10.244.1.0/24", "127.0.0.11", false)
	announce(t, w2, "10.244.2.0/24", "127.0.0.12", false)
	waitFor(t, "both workers' routes", func() (bool, any) { got := type5s(fp); return len(got) == 2, got })
	w1.Stop()
	waitFor(t, "worker down withdraws only its routes", func() (bool, any) {
		got := type5s(fp)
		return len(got) == 1 && strings.HasPrefix(got[0], "10.244.2.0/24 gw=127.0.0.12"), got
	})
	if up := gw.workers.SessionsUp(); up != 1 {
		t.Errorf("worker sessions up = %d, want 1", up)
	}
}

func TestMaxPrefixesCutsOnlyTheOffenderAndLetsItBack(t *testing.T) {
	for _, tc := range []struct {
		name, addr string
		asn        uint16
	}{
		{"static peer", "127.0.0.15", 65015},
		{"dynamic peer", "127.0.0.13", 65012},
	} {
		t.Run(tc.name, func(t *testing.T) { testMaxPrefixes(t, tc.addr, tc.asn) })
	}
}

// TestRefusedFloodHitsGoBGPsBound: refused routes do not count toward
// max-prefixes, but a worker sending more than receivedFactor times it in
// all is cut off by GoBGP's own limit (RFC 4486 Cease), so it cannot fill
// memory with routes t5gw refuses.
func TestRefusedFloodHitsGoBGPsBound(t *testing.T) {
	fp, fport := startFabricPeer(t)
	wport := freePort(t)
	gw := startGateway(t, fport, wport, 3, time.Minute)
	good := worker(t, "127.0.0.11", 65011, wport)
	announce(t, good, "10.244.1.0/24", "127.0.0.11", false)
	waitFor(t, "good worker's route", func() (bool, any) { got := type5s(fp); return len(got) == 1, got })
	bad := dialRaw(t, "127.0.0.13", wport, 65012)
	var refused []string
	for i := range 3*receivedFactor + 1 {
		refused = append(refused, fmt.Sprintf("10.99.%d.0/24", i))
	}
	bad.announce(65012, "127.0.0.13", refused...)
	n := bad.notification()
	if n == nil || n.ErrorCode != bgppkt.BGP_ERROR_CEASE || n.ErrorSubcode != bgppkt.BGP_ERROR_SUB_MAXIMUM_NUMBER_OF_PREFIXES_REACHED {
		t.Fatalf("flood of refused routes answered with %+v, want Cease / maximum number of prefixes reached", n)
	}
	waitFor(t, "only the good worker's session and route", func() (bool, any) {
		got := type5s(fp)
		return gw.workers.SessionsUp() == 1 && gw.workers.MaxPrefixHits() == 1 && len(got) == 1, got
	})
}

func testMaxPrefixes(t *testing.T, addr string, asn uint16) {
	fp, fport := startFabricPeer(t)
	wport := freePort(t)
	const restart = 3 * time.Second
	gw := startGateway(t, fport, wport, 3, restart)
	good := worker(t, "127.0.0.11", 65011, wport)
	announce(t, good, "10.244.1.0/24", "127.0.0.11", false)
	waitFor(t, "good worker's route", func() (bool, any) { got := type5s(fp); return len(got) == 1, got })

	bad := dialRaw(t, addr, wport, asn)
	// Refused routes do not count: 3 accepted and 5 refused are within 3.
	bad.announce(asn, addr, "10.244.100.0/24", "10.244.101.0/24", "10.244.102.0/24",
		"10.99.0.0/24", "10.99.1.0/24", "10.99.2.0/24", "10.99.3.0/24", "10.99.4.0/24")
	bad.announce(asn, "127.0.0.99", "10.244.110.0/24") // third-party next hop: refused
	waitFor(t, "the offender's 3 accepted routes", func() (bool, any) { got := type5s(fp); return len(got) == 4, got })
	bad.announce(asn, addr, "10.244.103.0/24")
	n := bad.notification()
	cut := time.Now()
	const why = "max-prefixes: 4 accepted IPv4 routes, limit 3"
	if n == nil || n.ErrorCode != bgppkt.BGP_ERROR_CEASE || n.ErrorSubcode != bgppkt.BGP_ERROR_SUB_ADMINISTRATIVE_SHUTDOWN ||
		!strings.Contains(string(n.Data), why) {
		t.Fatalf("offender got %+v, want Cease / administrative shutdown saying %q (RFC 9003)", n, why)
	}
	waitFor(t, "fabric holds only the good worker's route", func() (bool, any) {
		got := type5s(fp)
		return len(got) == 1 && strings.Contains(got[0], "gw=127.0.0.11") && gw.workers.MaxPrefixHits() == 1, got
	})

	// During the penalty the offender cannot get a session: each try is
	// refused, or closed with a Cease if it slipped in before the hold.
	tries := time.NewTicker(100 * time.Millisecond)
	defer tries.Stop()
	for ; time.Since(cut) < restart/2; <-tries.C {
		s, first := tryRaw(t, addr, wport, asn)
		if first.Header.Type == bgppkt.BGP_MSG_OPEN {
			s.send(bgppkt.NewBGPKeepAliveMessage())
			if n := s.notification(); n == nil || n.ErrorCode != bgppkt.BGP_ERROR_CEASE {
				t.Fatalf("offender kept a session %v after the cut: %+v", time.Since(cut), n)
			}
		}
	}

	// After max-prefixes-restart it is let back, and routes within the limit
	// are advertised.
	var again *rawSession
	waitFor(t, "offender let back", func() (bool, any) {
		s, first := tryRaw(t, addr, wport, asn)
		if first.Header.Type != bgppkt.BGP_MSG_OPEN {
			return false, fmt.Sprintf("answer type %d after %v", first.Header.Type, time.Since(cut))
		}
		s.send(bgppkt.NewBGPKeepAliveMessage())
		again = s
		return true, nil
	})
	if since := time.Since(cut); since < restart-200*time.Millisecond {
		t.Errorf("let back %v after the cut, before max-prefixes-restart %v", since, restart)
	}
	again.announce(asn, addr, "10.244.100.0/24", "10.244.101.0/24")
	waitFor(t, "offender's routes within the limit", func() (bool, any) {
		got := type5s(fp)
		return len(got) == 3, got
	})
}

// TestSyncedWithoutGracefulRestart: a worker whose OPEN has no graceful
// restart capability need not send End-of-RIB (BIRD sends none then), so
// t5gw counts its routes as all there once it has been silent for
// quietSync, not never (a restarted t5gwd would wait its whole worker-wait).
func TestSyncedWithoutGracefulRestart(t *testing.T) {
	_, fport := startFabricPeer(t)
	wport := freePort(t)
	gw := startGateway(t, fport, wport, 0, time.Hour)
	w := dialRaw(t, "127.0.0.14", wport, 65012) // its OPEN: no graceful restart
	addr := netip.MustParseAddr("127.0.0.14")
	w.announce(65012, "127.0.0.14", "10.244.5.0/24")
	last := time.Now()
	waitFor(t, "the worker counted as synced", func() (bool, any) { return gw.workers.Synced(addr), nil })
	if since := time.Since(last); since < quietSync {
		t.Errorf("synced %v after its last UPDATE, before quietSync %v", since, quietSync)
	}
}
