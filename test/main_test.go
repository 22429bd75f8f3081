package test

import (
	"fmt"
	"os"
	"testing"

	"github.com/t5gw/t5gw/test/lab"
)

// t5gwd is the daemon binary built once for all tests.
var t5gwd string

func TestMain(m *testing.M) {
	if prebuilt := os.Getenv("T5GWD"); prebuilt != "" { // inside the real-kernel VM
		t5gwd = prebuilt
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "t5gwd-bin-")
	if err == nil {
		t5gwd, err = lab.BuildT5gwd("..", dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
