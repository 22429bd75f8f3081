package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileLints checks the image's Dockerfile the way a linter would,
// since no image can be built here (no registry): every instruction is one
// Docker knows, base images carry a tag, COPY --from names an earlier stage,
// what the build stage compiles exists, and CMD is in exec form.
func TestDockerfileLints(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"FROM": true, "RUN": true, "CMD": true, "LABEL": true, "EXPOSE": true, "ENV": true,
		"ADD": true, "COPY": true, "ENTRYPOINT": true, "VOLUME": true, "USER": true, "WORKDIR": true, "ARG": true,
		"ONBUILD": true, "STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true}
	stages := map[string]bool{}
	var cmd string
	text := strings.ReplaceAll(string(b), "\\\n", " ") // continuation lines
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		ins := strings.ToUpper(f[0])
		if !known[ins] || f[0] != ins {
			t.Errorf("line %d: %q is not an upper-case Dockerfile instruction", i+1, f[0])
		}
		switch ins {
		case "FROM":
			if !strings.Contains(f[1], ":") || strings.HasSuffix(f[1], ":latest") {
				t.Errorf("line %d: base image %s has no pinned tag", i+1, f[1])
			}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				stages[f[3]] = true
			}
		case "COPY":
			if strings.HasPrefix(f[1], "--from=") && !stages[strings.TrimPrefix(f[1], "--from=")] {
				t.Errorf("line %d: %s names no earlier stage", i+1, f[1])
			}
		case "CMD", "ENTRYPOINT":
			cmd = strings.TrimSpace(strings.TrimPrefix(line, f[0]))
		}
	}
	for _, pkg := range regexp.MustCompile(`\./cmd/[a-z0-9]+`).FindAllString(text, -1) {
		if _, err := os.Stat("../../" + pkg); err != nil {
			t.Errorf("the build compiles %s, which does not exist", pkg)
		}
	}
	var argv []string
	if err := json.Unmarshal([]byte(cmd), &argv); err != nil || len(argv) == 0 || argv[0] != "t5gwd" {
		t.Errorf("CMD %q is not the exec form of t5gwd (a shell would not pass SIGTERM on)", cmd)
	}
}
