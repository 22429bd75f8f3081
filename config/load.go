package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/t5gw/t5gw/evpn"
)

// Defaults applied when a field is left out.
const (
	DefaultPort               = 179
	DefaultVRFDir             = "vrfs.d"
	DefaultMaxPrefixesRestart = 30 * time.Second
	// DefaultMaxPrefixesWarning is FRR's maximum-prefix threshold, 75 %.
	DefaultMaxPrefixesWarning = 75
	DefaultStateDir           = "/var/lib/t5gw"
	// DefaultRestartTime is what fabric peers are told to keep t5gw's routes
	// for while it restarts (FRR's and BIRD's default too).
	DefaultRestartTime = 120 * time.Second
	// DefaultWorkerWait bounds how long a restarted t5gw waits for the
	// workers it had before it sends End-of-RIB to the fabric.
	DefaultWorkerWait = 30 * time.Second
)

// DefaultBFD is MetalLB's default BFD profile: a worker is down after 900 ms.
var DefaultBFD = BFD{Interval: 300 * time.Millisecond, Multiplier: 3}

// DefaultTimers are the worker session timers of a data-center fabric (FRR's
// datacenter profile): a dead worker is noticed within 9 s, not GoBGP's 90.
var DefaultTimers = Timers{Keepalive: 3 * time.Second, Hold: 9 * time.Second}

// Load reads the global file at path and every *.yaml and *.yml file of its
// VRF directory. It returns every problem found, joined.
func Load(path string) (*Config, error) {
	var p problems
	var raw rawGlobal
	if !readFile(path, &raw, &p) {
		return nil, p.err()
	}
	c := &Config{File: path}
	c.global(raw, &p)
	if c.VRFDir != "" {
		files, err := vrfFiles(c.VRFDir)
		if err != nil {
			p.add(path, "vrf-dir", raw.VRFDir, err.Error())
		}
		for _, f := range files {
			var rv rawVRF
			if readFile(f, &rv, &p) {
				c.VRFs = append(c.VRFs, c.vrf(f, rv, &p))
			}
		}
	}
	c.crossCheck(&p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func vrfFiles(dir string) ([]string, error) {
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("cannot read %s: %v", dir, err)
		}
		return nil, fmt.Errorf("%s holds no *.yaml VRF file", dir)
	}
	sort.Strings(files)
	return files, nil
}

