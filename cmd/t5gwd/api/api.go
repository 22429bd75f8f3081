// Package api is t5gwd's local API, which t5gwctl speaks: JSON over HTTP on
// a unix socket that only root and a configured group may use. It holds the
// paths and the shapes of what goes over it, nothing else.
package api

import "time"

// DefaultSocket is where t5gwd listens and t5gwctl connects unless told
// otherwise.
const DefaultSocket = "/run/t5gw/t5gwd.sock"

// The API's paths. Each takes GET, but Reload, which takes POST; vrf and
// prefix are query parameters.
const (
	PathVRFs    = "/v1/vrfs"
	PathWorkers = "/v1/workers" // ?vrf=
	PathRoutes  = "/v1/routes"  // ?vrf=&prefix= (routes inside prefix)
	PathExplain = "/v1/explain" // ?prefix=&vrf= (a prefix or an address)
	PathReload  = "/v1/reload"  // ?dry-run=true
)

// Error is what a failed request returns, with a 4xx or 5xx status.
type Error struct {
	Error string `json:"error"`
}

// VRF is one tenant VRF.
type VRF struct {
	Name       string `json:"name"`
	Running    bool   `json:"running"`
	Error      string `json:"error,omitempty"` // why it is not running
	L3VNI      uint32 `json:"l3vni"`
	RD         string `json:"rd"`
	Paths      string `json:"paths"`
	Unresolved string `json:"unresolved"`
	WorkersUp  int    `json:"workers-up"`
	Received   int    `json:"routes-received"`
	Advertised int    `json:"routes-advertised"`
	Refused    int    `json:"routes-refused"`
	Stale      int    `json:"routes-stale"`
	// GatewaysUnresolved counts the VRF's gateway IPs that no Type-2 route
	// in the fabric resolves.
	GatewaysUnresolved int `json:"gateway-ips-unresolved"`
}

// Worker is one worker of a VRF: its session and its routes.
type Worker struct {
	VRF     string     `json:"vrf"`
	Address string     `json:"address"`
	ASN     uint32     `json:"asn"`
	State   string     `json:"state"` // established, active, idle, ...
	Since   *time.Time `json:"since,omitempty"`
	Flaps   uint32     `json:"flaps"`
	RD      string     `json:"rd,omitempty"` // its own, with paths: per-worker
	// Prefixes it announces now: all of them, those translated, those
	// refused (by reason), those kept stale while it restarts.
	Received int            `json:"prefixes-received"`
	Accepted int            `json:"prefixes-accepted"`
	Refused  map[string]int `json:"prefixes-refused,omitempty"`
	Stale    int            `json:"prefixes-stale"`
	Gateway  *Gateway       `json:"gateway,omitempty"`
}

// Gateway is where the fabric resolves a worker's address.
type Gateway struct {
	Resolved bool   `json:"resolved"`
	VTEP     string `json:"vtep,omitempty"`
	MAC      string `json:"mac,omitempty"`
	Seq      uint32 `json:"seq"`
	// Synced is false until the fabric has sent its Type-2 routes once.
	Synced bool `json:"fabric-synced"`
}

// Route is one Type-5 route t5gw wants in the fabric.
type Route struct {
	VRF          string   `json:"vrf"`
	RD           string   `json:"rd"`
	PathID       uint32   `json:"path-id,omitempty"`
	Prefix       string   `json:"prefix"`
	GatewayIP    string   `json:"gateway-ip,omitempty"` // none in the fallback form
	Label        uint32   `json:"label"`
	NextHop      string   `json:"next-hop"`
	RouteTargets []string `json:"route-targets"`
	RouterMAC    string   `json:"router-mac,omitempty"`
	Origin       string   `json:"origin"`
	ASPath       string   `json:"as-path"`
	Worker       string   `json:"worker"`
	// Advertised is false while the fabric speaker has not taken it yet.
	Advertised bool `json:"advertised"`
	// SentTo lists the fabric peers with an established session: the
	// fabric speaker sends every route it holds to each of them.
	SentTo []string `json:"sent-to"`
}

// Announcement is one worker's announcement of a prefix, and what t5gw made
// of it.
type Announcement struct {
	Worker      string   `json:"worker"`
	Session     string   `json:"session"` // the worker's session state
	NextHop     string   `json:"next-hop"`
	ASPath      string   `json:"as-path"`
	Origin      string   `json:"origin"`
	MED         *uint32  `json:"med,omitempty"`
	Communities []string `json:"communities,omitempty"`
	Stale       bool     `json:"stale"`
	Accepted    bool     `json:"accepted"`
	AcceptRule  string   `json:"accept-rule,omitempty"` // the rule that let it in
	Reason      string   `json:"reason,omitempty"`      // why it was refused
	Detail      string   `json:"detail,omitempty"`
}

// Explanation is the whole chain for one prefix in one VRF: who announces
// it, what t5gw thought of each announcement, the Type-5 routes made from
// them and where they went.
type Explanation struct {
	VRF           string         `json:"vrf"`
	Prefix        string         `json:"prefix"`
	Announcements []Announcement `json:"announcements"`
	Routes        []Route        `json:"routes"`
}

// Explained is the answer of PathExplain: one explanation per VRF that knows
// the prefix, none when no worker announces it.
type Explained struct {
	Query        string        `json:"query"`
	Explanations []Explanation `json:"explanations"`
}

// Reload is what a reload would do, or did.
type Reload struct {
	DryRun  bool     `json:"dry-run"`
	Steps   []string `json:"steps"`
	Applied bool     `json:"applied"`
	Error   string   `json:"error,omitempty"`
}
