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
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return u, err
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.Atoi(strings.Fields(v)[0])
				u.PeakRSSKB += kb
			}
		}
	}
	return u, nil
}