func (c *Config) global(raw rawGlobal, p *problems) {
	f := c.File
	c.RouterID = addr(p, f, "router-id", raw.RouterID, true)
	if c.RouterID.IsValid() && !c.RouterID.Is4() {
		p.add(f, "router-id", raw.RouterID, "must be an IPv4 address")
	}
	c.ASN = asn(p, f, "asn", raw.ASN, true)
	c.VTEP = c.RouterID
	if raw.VTEPIP != "" {
		c.VTEP = addr(p, f, "vtep-ip", raw.VTEPIP, true)
	}
	for i, s := range raw.Fabric.Listen {
		c.Fabric.Listen = append(c.Fabric.Listen, addr(p, f, fmt.Sprintf("fabric.listen[%d]", i), s, true))
	}
	c.Fabric.Port = port(p, f, "fabric.port", raw.Fabric.Port)
	if len(raw.Fabric.Neighbors) == 0 {
		p.add(f, "fabric.neighbors", "", "at least one EVPN neighbor is needed")
	}
	seen := map[netip.Addr]bool{}
	for i, rn := range raw.Fabric.Neighbors {
		field := fmt.Sprintf("fabric.neighbors[%d]", i)
		n := Neighbor{
			Address:  addr(p, f, field+".address", rn.Address, true),
			ASN:      asn(p, f, field+".asn", rn.ASN, true),
			Port:     port(p, f, field+".port", rn.Port),
			Password: rn.Password,
			Multihop: uint8(number(p, f, field+".multihop", rn.Multihop, 0, 0, 255)),
			Passive:  boolean(p, f, field+".passive", rn.Passive, false),
		}
		if seen[n.Address] {
			p.add(f, field+".address", rn.Address, "is listed twice")
		}
		seen[n.Address] = true
		c.Fabric.Neighbors = append(c.Fabric.Neighbors, n)
	}
	dir := raw.VRFDir
	if dir == "" {
		dir = DefaultVRFDir
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(f), dir)
	}
	c.VRFDir = dir
	if raw.Metrics != "" {
		if _, _, err := net.SplitHostPort(raw.Metrics); err != nil {
			p.add(f, "metrics", raw.Metrics, "is not host:port")
		}
		c.Metrics = raw.Metrics
	}
	c.API = API{Socket: DefaultAPISocket, Group: raw.API.Group}
	if raw.API.Socket != nil {
		c.API.Socket = *raw.API.Socket
		if c.API.Socket != "" && !filepath.IsAbs(c.API.Socket) {
			p.add(f, "api.socket", c.API.Socket, "is not an absolute path (empty turns the API off)")
		}
	}
	c.MemoryLimit = memoryLimit(p, f, raw.MemoryLimit)
	switch raw.LogFormat {
	case "", "text":
		c.LogFormat = "text"
	case "json":
		c.LogFormat = "json"
	default:
		p.add(f, "log-format", raw.LogFormat, "is not text or json")
	}
	if raw.LogLevel != "" {
		if err := c.LogLevel.UnmarshalText([]byte(raw.LogLevel)); err != nil {
			p.add(f, "log-level", raw.LogLevel, "is not one of debug, info, warn, error")
		}
	} else {
		c.LogLevel = slog.LevelInfo
	}
	c.StateDir = DefaultStateDir
	if raw.StateDir != "" {
		c.StateDir = raw.StateDir
		if !filepath.IsAbs(c.StateDir) {
			c.StateDir = filepath.Join(filepath.Dir(f), c.StateDir)
		}
	}
	c.GracefulShutdown = boolean(p, f, "graceful-shutdown", raw.GracefulShutdown, false)
	gr := raw.GracefulRestart
	c.GracefulRestart.RestartTime = duration(p, f, "graceful-restart.restart-time", gr.RestartTime, DefaultRestartTime, 0, 4095*time.Second)
	c.GracefulRestart.WorkerWait = duration(p, f, "graceful-restart.worker-wait", gr.WorkerWait, DefaultWorkerWait, 0, time.Hour)
	if rt, ww := c.GracefulRestart.RestartTime, c.GracefulRestart.WorkerWait; rt > 0 && ww >= rt {
		p.add(f, "graceful-restart.worker-wait", gr.WorkerWait,
			fmt.Sprintf("must be shorter than restart-time (%s): fabric peers drop t5gw's routes after that", rt))
	}
}

