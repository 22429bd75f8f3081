package test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateRobustness = flag.Bool("update-robustness", false, "rewrite the corpus table in ../docs/robustness.md")

// The generated part of docs/robustness.md lies between these lines.
const (
	tableBegin = "<!-- corpus table: generated from test/rfc7606_cases_test.go; go test -run TestRobustnessDoc -update-robustness . -->"
	tableEnd   = "<!-- end of corpus table -->"
)

// TestRobustnessDoc keeps docs/robustness.md's table of cases the same as
// the corpus TestRFC7606 asserts, so the document cannot drift from what
// the test checks. It needs no lab.
func TestRobustnessDoc(t *testing.T) {
	path := filepath.Join("..", "docs", "robustness.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, tableBegin), strings.Index(doc, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: no %q ... %q", path, tableBegin, tableEnd)
	}
	want := doc[:i] + tableBegin + "\n\n" + robustnessTable() + "\n" + doc[j:]
	if *updateRobustness {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s is out of date with the corpus: run go test -run TestRobustnessDoc -update-robustness .", path)
	}
}

// robustnessTable renders the corpus as a Markdown table, then the
// deviations, one paragraph per distinct reason.
func robustnessTable() string {
	var b strings.Builder
	b.WriteString("| # | Case | Sent by | RFC: expected handling | What t5gw did | Sessions that survived | Routes lost | Deviation | Reproduce |\n")
	b.WriteString("|---|------|---------|------------------------|---------------|------------------------|-------------|-----------|-----------|\n")
	var reasons []string
	cases := map[string][]string{}
	for i, cs := range append(append([]rfc7606Case{}, rawCases...), exabgpCases...) {
		by, survived := "raw speaker", "w1 (IPv4, IPv6), ExaBGP, fabric"
		if cs.exabgp != "" {
			by, survived = "ExaBGP", "w1 (IPv4, IPv6), ExaBGP (the offender), fabric"
		}
		did := string(cs.want)
		if cs.want == reset {
			did = fmt.Sprintf("session reset, NOTIFICATION %d/%d %s", cs.notify[0], cs.notify[1], notificationName(cs.notify))
		}
		if cs.note != "" {
			did += "; " + cs.note
		}
		dev := "no"
		if cs.deviation != "" {
			dev = "**yes**"
			if cases[cs.deviation] == nil {
				reasons = append(reasons, cs.deviation)
			}
			cases[cs.deviation] = append(cases[cs.deviation], "`"+cs.name+"`")
		}
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s: %s | %s | %s | 0 | %s | `go test -count=1 -run 'TestRFC7606/^%s$' -v .` |\n",
			i+1, cs.name, by, cs.rfc, cs.should, did, survived, dev, cs.name)
	}
	b.WriteString("\nDeviations from the RFCs, each asserted as observed:\n\n")
	for _, r := range reasons {
		fmt.Fprintf(&b, "- %s: %s.\n", strings.Join(cases[r], ", "), r)
	}
	return b.String()
}

func notificationName(n [2]byte) string {
	switch n {
	case [2]byte{1, 1}:
		return "(Connection Not Synchronized)"
	case [2]byte{1, 2}:
		return "(Bad Message Length)"
	case [2]byte{1, 3}:
		return "(Bad Message Type)"
	case [2]byte{3, 1}:
		return "(Malformed Attribute List)"
	case [2]byte{3, 2}:
		return "(Unrecognized Well-known Attribute)"
	case [2]byte{3, 5}:
		return "(Attribute Length Error)"
	case [2]byte{3, 10}:
		return "(Invalid Network Field)"
	case [2]byte{0, 0}:
		return "(error code 0: undefined)"
	}
	return ""
}
