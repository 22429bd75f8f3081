package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/t5gw/t5gw/test/lab"
)

// The bystanders of the corpus: the steady worker's two sessions and
// ExaBGP's, the fabric session, and the steady routes at the fabric. None
// may move while a case runs.
var bystanders = []string{"192.168.10.11", "fd00:192:168:10::11", exaAddr}

// baseline records the bystanders' state: each later case compares with it.
func (c *corpus) baseline(t *testing.T) {
	t.Helper()
	ws, last := c.workers()
	if ws == nil {
		t.Fatalf("t5gwctl workers: %s", last)
	}
	c.sessions = ws
	var ok bool
	if c.fabricConnections, ok = fabricConnections(c.fab); !ok {
		t.Fatal("no fabric session in FRR's show bgp neighbors")
	}
	if c.lastUpdate != nil {
		return // the steady routes are compared with the start of the corpus
	}
	c.lastUpdate, last = lastUpdates(c.fab)
	for p := range c.steady {
		if c.lastUpdate[p] == 0 {
			t.Fatalf("FRR shows no last update of %s:\n%s", p, last)
		}
	}
}

// checkBystanders fails the case when anything but the offender moved, and
// takes the state it found as the next case's baseline.
func (c *corpus) checkBystanders(t *testing.T, cs rfc7606Case) {
	t.Helper()
	if c.t5gwd.Exited() {
		t.Fatalf("BUG: t5gwd exited during %s (reproduce: go test -count=1 -run 'TestRFC7606/^%s$' -v .):\n%s",
			cs.name, cs.name, c.t5gwd.Tail(40))
	}
	defer c.baseline(t)
	ws, last := c.workers()
	for _, addr := range bystanders {
		was, now := c.sessions[addr], ws[addr]
		if now.State != "established" || now.Flaps != was.Flaps || now.Since == nil || was.Since == nil || !now.Since.Equal(*was.Since) {
			t.Errorf("BUG: bystander session %s moved: was %s since %v (%d flaps), now %s since %v (%d flaps)\n%s",
				addr, was.State, was.Since, was.Flaps, now.State, now.Since, now.Flaps, last)
		}
	}
	if conns, ok := fabricConnections(c.fab); !ok || conns != c.fabricConnections {
		t.Errorf("BUG: fabric session moved: connections established/dropped were %v, now %v", c.fabricConnections, conns)
	}
	updates, last := lastUpdates(c.fab)
	for p := range c.steady {
		// FRR computes the time from its monotonic clock at each show,
		// so it wobbles by a second.
		if d := updates[p] - c.lastUpdate[p]; d < -1 || d > 1 {
			t.Errorf("BUG: steady route %s was updated at the fabric (epoch %d, was %d):\n%s", p, updates[p], c.lastUpdate[p], last)
		}
	}
}

// fabricConnections reads how often FRR's session with t5gwd was
// established and dropped.
func fabricConnections(fab *lab.Node) ([2]int, bool) {
	out, err := fab.Vtysh("show bgp neighbors 10.0.0.3 json")
	var n map[string]struct {
		State       string `json:"bgpState"`
		Established int    `json:"connectionsEstablished"`
		Dropped     int    `json:"connectionsDropped"`
	}
	if err != nil || json.Unmarshal([]byte(out), &n) != nil {
		return [2]int{}, false
	}
	s, ok := n["10.0.0.3"]
	return [2]int{s.Established, s.Dropped}, ok && s.State == "Established"
}

// lastUpdates reads when FRR last updated each Type-5 prefix's first path
// (seconds since the epoch): a route that moves gets a new time.
func lastUpdates(fab *lab.Node) (map[string]int64, string) {
	out, err := fab.Vtysh("show bgp l2vpn evpn route detail type prefix json")
	var top map[string]json.RawMessage
	if err != nil || json.Unmarshal([]byte(out), &top) != nil {
		return nil, fmt.Sprint(err, out)
	}
	times := map[string]int64{}
	var lines []string
	for _, raw := range top {
		var byPrefix map[string]json.RawMessage
		if json.Unmarshal(raw, &byPrefix) != nil {
			continue // numPrefix, numPaths
		}
		for key, raw := range byPrefix {
			var r struct {
				IP    string `json:"ip"`
				IPLen int    `json:"ipLen"`
				Paths [][]struct {
					LastUpdate struct {
						Epoch int64 `json:"epoch"`
					} `json:"lastUpdate"`
				} `json:"paths"`
			}
			if !strings.HasPrefix(key, "[5]") || json.Unmarshal(raw, &r) != nil || len(r.Paths) == 0 || len(r.Paths[0]) == 0 {
				continue
			}
			p := fmt.Sprintf("%s/%d", r.IP, r.IPLen)
			times[p] = r.Paths[0][0].LastUpdate.Epoch
			lines = append(lines, fmt.Sprintf("%s updated %d", p, times[p]))
		}
	}
	return times, strings.Join(lines, "\n")
}