func (c *Config) vrf(f string, raw rawVRF, p *problems) VRF {
	v := VRF{File: f, Name: raw.Name, Device: raw.Device}
	switch {
	case raw.Name == "":
		p.add(f, "name", "", "is required")
	case len(raw.Name) > 64:
		p.add(f, "name", raw.Name, "is longer than 64 characters")
	}
	if len(raw.Device) > 15 {
		p.add(f, "device", raw.Device, "is longer than a Linux interface name (15)")
	}
	v.L3VNI = uint32(number(p, f, "l3vni", raw.L3VNI, 0, 1, 1<<24-1))
	if raw.L3VNI == "" {
		p.add(f, "l3vni", "", "is required")
	}
	switch {
	case raw.RD != "":
		rd, err := evpn.ParseRD(raw.RD)
		if err != nil {
			p.add(f, "rd", raw.RD, "is not a route distinguisher: "+err.Error())
		}
		v.RD = rd
	case c.RouterID.IsValid() && v.L3VNI != 0:
		rd, err := evpn.NewRD(c.RouterID, v.L3VNI)
		if err != nil {
			p.add(f, "rd", "", fmt.Sprintf("the default <router-id>:<l3vni> cannot hold l3vni %d (more than 16 bits); set rd", v.L3VNI))
		}
		v.RD = rd
	}
	for i, s := range raw.RouteTargets.Export {
		rt, err := evpn.ParseRouteTarget(s)
		if err != nil {
			p.add(f, fmt.Sprintf("route-targets.export[%d]", i), s, "is not a route target: "+err.Error())
		}
		v.RouteTargets = append(v.RouteTargets, rt)
	}
	if len(raw.RouteTargets.Export) == 0 && c.ASN != 0 && v.L3VNI != 0 {
		rt, err := evpn.NewRouteTarget(c.ASN, v.L3VNI)
		if err != nil {
			p.add(f, "route-targets.export", "", fmt.Sprintf("the default <asn>:<l3vni> cannot hold %d:%d; set route-targets.export", c.ASN, v.L3VNI))
		}
		v.RouteTargets = []evpn.RouteTarget{rt}
	}
	v.Label = evpn.LabelMode(oneOf(p, f, "label", raw.Label, "l3vni", "zero"))
	v.InstallRoutes = boolean(p, f, "install-routes", raw.InstallRoutes, false)
	if v.InstallRoutes && v.Device == "" {
		p.add(f, "install-routes", raw.InstallRoutes, "needs device: the routes go in that VRF's table")
	}
	v.Paths = evpn.PathMode(oneOf(p, f, "paths", raw.Paths, "per-worker", "best", "add-path"))
	v.Unresolved = evpn.UnresolvedPolicy(oneOf(p, f, "unresolved", raw.Unresolved, "advertise", "withhold", "fallback"))
	if raw.RouterMAC != "" {
		mac, err := evpn.ParseMAC(raw.RouterMAC)
		switch {
		case err != nil:
			p.add(f, "router-mac", raw.RouterMAC, "is not an Ethernet address like 02:00:00:00:40:01")
		case mac.IsZero() || mac[0]&1 == 1:
			p.add(f, "router-mac", raw.RouterMAC, "is not a unicast address")
		}
		v.RouterMAC = mac
	}
	if v.Unresolved == evpn.UnresolvedFallback && raw.RouterMAC == "" {
		p.add(f, "router-mac", "", "is required with unresolved: fallback (the MAC that ingress leaves send the L3VNI's traffic to)")
	}
	v.Origin = evpn.OriginPolicy(oneOf(p, f, "origin", raw.Origin, "igp", "keep", "egp", "incomplete"))
	v.Workers = c.workers(f, raw.Workers, p)
	return v
}

