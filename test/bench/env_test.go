package bench

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The benchmarks read these variables, so that one of them can be run at a
// chosen scale, on chosen systems, or on another build of t5gwd:
//
//	T5GW_BENCH_SCALES   scales instead of the benchmark's own, such as "10x1000,100x1000"
//	T5GW_BENCH_SYSTEMS  systems instead of the benchmark's own, such as "t5gw,frr"
//	T5GW_BENCH_BUILDS   other t5gwd binaries, as label=path: "up=bin/t5gwd-upstream"
//	                    makes the system "t5gw+up" (`make bench-upstream` uses it);
//	                    a relative path is from the repository's root
//	T5GW_BENCH_DOCS     the directory the reports go to instead of docs/
//	T5GW_BENCH_PROFILES a directory to keep BenchmarkHeap's heap profiles in

// scalesFromEnv is T5GW_BENCH_SCALES's scales, or def.
func scalesFromEnv(def []scale) []scale {
	s := os.Getenv("T5GW_BENCH_SCALES")
	if s == "" {
		return def
	}
	var scales []scale
	for _, f := range strings.Split(s, ",") {
		var sc scale
		fmt.Sscanf(f, "%dx%d", &sc.N, &sc.M)
		scales = append(scales, sc)
	}
	return scales
}

// systemsFromEnv is T5GW_BENCH_SYSTEMS's systems, or def.
func systemsFromEnv(def []string) []string {
	if s := os.Getenv("T5GW_BENCH_SYSTEMS"); s != "" {
		return strings.Split(s, ",")
	}
	return def
}

// docPath is where the report called name goes.
func docPath(name string) string {
	if dir := os.Getenv("T5GW_BENCH_DOCS"); dir != "" {
		return filepath.Join(dir, name)
	}
	return filepath.Join(repoRoot, "docs", name)
}

// repoRoot is the repository's root as seen from the benchmarks, which go
// test runs in test/bench.
const repoRoot = "../.."

// isT5GW says whether sys is t5gwd: this tree's build or one of
// T5GW_BENCH_BUILDS.
func isT5GW(sys string) bool { return sys == sysT5GW || strings.HasPrefix(sys, sysT5GW+"+") }

// builds is T5GW_BENCH_BUILDS: each label with its binary.
func builds() map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(os.Getenv("T5GW_BENCH_BUILDS"), ",") {
		if label, path, ok := strings.Cut(kv, "="); ok {
			m[label] = path
		}
	}
	return m
}

// t5gwdOf is the binary that runs the system sys.
func t5gwdOf(tb testing.TB, sys string) string {
	label, ok := strings.CutPrefix(sys, sysT5GW+"+")
	if !ok {
		return t5gwd
	}
	path, ok := builds()[label]
	if !ok {
		tb.Fatalf("system %q: no build %q in T5GW_BENCH_BUILDS=%q", sys, label, os.Getenv("T5GW_BENCH_BUILDS"))
	}
	if !filepath.IsAbs(path) { // as typed at the repository's root
		path = filepath.Join(repoRoot, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		tb.Fatalf("system %q: build %q: %v", sys, label, err)
	}
	return abs
}

// buildsNote says, for a report, which systems are other builds of t5gwd.
func buildsNote() string {
	var s strings.Builder
	bs := builds()
	for _, label := range slices.Sorted(maps.Keys(bs)) {
		path := bs[label]
		fmt.Fprintf(&s, "\n`%s+%s` is the t5gwd binary %s", sysT5GW, label, filepath.Base(path))
		if label == "upstream" {
			fmt.Fprintf(&s, ": this tree on GoBGP with the %s of docs/upstream/series (`make bench-upstream`)", seriesPatches())
		}
		s.WriteString(".\n")
	}
	return s.String()
}

// seriesPatches says how many patches docs/upstream/series lists, which
// `make bench-upstream` and `make curves-upstream` build on first.
func seriesPatches() string {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "docs", "upstream", "series"))
	if err != nil {
		return "patches"
	}
	n := 0
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return fmt.Sprintf("%d patches", n)
}

// writtenBy is the make target that writes a report, from target, the one
// for this tree's build: the upstream build's are target-upstream's.
func writtenBy(target string) string {
	if _, ok := builds()["upstream"]; ok {
		target += "-upstream"
	}
	return "`make " + target + "`"
}
