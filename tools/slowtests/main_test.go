package main

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// run feeds lines to a report and returns what it printed.
func run(t *testing.T, lines []string) (string, bool) {
	t.Helper()
	var out strings.Builder
	r := newReport(&out)
	for _, l := range lines {
		r.line(l)
	}
	r.finish(10)
	return out.String(), r.failed
}

// TestAFailingRunReadsAsGoTestsOwn replays `go test -json ./...` over a
// module with a failing test, a panicking one, one that does not build and
// a passing package (testdata/mixed.json).
func TestAFailingRunReadsAsGoTestsOwn(t *testing.T) {
	f, err := os.Open("testdata/mixed.json")
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	for s := bufio.NewScanner(f); s.Scan(); {
		lines = append(lines, s.Text())
	}
	out, failed := run(t, lines)
	require.True(t, failed)
	for _, want := range []string{
		"--- FAIL: TestBad (", "--- FAIL: TestBad/sub_bad (", "a_test.go:4: boom", "a_test.go:4: before", "printed\n",
		"FAIL\tfailmod/a\t",
		"--- FAIL: TestPanics (", "panic: assignment to entry in nil map", "FAIL\tfailmod/b\t",
		"c/c_test.go:3:27: undefined: undefined", "FAIL\tfailmod/c [build failed]\n",
		"ok  \tfailmod/d\t",
		"\nFAIL\n\nslowest 4 tests:\n",
	} {
		require.Contains(t, out, want)
	}
	for _, hidden := range []string{"=== RUN", "quiet", "--- PASS", "PASS\n"} {
		require.NotContains(t, out, hidden, "go test without -json does not show it")
	}
}

func TestAPassingRunShowsOkLinesThenTheSlowestTests(t *testing.T) {
	out, failed := run(t, []string{
		`{"Action":"start","Package":"m/p"}`,
		`{"Action":"run","Package":"m/p","Test":"TestQuick"}`,
		`{"Action":"output","Package":"m/p","Test":"TestQuick","Output":"=== RUN   TestQuick\n"}`,
		`{"Action":"output","Package":"m/p","Test":"TestQuick","Output":"    p_test.go:9: a log line\n"}`,
		`{"Action":"pass","Package":"m/p","Test":"TestQuick","Elapsed":0.5}`,
		`{"Action":"pass","Package":"m/p","Test":"TestSlow/case","Elapsed":7}`,
		`{"Action":"pass","Package":"m/p","Test":"TestSlow","Elapsed":7.25}`,
		`{"Action":"skip","Package":"m/p","Test":"TestSkipped","Elapsed":0}`,
		`{"Action":"output","Package":"m/p","Output":"PASS\n"}`,
		`{"Action":"output","Package":"m/p","Output":"ok  \tm/p\t7.9s\n"}`,
		`{"Action":"pass","Package":"m/p","Elapsed":7.9}`,
		`go: downloading example.com/x v1.0.0`,
		`{"Action":"output","Package":"m/q","Output":"?   \tm/q\t[no test files]\n"}`,
		`{"Action":"skip","Package":"m/q","Elapsed":0}`,
	})
	require.False(t, failed)
	require.Equal(t, "ok  \tm/p\t7.9s\n"+
		"go: downloading example.com/x v1.0.0\n"+
		"?   \tm/q\t[no test files]\n"+
		"\nslowest 2 tests:\n"+
		"    7.25s  m/p  TestSlow\n"+
		"    0.50s  m/p  TestQuick\n", out)
}
