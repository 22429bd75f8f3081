package rib

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/evpn"
)

// slowFabric is a fakeFabric that takes a little while over each call, as
// GoBGP does, so that workers' UPDATEs arrive while a call is in flight.
type slowFabric struct {
	*fakeFabric
	rnd *rand.Rand // only the VRF's Run calls, one at a time
}

func (f *slowFabric) Advertise(routes []evpn.Type5Route) error {
	time.Sleep(time.Duration(f.rnd.IntN(300)) * time.Microsecond)
	return f.fakeFabric.Advertise(routes)
}

func (f *slowFabric) Withdraw(routes []evpn.Type5Route) error {
	time.Sleep(time.Duration(f.rnd.IntN(300)) * time.Microsecond)
	return f.fakeFabric.Withdraw(routes)
}

// Workers announce, withdraw and go down in a random stream, faster than the
// VRF takes it, with flushes among them: once the pipeline has caught up,
// the fabric holds exactly a route for each prefix of each worker (the
// default, a path per worker), every flush has come back, and the fabric
// never refused a call (the fake refuses a duplicate advertisement or the
// withdrawal of a route it does not hold). A run of Run that lost or
// reordered an event fails it: an experiment that did (a VRF applying
// UPDATEs while the fabric took a call) failed it eight times in ten.
func TestVRFUnderLoadEndsWhereTheWorkersAre(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rnd := rand.New(rand.NewPCG(seed, 1))
	fab := &slowFabric{fakeFabric: newFakeFabric(), rnd: rand.New(rand.NewPCG(seed, 2))}
	v, logs := startVRF(t, testVRF(), fab)

	workers := make([]netip.Addr, 8)
	for i := range workers {
		workers[i] = netip.AddrFrom4([4]byte{192, 168, 10, byte(20 + i)})
	}
	prefix := func(i int) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}), 32)
	}
	holds := map[netip.Addr]map[netip.Prefix]bool{} // the model: what each worker announced
	for _, w := range workers {
		holds[w] = map[netip.Prefix]bool{}
	}
	var stream []func() // made first, then sent as fast as the VRF takes it
	var flushes []<-chan struct{}
	for range 8 * eventQueue { // more than the queue holds, so some arrive during a reconciliation
		w := workers[rnd.IntN(len(workers))]
		switch n := rnd.IntN(50); {
		case n == 0:
			stream = append(stream, func() { v.WorkerDown(w, 0) })
			clear(holds[w])
		case n == 1:
			stream = append(stream, func() { flushes = append(flushes, v.Flush()) })
		default:
			var announced []evpn.Route
			var withdrawn []netip.Prefix
			for range rnd.IntN(100) {
				p := prefix(rnd.IntN(6000))
				if rnd.IntN(4) == 0 {
					withdrawn = append(withdrawn, p)
					delete(holds[w], p)
				} else {
					announced = append(announced, route(w, p.String()))
					holds[w][p] = true
				}
			}
			// one UPDATE does not announce and withdraw one prefix
			announced = slices.DeleteFunc(announced, func(r evpn.Route) bool { return !holds[w][r.Prefix] })
			withdrawn = slices.DeleteFunc(withdrawn, func(p netip.Prefix) bool { return holds[w][p] })
			stream = append(stream, func() { v.Learn(w, announced, withdrawn) })
		}
	}
	for _, send := range stream {
		send()
	}
	flush(t, v)
	for i, c := range flushes {
		select {
		case <-c:
		default:
			t.Errorf("seed %d: flush %d of %d in the stream never came back", seed, i+1, len(flushes))
		}
	}

	want := map[string]bool{} // "prefix via worker", as the fabric should hold them
	for w, ps := range holds {
		for p := range ps {
			want[p.String()+" via "+w.String()] = true
		}
	}
	got := map[string]bool{}
	fab.mu.Lock()
	for _, r := range fab.routes {
		got[r.Prefix.String()+" via "+r.GatewayIP.String()] = true
	}
	fab.mu.Unlock()
	var wrong []string
	for r := range got {
		if !want[r] {
			wrong = append(wrong, r+": no worker holds it")
		}
	}
	for r := range want {
		if !got[r] {
			wrong = append(wrong, r+": missing")
		}
	}
	if len(wrong) > 0 {
		slices.Sort(wrong)
		t.Errorf("seed %d: the fabric holds %d routes, the workers %d; %d wrong, such as:\n%s",
			seed, len(got), len(want), len(wrong), strings.Join(wrong[:min(10, len(wrong))], "\n"))
	}
	if l := logs.String(); strings.Contains(l, "did not take") {
		t.Errorf("seed %d: the fabric refused a call:\n%.2000s", seed, l)
	}
	if s := v.Stats(); s.Advertised != len(want) {
		t.Errorf("seed %d: stats say %d routes advertised, want %d", seed, s.Advertised, len(want))
	}
}
