package forecast

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGaussianBand(t *testing.T) {
	// The textbook quantiles: 1.2816 for 80%, 1.9600 for 95%.
	b := GaussianBand(100, 10, Level80)
	require.InDelta(t, 100-12.815515655446, b.Lower, 1e-9)
	require.InDelta(t, 100+12.815515655446, b.Upper, 1e-9)
	b = GaussianBand(100, 10, Level95)
	require.InDelta(t, 19.599639845400, b.Width()/2, 1e-9)
	require.True(t, b.Contains(80.5))
	require.False(t, b.Contains(79.9))
}

func TestConformalQuantile(t *testing.T) {
	errs := []float64{5, 1, 4, 2, 3}
	// n = 5: at 80% the rank is ⌈6·0.8⌉ = 5, the largest error.
	q, ok := ConformalQuantile(errs, Level80)
	require.True(t, ok)
	require.Equal(t, 5.0, q)
	require.Equal(t, []float64{5, 1, 4, 2, 3}, errs, "the input is not reordered")
	// At 95% the rank is 6 > 5: no finite band.
	_, ok = ConformalQuantile(errs, Level95)
	require.False(t, ok)
	// n = 19 is the smallest sample with a 95% band: rank ⌈20·0.95⌉ = 19.
	nineteen := make([]float64, 19)
	for i := range nineteen {
		nineteen[i] = float64(i + 1)
	}
	q, ok = ConformalQuantile(nineteen, Level95)
	require.True(t, ok)
	require.Equal(t, 19.0, q)
	_, ok = ConformalQuantile(nil, Level80)
	require.False(t, ok)
}

func TestSetConformalBandsUsesOnlyEarlierErrors(t *testing.T) {
	rep := &Report{
		Forecast: []float64{10, 10},
		Test: []TestPoint{
			{Index: 10, Actual: 11, Predicted: 10}, // |e| = 1
			{Index: 11, Actual: 10, Predicted: 12}, // |e| = 2
			{Index: 12, Actual: 20, Predicted: 10}, // |e| = 10
		},
	}
	SetConformalBands(rep, []float64{-1, 0.5, 3})
	// Point 0 sees the three prior errors 1, 0.5, 3: at 80% rank ⌈4·0.8⌉ = 4 > 3.
	require.Nil(t, rep.Test[0].PI80)
	// Point 1 sees 1, 0.5, 3, 1: rank 4 → 3.
	require.Equal(t, &Band{Lower: 9, Upper: 15}, rep.Test[1].PI80)
	// Point 2 sees 1, 0.5, 3, 1, 2: rank ⌈6·0.8⌉ = 5 → 3; its own error of
	// 10 is not among them.
	require.Equal(t, &Band{Lower: 7, Upper: 13}, rep.Test[2].PI80)
	for _, p := range rep.Test {
		require.Nil(t, p.PI95, "fewer than 19 errors")
	}
	// Too few errors for a 95% band: no forecast bands at all.
	require.Empty(t, rep.ForecastPI80)
	require.Empty(t, rep.ForecastPI95)
}

// SetConformalBands keeps its errors sorted as they come; every band must
// still be the one ConformalQuantile gives over that point's errors.
func TestSetConformalBandsMatchesTheQuantileOfEveryPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	prior := make([]float64, 60)
	for i := range prior {
		prior[i] = float64(rng.IntN(41)-20) / 4 // ties on purpose
	}
	rep := &Report{Forecast: []float64{100, 100, 100}}
	for i := range 200 {
		rep.Test = append(rep.Test, TestPoint{Index: 60 + i, Actual: 100 + float64(rng.IntN(41)-20)/4, Predicted: 100})
	}
	SetConformalBands(rep, prior)

	var errs []float64
	for _, e := range prior {
		errs = append(errs, math.Abs(e))
	}
	band := func(level float64) *Band {
		q, ok := ConformalQuantile(errs, level)
		if !ok {
			return nil
		}
		return &Band{Lower: 100 - q, Upper: 100 + q}
	}
	for i, p := range rep.Test {
		require.Equal(t, band(Level80), p.PI80, "point %d", i)
		require.Equal(t, band(Level95), p.PI95, "point %d", i)
		errs = append(errs, math.Abs(p.Predicted-p.Actual))
	}
	q95, ok := ConformalQuantile(errs, Level95)
	require.True(t, ok)
	require.Equal(t, Band{Lower: 100 - q95, Upper: 100 + q95}, rep.ForecastPI95[0])
}

func TestSetConformalBandsForecastGrowsWithSqrtHorizon(t *testing.T) {
	prior := make([]float64, 39)
	for i := range prior {
		prior[i] = float64(i%2*2 - 1) // ±1
	}
	rep := &Report{Forecast: []float64{50, 50, 50, 50}, Test: []TestPoint{{Index: 40, Actual: 51, Predicted: 50}}}
	SetConformalBands(rep, prior)
	require.Len(t, rep.ForecastPI95, 4)
	require.Equal(t, Band{Lower: 49, Upper: 51}, rep.ForecastPI95[0])
	require.InDelta(t, 2*2, rep.ForecastPI95[3].Width(), 1e-12, "√4 times the one-step width")
	require.Equal(t, &Band{Lower: 49, Upper: 51}, rep.Test[0].PI95)
}

func TestCoverageOf(t *testing.T) {
	test := []TestPoint{
		{Actual: 10, PI80: &Band{Lower: 9, Upper: 11}, PI95: &Band{Lower: 8, Upper: 12}},
		{Actual: 15, PI80: &Band{Lower: 9, Upper: 13}, PI95: &Band{Lower: 8, Upper: 16}},
		{Actual: 20, PI80: &Band{Lower: 19, Upper: 19.5}},
		{Actual: 30},
	}
	require.Equal(t, []Coverage{
		{Level: Level80, Covered: 1.0 / 3, MeanWidth: (2 + 4 + 0.5) / 3, Points: 3},
		{Level: Level95, Covered: 1, MeanWidth: 6, Points: 2},
	}, CoverageOf(test))
	require.Empty(t, CoverageOf([]TestPoint{{Actual: 1}}))
}
