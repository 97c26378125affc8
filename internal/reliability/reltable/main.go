// Command reltable reads `go test -json` on stdin, prints what `go test`
// would (package results, and the output of failed tests; everything with
// -v), then the table of RELIABILITY.md §3 — test, invariant, result, and
// where each is covered (reliability.Catalog) — and the figures the tests
// reported ("figure: name=value unit", the largest per name). It exits 1 if
// any test or package failed.
//
//	go test -json ./... | go run ./internal/reliability/reltable
//	go test -run "$(go run ./internal/reliability/reltable -regex)" ./...
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/rivulet-cdc/rivulet/internal/reliability"
)

const module = "github.com/rivulet-cdc/rivulet/"

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type figure struct {
	value float64
	unit  string
	test  string
}

var figureRE = regexp.MustCompile(`figure: ([a-z0-9_]+)=([-0-9.e+]+) ?(\S*)`)

func main() {
	verbose := flag.Bool("v", false, "print the output of every test, not only of failed ones")
	regex := flag.Bool("regex", false, "print the -run pattern of every catalogued test and exit")
	flag.Parse()
	if *regex {
		fmt.Println(runPattern())
		return
	}
	os.Exit(run(os.Stdin, os.Stdout, *verbose))
}

// runPattern matches every test the catalog names, and TestChaos*.
func runPattern() string {
	seen := map[string]bool{}
	var names []string
	for _, e := range reliability.Catalog {
		for _, t := range e.Tests {
			_, name, _ := strings.Cut(t, " ")
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	sort.Strings(names)
	return "^(" + strings.Join(names, "|") + "|TestChaos.*)$"
}

func run(in io.Reader, out io.Writer, verbose bool) int {
	results := map[string]string{} // "<dir> <Test>" -> pass, fail, skip
	skipWhy := map[string]string{}
	figures := map[string]figure{}
	buffered := map[string][]string{}
	failed := false
	packages := 0 // packages that reported a result
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			fmt.Fprintln(out, string(line)) // not JSON: a build error or go's own message
			continue
		}
		dir := strings.TrimPrefix(ev.Package, module)
		if ev.Package+"/" == module {
			dir = "."
		}
		if ev.Test == "" {
			switch ev.Action {
			case "output", "build-output": // build-output: compiler errors (go test -json, Go 1.24+)
				fmt.Fprint(out, ev.Output)
			case "build-fail":
				failed = true
			case "fail":
				failed = true
				packages++
			case "pass", "skip":
				packages++
			}
			continue
		}
		top, _, _ := strings.Cut(ev.Test, "/")
		key := dir + " " + top
		switch ev.Action {
		case "output":
			if m := figureRE.FindStringSubmatch(ev.Output); m != nil {
				v, err := strconv.ParseFloat(m[2], 64)
				if f, ok := figures[m[1]]; err == nil && (!ok || v > f.value) {
					figures[m[1]] = figure{value: v, unit: m[3], test: top}
				}
			}
			if strings.Contains(ev.Output, "--- SKIP") || strings.Contains(ev.Output, ": slow: ") || strings.Contains(ev.Output, "skipping") {
				if _, ok := skipWhy[key]; !ok && !strings.Contains(ev.Output, "--- SKIP") {
					skipWhy[key] = strings.TrimSpace(ev.Output)
				}
			}
			if verbose {
				fmt.Fprint(out, ev.Output)
			} else {
				buffered[ev.Test] = append(buffered[ev.Test], ev.Output)
			}
		case "pass", "fail", "skip":
			if ev.Test == top {
				results[key] = ev.Action
			}
			if ev.Action == "fail" {
				failed = true
				if !verbose {
					for _, l := range buffered[ev.Test] {
						fmt.Fprint(out, l)
					}
				}
			}
			delete(buffered, ev.Test)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "reltable: read: %v\n", err)
		failed = true
	}
	printTable(out, results, figures)
	if packages == 0 {
		fmt.Fprintln(out, "reltable: no package reported a result: go test did not run")
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

func printTable(out io.Writer, results map[string]string, figures map[string]figure) {
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Reliability suite (RELIABILITY.md §3): test, invariant, result")
	fmt.Fprintf(out, "%-3s %-48s %-9s %-7s %s\n", "#", "test", "invariant", "result", "covered by (result)")
	var pass, fail, notRun int
	for _, e := range reliability.Catalog {
		var parts []string
		anyFail, anyPass := false, false
		for _, t := range e.Tests {
			r := results[t]
			switch r {
			case "":
				r = "not run"
			case "pass":
				anyPass = true
			case "fail":
				anyFail = true
			}
			parts = append(parts, t+" ("+strings.ToUpper(r)+")")
		}
		res := "PASS"
		switch {
		case anyFail:
			res, fail = "FAIL", fail+1
		case anyPass:
			pass++
		case e.Slow:
			res, notRun = "chaos", notRun+1
		default:
			res, notRun = "not run", notRun+1
		}
		fmt.Fprintf(out, "%-3d %-48s %-9s %-7s %s\n", e.N, e.Name, e.Invariants, res, strings.Join(parts, ", "))
		if e.Note != "" {
			fmt.Fprintf(out, "    %-48s %-9s %-7s   note: %s\n", "", "", "", e.Note)
		}
	}
	fmt.Fprintf(out, "tests passing: %d of %d (%d failed, %d not run here", pass, len(reliability.Catalog), fail, notRun)
	if notRun > 0 {
		fmt.Fprint(out, "; \"chaos\" rows run under make chaos")
	}
	fmt.Fprintln(out, ")")
	if len(figures) == 0 {
		return
	}
	fmt.Fprintln(out, "figures (largest observed):")
	names := make([]string, 0, len(figures))
	for n := range figures {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := figures[n]
		fmt.Fprintf(out, "  %-36s %12s %-8s (%s)\n", n, strconv.FormatFloat(f.value, 'f', -1, 64), f.unit, f.test)
	}
}