func (c *Config) workers(f string, raw rawWorkers, p *problems) Workers {
	w := Workers{
		ASN:                    c.ASN,
		Port:                   port(p, f, "workers.port", raw.Port),
		MaxPrefixes:            uint32(number(p, f, "workers.max-prefixes", raw.MaxPrefixes, 0, 0, 1<<32-1)),
		MaxPrefixesRestart:     DefaultMaxPrefixesRestart,
		MaxPrefixesWarning:     uint8(number(p, f, "workers.max-prefixes-warning", raw.MaxPrefixesWarning, DefaultMaxPrefixesWarning, 1, 100)),
		AllowThirdPartyNextHop: boolean(p, f, "workers.allow-third-party-nexthop", raw.AllowThirdPartyNextHop, false),
		EnforceFirstAS:         boolean(p, f, "workers.enforce-first-as", raw.EnforceFirstAS, true),
	}
	if raw.ASN != "" {
		w.ASN = asn(p, f, "workers.asn", raw.ASN, true)
	}
	w.Timers = timers(p, f, "workers.timers", raw.Timers, DefaultTimers)
	w.BFD = BFD{
		Interval:   duration(p, f, "workers.bfd.interval", raw.BFD.Interval, DefaultBFD.Interval, 10*time.Millisecond, time.Minute),
		Multiplier: uint8(number(p, f, "workers.bfd.multiplier", raw.BFD.Multiplier, uint64(DefaultBFD.Multiplier), 2, 255)),
	}
	w.GracefulRestart = boolean(p, f, "workers.graceful-restart", raw.GracefulRestart, true)
	if raw.MaxPrefixesRestart != "" {
		d, err := time.ParseDuration(raw.MaxPrefixesRestart)
		switch {
		case err != nil:
			p.add(f, "workers.max-prefixes-restart", raw.MaxPrefixesRestart, "is not a duration such as 30s or 5m")
		case d < time.Second:
			p.add(f, "workers.max-prefixes-restart", raw.MaxPrefixesRestart, "is shorter than 1s")
		}
		w.MaxPrefixesRestart = d
	}
	if len(raw.Listen) == 0 {
		p.add(f, "workers.listen", "", "at least one address is needed")
	}
	for i, s := range raw.Listen {
		w.Listen = append(w.Listen, addr(p, f, fmt.Sprintf("workers.listen[%d]", i), s, true))
	}
	if len(raw.Peers) == 0 {
		p.add(f, "workers.peers", "", "at least one peer or range is needed")
	}
	seen := map[string]string{}
	own := c.ownAddresses(w.Listen)
	for i, rp := range raw.Peers {
		field := fmt.Sprintf("workers.peers[%d]", i)
		pr := peer(p, f, field, rp, w.Timers, w.BFD)
		if k := pr.Key(); k != "invalid Prefix" && k != "" {
			if other, ok := seen[k]; ok {
				p.add(f, field, k, "is also "+other)
			}
			seen[k] = field
		}
		if names := own[pr.Address]; len(names) > 0 {
			p.add(f, field+".address", rp.Address, "is t5gw's own address ("+strings.Join(names, ", ")+"), not a worker's")
		}
		reachable(p, f, field, rp, pr, w.Listen)
		w.Peers = append(w.Peers, pr)
	}
	if len(raw.Accept) == 0 {
		p.add(f, "workers.accept", "", `at least one rule is needed (such as "10.244.0.0/16 le 32")`)
	}
	for i, s := range raw.Accept {
		r, err := parseRule(s)
		if err != nil {
			p.add(f, fmt.Sprintf("workers.accept[%d]", i), s, err.Error())
		}
		w.Accept = append(w.Accept, r)
	}
	return w
}

// ownAddresses maps each address of t5gw's, as a VRF's workers could meet it,
// to the fields that give it: none of them is a worker.
func (c *Config) ownAddresses(listen []netip.Addr) map[netip.Addr][]string {
	own := map[netip.Addr][]string{}
	mark := func(a netip.Addr, field string) {
		if a.IsValid() {
			own[a] = append(own[a], field)
		}
	}
	for i, a := range listen {
		mark(a, fmt.Sprintf("workers.listen[%d]", i))
	}
	mark(c.RouterID, "router-id")
	if c.VTEP != c.RouterID { // the default vtep-ip is the router-id
		mark(c.VTEP, "vtep-ip")
	}
	for i, a := range c.Fabric.Listen {
		mark(a, fmt.Sprintf("fabric.listen[%d]", i))
	}
	return own
}

// reachable reports a peer of an address family none of the VRF's listen
// addresses has: t5gw neither accepts its sessions nor connects out to it.
func reachable(p *problems, f, field string, raw rawPeer, pr Peer, listen []netip.Addr) {
	var is4 bool
	key, value := field+".address", raw.Address
	switch {
	case pr.Address.IsValid():
		is4 = pr.Address.Is4()
	case pr.Range.IsValid():
		is4, key, value = pr.Range.Addr().Is4(), field+".range", raw.Range
	default:
		return
	}
	valid := false
	for _, a := range listen {
		if a.IsValid() {
			valid = true
			if a.Is4() == is4 {
				return
			}
		}
	}
	if !valid {
		return // workers.listen is missing or wrong, and says so
	}
	family := "IPv6"
	if is4 {
		family = "IPv4"
	}
	p.add(f, key, value, fmt.Sprintf("is %s but workers.listen has no %s address: t5gw could never reach it", family, family))
}

