package engine

import (
	"os/exec"
	"strings"
	"testing"
)

// allowed lists, per package of ours, the packages of ours it may import
// (DESIGN.md: imports point down, never sideways or up).
var allowed = map[string][]string{
	"event":             {"schema"},
	"binlog":            {"schema", "offsets", "event"},
	"snapshot":          {"schema", "offsets", "event"},
	"sink":              {"schema", "event"},
	"sink/avro":         {"sink", "schema", "event"},
	"sink/debeziumjson": {"sink", "schema", "event"},
	"schema":            {},
	"offsets":           {},
	"metrics":           {},
	"config":            {},
	"engine":            {"binlog", "snapshot", "schema", "sink", "sink/avro", "sink/debeziumjson", "offsets", "metrics", "config", "event"},
	"verify":            {"schema", "snapshot", "sink", "event", "offsets"},
	"cmd/rivulet":       {"*"},

	// internal/: the test environments import nothing of ours, so a test
	// environment never runs the code it is meant to check; the suites and
	// the benchmark may import anything. Production packages never import
	// internal/ (checked below).
	"internal/testenv":              {},
	"internal/srtest":               {},
	"internal/mysqlstub":            {},
	"internal/mysql8":               {},
	"internal/bench":                {"*"},
	"internal/conformance":          {"*"},
	"internal/ddlcorpus":            {"*"},
	"internal/differential":         {"*"},
	"internal/reliability":          {"*"},
	"internal/reliability/reltable": {"*"},
	// sink's test fixtures: fixture imports only schema and event, so that
	// package sink's own tests can use it; sinktest (the cases its formats'
	// tests share) anything.
	"sink/internal/fixture":  {"schema", "event"},
	"sink/internal/sinktest": {"*"},
}

func TestDependencyRule(t *testing.T) {
	const mod = "github.com/rivulet-cdc/rivulet/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, ok := strings.CutPrefix(f[0], mod)
		if !ok {
			continue
		}
		internal := strings.HasPrefix(pkg, "internal/")
		ok2, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the dependency table: add it to DESIGN.md and here", pkg)
			continue
		}
		for _, imp := range f[1:] {
			dep, ours := strings.CutPrefix(imp, mod)
			if !ours || (len(ok2) == 1 && ok2[0] == "*") {
				continue
			}
			if strings.HasPrefix(dep, "internal/") && !internal {
				t.Errorf("%s imports %s: internal test helpers are for tests only", pkg, dep)
				continue
			}
			found := false
			for _, a := range ok2 {
				found = found || a == dep
			}
			if !found {
				t.Errorf("%s imports %s, which DESIGN.md does not allow", pkg, dep)
			}
		}
	}
}
