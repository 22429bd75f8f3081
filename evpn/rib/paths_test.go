package rib

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rds"
	"github.com/t5gw/t5gw/evpn/resolve"
)

var (
	p1        = netip.MustParsePrefix("10.244.1.0/24")
	p2        = netip.MustParsePrefix("10.244.2.0/24")
	nodeIP    = netip.MustParseAddr("10.0.0.3") // testVRF's VTEP and RD administrator
	vtepA     = netip.MustParseAddr("10.0.0.1")
	vtepB     = netip.MustParseAddr("10.0.0.2")
	routerMAC = evpn.MAC{0x02, 0, 0, 0, 0x40, 0x01}
)

// newRDs is the node's RD allocator for testVRF.
func newRDs() *rds.Allocator { return rds.New(nodeIP, []evpn.RD{testVRF().RD}) }

func owner(worker netip.Addr) rds.Owner { return rds.Owner{VRF: testVRF().Name, Worker: worker} }

// describe is a Type-5 route as one line, what the tests compare: the key,
// the overlay index and where the traffic goes, and the worker behind it.
func describe(r evpn.Type5Route) string {
	gw := "none"
	if r.GatewayIP.IsValid() {
		gw = r.GatewayIP.String()
	}
	s := fmt.Sprintf("%s %s gw %s nh %s label %d", r.RD, r.Prefix, gw, r.NextHop, r.Label)
	if !r.RouterMAC.IsZero() {
		s += " rmac " + r.RouterMAC.String()
	}
	return s + " from " + r.Worker.String()
}

// normal and fallback are the lines describe gives for worker's route of
// prefix under rd, as translated and in its interface-less form.
func normal(rd evpn.RD, prefix netip.Prefix, worker netip.Addr, label uint32) string {
	return fmt.Sprintf("%s %s gw %s nh %s label %d from %s", rd, prefix, worker, nodeIP, label, worker)
}

func fallback(rd evpn.RD, prefix netip.Prefix, worker netip.Addr) string {
	return fmt.Sprintf("%s %s gw none nh %s label 4001 rmac %s from %s", rd, prefix, nodeIP, routerMAC, worker)
}

// held lists what the fabric holds, sorted.
func held(f *fakeFabric) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []string{}
	for _, r := range f.routes {
		out = append(out, describe(r))
	}
	slices.Sort(out)
	return out
}

// opsSince returns the fabric's operations from the n-th on, and how many
// there are in all.
func opsSince(f *fakeFabric, n int) ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ops[n:]), len(f.ops)
}

func fabricCalls(f *fakeFabric) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// sorted returns a sorted copy of ss, never nil.
func sorted(ss ...string) []string {
	out := append([]string{}, ss...)
	slices.Sort(out)
	return out
}

// reconcileDesired reconciles what the table marked dirty with its Desired,
// per worker or best as the VRF says.
func reconcileDesired(t *testing.T, tab *Table, rec *Reconciler) {
	t.Helper()
	if failed, err := rec.Reconcile(tab.TakeDirty(), tab.Desired); err != nil {
		t.Fatalf("Reconcile: %v (failed %v)", err, failed)
	}
}

// expectQuiet reconciles the dirty prefixes and then every prefix again, and
// fails if either sends anything to the fabric.
func expectQuiet(t *testing.T, tab *Table, rec *Reconciler, fab *fakeFabric) {
	t.Helper()
	calls := fabricCalls(fab)
	reconcileDesired(t, tab, rec)
	if _, err := rec.Reconcile(tab.Prefixes(), tab.Desired); err != nil {
		t.Fatalf("Reconcile of every prefix: %v", err)
	}
	if got := fabricCalls(fab); got != calls {
		t.Errorf("reconciling again made %d fabric calls, want 0", got-calls)
	}
}

// assignedOwners lists the workers of testVRF that hold an RD.
func assignedOwners(a *rds.Allocator) []string {
	out := []string{}
	for o := range a.Assigned() {
		out = append(out, o.Worker.String())
	}
	slices.Sort(out)
	return out
}

