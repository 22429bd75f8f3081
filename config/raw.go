package config

// The raw shapes mirror the files. Every leaf is a string so that the
// validator, not the decoder, reads each value and says what is wrong with it.

type rawGlobal struct {
	RouterID  string    `mapstructure:"router-id"`
	ASN       string    `mapstructure:"asn"`
	VTEPIP    string    `mapstructure:"vtep-ip"`
	Fabric    rawFabric `mapstructure:"fabric"`
	VRFDir    string    `mapstructure:"vrf-dir"`
	Metrics   string    `mapstructure:"metrics"`
	LogLevel  string    `mapstructure:"log-level"`
	LogFormat string    `mapstructure:"log-format"`
	API       rawAPI    `mapstructure:"api"`
	// MemoryLimit is the Go runtime's soft memory limit (MemoryLimit).
	MemoryLimit string `mapstructure:"memory-limit"`

	StateDir         string             `mapstructure:"state-dir"`
	GracefulRestart  rawGracefulRestart `mapstructure:"graceful-restart"`
	GracefulShutdown string             `mapstructure:"graceful-shutdown"`
}

type rawGracefulRestart struct {
	RestartTime string `mapstructure:"restart-time"`
	WorkerWait  string `mapstructure:"worker-wait"`
}

type rawTimers struct {
	Keepalive string `mapstructure:"keepalive"`
	Hold      string `mapstructure:"hold"`
}

type rawFabric struct {
	Listen    []string      `mapstructure:"listen"`
	Port      string        `mapstructure:"port"`
	Neighbors []rawNeighbor `mapstructure:"neighbors"`
}

type rawNeighbor struct {
	Address  string `mapstructure:"address"`
	ASN      string `mapstructure:"asn"`
	Port     string `mapstructure:"port"`
	Password string `mapstructure:"password"`
	Multihop string `mapstructure:"multihop"`
	Passive  string `mapstructure:"passive"`
}

type rawVRF struct {
	Name          string     `mapstructure:"name"`
	Device        string     `mapstructure:"device"`
	L3VNI         string     `mapstructure:"l3vni"`
	RD            string     `mapstructure:"rd"`
	RouteTargets  rawTargets `mapstructure:"route-targets"`
	Label         string     `mapstructure:"label"`
	InstallRoutes string     `mapstructure:"install-routes"`
	Paths         string     `mapstructure:"paths"`
	Unresolved    string     `mapstructure:"unresolved"`
	RouterMAC     string     `mapstructure:"router-mac"`
	Origin        string     `mapstructure:"origin"`
	Workers       rawWorkers `mapstructure:"workers"`
}

type rawTargets struct {
	Export []string `mapstructure:"export"`
}

type rawWorkers struct {
	ASN                    string    `mapstructure:"asn"`
	Listen                 []string  `mapstructure:"listen"`
	Port                   string    `mapstructure:"port"`
	Peers                  []rawPeer `mapstructure:"peers"`
	Accept                 []string  `mapstructure:"accept"`
	MaxPrefixes            string    `mapstructure:"max-prefixes"`
	MaxPrefixesRestart     string    `mapstructure:"max-prefixes-restart"`
	MaxPrefixesWarning     string    `mapstructure:"max-prefixes-warning"`
	AllowThirdPartyNextHop string    `mapstructure:"allow-third-party-nexthop"`
	EnforceFirstAS         string    `mapstructure:"enforce-first-as"`
	Timers                 rawTimers `mapstructure:"timers"`
	GracefulRestart        string    `mapstructure:"graceful-restart"`
	BFD                    rawBFD    `mapstructure:"bfd"`
}

type rawBFD struct {
	Interval   string `mapstructure:"interval"`
	Multiplier string `mapstructure:"multiplier"`
}

type rawPeer struct {
	Address     string    `mapstructure:"address"`
	Range       string    `mapstructure:"range"`
	ASN         string    `mapstructure:"asn"`
	Password    string    `mapstructure:"password"`
	Multihop    string    `mapstructure:"multihop"`
	TTLSecurity string    `mapstructure:"ttl-security"`
	Passive     string    `mapstructure:"passive"`
	Timers      rawTimers `mapstructure:"timers"`
	BFD         string    `mapstructure:"bfd"`
}

type rawAPI struct {
	Socket *string `mapstructure:"socket"`
	Group  string  `mapstructure:"group"`
}
