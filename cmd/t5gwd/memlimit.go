package main

import (
	"bufio"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/t5gw/t5gw/config"
)

// setMemoryLimit gives the Go runtime the soft memory limit m asks for, on
// this host and in this cgroup, unless GOMEMLIMIT is set: the runtime has
// taken that one, and an operator who set it meant it.
func setMemoryLimit(m config.MemoryLimit, log *slog.Logger) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		log.Info("memory limit from GOMEMLIMIT; memory-limit is not applied", "GOMEMLIMIT", v)
		return
	}
	limit := m.Resolve(cgroupMemoryMax(), hostMemory())
	if limit == 0 {
		debug.SetMemoryLimit(math.MaxInt64)
		log.Info("memory limit: none, the heap may grow to twice what is live", "memory-limit", m.String())
		return
	}
	debug.SetMemoryLimit(limit)
	log.Info("memory limit", "memory-limit", m.String(), "MiB", limit>>20)
}

// cgroupMemoryMax is the memory.max of t5gwd's cgroup (v2), or 0 without one.
func cgroupMemoryMax() int64 {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	path, ok := cgroupPath(string(b))
	if !ok {
		return 0
	}
	v, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", path, "memory.max"))
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
	if err != nil { // "max": no limit
		return 0
	}
	return n
}

// cgroupPath reads the cgroup v2 path from /proc/self/cgroup ("0::/path").
func cgroupPath(procCgroup string) (string, bool) {
	for _, line := range strings.Split(procCgroup, "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, true
		}
	}
	return "", false
}

// hostMemory is the host's memory in bytes (MemTotal), or 0 if unknown.
func hostMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}
