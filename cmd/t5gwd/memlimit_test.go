package main

import "testing"

func TestCgroupPath(t *testing.T) {
	for in, want := range map[string]string{
		"0::/system.slice/t5gwd.service\n":        "/system.slice/t5gwd.service",
		"12:memory:/docker/abc\n0::/docker/abc\n": "/docker/abc",
		"12:memory:/old-style-only\n":             "",
	} {
		got, ok := cgroupPath(in)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
}
