package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/t5gw/t5gw/test/lab"
)

// profilePath, when set, makes t5gwd write a CPU profile of its whole run there.
var profilePath string

// BenchmarkProfile runs t5gw once at 1,000 workers x 100 prefixes with a CPU
// profile and writes its top costs to docs/profile.md.
func BenchmarkProfile(b *testing.B) {
	lab.Require(b, "ip")
	dir := b.TempDir()
	profilePath = filepath.Join(dir, "t5gwd.cpu")
	defer func() { profilePath = "" }()
	b.Run("t5gw/1000x100", func(b *testing.B) { runOnce(b, sysT5GW, scale{1000, 100}) })
	// The lab has stopped t5gwd with SIGTERM, so the profile is complete.
	top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", t5gwd, profilePath).CombinedOutput()
	if err != nil {
		b.Fatalf("pprof: %v\n%s", err, top)
	}
	cum, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=25", t5gwd, profilePath).CombinedOutput()
	if err != nil {
		b.Fatalf("pprof: %v\n%s", err, cum)
	}
	doc := fmt.Sprintf("# CPU profile of t5gwd at 1,000 workers x 100 prefixes\n\n"+
		"Written by `make bench` (BenchmarkProfile): one run of the benchmark's workload (sessions up, convergence, "+
		"1,000 single changes, every worker down) with `t5gwd --cpuprofile`, on %s. "+
		"docs/performance.md reads it.\n\n## By own time (flat)\n\n```\n%s```\n\n## By cumulative time\n\n```\n%s```\n",
		machine(), top, cum)
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "profile.md"), []byte(doc), 0o644); err != nil {
		b.Fatal(err)
	}
}
