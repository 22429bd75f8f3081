package bench

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpstreamSeriesBuilds keeps docs/upstream/series measurable: its patches
// apply, in order, to the GoBGP release t5gw uses, and t5gwd builds on the
// result (what `make bench-upstream` runs).
func TestUpstreamSeriesBuilds(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "t5gwd-upstream")
	out, err := exec.Command("sh", "upstream-t5gwd.sh", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("upstream-t5gwd.sh: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "replaced by a local copy") {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
}
