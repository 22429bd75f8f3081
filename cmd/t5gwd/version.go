package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is t5gwd's version; release builds set it with
// -ldflags "-X main.version=v1.2.3". Otherwise it comes from the module
// version or the VCS revision the binary was built from.
var version = ""

// versionText is what --version prints: t5gwd's version, GoBGP's, Go's.
func versionText() string {
	v, gobgp := version, "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if v == "" && s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "devel-" + s.Value[:12]
			}
		}
		for _, d := range info.Deps {
			if d.Path == "github.com/osrg/gobgp/v4" {
				gobgp = d.Version
				if d.Replace != nil { // such as `make bench-upstream`'s build
					gobgp += " replaced by a local copy"
				}
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	return fmt.Sprintf("t5gwd %s (GoBGP %s, %s)", v, gobgp, runtime.Version())
}

// usage is the text --help prints before the flags.
const usage = `Usage: t5gwd [flags]

t5gwd meets Kubernetes workers and VMs over BGP inside tenant VRFs and
advertises their prefixes into the EVPN fabric as Type-5 routes whose
gateway IP is the worker's own address (RFC 9136).

  t5gwd --config /etc/t5gw/t5gw.yaml         run (this is the default config)
  t5gwd --check-config /etc/t5gw/t5gw.yaml   validate the config, then exit
  t5gwd --version                            print the version and exit

The global file names the fabric; each VRF has a file of its own in the
global file's vrf-dir (default vrfs.d/ next to it). Signals:
  SIGHUP   reload (a change to a config file reloads too)
  SIGTERM  stop gracefully: fabric peers keep the routes while t5gwd restarts
  SIGUSR2  stop for good: every route is withdrawn first

Flags:
`
