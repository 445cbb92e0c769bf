package arima

import (
	"context"
	"testing"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// The walk-forward benchmarks reproduce the reference runs of
// models_ref.py --models arima (statsmodels refits ARIMA(6,1,0) from
// scratch before each one-step prediction). Compare their ns/op with the
// script's "seconds" on the same machine at the same time.

func BenchmarkWalkForwardSP500_504(b *testing.B) {
	benchmarkWalkForward(b, "gspc_last504.csv")
}

func BenchmarkWalkForwardMSFT(b *testing.B) {
	benchmarkWalkForward(b, "msft_1991_2000.csv")
}

func benchmarkWalkForward(b *testing.B, file string) {
	closes := forecasttest.Closes(b, file)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), closes, DefaultConfig(), 7, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilterMSFT is one likelihood evaluation of ARIMA(6,1,0) on the
// 2,529 MSFT closes, the unit of work the optimiser repeats.
func BenchmarkFilterMSFT(b *testing.B) {
	closes := forecasttest.Closes(b, "msft_1991_2000.csv")
	order := DefaultConfig().order()
	z, _ := difference(closes, order.D)
	obj := newObjective(z, order)
	x := make([]float64, obj.dim())
	for i := range x {
		x[i] = 0.05 * float64(i+1)
	}
	b.ReportAllocs()
	for b.Loop() {
		obj.value(x)
	}
}

func BenchmarkSelectOrderSP500_504(b *testing.B) {
	closes := forecasttest.Closes(b, "gspc_last504.csv")
	train := closes[:forecast.TestStart(len(closes))]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SelectOrder(context.Background(), train); err != nil {
			b.Fatal(err)
		}
	}
}
