package server

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// TestOpenAPICoversRoutes fails when a route or one of its methods is
// missing from openapi.yaml.
func TestOpenAPICoversRoutes(t *testing.T) {
	documented := openAPIOperations(t)
	for _, r := range New(Config{}).routes() {
		path := strings.TrimSuffix(r.pattern, "{$}")
		for method := range r.methods {
			if !documented[path][strings.ToLower(method)] {
				t.Errorf("openapi.yaml lacks %s %s", method, path)
			}
		}
	}
}

// openAPIOperations reads the paths section of openapi.yaml: path ->
// lower-case method -> true.
func openAPIOperations(t *testing.T) map[string]map[string]bool {
	t.Helper()
	ops := map[string]map[string]bool{}
	var path string
	inPaths := false
	sc := bufio.NewScanner(bytes.NewReader(openAPI))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			inPaths = true
		case inPaths && line != "" && !strings.HasPrefix(line, " "):
			inPaths = false
		case inPaths && strings.HasPrefix(line, "  /"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
			ops[path] = map[string]bool{}
		case inPaths && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			ops[path][strings.TrimSuffix(strings.TrimSpace(line), ":")] = true
		}
	}
	if len(ops) == 0 {
		t.Fatal("openapi.yaml has no paths")
	}
	return ops
}
