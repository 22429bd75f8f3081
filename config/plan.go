package config

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Plan is what moving a running daemon from one valid config to the next
// takes, and no more: each part names what changes and why, so that a
// reload touches only the sessions and routes it is about.
type Plan struct {
	// Restart is non-empty when every speaker must restart (router-id or
	// asn changed); it says why. The rest of the plan is then empty.
	Restart  string
	Fabric   FabricPlan
	Metrics  bool // the /metrics listener moves
	LogLevel bool
	// MemoryLimit is the new memory-limit when it changed (applied at
	// once), else empty.
	MemoryLimit string
	// LogFormat and API: log-format or api changed, which take effect at
	// the next start.
	LogFormat, API bool
	VRFs           []VRFPlan // by name; unchanged VRFs are left out
}

// FabricPlan is what changes on the fabric speaker.
type FabricPlan struct {
	// Restart is non-empty when the fabric speaker must restart (its listen
	// addresses or port changed: GoBGP cannot move a listener): why.
	Restart string
	Add     []Neighbor
	Remove  []Neighbor
	Reset   []Neighbor // changed: the session restarts with the new settings
}

// VRFOp is what happens to a VRF as a whole.
type VRFOp int

// The VRF operations of a plan.
const (
	VRFUpdate VRFOp = iota // changed in place
	VRFStart               // new
	VRFStop                // gone: its sessions close and its routes are withdrawn
)

// VRFPlan is what changes in one VRF.
type VRFPlan struct {
	Name string
	Op   VRFOp
	Next VRF // the settings to run with (VRFStart, VRFUpdate)
	// Translate lists the translation settings that changed (accept, rd,
	// vtep-ip...): every route is translated again in place and only the
	// Type-5 routes that really change are sent.
	Translate []string
	// RestartWorkers is non-empty when the VRF's worker speaker must start
	// again (device, listen addresses, port or local AS changed): why. Routes
	// of workers that do graceful restart are kept until they are back.
	RestartWorkers string
	InstallRoutes  bool // install-routes turned on or off
	Peers          PeerPlan
	// Limits is true when max-prefixes changed: applied to every session
	// without a reset.
	Limits bool
}

// PeerPlan is what changes among a VRF's worker peers.
type PeerPlan struct {
	Add    []Peer
	Remove []Peer
	Reset  []Peer   // changed in what the session is made of (asn, password, TTL...): the session restarts
	Soft   []Peer   // changed timers or BFD only: BFD at once, timers from the next session on
	Why    []string // per Reset peer, what changed
}

// Empty tells whether the plan changes nothing.
func (p Plan) Empty() bool {
	return p.Restart == "" && p.Fabric.empty() && !p.Metrics && !p.LogLevel && p.MemoryLimit == "" && !p.LogFormat && !p.API && len(p.VRFs) == 0
}

func (f FabricPlan) empty() bool {
	return f.Restart == "" && len(f.Add)+len(f.Remove)+len(f.Reset) == 0
}

// Diff plans the move from running to next. It is pure: it reads the two
// configs and nothing else.
func Diff(running, next *Config) Plan {
	var p Plan
	switch {
	case running.RouterID != next.RouterID:
		p.Restart = fmt.Sprintf("router-id %s -> %s", running.RouterID, next.RouterID)
	case running.ASN != next.ASN:
		p.Restart = fmt.Sprintf("asn %d -> %d", running.ASN, next.ASN)
	}
	if p.Restart != "" {
		return p
	}
	p.Metrics = running.Metrics != next.Metrics
	p.LogLevel = running.LogLevel != next.LogLevel
	if running.MemoryLimit != next.MemoryLimit {
		p.MemoryLimit = next.MemoryLimit.String()
	}
	p.LogFormat = running.LogFormat != next.LogFormat
	p.API = running.API != next.API
	p.Fabric = diffFabric(running, next)

	old := map[string]VRF{}
	for _, v := range running.VRFs {
		old[v.Name] = v
	}
	for _, v := range next.VRFs {
		was, ok := old[v.Name]
		delete(old, v.Name)
		if !ok {
			p.VRFs = append(p.VRFs, VRFPlan{Name: v.Name, Op: VRFStart, Next: v})
			continue
		}
		if vp := diffVRF(running, next, was, v); vp != nil {
			p.VRFs = append(p.VRFs, *vp)
		}
	}
	for name, v := range old {
		p.VRFs = append(p.VRFs, VRFPlan{Name: name, Op: VRFStop, Next: v})
	}
	sort.Slice(p.VRFs, func(i, j int) bool { return p.VRFs[i].Name < p.VRFs[j].Name })
	return p
}

