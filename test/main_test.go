package test

import (
	"os"
	"testing"

	"github.com/t5gw/t5gw/test/lab"
)

// t5gwd is the daemon binary built once for all tests, t5gwctl its CLI.
var t5gwd, t5gwctl string

func TestMain(m *testing.M) {
	if prebuilt := os.Getenv("T5GWD"); prebuilt != "" { // inside the real-kernel VM
		t5gwd, t5gwctl = prebuilt, os.Getenv("T5GWCTL")
		os.Exit(m.Run())
	}
	os.Exit(lab.RunWithT5gwd(m, "..", &t5gwd, &t5gwctl))
}
