// Command slowtests reads `go test -json` on its standard input, prints what
// `go test` would have printed without -json, and then the slowest tests, so
// that the next slow test is seen when it comes:
//
//	set -o pipefail; go test -json ./... | go run ./tools/slowtests
//
// A passing package shows its "ok" line only; a failing one shows the
// output of its failing tests and of the package, then its FAIL lines, as
// go test does. Build errors and anything that is not a JSON event pass
// through at once. It exits 1 when a package failed, so the verdict holds
// even without pipefail.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// event is one line of `go test -json` (see `go doc cmd/test2json`).
type event struct {
	Action   string
	Package  string
	Test     string
	Elapsed  float64
	Output   string
	FailedAt string `json:"FailedBuild"`
}

// timing is how long one top-level test took.
type timing struct {
	pkg, test string
	seconds   float64
}

// chunk is a piece of a package's output, and the test that printed it
// ("" for the package itself).
type chunk struct {
	test, text string
}

// report turns the events into go test's own output and the timings.
type report struct {
	out     io.Writer
	pending map[string][]chunk         // output of packages still running
	ended   map[string]map[string]bool // per package, tests that passed or were skipped
	timings []timing
	failed  bool
}

func newReport(out io.Writer) *report {
	return &report{out: out, pending: map[string][]chunk{}, ended: map[string]map[string]bool{}}
}

// line handles one line of input.
func (r *report) line(text string) {
	var e event
	if !strings.HasPrefix(text, "{") || json.Unmarshal([]byte(text), &e) != nil {
		fmt.Fprintln(r.out, text)
		return
	}
	switch e.Action {
	case "build-output":
		fmt.Fprint(r.out, e.Output)
	case "output":
		r.pending[e.Package] = append(r.pending[e.Package], chunk{e.Test, e.Output})
	case "pass", "skip", "fail":
		if e.Test == "" {
			r.packageDone(e.Package, e.Action)
			return
		}
		if e.Action != "fail" {
			if r.ended[e.Package] == nil {
				r.ended[e.Package] = map[string]bool{}
			}
			r.ended[e.Package][e.Test] = true
		}
		if e.Action != "skip" && !strings.Contains(e.Test, "/") {
			r.timings = append(r.timings, timing{e.Package, e.Test, e.Elapsed})
		}
	}
}

// packageDone prints a finished package's output as go test would.
func (r *report) packageDone(pkg, action string) {
	chunks, passed := r.pending[pkg], r.ended[pkg]
	delete(r.pending, pkg)
	delete(r.ended, pkg)
	if action == "fail" {
		r.failed = true
	}
	var text strings.Builder
	for _, c := range chunks {
		if c.test != "" && (action != "fail" || passed[c.test]) {
			continue
		}
		text.WriteString(c.text)
	}
	for l := range strings.Lines(text.String()) {
		switch {
		case strings.HasPrefix(l, "=== "):
			// The framing of -test.v, which go test without -json hides.
		case action == "pass" && !strings.HasPrefix(l, "ok  "):
			// A passing package shows its summary line only.
		default:
			fmt.Fprint(r.out, l)
		}
	}
}

// slowest prints the n slowest top-level tests.
func (r *report) slowest(n int) {
	if n <= 0 || len(r.timings) == 0 {
		return
	}
	slices.SortStableFunc(r.timings, func(a, b timing) int { return cmp.Compare(b.seconds, a.seconds) })
	fmt.Fprintf(r.out, "\nslowest %d tests:\n", min(n, len(r.timings)))
	for _, t := range r.timings[:min(n, len(r.timings))] {
		fmt.Fprintf(r.out, "%8.2fs  %s  %s\n", t.seconds, t.pkg, t.test)
	}
}

// finish prints what a package that never ended printed (go test killed,
// say), go test's closing FAIL when anything failed, then the timings.
func (r *report) finish(n int) {
	for _, pkg := range slices.Sorted(maps.Keys(r.pending)) {
		r.packageDone(pkg, "fail")
	}
	if r.failed {
		fmt.Fprintln(r.out, "FAIL")
	}
	r.slowest(n)
}

func main() {
	n := flag.Int("n", 10, "how many of the slowest tests to list")
	flag.Parse()
	r := newReport(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for in.Scan() {
		r.line(in.Text())
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "slowtests:", err)
		r.failed = true
	}
	r.finish(*n)
	if r.failed {
		os.Exit(1)
	}
}
