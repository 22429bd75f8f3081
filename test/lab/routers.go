package lab

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// FRR starts zebra and bgpd in the node with conf, under their own pathspace
// (-N) so vtysh reaches this node's daemons and no others. zebraArgs are added
// to zebra's command line (such as -n, for namespace VRFs).
func (n *Node) FRR(conf string, zebraArgs ...string) {
	n.lab.t.Helper()
	n.FRRWith(conf, nil, zebraArgs...)
}

// FRRWith is FRR with more daemons (such as bfdd) started between zebra and
// bgpd, on the same config.
func (n *Node) FRRWith(conf string, daemons []string, zebraArgs ...string) {
	n.lab.t.Helper()
	path := n.Write("frr.conf", conf)
	run := filepath.Join("/var/run/frr", n.NS)
	if n.mnt != nil {
		run = "/var/run/frr" // the node's own, in its mount namespace
	}
	if err := os.MkdirAll(run, 0o755); err != nil {
		n.lab.t.Fatal(err)
	}
	if u, err := user.Lookup("frr"); err == nil {
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		_ = os.Chown(run, uid, gid)
	}
	n.Start("zebra", append(append([]string{"/usr/lib/frr/zebra"}, n.pathspace()...),
		append([]string{"-f", path, "--log", "stdout", "-i", filepath.Join(run, "zebra.pid")}, zebraArgs...)...)...)
	WaitFor(n.lab.t, n.Name+": zebra socket", defaultWait, func() (bool, string) {
		_, err := n.Run("test", "-S", filepath.Join(run, "zserv.api"))
		return err == nil, "no zserv.api"
	})
	for _, d := range daemons {
		n.Start(d, append(append([]string{"/usr/lib/frr/" + d}, n.pathspace()...),
			"-f", path, "--log", "stdout", "-i", filepath.Join(run, d+".pid"))...)
	}
	n.Start("bgpd", append(append([]string{"/usr/lib/frr/bgpd"}, n.pathspace()...),
		"-f", path, "--log", "stdout", "-i", filepath.Join(run, "bgpd.pid"))...)
	WaitFor(n.lab.t, n.Name+": bgpd answers", defaultWait, func() (bool, string) {
		out, err := n.Vtysh("show bgp summary")
		return err == nil, out
	})
}

// pathspace keeps this node's FRR sockets apart from other nodes': -N unless
// the node has a /run/frr of its own.
func (n *Node) pathspace() []string {
	if n.mnt != nil {
		return nil
	}
	return []string{"-N", n.NS}
}

// Vtysh runs one vtysh command against the node's FRR and returns its output.
func (n *Node) Vtysh(cmd string) (string, error) {
	return n.Output(append(append([]string{"vtysh"}, n.pathspace()...), "-c", cmd)...)
}

// VtyshConfig applies config lines (after "configure terminal") to the
// node's running FRR.
func (n *Node) VtyshConfig(lines ...string) (string, error) {
	args := append([]string{"vtysh"}, n.pathspace()...)
	for _, l := range append([]string{"configure terminal"}, lines...) {
		args = append(args, "-c", l)
	}
	return n.Output(args...)
}

// BIRD starts BIRD 2 in the foreground with conf.
func (n *Node) BIRD(conf string) *Proc {
	path := n.Write("bird.conf", conf)
	return n.Start("bird", "bird", "-f", "-c", path, "-s", filepath.Join(n.Dir, "bird.ctl"), "-P", filepath.Join(n.Dir, "bird.pid"))
}

// Birdc runs one birdc command against the node's BIRD.
func (n *Node) Birdc(cmd ...string) (string, error) {
	return n.Output(append([]string{"birdc", "-s", filepath.Join(n.Dir, "bird.ctl")}, cmd...)...)
}

// GoBGPd starts gobgpd with a TOML conf; its API listens on the node's own
// loopback, so the gobgp CLI inside the namespace reaches it.
func (n *Node) GoBGPd(conf string) *Proc {
	path := n.Write("gobgpd.toml", conf)
	return n.Start("gobgpd", "gobgpd", "-t", "toml", "-f", path, "--api-hosts", "127.0.0.1:50051")
}

// GoBGP runs the gobgp CLI against the node's gobgpd.
func (n *Node) GoBGP(args ...string) (string, error) {
	return n.Output(append([]string{"gobgp", "-u", "127.0.0.1", "-p", "50051"}, args...)...)
}

// BuildT5gwd builds the daemon from the repository at repo into dir and
// returns its path.
func BuildT5gwd(repo, dir string) (string, error) { return build(repo, dir, "t5gwd") }

// build builds the command cmd/<name> of the repository at repo into dir.
func build(repo, dir, name string) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, "./cmd/"+name)
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", name, err, b)
	}
	return out, nil
}

// RunWithT5gwd is the body of a TestMain whose tests need the daemon: it
// builds t5gwd (and, with ctl, t5gwctl) from the repository at repo into a
// temporary directory, sets *bin (and *ctl) to its path, runs the tests and
// returns their exit code.
func RunWithT5gwd(m *testing.M, repo string, bin *string, ctl ...*string) int {
	dir, err := os.MkdirTemp("", "t5gwd-bin-")
	if err == nil {
		*bin, err = BuildT5gwd(repo, dir)
	}
	for _, c := range ctl {
		if err == nil {
			*c, err = build(repo, dir, "t5gwctl")
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	return m.Run()
}
