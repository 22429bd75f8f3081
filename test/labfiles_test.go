package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
)

// fileOf reads a lab file: name under the lab directory dir (workers-lab,
// restart-lab, faults-lab, rfc7606-lab).
func fileOf(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// templateOf fills in a lab file that is a template; a missing value fails.
func templateOf(t *testing.T, dir, name string, values any) string {
	t.Helper()
	tmpl, err := template.New(name).Option("missingkey=error").Parse(fileOf(t, dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, values); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b.String()
}