// Each worker's route goes under the worker's own RD; a worker's change
// touches its own route only, and its RD goes back once it has no route.
func TestPathsPerWorker(t *testing.T) {
	vrf := testVRF()
	alloc := newRDs()
	fab := newFakeFabric()
	tab, rec := NewTable(vrf, alloc), NewReconciler(fab)

	tab.Update(route(w1, p1.String(), 65011))
	tab.Update(route(w2, p1.String(), 65012))
	reconcileDesired(t, tab, rec)
	assigned := alloc.Assigned()
	rd1, rd2 := assigned[owner(w1)], assigned[owner(w2)]
	if len(assigned) != 2 || rd1 == rd2 || rd1 == vrf.RD || rd2 == vrf.RD {
		t.Fatalf("allocator assigned %v; want two RDs of their own, neither the VRF's %s", assigned, vrf.RD)
	}
	for w, want := range map[netip.Addr]evpn.RD{w1: rd1, w2: rd2} {
		if got, ok := tab.RDOf(w); !ok || got != want {
			t.Errorf("RDOf(%s) = %s, %v; want the allocator's %s", w, got, ok, want)
		}
		if got, _ := alloc.RD(owner(w)); got != want {
			t.Errorf("allocator.RD(%s) = %s, want %s as assigned", w, got, want)
		}
	}
	r1, r2 := normal(rd1, p1, w1, vrf.L3VNI), normal(rd2, p1, w2, vrf.L3VNI)
	if diff := cmp.Diff(sorted(r1, r2), held(fab)); diff != "" {
		t.Fatalf("fabric after two workers announced one prefix (-want +got):\n%s", diff)
	}
	if n := rec.Advertised(); n != 2 {
		t.Errorf("Advertised = %d, want 2", n)
	}
	expectQuiet(t, tab, rec, fab)

	steps := []struct {
		name      string
		do        func()
		wantOps   []string // the fabric's operations in this step, in order
		wantHeld  []string
		wantOwner []string // workers holding an RD
	}{{
		name:      "w1 withdraws",
		do:        func() { tab.Withdraw(w1, p1) },
		wantOps:   []string{fmt.Sprintf("withdraw %s %s", rd1, p1)},
		wantHeld:  sorted(r2),
		wantOwner: sorted(w2.String()),
	}, {
		name:      "w1 announces again",
		do:        func() { tab.Update(route(w1, p1.String(), 65011)) },
		wantOps:   []string{fmt.Sprintf("advertise %s %s", rd1, p1)},
		wantHeld:  sorted(r1, r2),
		wantOwner: sorted(w1.String(), w2.String()),
	}, {
		name:      "w2 announces a second prefix",
		do:        func() { tab.Update(route(w2, p2.String(), 65012)) },
		wantOps:   []string{fmt.Sprintf("advertise %s %s", rd2, p2)},
		wantHeld:  sorted(r1, r2, normal(rd2, p2, w2, vrf.L3VNI)),
		wantOwner: sorted(w1.String(), w2.String()),
	}, {
		name:      "w2 withdraws one of its two prefixes and keeps its RD",
		do:        func() { tab.Withdraw(w2, p1) },
		wantOps:   []string{fmt.Sprintf("withdraw %s %s", rd2, p1)},
		wantHeld:  sorted(r1, normal(rd2, p2, w2, vrf.L3VNI)),
		wantOwner: sorted(w1.String(), w2.String()),
	}, {
		name:      "w2 goes down",
		do:        func() { tab.DropWorker(w2) },
		wantOps:   []string{fmt.Sprintf("withdraw %s %s", rd2, p2)},
		wantHeld:  sorted(r1),
		wantOwner: sorted(w1.String()),
	}, {
		name:      "w1 withdraws its last route",
		do:        func() { tab.Withdraw(w1, p1) },
		wantOps:   []string{fmt.Sprintf("withdraw %s %s", rd1, p1)},
		wantHeld:  sorted(),
		wantOwner: sorted(),
	}}
	for _, s := range steps {
		_, n := opsSince(fab, 0)
		s.do()
		reconcileDesired(t, tab, rec)
		ops, _ := opsSince(fab, n)
		if diff := cmp.Diff(s.wantOps, ops); diff != "" {
			t.Errorf("%s: fabric operations (-want +got):\n%s", s.name, diff)
		}
		if diff := cmp.Diff(s.wantHeld, held(fab)); diff != "" {
			t.Errorf("%s: fabric holds (-want +got):\n%s", s.name, diff)
		}
		if got := rec.Advertised(); got != len(s.wantHeld) {
			t.Errorf("%s: Advertised = %d, want %d", s.name, got, len(s.wantHeld))
		}
		if diff := cmp.Diff(s.wantOwner, assignedOwners(alloc)); diff != "" {
			t.Errorf("%s: workers holding an RD (-want +got):\n%s", s.name, diff)
		}
		expectQuiet(t, tab, rec, fab)
	}
}

