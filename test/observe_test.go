package test

import (
	"net/netip"

	"encoding/json"
	"fmt"
	"github.com/t5gw/t5gw/evpn/rds"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/t5gw/t5gw/test/lab"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// workerRD is the RD that t5gw at 10.0.0.3 gives a worker of VRF blue: the
// worker's own number (evpn/rds, whose tests pin the hash), as long as no
// two workers of the lab collide.
func workerRD(worker string) string {
	return fmt.Sprintf("10.0.0.3:%d", rds.Preferred(rds.Owner{VRF: "blue", Worker: netip.MustParseAddr(worker)}))
}

// metrics scrapes t5gwd's /metrics inside gw.
func (tp *topo) metrics(t *testing.T) map[string]float64 { return metricsOf(tp.gw, "127.0.0.1:9179") }

// metricsOf scrapes t5gwd's /metrics at addr inside n: series (name and
// labels as printed) to value.
func metricsOf(n *lab.Node, addr string) map[string]float64 {
	out, err := n.Output("curl", "-sf", "http://"+addr+"/metrics")
	m := map[string]float64{}
	if err != nil {
		return m
	}
	for _, line := range strings.Split(out, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// type5 is a Type-5 route as FRR's own JSON shows it.
type type5 struct {
	RD, GatewayIP, VNI, NextHop string
	Valid                       bool
	ExtCommunities              string // as FRR writes them: "RT:65000:4001 ET:8"
}

// frrType5 reads `show bgp l2vpn evpn route detail type prefix json` on an FRR
// node: prefix ("10.244.1.0/24") to the route FRR holds (one of them, when
// several RDs carry the prefix).
func frrType5(n *lab.Node) (map[string]type5, string) {
	all, last := frrType5All(n)
	routes := map[string]type5{}
	for p, rs := range all {
		routes[p] = rs[0]
	}
	return routes, last
}

// frrType5All is frrType5 with every route of each prefix, one per RD.
func frrType5All(n *lab.Node) (map[string][]type5, string) {
	out, err := n.Vtysh("show bgp l2vpn evpn route detail type prefix json")
	if err != nil {
		return nil, out + err.Error()
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		return nil, out
	}
	routes := map[string][]type5{}
	var lines []string
	for rd, raw := range top {
		var byPrefix map[string]json.RawMessage
		if json.Unmarshal(raw, &byPrefix) != nil {
			continue // numPrefix, numPaths
		}
		for key, raw := range byPrefix {
			if !strings.HasPrefix(key, "[5]") {
				continue
			}
			var r struct {
				IP    string `json:"ip"`
				IPLen int    `json:"ipLen"`
				Paths [][]struct {
					GatewayIP string `json:"gatewayIP"`
					VNI       string `json:"vni"`
					Valid     bool   `json:"valid"`
					Nexthops  []struct {
						IP string `json:"ip"`
					} `json:"nexthops"`
					ExtendedCommunity struct {
						String string `json:"string"`
					} `json:"extendedCommunity"`
				} `json:"paths"`
			}
			if json.Unmarshal(raw, &r) != nil || len(r.Paths) == 0 || len(r.Paths[0]) == 0 {
				continue
			}
			p := r.Paths[0][0]
			t5 := type5{RD: rd, GatewayIP: p.GatewayIP, VNI: p.VNI, Valid: p.Valid, ExtCommunities: p.ExtendedCommunity.String}
			if len(p.Nexthops) > 0 {
				t5.NextHop = p.Nexthops[0].IP
			}
			prefix := fmt.Sprintf("%s/%d", r.IP, r.IPLen)
			routes[prefix] = append(routes[prefix], t5)
			lines = append(lines, describe(map[string]type5{prefix: t5}))
		}
	}
	sort.Strings(lines)
	return routes, strings.Join(lines, "\n")
}

func describe(routes map[string]type5) string {
	var lines []string
	for p, r := range routes {
		lines = append(lines, fmt.Sprintf("%s rd=%s gw=%s vni=%s nh=%s valid=%v", p, r.RD, r.GatewayIP, r.VNI, r.NextHop, r.Valid))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// gateways reduces routes to prefix -> gateway IP.
func gateways(routes map[string]type5) map[string]string {
	out := map[string]string{}
	for p, r := range routes {
		out[p] = r.GatewayIP
	}
	return out
}

// decodedType5 is one Type-5 NLRI as tshark's BGP dissector decodes it, with
// the attributes of its UPDATE.
type decodedType5 struct {
	RD, Prefix, GatewayIP, NextHop string
	LabelStack                     int // the 20-bit MPLS label tshark shows
	BottomOfStack                  bool
	RouteTargets                   []string
	Tunnel                         string
	AttrTypes                      []int // its UPDATE's path attributes' type codes, in order
}

// Label is the raw 24-bit label field, which carries the VNI for VXLAN.
func (d decodedType5) Label() int {
	l := d.LabelStack << 4
	if d.BottomOfStack {
		l |= 1
	}
	return l
}

var (
	reRD     = regexp.MustCompile(`Route Distinguisher: \S+ \(([^)]+)\)`)
	reAddr   = regexp.MustCompile(`IPv[46] address: (\S+)`)
	reLen    = regexp.MustCompile(`IP prefix length: (\d+)`)
	reGW     = regexp.MustCompile(`IPv[46] Gateway address: (\S+)`)
	reLabel  = regexp.MustCompile(`MPLS Label Stack: (\d+)( \(bottom\))?`)
	reRT     = regexp.MustCompile(`Route Target: (\S+)`)
	reTunnel = regexp.MustCompile(`Tunnel type: ([^\n]+)`)
	reNH     = regexp.MustCompile(`Next hop: (\S+)`)
	reType   = regexp.MustCompile(`Type Code: [^(\n]+\((\d+)\)`)
)

// tsharkType5 decodes a capture with tshark and returns every advertised
// Type-5 route, keyed by prefix (the last advertisement wins).
func tsharkType5(n *lab.Node, capture string) (map[string]decodedType5, error) {
	out, err := n.Output("tshark", "-r", capture, "-V", "-Y", "bgp.type == 2")
	if err != nil {
		return nil, err
	}
	routes := map[string]decodedType5{}
	for _, update := range strings.Split(out, "UPDATE Message")[1:] {
		reach := strings.Index(update, "MP_REACH_NLRI")
		if reach < 0 {
			continue
		}
		body := update[reach:]
		if i := strings.Index(body, "MP_UNREACH_NLRI"); i >= 0 {
			body = body[:i]
		}
		var attrs decodedType5
		for _, m := range reRT.FindAllStringSubmatch(update, -1) {
			attrs.RouteTargets = append(attrs.RouteTargets, m[1])
		}
		if m := reTunnel.FindStringSubmatch(update); m != nil {
			attrs.Tunnel = strings.TrimSpace(m[1])
		}
		if m := reNH.FindStringSubmatch(body); m != nil {
			attrs.NextHop = m[1]
		}
		for _, m := range reType.FindAllStringSubmatch(update, -1) {
			code, _ := strconv.Atoi(m[1])
			attrs.AttrTypes = append(attrs.AttrTypes, code)
		}
		for _, nlri := range strings.Split(body, "EVPN NLRI: IP Prefix route")[1:] {
			d := attrs
			if m := reRD.FindStringSubmatch(nlri); m != nil {
				d.RD = m[1]
			}
			addr, plen := reAddr.FindStringSubmatch(nlri), reLen.FindStringSubmatch(nlri)
			if addr == nil || plen == nil {
				continue
			}
			d.Prefix = addr[1] + "/" + plen[1]
			if m := reGW.FindStringSubmatch(nlri); m != nil {
				d.GatewayIP = m[1]
			}
			if m := reLabel.FindStringSubmatch(nlri); m != nil {
				d.LabelStack, _ = strconv.Atoi(m[1])
				d.BottomOfStack = m[2] != ""
			}
			routes[d.Prefix] = d
		}
	}
	return routes, nil
}
