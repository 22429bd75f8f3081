package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Clab is the part of a containerlab topology file the harness runs: nodes
// with their binds, command, sysctls and exec lines, and the links between
// them. The same file deploys with containerlab and Docker.
type Clab struct {
	Name     string `yaml:"name"`
	Topology struct {
		Nodes map[string]ClabNode `yaml:"nodes"`
		Links []struct {
			Endpoints []string `yaml:"endpoints"`
		} `yaml:"links"`
	} `yaml:"topology"`
	dir string // the file's directory; binds are relative to it
}

// ClabNode is one node of a containerlab file.
type ClabNode struct {
	Kind    string            `yaml:"kind"`
	Image   string            `yaml:"image"`
	Cmd     string            `yaml:"cmd"`
	Binds   []string          `yaml:"binds"`
	Exec    []string          `yaml:"exec"`
	Sysctls map[string]string `yaml:"sysctls"`
}

// LoadClab reads a containerlab topology file.
func LoadClab(path string) (*Clab, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Clab
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	return &c, nil
}

// hostPath maps a path inside a node's container to where it is here: a
// bind's source, or the node's directory for runtime files (/run, /var/run).
func (c *Clab) hostPath(n *Node, spec ClabNode, p string) string {
	for _, b := range spec.Binds {
		src, dst, _ := strings.Cut(b, ":")
		if p == dst || strings.HasPrefix(p, dst+"/") {
			return filepath.Join(c.dir, src) + strings.TrimPrefix(p, dst)
		}
	}
	for _, run := range []string{"/run/", "/var/run/"} {
		if strings.HasPrefix(p, run) {
			return filepath.Join(n.Dir, strings.TrimPrefix(p, run))
		}
	}
	return p
}

// Deploy builds the topology in namespaces the way containerlab does: nodes
// (with their sysctls), links, each node's program, then its exec lines. An
// FRR image runs zebra and bgpd with the bound /etc/frr/frr.conf (after its
// cmd's setup script, if it has one); any other node runs its cmd, with
// container paths mapped to their binds. Exec lines are retried for a while,
// as they may need a program that is still starting.
func (l *Lab) Deploy(c *Clab, programs map[string]string) map[string]*Node {
	l.t.Helper()
	names := make([]string, 0, len(c.Topology.Nodes))
	for name := range c.Topology.Nodes {
		names = append(names, name)
	}
	sort.Strings(names)
	nodes := map[string]*Node{}
	for _, name := range names {
		n := l.Node(name)
		if c.makesNamespaces(n, c.Topology.Nodes[name]) {
			n.PrivateNetns()
		}
		keys := make([]string, 0)
		for k := range c.Topology.Nodes[name].Sysctls {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.MustRun("sysctl", "-qw", k+"="+c.Topology.Nodes[name].Sysctls[k])
		}
		nodes[name] = n
	}
	for _, link := range c.Topology.Links {
		a, aIf, _ := strings.Cut(link.Endpoints[0], ":")
		b, bIf, _ := strings.Cut(link.Endpoints[1], ":")
		l.Link(nodes[a], aIf, nodes[b], bIf)
	}
	runExec := func(name string) {
		for _, line := range c.Topology.Nodes[name].Exec {
			n := nodes[name]
			WaitFor(l.t, fmt.Sprintf("%s: exec %q", name, line), 30*time.Second, func() (bool, string) {
				out, err := n.Run("sh", "-c", line)
				return err == nil, fmt.Sprintf("%v: %s", err, out)
			})
		}
	}
	for _, name := range names {
		spec, n := c.Topology.Nodes[name], nodes[name]
		switch {
		case strings.Contains(spec.Image, "frrouting/frr"):
			if spec.Cmd != "" {
				c.frrSetup(n, spec)
			}
			conf, err := os.ReadFile(c.hostPath(n, spec, "/etc/frr/frr.conf"))
			if err != nil {
				l.t.Fatalf("%s: %v", name, err)
			}
			n.FRR(string(conf), zebraFlags(c.hostPath(n, spec, "/etc/frr/daemons"))...)
		case spec.Cmd != "":
			args := strings.Fields(spec.Cmd)
			for i, a := range args {
				if strings.HasPrefix(a, "/") {
					args[i] = c.hostPath(n, spec, a)
				}
			}
			if p, ok := programs[args[0]]; ok {
				args[0] = p // a binary built for the test, such as t5gwd
			}
			n.Start(filepath.Base(args[0]), args...)
		}
	}
	for _, name := range names {
		runExec(name)
	}
	return nodes
}

// MoveInterface moves a node's interface to another node under a new name, as
// a hypervisor moves a VM's port from one host to another.
func (l *Lab) MoveInterface(from *Node, ifname string, to *Node, newName string) {
	l.t.Helper()
	from.MustRun("ip", "link", "set", ifname, "down")
	from.MustRun("ip", "link", "set", ifname, "name", newName)
	from.MustRun("ip", "link", "set", newName, "netns", to.NS)
	to.MustRun("ip", "link", "set", newName, "up")
}

// frrSetup runs an FRR node's cmd, a shell script that prepares the node and
// ends by exec'ing the image's /usr/lib/frr/docker-start: the harness runs the
// script without that line, then starts FRR itself.
func (c *Clab) frrSetup(n *Node, spec ClabNode) {
	n.lab.t.Helper()
	args := strings.Fields(spec.Cmd)
	if len(args) != 2 || args[0] != "sh" {
		n.lab.t.Fatalf("%s: an FRR node's cmd must be \"sh <script>\", not %q", n.Name, spec.Cmd)
	}
	b, err := os.ReadFile(c.hostPath(n, spec, args[1]))
	if err != nil {
		n.lab.t.Fatalf("%s: %v", n.Name, err)
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "docker-start") {
			keep = append(keep, line)
		}
	}
	if out, err := n.Run("sh", "-c", strings.Join(keep, "\n")); err != nil {
		n.lab.t.Fatalf("%s: setup %s: %v\n%s", n.Name, args[1], err, out)
	}
}

// makesNamespaces tells whether a node creates network namespaces (FRR
// namespace VRFs) in its setup: such a node gets a private /run/netns and
// /run/frr, as its container would have.
func (c *Clab) makesNamespaces(n *Node, spec ClabNode) bool {
	lines := spec.Exec
	if args := strings.Fields(spec.Cmd); len(args) == 2 && args[0] == "sh" {
		if b, err := os.ReadFile(c.hostPath(n, spec, args[1])); err == nil {
			lines = append(lines, strings.Split(string(b), "\n")...)
		}
	}
	for _, line := range lines {
		if strings.Contains(line, "ip netns add") {
			return true
		}
	}
	return false
}

// zebraFlags returns the flags of a daemons file's zebra_options that change
// what zebra does (-n: network namespaces are VRFs); the rest (vty address,
// buffer sizes) are the container's business.
func zebraFlags(daemons string) []string {
	b, err := os.ReadFile(daemons)
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "zebra_options="); ok {
			for _, f := range strings.Fields(strings.Trim(v, `"'`)) {
				if f == "-n" || f == "--vrfwnetns" {
					return []string{"-n"}
				}
			}
		}
	}
	return nil
}
