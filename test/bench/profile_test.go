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

// BenchmarkProfile runs t5gw once at 1,000 workers x 100 prefixes and once at
// 10 x 10,000 with a CPU profile and writes their top costs to docs/profile.md.
func BenchmarkProfile(b *testing.B) {
	lab.Require(b, "ip")
	doc := fmt.Sprintf("# CPU profiles of t5gwd\n\n"+
		"Written by %s (BenchmarkProfile): one run of the benchmark's workload (sessions up, convergence, "+
		"1,000 single changes, every worker down) with `t5gwd --cpuprofile`, on %s. "+
		"docs/performance.md reads them.\n%s", writtenBy("bench"), machine(), buildsNote())
	sys := systemsFromEnv([]string{sysT5GW})[0]
	bin := t5gwdOf(b, sys)
	for _, sc := range scalesFromEnv([]scale{{1000, 100}, {10, 10000}}) {
		profilePath = filepath.Join(b.TempDir(), "t5gwd.cpu")
		b.Run(fmt.Sprintf("%s/%dx%d", sys, sc.N, sc.M), func(b *testing.B) { runOnce(b, sys, sc) })
		// The lab has stopped t5gwd with SIGTERM, so the profile is complete.
		top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", bin, profilePath).CombinedOutput()
		if err != nil {
			b.Fatalf("pprof: %v\n%s", err, top)
		}
		cum, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=25", bin, profilePath).CombinedOutput()
		if err != nil {
			b.Fatalf("pprof: %v\n%s", err, cum)
		}
		doc += fmt.Sprintf("\n## %d workers x %d prefixes\n\n### By own time (flat)\n\n```\n%s```\n\n"+
			"### By cumulative time\n\n```\n%s```\n", sc.N, sc.M, top, cum)
	}
	profilePath = ""
	if err := os.WriteFile(docPath("profile.md"), []byte(doc), 0o644); err != nil {
		b.Fatal(err)
	}
}
