// Package rds hands out the route distinguishers of one t5gw node's workers:
// each worker of each VRF gets an RD of its own, <router-id>:<number>, so
// that its Type-5 routes stay distinct from every other worker's in the
// fabric (RFC 9136 routes are keyed by RD and prefix, not by gateway IP).
package rds

import (
	"cmp"
	"hash/fnv"
	"net/netip"
	"slices"
	"sync"

	"github.com/t5gw/t5gw/evpn"
)

// Owner is who an RD belongs to: one worker, by its session address, in one VRF.
type Owner struct {
	VRF    string     `json:"vrf"`
	Worker netip.Addr `json:"worker"`
}

// Assignment is an owner's number, as the state file keeps it.
type Assignment struct {
	Owner
	Number uint16 `json:"number"`
}

// Preferred is the number an owner gets when nobody holds it: a hash of the
// VRF's name and the worker's address, never 0. The same worker in the same
// VRF has the same preferred number on every node and after every restart;
// the node's router-id, the RD's administrator, tells two nodes apart.
func Preferred(o Owner) uint16 {
	h := fnv.New64a()
	h.Write([]byte(o.VRF))
	h.Write([]byte{0})
	b, _ := o.Worker.MarshalBinary()
	h.Write(b)
	return uint16(1 + h.Sum64()%0xffff)
}

// Allocator gives each owner a number no other owner holds. An owner whose
// preferred number is taken (a collision) gets the next free one upward,
// wrapping past 65535 to 1. Numbers that the node's per-VRF RDs use are
// never given out. It is safe for concurrent use: every VRF of the node
// takes its workers' RDs from one allocator.
type Allocator struct {
	mu       sync.Mutex
	admin    netip.Addr
	reserved map[uint16]bool // the node's per-VRF RD numbers under admin
	byOwner  map[Owner]uint16
	byNumber map[uint16]Owner
	kept     map[Owner]uint16 // restored assignments not claimed yet
}

// New returns an allocator of RDs <admin>:<number> that avoids the numbers
// of vrfRDs whose administrator is admin.
func New(admin netip.Addr, vrfRDs []evpn.RD) *Allocator {
	a := &Allocator{admin: admin, reserved: map[uint16]bool{}, byOwner: map[Owner]uint16{},
		byNumber: map[uint16]Owner{}, kept: map[Owner]uint16{}}
	for _, rd := range vrfRDs {
		if rd.Kind == evpn.AdminIPv4 && rd.IP == admin {
			a.reserved[uint16(rd.Number)] = true
		}
	}
	return a
}

// Restore takes back the displaced assignments of an earlier run (Displaced):
// each owner gets its number again when it comes back, and until then
// nobody else takes it. An assignment that collides with a reserved number
// or an earlier one is dropped.
func (a *Allocator) Restore(as []Assignment) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range as {
		if x.Number == 0 || a.reserved[x.Number] || a.taken(x.Number) {
			continue
		}
		a.kept[x.Owner] = x.Number
	}
}

// taken tells whether n is held or kept for someone.
func (a *Allocator) taken(n uint16) bool {
	if _, ok := a.byNumber[n]; ok {
		return true
	}
	for _, k := range a.kept {
		if k == n {
			return true
		}
	}
	return false
}

// RD returns the owner's RD, assigning it a number if it has none. ok is
// false only when every number is taken.
func (a *Allocator) RD(o Owner) (rd evpn.RD, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, ok := a.byOwner[o]
	if !ok {
		n, ok = a.assign(o)
		if !ok {
			return evpn.RD{}, false
		}
	}
	return evpn.RD{Kind: evpn.AdminIPv4, IP: a.admin, Number: uint32(n)}, true
}

func (a *Allocator) assign(o Owner) (uint16, bool) {
	n, kept := a.kept[o]
	if kept {
		delete(a.kept, o)
	} else {
		n = Preferred(o)
		for tries := 0; a.reserved[n] || a.taken(n); tries++ {
			if tries == 0xffff {
				return 0, false
			}
			if n++; n == 0 {
				n = 1
			}
		}
	}
	a.byOwner[o], a.byNumber[n] = n, o
	return n, true
}

// Release gives the owner's number back, as when the worker's last route has
// gone.
func (a *Allocator) Release(o Owner) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n, ok := a.byOwner[o]; ok {
		delete(a.byOwner, o)
		delete(a.byNumber, n)
	}
}

// Displaced lists the owners that do not hold their preferred number, and
// those restored but not back yet: what a restart needs to give every worker
// the RD it had. Everyone else gets the same number from Preferred alone.
func (a *Allocator) Displaced() []Assignment {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Assignment
	for o, n := range a.byOwner {
		if n != Preferred(o) {
			out = append(out, Assignment{o, n})
		}
	}
	for o, n := range a.kept {
		out = append(out, Assignment{o, n})
	}
	slices.SortFunc(out, func(x, y Assignment) int {
		return cmp.Or(cmp.Compare(x.VRF, y.VRF), x.Worker.Compare(y.Worker))
	})
	return out
}

// Assigned lists every owner's RD, for status and the CLI.
func (a *Allocator) Assigned() map[Owner]evpn.RD {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[Owner]evpn.RD, len(a.byOwner))
	for o, n := range a.byOwner {
		out[o] = evpn.RD{Kind: evpn.AdminIPv4, IP: a.admin, Number: uint32(n)}
	}
	return out
}
