package evpn

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// LabelMode says what goes into the Type-5 label field.
type LabelMode uint8

const (
	// LabelL3VNI puts the VRF's L3VNI in the label, as FRR and NX-OS do.
	LabelL3VNI LabelMode = iota
	// LabelZero sends label 0, as RFC 9136 section 4.3 suggests when the
	// Gateway IP is the overlay index and the VNI comes from the Type-2 route.
	LabelZero
)

// PrefixRule admits a prefix that lies inside Prefix and whose length is
// between GE and LE, like "10.244.0.0/16 le 32".
type PrefixRule struct {
	Prefix netip.Prefix
	GE, LE int
}

// Admits tells whether p matches the rule.
func (r PrefixRule) Admits(p netip.Prefix) bool {
	return p.Addr().Is4() == r.Prefix.Addr().Is4() && r.Prefix.Overlaps(p) &&
		p.Bits() >= r.Prefix.Bits() && p.Bits() >= r.GE && p.Bits() <= r.LE
}

// VRF holds what translation needs to know of one tenant VRF.
type VRF struct {
	Name         string
	RD           RD
	L3VNI        uint32
	RouteTargets []RouteTarget // export
	Label        LabelMode
	VTEP         netip.Addr // BGP next hop of every Type-5 route
	Accept       []PrefixRule
	// AllowThirdPartyNextHop lets a worker announce a next hop other than its
	// own session address (Calico route reflectors do).
	AllowThirdPartyNextHop bool
	// GracefulShutdown marks every route for RFC 8326 graceful shutdown.
	GracefulShutdown bool
	// AllowForeignFirstAS accepts routes whose AS path does not start with
	// the worker's own AS (FRR's "no bgp enforce-first-as").
	AllowForeignFirstAS bool
	// Paths says how many Type-5 routes a prefix gets: one per worker that
	// announces it (the default), or one for the best worker.
	Paths PathMode
	// Unresolved says what happens to a worker's routes while no Type-2
	// route in the fabric resolves its gateway IP.
	Unresolved UnresolvedPolicy
	// RouterMAC is this node's router MAC on the L3VNI, which the fallback
	// form of a route carries.
	RouterMAC MAC
	// Origin is the ORIGIN the Type-5 routes carry.
	Origin OriginPolicy
}

// OriginPolicy says which ORIGIN attribute t5gw's Type-5 routes carry.
type OriginPolicy uint8

const (
	// OriginIGP sends IGP whatever the worker sent (the default). The
	// worker's ORIGIN says how the prefix got into its BGP daemon, and BGP
	// daemons differ (BIRD sends IGP for a static route, GoBGP incomplete):
	// ingress leaves only spread an anycast prefix over paths of equal
	// ORIGIN, so passing it on would keep workers of different kinds from
	// sharing a service.
	OriginIGP OriginPolicy = iota
	// OriginKeep sends the worker's ORIGIN.
	OriginKeep
	// OriginEGP and OriginIncomplete send that value.
	OriginEGP
	OriginIncomplete
)

// String is the policy's name in the config file.
func (o OriginPolicy) String() string {
	return [...]string{"igp", "keep", "egp", "incomplete"}[o]
}

// origin is the ORIGIN a route announced with origin gets.
func (o OriginPolicy) origin(announced uint8) uint8 {
	switch o {
	case OriginKeep:
		return announced
	case OriginEGP:
		return 1
	case OriginIncomplete:
		return 2
	}
	return 0
}

// PathMode says how many Type-5 routes t5gw sends for one prefix.
type PathMode uint8

const (
	// PathsPerWorker sends one route per worker that announces the prefix,
	// each under the worker's own RD, so that ingress leaves spread traffic
	// over every worker (anycast services).
	PathsPerWorker PathMode = iota
	// PathsBest sends one route per prefix, under the VRF's RD, for the best
	// worker: the others stand by.
	PathsBest
	// PathsAddPath sends one route per worker under the VRF's RD, told
	// apart by ADD-PATH path identifiers (RFC 7911): for fabrics whose route
	// reflectors pass every path on.
	PathsAddPath
)

// UnresolvedPolicy says what t5gw sends for a worker whose gateway IP no
// Type-2 route resolves.
type UnresolvedPolicy uint8

const (
	// UnresolvedAdvertise sends the route anyway: the ingress leaf decides.
	UnresolvedAdvertise UnresolvedPolicy = iota
	// UnresolvedWithhold sends the worker's routes only while it resolves.
	UnresolvedWithhold
	// UnresolvedFallback sends them in the interface-less form (RFC 9136
	// section 4.4.1) while the worker does not resolve: next hop this node's
	// VTEP, its router MAC, no gateway IP, so traffic reaches the worker
	// through this node.
	UnresolvedFallback
)

// String is the policy's name in the config file.
func (p UnresolvedPolicy) String() string {
	switch p {
	case UnresolvedWithhold:
		return "withhold"
	case UnresolvedFallback:
		return "fallback"
	}
	return "advertise"
}

// String is the mode's name in the config file.
func (m PathMode) String() string {
	return [...]string{"per-worker", "best", "add-path"}[m]
}

// Reason names why a route was not translated. It is a metric label value.
type Reason string

// The reasons a learned route is not advertised.
const (
	ReasonNotAccepted    Reason = "not-accepted" // outside the VRF's accept rules
	ReasonThirdParty     Reason = "third-party-nexthop"
	ReasonNoNextHop      Reason = "no-nexthop"      // missing, 0.0.0.0 or ::
	ReasonFamilyMismatch Reason = "family-mismatch" // RFC 9136: GW IP must be in the prefix's family
	ReasonLinkLocal      Reason = "link-local-nexthop"
	ReasonFirstAS        Reason = "first-as" // the AS path does not start with the worker's AS
)