func diffFabric(running, next *Config) FabricPlan {
	var f FabricPlan
	a, b := running.Fabric, next.Fabric
	switch {
	case !slices.Equal(a.Listen, b.Listen):
		f.Restart = fmt.Sprintf("fabric.listen %v -> %v", a.Listen, b.Listen)
	case a.Port != b.Port && len(b.Listen) > 0:
		f.Restart = fmt.Sprintf("fabric.port %d -> %d", a.Port, b.Port)
	case running.AddPath() != next.AddPath():
		f.Restart = fmt.Sprintf("ADD-PATH on the fabric sessions %v -> %v (paths: add-path)", running.AddPath(), next.AddPath())
	}
	// Graceful restart toward the fabric is part of every fabric session's
	// OPEN: changing it restarts them all.
	grChanged := running.GracefulRestart.RestartTime != next.GracefulRestart.RestartTime
	old := map[netip.Addr]Neighbor{}
	for _, n := range a.Neighbors {
		old[n.Address] = n
	}
	for _, n := range b.Neighbors {
		was, ok := old[n.Address]
		delete(old, n.Address)
		switch {
		case !ok:
			f.Add = append(f.Add, n)
		case was != n || grChanged:
			f.Reset = append(f.Reset, n)
		}
	}
	for _, n := range a.Neighbors {
		if _, gone := old[n.Address]; gone {
			f.Remove = append(f.Remove, n)
		}
	}
	return f
}

// diffVRF plans the changes to one running VRF, or returns nil when none.
func diffVRF(running, next *Config, was, v VRF) *VRFPlan {
	vp := &VRFPlan{Name: v.Name, Op: VRFUpdate, Next: v}
	vp.Translate = changedFields(running.EVPN(was), next.EVPN(v))
	vp.InstallRoutes = was.InstallRoutes != v.InstallRoutes
	vp.RestartWorkers = workerSpeakerChange(running, next, was, v)
	vp.Limits = was.Workers.MaxPrefixes != v.Workers.MaxPrefixes || was.Workers.MaxPrefixesWarning != v.Workers.MaxPrefixesWarning
	if vp.RestartWorkers == "" {
		vp.Peers = diffPeers(was.Workers, v.Workers)
	}
	if len(vp.Translate) == 0 && !vp.InstallRoutes && vp.RestartWorkers == "" && !vp.Limits &&
		vp.Peers.empty() && reflect.DeepEqual(was, withFile(v, was.File)) {
		return nil
	}
	return vp
}

func withFile(v VRF, file string) VRF {
	v.File = file
	return v
}

// workerSpeakerChange says why the VRF's worker speaker must restart, or "".
func workerSpeakerChange(running, next *Config, was, v VRF) string {
	a, b := was.Workers, v.Workers
	switch {
	case was.Device != v.Device:
		return fmt.Sprintf("device %q -> %q", was.Device, v.Device)
	case !slices.Equal(a.Listen, b.Listen):
		return fmt.Sprintf("workers.listen %v -> %v", a.Listen, b.Listen)
	case a.Port != b.Port:
		return fmt.Sprintf("workers.port %d -> %d", a.Port, b.Port)
	case a.ASN != b.ASN:
		return fmt.Sprintf("workers.asn %d -> %d", a.ASN, b.ASN)
	}
	return ""
}

func (p PeerPlan) empty() bool {
	return len(p.Add)+len(p.Remove)+len(p.Reset)+len(p.Soft) == 0
}

// diffPeers plans the peer changes of a VRF whose worker speaker stays.
func diffPeers(a, b Workers) PeerPlan {
	var pp PeerPlan
	// The families offered follow the accept rules, and graceful restart is
	// in every OPEN: a change to either is a change to every session.
	v4a, v6a := a.Families()
	v4b, v6b := b.Families()
	every := ""
	switch {
	case v4a != v4b || v6a != v6b:
		every = "address families (accept rules)"
	case a.GracefulRestart != b.GracefulRestart:
		every = "workers.graceful-restart"
	}
	old := map[string]Peer{}
	for _, p := range a.Peers {
		old[p.Key()] = p
	}
	for _, p := range b.Peers {
		was, ok := old[p.Key()]
		delete(old, p.Key())
		switch {
		case !ok:
			pp.Add = append(pp.Add, p)
		case every != "":
			pp.Reset = append(pp.Reset, p)
			pp.Why = append(pp.Why, every)
		default:
			if why := sessionChange(was, p); why != "" {
				pp.Reset = append(pp.Reset, p)
				pp.Why = append(pp.Why, why)
			} else if was.Timers != p.Timers || was.BFD != p.BFD {
				pp.Soft = append(pp.Soft, p)
			}
		}
	}
	for _, p := range a.Peers {
		if _, gone := old[p.Key()]; gone {
			pp.Remove = append(pp.Remove, p)
		}
	}
	return pp
}