func TestPathsBestSendsTheBestWorkersRoute(t *testing.T) {
	withMED := func(r evpn.Route, med uint32) evpn.Route { r.MED, r.HasMED = med, true; return r }
	tests := []struct {
		name   string
		routes []evpn.Route
		want   netip.Addr
	}{{
		name:   "one worker",
		routes: []evpn.Route{route(w2, p1.String(), 65012)},
		want:   w2,
	}, {
		name:   "shortest AS path",
		routes: []evpn.Route{route(w1, p1.String(), 65011, 65011), route(w2, p1.String(), 65012)},
		want:   w2,
	}, {
		name:   "shortest AS path before MED",
		routes: []evpn.Route{withMED(route(w1, p1.String(), 65011), 50), withMED(route(w2, p1.String(), 65012, 65012), 10)},
		want:   w1,
	}, {
		name:   "lowest MED on equal paths",
		routes: []evpn.Route{withMED(route(w1, p1.String(), 65011), 20), withMED(route(w2, p1.String(), 65012), 10)},
		want:   w2,
	}, {
		name:   "lowest address on a tie",
		routes: []evpn.Route{route(w2, p1.String(), 65012), route(w1, p1.String(), 65011)},
		want:   w1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vrf := testVRF()
			vrf.Paths = evpn.PathsBest
			fab := newFakeFabric()
			tab, rec := NewTable(vrf, newRDs()), NewReconciler(fab)
			for _, r := range tt.routes {
				tab.Update(r)
			}
			reconcileDesired(t, tab, rec)
			want := []string{normal(vrf.RD, p1, tt.want, vrf.L3VNI)}
			if diff := cmp.Diff(want, held(fab)); diff != "" {
				t.Errorf("fabric holds (-want +got):\n%s", diff)
			}
			if n := rec.Advertised(); n != 1 {
				t.Errorf("Advertised = %d, want 1", n)
			}
			expectQuiet(t, tab, rec, fab)
		})
	}
}

// Changing the path mode puts the new routes in the fabric before the old
// ones leave it, so the prefix is never missing.
func TestSwitchingPathModeMakesBeforeBreak(t *testing.T) {
	vrf := testVRF()
	rd1, _ := newRDs().RD(owner(w1)) // an owner's first RD is the same from every allocator
	rd2, _ := newRDs().RD(owner(w2))
	perWorker := sorted(normal(rd1, p1, w1, vrf.L3VNI), normal(rd2, p1, w2, vrf.L3VNI))
	best := []string{normal(vrf.RD, p1, w1, vrf.L3VNI)}
	tests := []struct {
		name             string
		from, to         evpn.PathMode
		wantBefore       []string
		wantAfter        []string
		wantAdv, wantWdr []string // this step's advertisements, then withdrawals, sorted
	}{{
		name: "per-worker to best", from: evpn.PathsPerWorker, to: evpn.PathsBest,
		wantBefore: perWorker, wantAfter: best,
		wantAdv: []string{fmt.Sprintf("advertise %s %s", vrf.RD, p1)},
		wantWdr: sorted(fmt.Sprintf("withdraw %s %s", rd1, p1), fmt.Sprintf("withdraw %s %s", rd2, p1)),
	}, {
		name: "best to per-worker", from: evpn.PathsBest, to: evpn.PathsPerWorker,
		wantBefore: best, wantAfter: perWorker,
		wantAdv: sorted(fmt.Sprintf("advertise %s %s", rd1, p1), fmt.Sprintf("advertise %s %s", rd2, p1)),
		wantWdr: []string{fmt.Sprintf("withdraw %s %s", vrf.RD, p1)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vrf := testVRF()
			vrf.Paths = tt.from
			fab := newFakeFabric()
			tab, rec := NewTable(vrf, newRDs()), NewReconciler(fab)
			tab.Update(route(w1, p1.String(), 65011))
			tab.Update(route(w2, p1.String(), 65012, 65012))
			reconcileDesired(t, tab, rec)
			if diff := cmp.Diff(tt.wantBefore, held(fab)); diff != "" {
				t.Fatalf("fabric before the switch (-want +got):\n%s", diff)
			}
			_, n := opsSince(fab, 0)
			vrf.Paths = tt.to
			tab.SetVRF(vrf)
			reconcileDesired(t, tab, rec)
			ops, _ := opsSince(fab, n)
			if len(ops) != len(tt.wantAdv)+len(tt.wantWdr) {
				t.Fatalf("fabric operations %q; want %q then %q", ops, tt.wantAdv, tt.wantWdr)
			}
			adv, wdr := sorted(ops[:len(tt.wantAdv)]...), sorted(ops[len(tt.wantAdv):]...)
			if !slices.Equal(adv, tt.wantAdv) || !slices.Equal(wdr, tt.wantWdr) {
				t.Errorf("fabric operations %q; want %q first, then %q", ops, tt.wantAdv, tt.wantWdr)
			}
			if diff := cmp.Diff(tt.wantAfter, held(fab)); diff != "" {
				t.Errorf("fabric after the switch (-want +got):\n%s", diff)
			}
			if n := rec.Advertised(); n != len(tt.wantAfter) {
				t.Errorf("Advertised = %d, want %d", n, len(tt.wantAfter))
			}
			expectQuiet(t, tab, rec, fab)
		})
	}
}

