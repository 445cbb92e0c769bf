package arima

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKPSSStatisticMatchesStatsmodels(t *testing.T) {
	ref := loadReference(t)
	require.NotEmpty(t, ref.KPSS)
	for _, c := range ref.KPSS {
		t.Run(c.Name, func(t *testing.T) {
			require.InEpsilon(t, c.Statistic, kpssStatistic(c.Series), 1e-10)
		})
	}
}

func TestKPSSDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]float64, 500)
	for i := range noise {
		noise[i] = rng.NormFloat64()
	}
	walk := cumulativeSum(noise)
	tests := []struct {
		name string
		y    []float64
		want int
	}{
		{name: "white noise", y: noise, want: 0},
		{name: "random walk", y: walk, want: 1},
		{name: "integrated twice", y: cumulativeSum(walk), want: 2},
		{name: "constant", y: []float64{3, 3, 3, 3, 3, 3}, want: 0},
		{name: "straight line becomes constant", y: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, kpssDifferences(tt.y, MaxD))
		})
	}
}

func cumulativeSum(x []float64) []float64 {
	out := make([]float64, len(x))
	var s float64
	for i, v := range x {
		s += v
		out[i] = s
	}
	return out
}
