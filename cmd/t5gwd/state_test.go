package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rds"
)

// TestWorkerRDsSurviveARestart gives two colliding workers their RDs, saves
// what a restart needs, and checks that a new allocator fed with it gives
// both the same RDs when they come back in the other order.
func TestWorkerRDsSurviveARestart(t *testing.T) {
	admin := netip.MustParseAddr("10.0.0.3")
	var a, b rds.Owner
	seen := map[uint16]rds.Owner{}
	for i := 0; a.Worker == (netip.Addr{}); i++ {
		o := rds.Owner{VRF: "blue", Worker: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})}
		if other, ok := seen[rds.Preferred(o)]; ok {
			a, b = other, o
		}
		seen[rds.Preferred(o)] = o
	}
	first := rds.New(admin, nil)
	rdA, _ := first.RD(a)
	rdB, _ := first.RD(b)
	dir := t.TempDir()
	if err := saveRDs(dir, first.Displaced()); err != nil {
		t.Fatal(err)
	}
	kept, err := loadRDs(dir)
	if err != nil || len(kept) != 1 || kept[0].Owner != b {
		t.Fatalf("loadRDs: %v, %v; want b's assignment alone", kept, err)
	}
	again := rds.New(admin, nil)
	again.Restore(kept)
	gotB, _ := again.RD(b) // b first this time
	gotA, _ := again.RD(a)
	if gotA != rdA || gotB != rdB {
		t.Errorf("after a restart a: %v, b: %v; want %v, %v", gotA, gotB, rdA, rdB)
	}
	if as, err := loadRDs(t.TempDir()); err != nil || as != nil {
		t.Errorf("no file: %v, %v; want nothing", as, err)
	}
	if err := os.WriteFile(filepath.Join(dir, rdsFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRDs(dir); err == nil {
		t.Error("a broken file loads")
	}
}

// loadConfig writes a global file and VRF files to a fresh directory and
// loads them.
func loadConfig(t *testing.T, global string, vrfs map[string]string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "t5gw.yaml"), global)
	for name, body := range vrfs {
		writeFile(t, filepath.Join(dir, "vrfs.d", name), body)
	}
	c, err := config.Load(filepath.Join(dir, "t5gw.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWatchedSubnets follows every VRF's ranges and static workers.
func TestWatchedSubnets(t *testing.T) {
	c := loadConfig(t, `router-id: 10.0.0.3
asn: 65000
fabric: {neighbors: [{address: 10.0.0.1, asn: 65000}]}
`, map[string]string{"blue.yaml": `name: blue
l3vni: 4001
workers:
  listen: [192.168.10.3]
  peers:
    - {range: 192.168.10.0/24, asn: 65011}
    - {address: 192.168.20.7, asn: 65012}
  accept: ["10.244.0.0/16 le 32"]
`})
	got := watched(c)
	want := []netip.Prefix{netip.MustParsePrefix("192.168.10.0/24"), netip.MustParsePrefix("192.168.20.7/32")}
	if !slices.Equal(got, want) {
		t.Errorf("watched %v, want %v", got, want)
	}
	if rd := vrfRDs(c); len(rd) != 1 || rd[0] != (evpn.RD{Kind: evpn.AdminIPv4, IP: netip.MustParseAddr("10.0.0.3"), Number: 4001}) {
		t.Errorf("vrfRDs %v", rd)
	}
}
