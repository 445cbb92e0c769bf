// The analyzer's test type-checks the standard library from source, which
// the race detector makes cost seconds of CPU in every make test for a
// single-goroutine program; make lint runs it, without -race.

//go:build !race

package main

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), Analyzer, "a")
}
