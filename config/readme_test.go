package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// yamlBlock matches a fenced YAML example whose first line names its file.
var yamlBlock = regexp.MustCompile("(?s)```yaml\n# ([^\n]+?\\.yaml)\n(.*?)```")

// TestDocExamplesLoad loads every YAML example in the README and in docs/, so
// the docs cannot drift from what t5gwd accepts. A global file (t5gw.yaml)
// starts a set; the VRF files (vrfs.d/...) after it join that set.
func TestDocExamplesLoad(t *testing.T) {
	docs, _ := filepath.Glob("../docs/*.md")
	docs = append([]string{"../README.md"}, docs...)
	blocks := 0
	for _, doc := range docs {
		body, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		var sets []string // one directory per global file
		for _, m := range yamlBlock.FindAllStringSubmatch(string(body), -1) {
			name, text := m[1], m[2]
			blocks++
			if !strings.HasPrefix(name, "vrfs.d/") {
				dir := t.TempDir()
				if err := os.Mkdir(filepath.Join(dir, "vrfs.d"), 0o755); err != nil {
					t.Fatal(err)
				}
				sets = append(sets, dir)
				name = "t5gw.yaml"
			}
			if len(sets) == 0 {
				t.Fatalf("%s: %s comes before any global file", doc, name)
			}
			if err := os.WriteFile(filepath.Join(sets[len(sets)-1], name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for i, dir := range sets {
			if _, err := Load(filepath.Join(dir, "t5gw.yaml")); err != nil {
				t.Errorf("%s: example set %d does not load:\n%v", doc, i+1, err)
			}
		}
	}
	if blocks < 3 {
		t.Errorf("found %d YAML examples in the docs, want at least 3: is the pattern right?", blocks)
	}
}
