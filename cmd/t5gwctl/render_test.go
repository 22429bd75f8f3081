package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/t5gw/t5gw/cmd/t5gwd/api"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name.golden, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

var (
	now   = time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	since = now.Add(-(3*time.Minute + 12*time.Second))
	med   = uint32(10)
)

var vrfs = []api.VRF{
	{Name: "blue", Running: true, L3VNI: 4001, RD: "10.0.0.3:4001", Paths: "per-worker", Unresolved: "advertise",
		WorkersUp: 2, Received: 5, Advertised: 3, Refused: 2, GatewaysUnresolved: 1},
	{Name: "red", Running: false, Error: "device vrf-red: Link not found", L3VNI: 4002, RD: "10.0.0.3:4002",
		Paths: "best", Unresolved: "withhold"},
}

var workers = []api.Worker{
	{VRF: "blue", Address: "192.168.10.11", ASN: 65011, State: "established", Since: &since, Flaps: 1, RD: "10.0.0.3:2576",
		Received: 3, Accepted: 2, Refused: map[string]int{"not-accepted": 1}, Gateway: &api.Gateway{Resolved: true, VTEP: "10.0.0.12", MAC: "aa:bb:cc:00:00:11", Seq: 2, Synced: true}},
	{VRF: "blue", Address: "192.168.10.12", ASN: 65012, State: "established", Since: &since, RD: "10.0.0.3:1885",
		Received: 2, Accepted: 1, Refused: map[string]int{"third-party-nexthop": 1}, Gateway: &api.Gateway{Synced: true}},
	{VRF: "blue", Address: "192.168.10.13", ASN: 65013, State: "active", Gateway: &api.Gateway{}},
}

var routes = []api.Route{
	{VRF: "blue", RD: "10.0.0.3:2576", Prefix: "10.244.1.0/24", GatewayIP: "192.168.10.11", Label: 4001, NextHop: "10.0.0.3",
		RouteTargets: []string{"65000:4001"}, Origin: "igp", ASPath: "65011", Worker: "192.168.10.11", Advertised: true, SentTo: []string{"10.0.0.1"}},
	{VRF: "blue", RD: "10.0.0.3:2576", Prefix: "10.244.100.1/32", GatewayIP: "192.168.10.11", Label: 4001, NextHop: "10.0.0.3",
		RouteTargets: []string{"65000:4001"}, Origin: "igp", ASPath: "65011", Worker: "192.168.10.11", Advertised: true, SentTo: []string{"10.0.0.1"}},
	{VRF: "blue", RD: "10.0.0.3:1885", Prefix: "10.244.100.1/32", Label: 4001, NextHop: "10.0.0.3", RouterMAC: "02:00:0a:00:00:03",
		RouteTargets: []string{"65000:4001"}, Origin: "igp", ASPath: "65012", Worker: "192.168.10.12", Advertised: false, SentTo: []string{}},
}

var explained = api.Explained{Query: "10.244.100.1", Explanations: []api.Explanation{{
	VRF: "blue", Prefix: "10.244.100.1/32",
	Announcements: []api.Announcement{
		{Worker: "192.168.10.11", Session: "established", NextHop: "192.168.10.11", ASPath: "65011", Origin: "igp", MED: &med,
			Communities: []string{"65011:7"}, Accepted: true, AcceptRule: "10.244.0.0/16 le 32"},
		{Worker: "192.168.10.12", Session: "established", NextHop: "192.168.10.12", ASPath: "65012", Origin: "incomplete",
			Accepted: true, AcceptRule: "10.244.0.0/16 le 32"},
		{Worker: "192.168.10.14", Session: "down", NextHop: "192.168.10.99", ASPath: "65014", Origin: "igp", Stale: true,
			AcceptRule: "10.244.0.0/16 le 32", Reason: "third-party-nexthop",
			Detail: "10.244.100.1/32 has next hop 192.168.10.99, not the worker's address 192.168.10.14"},
	},
	Routes: routes[1:],
}}}

var refused = api.Explained{Query: "10.1.0.0/16", Explanations: []api.Explanation{{
	VRF: "blue", Prefix: "10.1.0.0/16",
	Announcements: []api.Announcement{{Worker: "192.168.10.11", Session: "established", NextHop: "192.168.10.11",
		ASPath: "65011", Origin: "igp", Reason: "not-accepted", Detail: "10.1.0.0/16 is outside the accept rules"}},
	Routes: []api.Route{},
}}}

// TestOutputs holds every command's output, as a table and as JSON.
func TestOutputs(t *testing.T) {
	for name, c := range map[string]struct {
		v      any
		render func(*bytes.Buffer)
	}{
		"vrfs":            {vrfs, func(b *bytes.Buffer) { renderVRFs(b, vrfs) }},
		"vrfs-none":       {[]api.VRF{}, func(b *bytes.Buffer) { renderVRFs(b, nil) }},
		"workers":         {workers, func(b *bytes.Buffer) { renderWorkers(b, workers, now) }},
		"routes":          {routes, func(b *bytes.Buffer) { renderRoutes(b, routes) }},
		"explain":         {explained, func(b *bytes.Buffer) { renderExplained(b, explained) }},
		"explain-refused": {refused, func(b *bytes.Buffer) { renderExplained(b, refused) }},
		"explain-unknown": {api.Explained{Query: "10.9.9.0/24", Explanations: []api.Explanation{}}, func(b *bytes.Buffer) { renderExplained(b, api.Explained{Query: "10.9.9.0/24"}) }},
		"reload-dry-run": {api.Reload{DryRun: true, Steps: []string{"vrf blue: translate again: workers.accept"}}, func(b *bytes.Buffer) {
			renderReload(b, api.Reload{DryRun: true, Steps: []string{"vrf blue: translate again: workers.accept"}})
		}},
		"reload-applied": {api.Reload{Applied: true, Steps: []string{"vrf blue: reset peer 192.168.10.11: multihop 4 -> 5"}}, func(b *bytes.Buffer) {
			renderReload(b, api.Reload{Applied: true, Steps: []string{"vrf blue: reset peer 192.168.10.11: multihop 4 -> 5"}})
		}},
		"reload-nothing": {api.Reload{DryRun: true, Steps: []string{}}, func(b *bytes.Buffer) { renderReload(b, api.Reload{DryRun: true}) }},
		"reload-refused": {api.Reload{Error: "vrfs.d/blue.yaml: l3vni: \"0\" is outside 1..16777215"}, func(b *bytes.Buffer) {
			renderReload(b, api.Reload{Error: "vrfs.d/blue.yaml: l3vni: \"0\" is outside 1..16777215"})
		}},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			c.render(&b)
			golden(t, name, b.Bytes())
			j, err := json.MarshalIndent(c.v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".json", append(j, '\n'))
		})
	}
}
