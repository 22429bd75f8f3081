package config

import (
	"fmt"
	"strconv"
	"strings"
)

// MemoryLimit is the Go runtime's soft memory limit for t5gwd (GOMEMLIMIT):
// near it the garbage collector runs more often, trading CPU for resident
// memory. The zero value is auto.
type MemoryLimit struct {
	// Off leaves the heap to grow to twice what is live between
	// collections (GOGC=100), whatever the host.
	Off bool
	// Bytes is a fixed limit; Percent a share of the memory t5gwd may use
	// (its cgroup's memory.max, or the host's memory without one). Neither
	// (and not Off) is auto: 90 % of the cgroup's memory.max when there is
	// one, else none.
	Bytes   int64
	Percent int
}

// String writes the limit as the config file does.
func (m MemoryLimit) String() string {
	switch {
	case m.Off:
		return "off"
	case m.Bytes > 0:
		return strconv.FormatInt(m.Bytes>>20, 10) + "MiB"
	case m.Percent > 0:
		return strconv.Itoa(m.Percent) + "%"
	}
	return "auto"
}

// Resolve is the limit in bytes for a process whose cgroup allows cgroupMax
// bytes (0: no cgroup limit) on a host of hostTotal bytes; 0 is no limit.
func (m MemoryLimit) Resolve(cgroupMax, hostTotal int64) int64 {
	within := hostTotal
	if cgroupMax > 0 && (within == 0 || cgroupMax < within) {
		within = cgroupMax
	}
	switch {
	case m.Off:
		return 0
	case m.Bytes > 0:
		return m.Bytes
	case m.Percent > 0:
		return within * int64(m.Percent) / 100
	case cgroupMax > 0:
		return cgroupMax * 9 / 10
	}
	return 0
}

var sizeUnits = []struct {
	suffix string
	factor int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}}

// memoryLimit reads memory-limit: auto, off, a size such as 512MiB or 2GiB,
// or a percentage such as 50%.
func memoryLimit(p *problems, f, s string) MemoryLimit {
	switch s {
	case "", "auto":
		return MemoryLimit{}
	case "off":
		return MemoryLimit{Off: true}
	}
	if n, ok := strings.CutSuffix(s, "%"); ok {
		pct, err := strconv.Atoi(n)
		if err != nil || pct < 1 || pct > 100 {
			p.add(f, "memory-limit", s, "is not a percentage from 1% to 100%")
			return MemoryLimit{}
		}
		return MemoryLimit{Percent: pct}
	}
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
			if err != nil || v <= 0 || v > (1<<50)/u.factor {
				break
			}
			if b := v * u.factor; b >= 64<<20 {
				return MemoryLimit{Bytes: b}
			}
			p.add(f, "memory-limit", s, "is under 64MiB, where t5gwd would do little but collect garbage")
			return MemoryLimit{}
		}
	}
	p.add(f, "memory-limit", s, fmt.Sprintf("is not auto, off, a size (512MiB, 2GiB) or a percentage (50%%)"))
	return MemoryLimit{}
}
