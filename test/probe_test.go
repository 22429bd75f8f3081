package test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// probe watches forwarding at an ingress leaf the way an operator would:
// pings to pods every 100 ms, and the kernel's own record of every change to
// the pods' routes (ip monitor), so that a route missing for less than a
// poll still shows.
type probe struct {
	t       *testing.T
	node    *lab.Node
	pings   map[string]*lab.Proc // by address
	monitor *lab.Proc
	routes  []string // the prefixes watched
}

// startProbe starts pinging addrs from n every 100 ms and recording route
// changes for prefixes. It waits until every address answers and the monitor
// runs, so what it counts later is what happens after the start.
func startProbe(t *testing.T, n *lab.Node, prefixes []string, addrs ...string) *probe {
	t.Helper()
	p := &probe{t: t, node: n, pings: map[string]*lab.Proc{}, routes: prefixes}
	p.monitor = n.Start("ipmonitor-"+safeName(n.Name), "ip", "-ts", "monitor", "route")
	for _, a := range addrs {
		lab.WaitFor(t, n.Name+" reaches "+a, wait, func() (bool, string) { return pings(n, a, 1), "" })
		p.pings[a] = n.Start("ping-"+safeName(n.Name)+"-"+a, "ping", "-n", "-i", "0.1", "-W", "1", a)
	}
	for a, ping := range p.pings {
		lab.WaitFor(t, n.Name+": pings to "+a+" answered", wait, func() (bool, string) {
			return len(answered(ping)) > 0, ping.Tail(3)
		})
	}
	return p
}

func safeName(s string) string { return strings.NewReplacer("/", "-", ":", "-").Replace(s) }

var reSeq = regexp.MustCompile(`bytes from .* icmp_seq=(\d+)`)

// answered returns the sequence numbers of the pings answered so far.
func answered(ping *lab.Proc) map[int]bool {
	b, _ := os.ReadFile(ping.Log)
	seqs := map[int]bool{}
	for _, m := range reSeq.FindAllStringSubmatch(string(b), -1) {
		n, _ := strconv.Atoi(m[1])
		seqs[n] = true
	}
	return seqs
}

// probeResult is what a probe saw.
type probeResult struct {
	sent, lost map[string]int // pings sent and lost, by address
	deleted    []string       // kernel route deletions of the watched prefixes
	changed    []string       // other changes to them (a route replaced)
}

// lossless tells whether no ping was lost and no watched route went missing.
func (r probeResult) lossless() bool {
	for _, n := range r.lost {
		if n > 0 {
			return false
		}
	}
	return len(r.deleted) == 0
}

func (r probeResult) String() string {
	var b strings.Builder
	for a, n := range r.sent {
		fmt.Fprintf(&b, "%s: %d pings, %d lost; ", a, n, r.lost[a])
	}
	fmt.Fprintf(&b, "route deletions %d, other route changes %d", len(r.deleted), len(r.changed))
	for _, d := range r.deleted {
		fmt.Fprintf(&b, "\n  %s", d)
	}
	return b.String()
}

// result reads what the probe saw so far. Pings are counted up to the last
// one answered: a ping still in flight is not lost.
func (p *probe) result() probeResult {
	r := probeResult{sent: map[string]int{}, lost: map[string]int{}}
	for a, ping := range p.pings {
		seqs := answered(ping)
		last := 0
		for s := range seqs {
			last = max(last, s)
		}
		r.sent[a] = last
		for s := 1; s <= last; s++ {
			if !seqs[s] {
				r.lost[a]++
			}
		}
	}
	b, _ := os.ReadFile(p.monitor.Log)
	for _, line := range strings.Split(string(b), "\n") {
		for _, prefix := range p.routes {
			if !strings.Contains(line, " "+prefix+" ") && !strings.Contains(line, "]"+prefix+" ") &&
				!strings.Contains(line, "Deleted "+prefix+" ") {
				continue
			}
			if strings.Contains(line, "Deleted") {
				r.deleted = append(r.deleted, line)
			} else {
				r.changed = append(r.changed, line)
			}
		}
	}
	return r
}

// mark notes the current counts, so a later check covers only what follows.
func (p *probe) mark() probeResult { return p.result() }

// since is what the probe saw after mark.
func (r probeResult) since(mark probeResult) probeResult {
	out := probeResult{sent: map[string]int{}, lost: map[string]int{},
		deleted: r.deleted[len(mark.deleted):], changed: r.changed[len(mark.changed):]}
	for a := range r.sent {
		out.sent[a] = r.sent[a] - mark.sent[a]
		out.lost[a] = r.lost[a] - mark.lost[a]
	}
	return out
}

// settle waits until every address has answered a ping sent after now, so
// that pings in flight at a check are counted.
func (p *probe) settle() {
	p.t.Helper()
	start := p.result()
	lab.WaitFor(p.t, p.node.Name+": pings after the check answered", wait, func() (bool, string) {
		now := p.result()
		for a := range p.pings {
			if now.sent[a] < start.sent[a]+3 {
				return false, now.String()
			}
		}
		return true, ""
	})
}

// expectLossless fails the test when pings were lost or a route went missing
// since mark.
func (p *probe) expectLossless(what string, mark probeResult) probeResult {
	p.t.Helper()
	p.settle()
	r := p.result().since(mark)
	for a, n := range r.sent {
		if n == 0 {
			p.t.Errorf("%s: %s: no ping to %s was answered", what, p.node.Name, a)
		}
	}
	if !r.lossless() {
		p.t.Errorf("%s: %s lost forwarding: %s", what, p.node.Name, r)
	}
	return r
}

// since is how long ago t was, rounded for logs.
func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
