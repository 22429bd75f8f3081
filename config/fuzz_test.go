package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadVRF loads any text as a VRF file next to a good global file: Load
// must never panic, and a config it accepts must plan no change against
// itself.
func FuzzLoadVRF(f *testing.F) {
	for _, seed := range []string{
		goodVRF,
		goodVRF + "paths: add-path\nunresolved: fallback\nrouter-mac: 02:00:00:00:40:01\n",
		"name: red\nl3vni: 99999999\n",
		"name: x\nl3vni: 1\nworkers: {listen: [\"::1\"], peers: [{range: \"::/0\", asn: 1}], accept: [\"::/0 le 128\"]}\n",
		"Name: blue\n\tl3vni: [\n",
		"name: blue\nl3vni: 4001\nworkers:\n  accept: [\"10.0.0.0/8 ge 33\", \"224.0.0.0/4\"]\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, vrf string) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "vrfs.d"), 0o755); err != nil {
			t.Fatal(err)
		}
		global := filepath.Join(dir, "t5gw.yaml")
		if err := os.WriteFile(global, []byte(goodGlobal), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "vrfs.d", "fuzz.yaml"), []byte(vrf), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(global)
		if err != nil {
			return
		}
		if p := Diff(c, c); !p.Empty() {
			t.Fatalf("a config differs from itself: %v", p.Steps())
		}
	})
}
