package ets

import (
	"testing"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// BenchmarkFitReference fits every series of testdata/reference.json as R's
// ets(y) does (the automatic search over six models), the Go side of the
// side-by-side comparison bench/ets/compare.sh makes with
// testdata/bench_reference.R.
//
//	go test -run '^$' -bench FitReference ./internal/forecast/ets
func BenchmarkFitReference(b *testing.B) {
	for _, s := range loadReference(b).Series {
		b.Run(s.Name, func(b *testing.B) {
			forecasttest.ReportCPUTime(b, func() {
				if _, err := Fit(s.Values, Config{}); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