// sessionChange names what changed in what a peer's session is made of.
func sessionChange(a, b Peer) string {
	var why []string
	if a.ASN != b.ASN {
		why = append(why, fmt.Sprintf("asn %d -> %d", a.ASN, b.ASN))
	}
	if a.Password != b.Password {
		why = append(why, "password")
	}
	if a.Multihop != b.Multihop {
		why = append(why, fmt.Sprintf("multihop %d -> %d", a.Multihop, b.Multihop))
	}
	if a.TTLSecurity != b.TTLSecurity {
		why = append(why, fmt.Sprintf("ttl-security %d -> %d", a.TTLSecurity, b.TTLSecurity))
	}
	if a.Passive != b.Passive {
		why = append(why, fmt.Sprintf("passive %v -> %v", a.Passive, b.Passive))
	}
	return strings.Join(why, ", ")
}

// Families tells which address families the workers are offered: IPv4
// unicast if some accept rule is IPv4, IPv6 unicast if some is IPv6.
func (w Workers) Families() (v4, v6 bool) {
	for _, r := range w.Accept {
		v4 = v4 || r.Prefix.Addr().Is4()
		v6 = v6 || r.Prefix.Addr().Is6()
	}
	return v4, v6
}

// translationFields names each evpn.VRF field as the config files do.
var translationFields = map[string]string{
	"RD": "rd", "L3VNI": "l3vni", "RouteTargets": "route-targets.export", "Label": "label",
	"VTEP": "vtep-ip", "Accept": "workers.accept",
	"AllowThirdPartyNextHop": "workers.allow-third-party-nexthop", "GracefulShutdown": "graceful-shutdown",
	"AllowForeignFirstAS": "workers.enforce-first-as",
	"Paths":               "paths", "Unresolved": "unresolved", "RouterMAC": "router-mac", "Origin": "origin",
}

// changedFields lists the translation settings that differ between a and b.
func changedFields(a, b any) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		name := va.Type().Field(i).Name
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			if f, ok := translationFields[name]; ok {
				out = append(out, f)
			} else {
				out = append(out, strings.ToLower(name))
			}
		}
	}
	return out
}

// Steps describes the plan, one line per action, for the log and for an
// operator who asks what a reload would do.
func (p Plan) Steps() []string {
	if p.Restart != "" {
		return []string{"restart every speaker: " + p.Restart}
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if p.Fabric.Restart != "" {
		add("fabric: restart the fabric speaker: %s", p.Fabric.Restart)
	}
	for _, n := range p.Fabric.Add {
		add("fabric: add neighbor %s", n.Address)
	}
	for _, n := range p.Fabric.Remove {
		add("fabric: remove neighbor %s", n.Address)
	}
	for _, n := range p.Fabric.Reset {
		add("fabric: reset neighbor %s with its new settings", n.Address)
	}
	if p.Metrics {
		add("metrics: move the listener")
	}
	if p.LogLevel {
		add("log-level: change")
	}
	if p.MemoryLimit != "" {
		add("memory-limit: %s", p.MemoryLimit)
	}
	if p.LogFormat {
		add("log-format: takes effect at the next start")
	}
	if p.API {
		add("api: takes effect at the next start")
	}
	for _, v := range p.VRFs {
		switch v.Op {
		case VRFStart:
			add("vrf %s: start", v.Name)
			continue
		case VRFStop:
			add("vrf %s: stop, withdrawing its routes", v.Name)
			continue
		}
		if v.RestartWorkers != "" {
			add("vrf %s: restart the worker speaker: %s", v.Name, v.RestartWorkers)
		}
		if len(v.Translate) > 0 {
			add("vrf %s: translate again: %s", v.Name, strings.Join(v.Translate, ", "))
		}
		if v.InstallRoutes {
			add("vrf %s: install-routes %v", v.Name, v.Next.InstallRoutes)
		}
		if v.Limits {
			add("vrf %s: max-prefixes %d (warning at %d%%), every worker held to it at once", v.Name, v.Next.Workers.MaxPrefixes, v.Next.Workers.MaxPrefixesWarning)
		}
		for _, pr := range v.Peers.Add {
			add("vrf %s: add peer %s", v.Name, pr.Key())
		}
		for _, pr := range v.Peers.Remove {
			add("vrf %s: remove peer %s", v.Name, pr.Key())
		}
		for i, pr := range v.Peers.Reset {
			add("vrf %s: reset peer %s: %s", v.Name, pr.Key(), v.Peers.Why[i])
		}
		for _, pr := range v.Peers.Soft {
			add("vrf %s: peer %s: timers from its next session, BFD at once", v.Name, pr.Key())
		}
		if len(out) == 0 || !strings.HasPrefix(out[len(out)-1], "vrf "+v.Name+":") {
			add("vrf %s: settings only t5gw reads (such as max-prefixes-restart)", v.Name)
		}
	}
	return out
}