// With PathsPerWorker the policy applies to each worker's route on its own:
// w1 does not resolve, w2 does. When w1 resolves again its route comes back
// under the same key: an advertisement, never a withdrawal.
func TestUnresolvedPolicyPerWorker(t *testing.T) {
	vrf := testVRF()
	rd1, _ := newRDs().RD(owner(w1))
	rd2, _ := newRDs().RD(owner(w2))
	n1, n2 := normal(rd1, p1, w1, 0), normal(rd2, p1, w2, 0) // LabelZero
	tests := []struct {
		policy         evpn.UnresolvedPolicy
		wantUnresolved []string
		wantOps        []string // when w1 resolves again
	}{{
		policy:         evpn.UnresolvedAdvertise,
		wantUnresolved: sorted(n1, n2),
		wantOps:        []string{},
	}, {
		policy:         evpn.UnresolvedWithhold,
		wantUnresolved: sorted(n2),
		wantOps:        []string{fmt.Sprintf("advertise %s %s", rd1, p1)},
	}, {
		policy:         evpn.UnresolvedFallback,
		wantUnresolved: sorted(fallback(rd1, p1, w1), n2),
		wantOps:        []string{fmt.Sprintf("advertise %s %s", rd1, p1)},
	}}
	for _, tt := range tests {
		t.Run(tt.policy.String(), func(t *testing.T) {
			vrf := vrf
			vrf.Label, vrf.RouterMAC, vrf.Unresolved = evpn.LabelZero, routerMAC, tt.policy
			resolved := map[netip.Addr]bool{w2: true}
			fab := newFakeFabric()
			tab, rec := NewTable(vrf, newRDs()), NewReconciler(fab)
			tab.SetResolver(func(ip netip.Addr) bool { return resolved[ip] })
			tab.Update(route(w1, p1.String(), 65011))
			tab.Update(route(w2, p1.String(), 65012))
			reconcileDesired(t, tab, rec)
			if diff := cmp.Diff(tt.wantUnresolved, held(fab)); diff != "" {
				t.Errorf("fabric while w1 does not resolve (-want +got):\n%s", diff)
			}
			var desired []string
			for _, r := range tab.Desired(p1, nil) {
				desired = append(desired, describe(r))
			}
			if diff := cmp.Diff(tt.wantUnresolved, sorted(desired...)); diff != "" {
				t.Errorf("Desired while w1 does not resolve (-want +got):\n%s", diff)
			}
			expectQuiet(t, tab, rec, fab)

			_, n := opsSince(fab, 0)
			resolved[w1] = true
			tab.MarkGateway(w1)
			reconcileDesired(t, tab, rec)
			ops, _ := opsSince(fab, n)
			if diff := cmp.Diff(tt.wantOps, ops); diff != "" {
				t.Errorf("fabric operations when w1 resolves (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(sorted(n1, n2), held(fab)); diff != "" {
				t.Errorf("fabric once w1 resolves (-want +got):\n%s", diff)
			}
			expectQuiet(t, tab, rec, fab)
		})
	}
}

// With PathsBest, withhold and fallback pick the best worker that resolves;
// under fallback, when none does, the best one's interface-less form goes.
// w1 is the better worker (shorter AS path).
func TestUnresolvedPolicyBest(t *testing.T) {
	vrf := testVRF()
	vrf.Paths, vrf.Label, vrf.RouterMAC = evpn.PathsBest, evpn.LabelZero, routerMAC
	tests := []struct {
		name     string
		policy   evpn.UnresolvedPolicy
		resolved []netip.Addr
		want     []string
	}{
		{"advertise, none resolves", evpn.UnresolvedAdvertise, nil, []string{normal(vrf.RD, p1, w1, 0)}},
		{"withhold, both resolve", evpn.UnresolvedWithhold, []netip.Addr{w1, w2}, []string{normal(vrf.RD, p1, w1, 0)}},
		{"withhold, only the worse resolves", evpn.UnresolvedWithhold, []netip.Addr{w2}, []string{normal(vrf.RD, p1, w2, 0)}},
		{"withhold, none resolves", evpn.UnresolvedWithhold, nil, []string{}},
		{"fallback, only the worse resolves", evpn.UnresolvedFallback, []netip.Addr{w2}, []string{normal(vrf.RD, p1, w2, 0)}},
		{"fallback, none resolves", evpn.UnresolvedFallback, nil, []string{fallback(vrf.RD, p1, w1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vrf := vrf
			vrf.Unresolved = tt.policy
			fab := newFakeFabric()
			tab, rec := NewTable(vrf, newRDs()), NewReconciler(fab)
			tab.SetResolver(func(ip netip.Addr) bool { return slices.Contains(tt.resolved, ip) })
			tab.Update(route(w1, p1.String(), 65011))
			tab.Update(route(w2, p1.String(), 65012, 65012))
			reconcileDesired(t, tab, rec)
			if diff := cmp.Diff(tt.want, held(fab)); diff != "" {
				t.Errorf("fabric holds (-want +got):\n%s", diff)
			}
			if n := rec.Advertised(); n != len(tt.want) {
				t.Errorf("Advertised = %d, want %d", n, len(tt.want))
			}
			expectQuiet(t, tab, rec, fab)
		})
	}
}

// fakeLocator is the fabric's view of the gateway IPs, as a test sets it.
type fakeLocator struct {
	mu     sync.Mutex
	synced bool
	vtep   map[netip.Addr]netip.Addr // where a resolved IP is; absent: unresolved
}

func newFakeLocator() *fakeLocator { return &fakeLocator{vtep: map[netip.Addr]netip.Addr{}} }

func (l *fakeLocator) Lookup(ip netip.Addr, _ uint32) resolve.Location {
	l.mu.Lock()
	defer l.mu.Unlock()
	return location(ip, l.vtep[ip])
}

func (l *fakeLocator) Synced() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.synced
}

func (l *fakeLocator) sync() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.synced = true
}

