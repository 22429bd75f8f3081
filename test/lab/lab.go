// Package lab builds test topologies out of Linux network namespaces and runs
// real routers (FRR, BIRD, gobgpd, t5gwd) in them. Every namespace and process
// it makes carries the lab's own prefix and is stopped by PID at cleanup;
// nothing it did not start is touched.
package lab

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/poll"
)

// Require stops the test when it cannot run here: it fails in CI (CI=true),
// where every tool must be installed and the test runs as root, and skips
// elsewhere.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("integration test cannot run: missing %s", strings.Join(missing, ", "))
	}
	t.Skipf("integration test needs %s (run as root after .ci/install)", strings.Join(missing, ", "))
}

// Lab is one topology: its namespaces, links and processes.
type Lab struct {
	t      testing.TB
	Prefix string // every namespace name starts with it
	Dir    string // configs and logs
	nodes  []*Node
	procs  []*Proc
}

// New returns an empty lab that is torn down when the test ends. Its files
// stay in a directory named in the log when the test fails.
func New(t testing.TB) *Lab {
	t.Helper()
	l := &Lab{t: t, Prefix: fmt.Sprintf("t5-%04x", rand.IntN(1<<16))}
	dir, err := os.MkdirTemp("", l.Prefix+"-")
	if err != nil {
		t.Fatal(err)
	}
	// FRR drops to its own user and must read its config and write its log.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	l.Dir = dir
	t.Cleanup(l.close)
	return l
}

// Node is one network namespace standing for a router or host.
type Node struct {
	lab  *Lab
	Name string // short name, as in the topology
	NS   string // namespace name
	Dir  string // this node's files
	// mnt holds a private mount namespace whose /run/netns shows only the
	// namespaces this node makes (see PrivateNetns); nil for most nodes.
	mnt *Proc
	vrf string // set on a VRFNamespace: commands run in that namespace
}

