package config

import (
	"strings"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	const host, cgroup = 8 << 30, 2 << 30
	for _, tc := range []struct {
		in                  string
		problem             string
		withCgroup, without int64 // resolved, in a cgroup of 2 GiB and on a host of 8 GiB alone
	}{
		{in: "", withCgroup: cgroup * 9 / 10},
		{in: "auto", withCgroup: cgroup * 9 / 10},
		{in: "off"},
		{in: "512MiB", withCgroup: 512 << 20, without: 512 << 20},
		{in: "2GiB", withCgroup: 2 << 30, without: 2 << 30},
		{in: "800MB", withCgroup: 800e6, without: 800e6},
		{in: "50%", withCgroup: cgroup / 2, without: host / 2},
		{in: "10MiB", problem: "under 64MiB"},
		{in: "0%", problem: "not a percentage"},
		{in: "150%", problem: "not a percentage"},
		{in: "lots", problem: "is not auto, off, a size"},
		{in: "-5GiB", problem: "is not auto, off, a size"},
	} {
		p := &problems{}
		m := memoryLimit(p, "t5gw.yaml", tc.in)
		got := ""
		if err := p.err(); err != nil {
			got = err.Error()
		}
		if (tc.problem == "") != (got == "") || !strings.Contains(got, tc.problem) {
			t.Errorf("%q: problems %q, want %q", tc.in, got, tc.problem)
			continue
		}
		if tc.problem != "" {
			if !strings.Contains(got, "memory-limit") || !strings.Contains(got, tc.in) || !strings.Contains(got, "t5gw.yaml") {
				t.Errorf("%q: the problem does not name file, field and value: %s", tc.in, got)
			}
			continue
		}
		if a, b := m.Resolve(cgroup, host), m.Resolve(0, host); a != tc.withCgroup || b != tc.without {
			t.Errorf("%q (%s): %d in the cgroup, %d without; want %d, %d", tc.in, m, a, b, tc.withCgroup, tc.without)
		}
	}
}