// minRangeBits is the shortest range of workers t5gw takes: an IPv4 /8 (as
// 10.0.0.0/8), an IPv6 /32 (an operator's allocation). Anything wider lets
// much of the internet open sessions.
func minRangeBits(r netip.Prefix) int {
	if r.Addr().Is4() {
		return 8
	}
	return 32
}

func peer(p *problems, f, field string, raw rawPeer, vrfTimers Timers, vrfBFD BFD) Peer {
	pr := Peer{
		ASN:         asn(p, f, field+".asn", raw.ASN, true),
		Password:    raw.Password,
		Multihop:    uint8(number(p, f, field+".multihop", raw.Multihop, 0, 0, 255)),
		TTLSecurity: uint8(number(p, f, field+".ttl-security", raw.TTLSecurity, 0, 0, 254)),
		// A static worker is also connected to, so that a restarted t5gw has
		// it back at once rather than after the worker's connect-retry timer
		// (120 s by default in GoBGP, BIRD and FRR). A range only listens.
		Passive: boolean(p, f, field+".passive", raw.Passive, raw.Address == ""),
		Timers:  timers(p, f, field+".timers", raw.Timers, vrfTimers),
	}
	switch {
	case raw.Address != "" && raw.Range != "":
		p.add(f, field, "", "has both address and range; give one")
	case raw.Address != "":
		pr.Address = addr(p, f, field+".address", raw.Address, true)
	case raw.Range != "":
		r, err := netip.ParsePrefix(raw.Range)
		switch {
		case err != nil:
			p.add(f, field+".range", raw.Range, "is not a prefix such as 192.168.20.0/24")
		case r.Bits() == 0:
			p.add(f, field+".range", raw.Range, "lets any host on the internet connect; give the workers' subnet")
		case r.Bits() < minRangeBits(r):
			p.add(f, field+".range", raw.Range, fmt.Sprintf("is wider than /%d; give the workers' subnet", minRangeBits(r)))
		}
		pr.Range = r.Masked()
		if !pr.Passive {
			p.add(f, field+".passive", raw.Passive, "is not allowed: a range can only be passive")
		}
	default:
		p.add(f, field, "", "needs an address or a range")
	}
	if pr.Multihop != 0 && pr.TTLSecurity != 0 {
		p.add(f, field, "", "multihop and ttl-security exclude each other")
	}
	if boolean(p, f, field+".bfd", raw.BFD, false) {
		pr.BFD = vrfBFD
		if !pr.Address.IsValid() {
			p.add(f, field+".bfd", raw.BFD, "needs a static peer (address): BFD runs with one worker at a time")
		}
		if pr.Multihop != 0 {
			// GoBGP v4 runs single-hop BFD only (RFC 5881); a multihop
			// worker runs RFC 5883, on another port: the two never meet.
			p.add(f, field+".bfd", raw.BFD, "needs a single-hop worker: GoBGP's BFD has no multihop (RFC 5883); drop multihop or rely on the hold time")
		}
	}
	v6 := pr.Address.Is6() || (pr.Range.IsValid() && pr.Range.Addr().Is6())
	if pr.TTLSecurity != 0 && pr.Passive && v6 {
		// GoBGP v4.8.0 gives its listeners TTL 255 for GTSM, but for an IPv6
		// listener it sets the IPv4 option: it reads the family from
		// "[addr]:port", which does not parse as an address. The SYN-ACK of a
		// passive IPv6 session then leaves with hop limit 64 and a GTSM worker
		// drops it. Connecting out sends 255 from the first packet.
		p.add(f, field+".ttl-security", raw.TTLSecurity,
			"over IPv6 needs passive: false (t5gw must connect out; a range cannot)")
	}
	return pr
}
