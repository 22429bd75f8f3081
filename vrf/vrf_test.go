package vrf

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// inNamespace makes a network namespace for the test and returns its devices.
func inNamespace(t *testing.T) (*Links, func(args ...string)) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root")
		}
		t.Skip("needs root")
	}
	name := "t5-vrf-" + strings.ReplaceAll(t.Name(), "/", "-")
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	links, err := NewIn(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(links.Close)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	return links, run
}

func TestLookupErrors(t *testing.T) {
	links, ip := inNamespace(t)
	if _, err := links.Lookup("vrf-blue"); err == nil || !strings.Contains(err.Error(), "device vrf-blue: not found") {
		t.Errorf("missing device: got %v", err)
	}
	ip("link", "add", "vrf-blue", "type", "bridge")
	if _, err := links.Lookup("vrf-blue"); err == nil || !strings.Contains(err.Error(), "is a bridge device, not a VRF") {
		t.Errorf("bridge named like a VRF: got %v", err)
	}
}