// place puts ip behind vtep; the zero vtep makes it unresolved.
func (l *fakeLocator) place(ip, vtep netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if vtep.IsValid() {
		l.vtep[ip] = vtep
	} else {
		delete(l.vtep, ip)
	}
}

// location is what fakeLocator says of ip behind vtep (none: unresolved).
func location(ip, vtep netip.Addr) resolve.Location {
	if !vtep.IsValid() {
		return resolve.Location{IP: ip}
	}
	return resolve.Location{IP: ip, Resolved: true, VTEP: vtep, MAC: "02:00:00:00:00:0b", Seq: 1, Routes: 1}
}

// logBuffer collects log lines from the pipeline's goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// count is how many lines contain every one of parts.
func (b *logBuffer) count(parts ...string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for line := range strings.Lines(b.buf.String()) {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			n++
		}
	}
	return n
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startVRF runs a pipeline until the test ends, logging into the returned buffer.
func startVRF(t *testing.T, vrf evpn.VRF, fab Fabric, opts ...Option) (*VRF, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	v := NewVRF(vrf, fab, slog.New(slog.NewTextHandler(logs, nil)), opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return v, logs
}

// flush waits, for at most 5 s, until the pipeline has reconciled everything
// handed to it so far.
func flush(t *testing.T, v *VRF) {
	t.Helper()
	select {
	case <-v.Flush():
	case <-time.After(5 * time.Second):
		t.Fatalf("pipeline not flushed within 5s; stats %+v", v.Stats())
	}
}

// The pipeline follows where the fabric resolves its workers: it withholds
// the routes of a worker that does not resolve (but only once the fabric has
// sent all it knows), logs each change once, and counts moves.
func TestVRFFollowsGatewayIPs(t *testing.T) {
	vrf := testVRF()
	vrf.Unresolved = evpn.UnresolvedWithhold
	alloc, loc, fab := newRDs(), newFakeLocator(), newFakeFabric()
	rd1, _ := alloc.RD(owner(w1)) // what the pipeline will get for them
	rd2, _ := alloc.RD(owner(w2))
	v, logs := startVRF(t, vrf, fab, WithRDs(alloc), WithLocator(loc))
	r1, r2 := normal(rd1, p1, w1, vrf.L3VNI), normal(rd2, p2, w2, vrf.L3VNI)
	gateway := func(ip, vtep netip.Addr, rd evpn.RD) Gateway {
		return Gateway{Location: location(ip, vtep), Routes: 1, RD: rd.String()}
	}
	// The log lines the test expects, by name, each by what it must contain.
	logLines := map[string][]string{
		"w1 unresolved":        {"gateway IP unresolved", "gateway=" + w1.String()},
		"w2 unresolved":        {"gateway IP unresolved", "gateway=" + w2.String()},
		"w1 resolved again":    {"gateway IP resolved again", "gateway=" + w1.String()},
		"w2 resolved again":    {"gateway IP resolved again", "gateway=" + w2.String()},
		"w2 moved from A to B": {fmt.Sprintf("worker %s moved from VTEP %s to %s", w2, vtepA, vtepB)},
	}

	steps := []struct {
		name           string
		do             func()
		quiet          bool // the fabric gets nothing
		wantHeld       []string
		wantGateways   []Gateway
		wantUnresolved int
		wantMoves      uint64
		wantLogs       map[string]int // lines logged so far; those absent: none
	}{{
		name: "before the fabric is synced nothing is withheld",
		do: func() {
			loc.place(w2, vtepA)
			v.Learn(w1, []evpn.Route{route(w1, p1.String(), 65011)}, nil)
			v.Learn(w2, []evpn.Route{route(w2, p2.String(), 65012)}, nil)
		},
		wantHeld:     sorted(r1, r2),
		wantGateways: []Gateway{gateway(w1, netip.Addr{}, rd1), gateway(w2, vtepA, rd2)},
	}, {
		name:           "once synced the unresolved worker's route is withheld",
		do:             func() { loc.sync(); v.Located(nil) },
		wantHeld:       sorted(r2),
		wantGateways:   []Gateway{gateway(w1, netip.Addr{}, rd1), gateway(w2, vtepA, rd2)},
		wantUnresolved: 1,
		wantLogs:       map[string]int{"w1 unresolved": 1},
	}, {
		name:           "the same view again changes nothing",
		do:             func() { v.Located([]netip.Addr{w1, w2}) },
		quiet:          true,
		wantHeld:       sorted(r2),
		wantGateways:   []Gateway{gateway(w1, netip.Addr{}, rd1), gateway(w2, vtepA, rd2)},
		wantUnresolved: 1,
		wantLogs:       map[string]int{"w1 unresolved": 1},
	}, {
		name:         "w1 resolves: its route is back",
		do:           func() { loc.place(w1, vtepA); v.Located([]netip.Addr{w1}) },
		wantHeld:     sorted(r1, r2),
		wantGateways: []Gateway{gateway(w1, vtepA, rd1), gateway(w2, vtepA, rd2)},
		wantLogs:     map[string]int{"w1 unresolved": 1, "w1 resolved again": 1},
	}, {
		name:         "w2 moves to another VTEP",
		do:           func() { loc.place(w2, vtepB); v.Located([]netip.Addr{w2}) },
		quiet:        true,
		wantHeld:     sorted(r1, r2),
		wantGateways: []Gateway{gateway(w1, vtepA, rd1), gateway(w2, vtepB, rd2)},
		wantMoves:    1,
		wantLogs:     map[string]int{"w1 unresolved": 1, "w1 resolved again": 1, "w2 moved from A to B": 1},
	}, {
		name:           "w2 stops resolving: its route is withdrawn",
		do:             func() { loc.place(w2, netip.Addr{}); v.Located([]netip.Addr{w2}) },
		wantHeld:       sorted(r1),
		wantGateways:   []Gateway{gateway(w1, vtepA, rd1), gateway(w2, netip.Addr{}, rd2)},
		wantUnresolved: 1,
		wantMoves:      1,
		wantLogs:       map[string]int{"w1 unresolved": 1, "w1 resolved again": 1, "w2 moved from A to B": 1, "w2 unresolved": 1},
	}, {
		name:         "w2 resolves again where it was",
		do:           func() { loc.place(w2, vtepB); v.Located([]netip.Addr{w2}) },
		wantHeld:     sorted(r1, r2),
		wantGateways: []Gateway{gateway(w1, vtepA, rd1), gateway(w2, vtepB, rd2)},
		wantMoves:    1,
		wantLogs:     map[string]int{"w1 unresolved": 1, "w1 resolved again": 1, "w2 moved from A to B": 1, "w2 unresolved": 1, "w2 resolved again": 1},
	}}
	for _, s := range steps {
		_, n := opsSince(fab, 0)
		s.do()
		flush(t, v)
		if ops, _ := opsSince(fab, n); s.quiet && len(ops) > 0 {
			t.Errorf("%s: the fabric got %q, want nothing", s.name, ops)
		}
		if diff := cmp.Diff(s.wantHeld, held(fab)); diff != "" {
			t.Errorf("%s: fabric holds (-want +got):\n%s", s.name, diff)
		}
		st := v.Stats()
		synced := loc.Synced()
		for i := range s.wantGateways {
			s.wantGateways[i].Synced = synced
		}
		gws, err := v.Gateways(context.Background())
		if err != nil || !slices.Equal(gws, s.wantGateways) || st.GatewayIPs != len(s.wantGateways) {
			t.Errorf("%s: Gateways (%v)\n got %+v\nwant %+v; Stats().GatewayIPs %d", s.name, err, gws, s.wantGateways, st.GatewayIPs)
		}
		if st.Unresolved != s.wantUnresolved || st.Moves != s.wantMoves || st.Advertised != len(s.wantHeld) {
			t.Errorf("%s: Stats() unresolved %d, moves %d, advertised %d; want %d, %d, %d",
				s.name, st.Unresolved, st.Moves, st.Advertised, s.wantUnresolved, s.wantMoves, len(s.wantHeld))
		}
		for name, parts := range logLines {
			if got, want := logs.count(parts...), s.wantLogs[name]; got != want {
				t.Errorf("%s: %d log lines %q (%q), want %d; logs:\n%s", s.name, got, name, parts, want, logs)
			}
		}
	}
}

// A gateway IP no route uses any more leaves the stats, and with it its
// count as unresolved.
func TestVRFStatsForgetGatewayIPsNoLongerUsed(t *testing.T) {
	vrf := testVRF()
	vrf.Unresolved = evpn.UnresolvedWithhold
	loc, fab := newFakeLocator(), newFakeFabric()
	loc.sync()
	v, logs := startVRF(t, vrf, fab, WithRDs(newRDs()), WithLocator(loc))
	v.Learn(w1, []evpn.Route{route(w1, p1.String(), 65011)}, nil)
	flush(t, v)
	if st := v.Stats(); st.GatewayIPs != 1 || st.Unresolved != 1 || st.Advertised != 0 {
		t.Fatalf("with w1 unresolved: gateway IPs %d, unresolved %d, advertised %d; want 1, 1, 0",
			st.GatewayIPs, st.Unresolved, st.Advertised)
	}
	v.WorkerDown(w1, 0)
	flush(t, v)
	if st := v.Stats(); st.GatewayIPs != 0 || st.Unresolved != 0 || st.Received != 0 {
		t.Errorf("after w1 went: gateway IPs %d, unresolved %d, received %d; want 0, 0, 0",
			st.GatewayIPs, st.Unresolved, st.Received)
	}
	if n := logs.count("gateway IP no longer unresolved", "gateway="+w1.String()); n != 1 {
		t.Errorf("%d log lines saying w1 is no longer unresolved, want 1; logs:\n%s", n, logs)
	}
}
