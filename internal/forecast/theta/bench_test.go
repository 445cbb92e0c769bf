package theta

import (
	"testing"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// BenchmarkFitReference computes thetaf(y, h = 10) for every series of
// ../ets/testdata/reference.json: the fit, the forecasts and their
// intervals, the Go side of bench/ets/compare.sh.
//
//	go test -run '^$' -bench FitReference ./internal/forecast/theta
func BenchmarkFitReference(b *testing.B) {
	for _, s := range loadReference(b) {
		b.Run(s.Name, func(b *testing.B) {
			forecasttest.ReportCPUTime(b, func() {
				m, err := Fit(s.Values)
				if err != nil {
					b.Fatal(err)
				}
				m.Forecast(10)
				m.ForecastBands(10)
			})
		})
	}
}