// Node creates a namespace with its loopback up.
func (l *Lab) Node(name string) *Node {
	l.t.Helper()
	n := &Node{lab: l, Name: name, NS: l.Prefix + "-" + name, Dir: filepath.Join(l.Dir, name)}
	if err := os.MkdirAll(n.Dir, 0o777); err != nil {
		l.t.Fatal(err)
	}
	_ = os.Chmod(n.Dir, 0o777)
	l.must("ip", "netns", "add", n.NS)
	l.nodes = append(l.nodes, n)
	n.MustRun("ip", "link", "set", "lo", "up")
	n.MustRun("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	return n
}

// Link connects a's interface aIf to b's interface bIf with a veth pair and
// brings both ends up.
func (l *Lab) Link(a *Node, aIf string, b *Node, bIf string) {
	l.t.Helper()
	l.must("ip", "link", "add", aIf, "netns", a.NS, "type", "veth", "peer", "name", bIf, "netns", b.NS)
	a.MustRun("ip", "link", "set", aIf, "up")
	b.MustRun("ip", "link", "set", bIf, "up")
}

func (l *Lab) must(args ...string) string {
	l.t.Helper()
	out, err := run(args...)
	if err != nil {
		l.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func run(args ...string) (string, error) {
	var buf bytes.Buffer
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// enter is the command prefix that runs a command inside the node.
func (n *Node) enter() []string {
	if n.mnt != nil {
		pid := fmt.Sprint(n.mnt.cmd.Process.Pid)
		if n.vrf != "" {
			return []string{"nsenter", "--target", pid, "--mount", "--net", "ip", "netns", "exec", n.vrf}
		}
		return []string{"nsenter", "--target", pid, "--mount", "--net"}
	}
	return []string{"ip", "netns", "exec", n.NS}
}

// PrivateNetns gives the node a mount namespace of its own, as a container
// has, with empty /run/netns and /run/frr: namespaces the node makes (FRR's
// namespace VRFs, with zebra -n) are seen by its own programs only, its
// programs see no other namespace of the host, and its FRR uses the default
// paths, so a plain vtysh reaches it. Every later Run and Start of the node
// happens in it.
func (n *Node) PrivateNetns() {
	n.lab.t.Helper()
	n.mnt = n.Start("mntns", "unshare", "--mount", "--propagation", "private", "sh", "-c",
		"mount -t tmpfs netns /run/netns && mkdir -p /run/frr && mount -t tmpfs frr /run/frr && "+
			"chown frr:frr /run/frr && echo ready && exec sleep infinity")
	WaitFor(n.lab.t, n.Name+": private /run/netns", defaultWait, func() (bool, string) {
		tail := n.mnt.Tail(3)
		return strings.Contains(tail, "ready"), tail
	})
}

// Run runs a command in the node's namespace and returns its combined output.
func (n *Node) Run(args ...string) (string, error) {
	return run(append(n.enter(), args...)...)
}

// MustRun is Run that fails the test on error.
func (n *Node) MustRun(args ...string) string {
	n.lab.t.Helper()
	out, err := n.Run(args...)
	if err != nil {
		n.lab.t.Fatalf("%s: %s: %v\n%s", n.Name, strings.Join(args, " "), err, out)
	}
	return out
}

// Output runs a command in the namespace and returns only its standard output.
func (n *Node) Output(args ...string) (string, error) {
	var out, errb bytes.Buffer
	full := append(n.enter(), args...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	return out.String(), err
}

// Write puts a file in the node's directory and returns its path.
func (n *Node) Write(name, body string) string {
	n.lab.t.Helper()
	path := filepath.Join(n.Dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		n.lab.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		n.lab.t.Fatal(err)
	}
	return path
}

// Proc is a process the lab started.
type Proc struct {
	Name string
	Log  string // its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{}
	node *Node
	args []string
}

// Start runs a long-lived command in the namespace, logging to a file.
func (n *Node) Start(name string, args ...string) *Proc {
	n.lab.t.Helper()
	return n.start(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, args...)
}

// Restart runs the command of p, which has ended, again under the same name,
// its output appended to p's log, as a supervisor would start a daemon again.
func (p *Proc) Restart() *Proc {
	p.node.lab.t.Helper()
	if !p.Exited() {
		p.node.lab.t.Fatalf("%s: restart while it still runs", p.Name)
	}
	return p.node.start(strings.TrimPrefix(p.Name, p.node.Name+"/"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, p.args...)
}

func (n *Node) start(name string, flags int, args ...string) *Proc {
	n.lab.t.Helper()
	logPath := filepath.Join(n.Dir, name+".log")
	f, err := os.OpenFile(logPath, flags, 0o644)
	if err != nil {
		n.lab.t.Fatal(err)
	}
	full := append(n.enter(), args...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		n.lab.t.Fatalf("%s: start %s: %v", n.Name, name, err)
	}
	p := &Proc{Name: n.Name + "/" + name, Log: logPath, cmd: cmd, done: make(chan struct{}), node: n, args: args}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	n.lab.procs = append(n.lab.procs, p)
	return p
}

// Nodes returns the node named name.
func (l *Lab) Nodes(name string) *Node {
	for _, n := range l.nodes {
		if n.Name == name {
			return n
		}
	}
	l.t.Fatalf("no node %s", name)
	return nil
}

// Procs returns the node's processes with the given names, as Start named them.
func (n *Node) Procs(names ...string) []*Proc {
	var out []*Proc
	for _, p := range n.lab.procs {
		for _, name := range names {
			if p.Name == n.Name+"/"+name {
				out = append(out, p)
			}
		}
	}
	return out
}

// Args is the command line the process was started with.
func (p *Proc) Args() []string { return p.args }

// Pid is the process's ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Interrupt sends SIGINT to the process alone (not its group), as a user's
// Ctrl-C would, and waits up to 5 s for it to end; tshark, for one, then
// stops its capture child and closes the file cleanly.
func (p *Proc) Interrupt() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.Stop()
	}
}

// Kill sends SIGKILL to the process alone, as a crash would end it, and
// waits for it to end.
func (p *Proc) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Wait waits up to timeout for the process to end and tells whether it did.
func (p *Proc) Wait(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// ExitCode is the process's exit status once it has ended (-1 before, or
// when a signal ended it).
func (p *Proc) ExitCode() int {
	if !p.Exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Exited tells whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the process group with SIGTERM, then SIGKILL after 5 s.
func (p *Proc) Stop() {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Tail returns the last lines of the process's log, for failure messages.
func (p *Proc) Tail(lines int) string {
	b, _ := os.ReadFile(p.Log)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func (l *Lab) close() {
	for i := len(l.procs) - 1; i >= 0; i-- {
		l.procs[i].Stop()
	}
	for _, n := range l.nodes {
		_, _ = run("ip", "netns", "del", n.NS)
		_ = os.RemoveAll("/var/run/frr/" + n.NS)
	}
	if l.t.Failed() {
		l.t.Logf("lab files kept in %s", l.Dir)
		return
	}
	_ = os.RemoveAll(l.Dir)
}

// WaitFor polls cond until it holds or timeout passes; then it fails the test
// with the last state cond reported.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	poll.Until(t, what, timeout, cond)
}

// defaultWait bounds how long a daemon may take to come up.
const defaultWait = 20 * time.Second

// VRFNamespace returns a node standing for the network namespace name that
// node n made for a VRF: commands on it run inside that namespace, as seen
// from n's private /run/netns.
func (l *Lab) VRFNamespace(n *Node, name string) *Node {
	return &Node{lab: l, Name: n.Name + "/" + name, NS: name, Dir: n.Dir, mnt: n.mnt, vrf: name}
}
