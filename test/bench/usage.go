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
		hwm, err := statusKB(pid, "VmHWM")
		if err != nil {
			return u, err
		}
		u.PeakRSSKB += int(hwm)
	}
	return u, nil
}

// statusKB reads one kB figure of /proc/pid/status, such as VmHWM.
func statusKB(pid int, key string) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, key)
}
