package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// t5gwd is the daemon binary built once for all tests.
var t5gwd string

func TestMain(m *testing.M) {
	if prebuilt := os.Getenv("T5GWD"); prebuilt != "" { // inside the real-kernel VM
		t5gwd = prebuilt
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "t5gwd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	t5gwd = filepath.Join(dir, "t5gwd")
	build := exec.Command("go", "build", "-o", t5gwd, "../cmd/t5gwd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building t5gwd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
