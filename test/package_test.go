package test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// TestDebianPackage builds the package (make deb), installs its files, checks
// its systemd unit with systemd-analyze, then starts, reloads and stops the
// installed t5gwd the way the unit does, with a systemd notify socket of
// the test's own: READY=1, RELOADING=1 then READY=1 for ExecReload's
// SIGHUP, STOPPING=1 and exit 0 for SIGTERM. (systemd itself cannot run
// here.)
func TestDebianPackage(t *testing.T) {
	lab.Require(t, "dpkg-deb", "systemd-analyze", "git", "go", "ip")
	out := t.TempDir()
	b, err := exec.Command("sh", "../cmd/t5gwd/packaging/build-deb.sh", out).CombinedOutput()
	if err != nil {
		t.Fatalf("build-deb.sh: %v\n%s", err, b)
	}
	deb := strings.TrimSpace(string(b))
	info, _ := exec.Command("dpkg-deb", "--info", deb).CombinedOutput()
	contents, _ := exec.Command("dpkg-deb", "--contents", deb).CombinedOutput()
	for _, want := range []string{"Package: t5gw", "Depends: adduser", "postinst", "prerm"} {
		if !strings.Contains(string(info), want) {
			t.Errorf("dpkg-deb --info lacks %q:\n%s", want, info)
		}
	}
	for _, want := range []string{"./usr/sbin/t5gwd", "./usr/bin/t5gwctl", "./lib/systemd/system/t5gwd.service",
		"./etc/t5gw/t5gw.yaml", "./etc/t5gw/vrfs.d/blue.yaml.example"} {
		if !strings.Contains(string(contents), want) {
			t.Errorf("the package lacks %s:\n%s", want, contents)
		}
	}
	root := t.TempDir()
	if b, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, b)
	}

	t.Run("the unit passes systemd-analyze verify", func(t *testing.T) {
		unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/t5gwd.service"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "KillSignal=SIGTERM",
			"CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_ADMIN CAP_NET_RAW", "NoNewPrivileges=yes", "ProtectSystem=strict"} {
			if !strings.Contains(string(unit), want) {
				t.Errorf("the unit lacks %s", want)
			}
		}
		// verify checks that the binaries exist: point it at the installed ones.
		local := filepath.Join(t.TempDir(), "t5gwd.service")
		if err := os.WriteFile(local, []byte(strings.ReplaceAll(string(unit), "/usr/sbin/t5gwd", filepath.Join(root, "usr/sbin/t5gwd"))), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command("systemd-analyze", "verify", local).CombinedOutput(); err != nil || len(b) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, b)
		}
		b, _ := exec.Command("systemd-analyze", "security", "--offline=true", local).CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		t.Logf("systemd-analyze security: %s", lines[len(lines)-1])
	})

	t.Run("installed t5gwd starts, reloads and stops as the unit runs it", func(t *testing.T) {
		l := lab.New(t)
		node := l.Node("pkg")
		etc := filepath.Join(node.Dir, "etc")
		global, _ := os.ReadFile(filepath.Join(root, "etc/t5gw/t5gw.yaml"))
		example, _ := os.ReadFile(filepath.Join(root, "etc/t5gw/vrfs.d/blue.yaml.example"))
		sock := filepath.Join(node.Dir, "t5gwd.sock")
		// postinst creates the t5gw group; here an existing group stands in.
		g := strings.NewReplacer("/var/lib/t5gw", filepath.Join(node.Dir, "state"), "/run/t5gw/t5gwd.sock", sock,
			"group: t5gw", "group: adm").Replace(string(global))
		node.Write("etc/t5gw.yaml", g)
		node.Write("etc/vrfs.d/blue.yaml", string(example))
		bin := filepath.Join(root, "usr/sbin/t5gwd")
		if out, err := node.Output(bin, "--check-config", filepath.Join(etc, "t5gw.yaml")); err != nil {
			t.Fatalf("ExecStartPre: %v\n%s", err, out)
		}
		notify := listenNotify(t, filepath.Join(t.TempDir(), "notify.sock"))
		d := node.Start("t5gwd", "env", "NOTIFY_SOCKET="+notify.path, bin, "--config", filepath.Join(etc, "t5gw.yaml"))
		notify.expect(t, "READY=1", d)
		ctl := filepath.Join(root, "usr/bin/t5gwctl")
		if out, err := node.Output(ctl, "--socket", sock, "vrfs"); err != nil || !strings.Contains(out, "blue") {
			t.Errorf("the installed t5gwctl: %v\n%s", err, out)
		}
		if err := d.Signal(syscall.SIGHUP); err != nil { // ExecReload
			t.Fatal(err)
		}
		notify.expect(t, "RELOADING=1", d)
		notify.expect(t, "READY=1", d)
		if err := d.Signal(syscall.SIGTERM); err != nil { // systemctl stop
			t.Fatal(err)
		}
		notify.expect(t, "STOPPING=1", d)
		if !d.Wait(30*time.Second) || d.ExitCode() != 0 {
			t.Errorf("t5gwd did not stop cleanly on SIGTERM: exit %d\n%s", d.ExitCode(), d.Tail(10))
		}
	})
}

// notifySocket is a systemd notify socket: what a Type=notify service sends.
type notifySocket struct {
	path string
	msgs chan string
}

func listenNotify(t *testing.T, path string) *notifySocket {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	n := &notifySocket{path: path, msgs: make(chan string, 16)}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			n.msgs <- string(buf[:k])
		}
	}()
	return n
}

// expect waits for a message that starts with state.
func (n *notifySocket) expect(t *testing.T, state string, d *lab.Proc) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case m := <-n.msgs:
			if strings.HasPrefix(m, state) {
				return
			}
		case <-deadline:
			t.Fatalf("no %s from t5gwd in %s:\n%s", state, wait, d.Tail(10))
		}
	}
}
