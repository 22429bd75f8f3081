package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Usage is what a process has cost so far: CPU time and peak resident memory.
type Usage struct {
	CPUSeconds float64
	PeakRSSKB  int
}

// UsageOf reads /proc for the processes pids and adds them up.
func UsageOf(pids ...int) (Usage, error) {
	var u Usage
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return u, err
		}
		// Fields after the command name, which is in parentheses.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		u.CPUSeconds += (utime + stime) / 100 // USER_HZ
		kb, err := statusKB(pid, "VmHWM")
		if err != nil {
			return u, err
		}
		u.PeakRSSKB += int(kb[0])
	}
	return u, nil
}

// statusKB reads kB figures of /proc/pid/status, such as VmHWM, in the
// order of keys, from one read of the file.
func statusKB(pid int, keys ...string) ([]int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = v
		}
	}
	kb := make([]int64, len(keys))
	for i, key := range keys {
		f := strings.Fields(fields[key])
		if len(f) == 0 {
			return nil, fmt.Errorf("/proc/%d/status has no %s", pid, key)
		}
		if kb[i], err = strconv.ParseInt(f[0], 10, 64); err != nil {
			return nil, err
		}
	}
	return kb, nil
}
