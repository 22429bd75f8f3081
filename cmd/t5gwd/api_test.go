package main

import (
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestAPISocketIsForRootAndItsGroup: the local API's socket is mode 0660,
// owned by root and the configured group; a socket a gone t5gwd left is
// replaced, one a running t5gwd answers on is not taken.
func TestAPISocketIsForRootAndItsGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the socket a group")
	}
	g, err := user.LookupGroup("adm") // present on every Debian system
	if err != nil {
		t.Skip(err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	path := filepath.Join(t.TempDir(), "run", "t5gwd.sock")
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