// Reasons lists every Reason, for metrics that start at zero.
var Reasons = []Reason{ReasonNotAccepted, ReasonThirdParty, ReasonNoNextHop, ReasonFamilyMismatch, ReasonLinkLocal, ReasonFirstAS}

// Refusal is the error Translate returns for a route it does not advertise.
type Refusal struct {
	Reason Reason
	Detail string
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s: %s", r.Reason, r.Detail) }

func refuse(reason Reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Translate gives the Type-5 route that a learned route becomes in vrf, or a
// *Refusal saying why it cannot be advertised.
func Translate(vrf VRF, r Route) (Type5Route, error) {
	if err := Admit(vrf, r); err != nil {
		return Type5Route{}, err
	}
	label := vrf.L3VNI
	if vrf.Label == LabelZero {
		label = 0
	}
	return Type5Route{
		RD:               vrf.RD,
		Prefix:           r.Prefix.Masked(),
		GatewayIP:        r.NextHop,
		Label:            label,
		NextHop:          vrf.VTEP,
		RouteTargets:     vrf.RouteTargets,
		Encap:            TunnelVXLAN,
		Origin:           vrf.Origin.origin(r.Origin),
		ASPath:           r.ASPath,
		MED:              r.MED,
		HasMED:           r.HasMED,
		Communities:      withoutScoping(r.Communities),
		LargeCommunities: r.LargeCommunities,
		GracefulShutdown: vrf.GracefulShutdown,
		Worker:           r.Worker,
	}, nil
}

// Fallback is t's interface-less form (RFC 9136 section 4.4.1), for while
// its gateway IP does not resolve: no gateway IP, the VRF's L3VNI as label
// (the interface-less model needs it whatever the label mode), this node's
// VTEP as next hop and its router MAC, so that ingress leaves send the
// traffic here and this node routes it to the worker.
func Fallback(vrf VRF, t Type5Route) Type5Route {
	t.GatewayIP = netip.Addr{}
	t.Label = vrf.L3VNI
	t.NextHop = vrf.VTEP
	t.RouterMAC = vrf.RouterMAC
	return t
}

// Admit checks a learned route against the VRF's rules and RFC 9136's
// encoding rules; nil means it can be translated.
func Admit(vrf VRF, r Route) error {
	if !accepted(vrf.Accept, r.Prefix) {
		return refuse(ReasonNotAccepted, "%s is outside the accept rules", r.Prefix)
	}
	nh := r.NextHop
	switch {
	case !nh.IsValid() || nh.IsUnspecified():
		return refuse(ReasonNoNextHop, "%s has next hop %v", r.Prefix, nh)
	case nh.Is4() != r.Prefix.Addr().Is4() || nh.Is4In6():
		return refuse(ReasonFamilyMismatch, "%s has next hop %s of the other address family", r.Prefix, nh)
	case nh.IsLinkLocalUnicast():
		return refuse(ReasonLinkLocal, "%s has only the link-local next hop %s", r.Prefix, nh)
	case !vrf.AllowThirdPartyNextHop && nh != r.Worker:
		return refuse(ReasonThirdParty, "%s has next hop %s, not the worker's address %s", r.Prefix, nh, r.Worker)
	case r.ForeignFirstAS && !vrf.AllowForeignFirstAS:
		return refuse(ReasonFirstAS, "%s has AS path %q, which does not start with the worker's own AS", r.Prefix, ASPathText(r.ASPath))
	}
	return nil
}

// ASPathText writes an AS path as routers show it: "65011 65100 {65012,65013}".
func ASPathText(segs []ASPathSegment) string {
	var parts []string
	for _, s := range segs {
		var asns []string
		for _, a := range s.ASNs {
			asns = append(asns, strconv.FormatUint(uint64(a), 10))
		}
		if s.Set {
			parts = append(parts, "{"+strings.Join(asns, ",")+"}")
		} else {
			parts = append(parts, asns...)
		}
	}
	return strings.Join(parts, " ")
}

// The RFC 1997 and RFC 3765 communities that limit how far a route goes.
// A worker's scoping means nothing in the fabric, and passed on it would keep
// route reflectors from sending t5gw's route to the leaves.
const (
	NoExport          uint32 = 0xFFFFFF01
	NoAdvertise       uint32 = 0xFFFFFF02
	NoExportSubconfed uint32 = 0xFFFFFF03
	NoPeer            uint32 = 0xFFFFFF04
)

func scoping(c uint32) bool { return c >= NoExport && c <= NoPeer }

// withoutScoping returns cs without the scoping communities; cs itself when
// it has none, which is almost always, so nothing is copied.
func withoutScoping(cs []uint32) []uint32 {
	if !slices.ContainsFunc(cs, scoping) {
		return cs
	}
	return slices.DeleteFunc(slices.Clone(cs), scoping)
}

func accepted(rules []PrefixRule, p netip.Prefix) bool {
	_, ok := AcceptedBy(rules, p)
	return ok
}

// AcceptedBy returns the first of rules that admits p.
func AcceptedBy(rules []PrefixRule, p netip.Prefix) (PrefixRule, bool) {
	for _, rule := range rules {
		if rule.Admits(p) {
			return rule, true
		}
	}
	return PrefixRule{}, false
}

// String gives the rule as the config writes it: "10.244.0.0/16 le 32".
func (r PrefixRule) String() string {
	s := r.Prefix.String()
	if r.GE > r.Prefix.Bits() {
		s += fmt.Sprintf(" ge %d", r.GE)
	}
	if r.LE > r.Prefix.Bits() {
		s += fmt.Sprintf(" le %d", r.LE)
	}
	return s
}
