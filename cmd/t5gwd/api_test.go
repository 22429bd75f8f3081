package main

import (
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/t5gw/t5gw/cmd/t5gwd/api"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rib"
)

// TestAPISocketIsForRootAndItsGroup: the local API's socket is mode 0660,
// owned by root and the configured group; a socket a gone t5gwd left is
// replaced, one a running t5gwd answers on is not taken.
func TestAPISocketIsForRootAndItsGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root to give the socket a group")
	}
	g, err := user.LookupGroup("adm") // present on every Debian system
	if err != nil {
		skipOrFail(t, err.Error())
	}
	gid, _ := strconv.Atoi(g.Gid)
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} { // so that only the socket's mode keeps others out
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "run", "t5gwd.sock")
	l, err := listenAPI(path, "adm")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if st.Mode().Perm() != 0o660 || st.Mode()&os.ModeSocket == 0 || sys.Uid != 0 || int(sys.Gid) != gid {
		t.Errorf("socket %v uid %d gid %d; want a socket, 0660, root:adm (%d)", st.Mode(), sys.Uid, sys.Gid, gid)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// Someone else is refused by the kernel; a member of the group gets in.
	const dial = "import socket, sys\ntry:\n socket.socket(socket.AF_UNIX).connect(sys.argv[1])\nexcept OSError as e:\n sys.exit(e.strerror)"
	for _, c := range []struct {
		who  string
		gid  uint32
		want string // what the connect says: "" when it got in
	}{{"nobody", 65534, "Permission denied"}, {"nobody in adm", uint32(gid), ""}} {
		cmd := exec.Command("/usr/bin/python3", "-c", dial, path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: c.gid, Groups: []uint32{}}}
		out, err := cmd.CombinedOutput()
		if got := strings.TrimSpace(string(out)); got != c.want || (err == nil) != (c.want == "") {
			t.Errorf("%s connecting to the socket: %q (%v), want %q", c.who, got, err, c.want)
		}
	}
	if _, err := listenAPI(path, ""); err == nil || !strings.Contains(err.Error(), "another t5gwd answers") {
		t.Errorf("a second t5gwd on the same socket: %v", err)
	}
	l.Close() // removes the file; leave a stale one as a crash would
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	l2, err := listenAPI(path, "")
	if err != nil {
		t.Fatalf("a stale socket is not replaced: %v", err)
	}
	l2.Close()
	if _, err := listenAPI(filepath.Join(t.TempDir(), "x.sock"), "no-such-group-t5gw"); err == nil {
		t.Error("an unknown group is accepted")
	}
}

// TestExplainNamesEveryRefusal: for every reason a route can be refused,
// explain says which, with the detail, and the accept rule when one matched.
func TestExplainNamesEveryRefusal(t *testing.T) {
	rule := evpn.PrefixRule{Prefix: netip.MustParsePrefix("10.244.0.0/16"), GE: 16, LE: 32}
	rule6 := evpn.PrefixRule{Prefix: netip.MustParsePrefix("fd00:10:244::/48"), GE: 48, LE: 128}
	vrf := evpn.VRF{Accept: []evpn.PrefixRule{rule, rule6}}
	w4, w6 := netip.MustParseAddr("192.168.10.11"), netip.MustParseAddr("fd00::11")
	route := func(w netip.Addr, p, nh string) evpn.Route {
		r := evpn.Route{Worker: w, Prefix: netip.MustParsePrefix(p)}
		if nh != "" {
			r.NextHop = netip.MustParseAddr(nh)
		}
		return r
	}
	for _, tc := range []struct {
		r          evpn.Route
		reason     evpn.Reason
		acceptRule string
	}{
		{route(w4, "10.1.0.0/16", "192.168.10.11"), evpn.ReasonNotAccepted, ""},
		{route(w4, "10.244.9.0/24", "192.168.10.99"), evpn.ReasonThirdParty, "10.244.0.0/16 le 32"},
		{route(w4, "10.244.9.0/24", ""), evpn.ReasonNoNextHop, "10.244.0.0/16 le 32"},
		{route(w6, "fd00:10:244:8::/64", "::ffff:192.168.10.11"), evpn.ReasonFamilyMismatch, "fd00:10:244::/48 le 128"},
		{route(w6, "fd00:10:244:7::/64", "fe80::7"), evpn.ReasonLinkLocal, "fd00:10:244::/48 le 128"},
	} {
		err := evpn.Admit(vrf, tc.r)
		ref, ok := err.(*evpn.Refusal)
		if !ok || ref.Reason != tc.reason {
			t.Fatalf("%v: Admit %v, want %s", tc.r.Prefix, err, tc.reason)
		}
		a := apiAnnouncement(rib.Announcement{Route: tc.r, Refusal: ref}, vrf, map[netip.Addr]string{tc.r.Worker: "established"})
		if a.Accepted || a.Reason != string(tc.reason) || a.Detail != ref.Detail || a.AcceptRule != tc.acceptRule || a.Session != "established" {
			t.Errorf("%s: %+v", tc.reason, a)
		}
	}
	a := apiAnnouncement(rib.Announcement{Route: route(w4, "10.244.1.0/24", "192.168.10.11")}, vrf, nil)
	if !a.Accepted || a.AcceptRule != "10.244.0.0/16 le 32" || a.Reason != "" || a.Session != "down" {
		t.Errorf("accepted: %+v", a)
	}
}

// skipOrFail skips a test that lacks a privilege or a tool, but fails it in
// CI (CI=true), where everything must be there.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// TestAPIServesProfiles: Go's profiles are on the API socket (root and its
// group only), for an operator who needs to see where memory or goroutines go.
func TestAPIServesProfiles(t *testing.T) {
	h := (&daemon{}).apiHandler(func(bool) api.Reload { return api.Reload{} })
	for path, want := range map[string]string{
		"/debug/pprof/goroutine?debug=1":  "goroutine profile:",
		"/debug/pprof/heap?debug=1":       "heap profile:",
		"/debug/pprof/":                   "allocs",
		"/debug/pprof/trace?seconds=0.05": "go 1.", // an execution trace's header
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d, body lacks %q:\n%.300s", path, rec.Code, want, rec.Body.String())
		}
	}
}
