package rib

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/t5gw/t5gw/evpn"
)

// TestTableMatchesAModel runs random announcements, withdrawals, session
// ends and graceful restarts of a few workers over a few prefixes (so that
// prefixes have several workers) against the table and against a plain map,
// and compares what each holds after every step.
func TestTableMatchesAModel(t *testing.T) {
	type key struct {
		worker netip.Addr
		prefix netip.Prefix
	}
	type held struct {
		route evpn.Route
		stale bool
	}
	workers := []netip.Addr{w1, w2, netip.MustParseAddr("192.168.10.13"), netip.MustParseAddr("192.168.10.14")}
	prefixes := []string{"10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24", "10.99.0.0/16", "10.244.4.0/24"}
	communities := [][]uint32{nil, {1}, {1}, {2, 3}}
	rng := rand.New(rand.NewPCG(1, 2))
	tab := NewTable(testVRF(), nil)
	model := map[key]held{}
	for step := range 20000 {
		w := workers[rng.IntN(len(workers))]
		p := netip.MustParsePrefix(prefixes[rng.IntN(len(prefixes))])
		var op string
		switch n := rng.IntN(100); {
		case n < 50:
			r := route(w, p.String(), 65000+uint32(rng.IntN(3)))
			// Routes of one UPDATE share their attributes' memory; the
			// table shares what they carry, and must tell them apart.
			r.MED, r.HasMED = uint32(rng.IntN(2)), rng.IntN(2) == 0
			r.Communities = communities[rng.IntN(len(communities))]
			op = fmt.Sprint("update ", w, " ", p, " ", r.ASPath, " ", r.MED, " ", r.Communities)
			tab.Update(r)
			model[key{w, p}] = held{route: r}
		case n < 80:
			op = fmt.Sprint("withdraw ", w, " ", p)
			tab.Withdraw(w, p)
			delete(model, key{w, p})
		case n < 87:
			op = fmt.Sprint("drop ", w)
			want := 0
			for k := range model {
				if k.worker == w {
					delete(model, k)
					want++
				}
			}
			if got := tab.DropWorker(w); got != want {
				t.Fatalf("step %d %s: DropWorker = %d, want %d", step, op, got, want)
			}
		case n < 94:
			op = fmt.Sprint("stale ", w)
			tab.MarkStale(w)
			for k, h := range model {
				if k.worker == w {
					h.stale = true
					model[k] = h
				}
			}
		default:
			op = fmt.Sprint("sweep ", w)
			for k, h := range model {
				if k.worker == w && h.stale {
					delete(model, k)
				}
			}
			tab.SweepStale(w, evpn.AllFamilies)
		}
		workersWant, staleWant := map[netip.Addr]int{}, map[netip.Addr]int{}
		for k, h := range model {
			workersWant[k.worker]++
			if h.stale {
				staleWant[k.worker]++
			}
			e := tab.byWorker[k.worker][k.prefix]
			if e == nil || !e.route(k.prefix).Equal(h.route) || e.stale != h.stale {
				t.Fatalf("step %d %s: %s of %s: table has %+v, want %+v", step, op, k.prefix, k.worker, e, h)
			}
		}
		if tab.Routes() != len(model) || tab.Workers() != len(workersWant) {
			t.Fatalf("step %d %s: table holds %d routes of %d workers, want %d of %d",
				step, op, tab.Routes(), tab.Workers(), len(model), len(workersWant))
		}
		for _, w := range workers {
			if got := len(tab.byWorker[w]); got != workersWant[w] {
				t.Fatalf("step %d %s: worker %s has %d routes listed, want %d", step, op, w, got, workersWant[w])
			}
			if got := tab.StaleOf(w); got != staleWant[w] {
				t.Fatalf("step %d %s: worker %s has %d stale, want %d", step, op, w, got, staleWant[w])
			}
		}
		tab.TakeDirty()
	}
}
