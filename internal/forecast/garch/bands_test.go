package garch

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/arima"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// coverage95 is the empirical coverage of the report's 95% bands.
func coverage95(t *testing.T, rep *forecast.Report) forecast.Coverage {
	t.Helper()
	for _, c := range forecast.CoverageOf(rep.Test) {
		if c.Level == forecast.Level95 {
			return c
		}
	}
	t.Fatal("no 95% bands")
	return forecast.Coverage{}
}

// TestBandsHoldInTheCrash is issue 20's goal, measured: on the bundled
// S&P 500's last 504 closes, whose 101 test days (2019-11-21 to
// 2020-04-17) hold the COVID crash, ARIMA(6,1,0)'s own 95% band held 72%
// of the closes (docs/benchmarks.md). With GARCH bands around the same
// predictions the 95% band must hold more, and within 3 points of 95%.
func TestBandsHoldInTheCrash(t *testing.T) {
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	rep, err := arima.Run(context.Background(), closes, arima.DefaultConfig(), 7, nil)
	require.NoError(t, err)
	fixed := coverage95(t, rep)
	require.InDelta(t, 0.723, fixed.Covered, 0.005, "the window and model of docs/benchmarks.md")

	require.NoError(t, SetBands(context.Background(), rep, closes))
	got := coverage95(t, rep)
	t.Logf("ARIMA(6,1,0) 95%% band coverage on %d crash-window test days: fixed %.1f%% (mean width %.1f), GARCH %.1f%% (mean width %.1f, %d days)",
		fixed.Points, 100*fixed.Covered, fixed.MeanWidth, 100*got.Covered, got.MeanWidth, got.Points)
	require.Equal(t, len(rep.Test), got.Points, "every test day has a GARCH band")
	require.Greater(t, got.Covered, fixed.Covered)
	require.InDelta(t, forecast.Level95, got.Covered, 0.03)

	require.Len(t, rep.ForecastPI95, 7)
	for k := 1; k < 7; k++ {
		require.Greater(t, rep.ForecastPI95[k].Width()/rep.Forecast[k], rep.ForecastPI95[k-1].Width()/rep.Forecast[k-1], "bands widen with the distance")
	}
}

// TestSetBandsUsesOnlyThePast changes the closes after a test point's
// origin: that point's band must not move, or the walk-forward would have
// seen the future it is judged on.
func TestSetBandsUsesOnlyThePast(t *testing.T) {
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	rep, err := forecast.Persistence(context.Background(), closes, 3)
	require.NoError(t, err)
	require.NoError(t, SetBands(context.Background(), rep, closes))
	cut := len(rep.Test) / 2
	origin := rep.Test[cut].Index - 1

	changed := slices.Clone(closes)
	for i := origin + 1; i < len(changed); i++ {
		changed[i] *= 1 + 0.05*float64(i%3-1)
	}
	again, err := forecast.Persistence(context.Background(), changed, 3)
	require.NoError(t, err)
	require.NoError(t, SetBands(context.Background(), again, changed))
	for i := 0; i <= cut; i++ {
		require.Equal(t, *rep.Test[i].PI95, *again.Test[i].PI95, "test point %d", i)
	}
	require.NotEqual(t, *rep.Test[cut+1].PI95, *again.Test[cut+1].PI95, "a later point's band does see the change")
}

// TestSetBandsNeedsHistory gives a test point too few returns before it no
// band, and a series too short to fit an error that leaves the model's own
// bands in place.
func TestSetBandsNeedsHistory(t *testing.T) {
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)[:60]
	rep, err := forecast.Persistence(context.Background(), closes, 1)
	require.NoError(t, err)
	require.NoError(t, SetBands(context.Background(), rep, closes))
	withBand := 0
	for _, p := range rep.Test {
		require.Equal(t, p.Index-1 >= MinReturns, p.PI95 != nil, "test point at %d", p.Index)
		if p.PI95 != nil {
			withBand++
		}
	}
	require.True(t, withBand > 0 && withBand < len(rep.Test), "%d of %d points have a band", withBand, len(rep.Test))

	short := closes[:MinReturns]
	rep, err = forecast.Persistence(context.Background(), short, 1)
	require.NoError(t, err)
	own := slices.Clone(rep.ForecastPI95)
	require.ErrorIs(t, SetBands(context.Background(), rep, short), forecast.ErrNotEnoughData)
	require.Equal(t, own, rep.ForecastPI95)
}

// TestUpdateFollowsTheRecursion fits on all but the last returns and
// updates with those: the next day's variance must be the one the
// recursion gives over the whole series with the same parameters (whose
// different start, fGarch's mean of the squared residuals, has long
// decayed by then).
func TestUpdateFollowsTheRecursion(t *testing.T) {
	r, err := LogReturns(forecasttest.Closes(t, forecasttest.SP500Last504))
	require.NoError(t, err)
	k := len(r) - 30
	m, err := Fit(context.Background(), r[:k])
	require.NoError(t, err)
	for _, v := range r[k:] {
		m.Update(v)
	}
	_, e, h := negLogLik(r, [nParams]float64{m.Mu, m.Omega, m.Alpha, m.Beta, m.Shape}, nil)
	want := m.Omega + m.Alpha*e*e + m.Beta*h
	require.InEpsilon(t, want, m.VarianceForecast(1)[0], 1e-9)
	require.InEpsilon(t, m.Omega+(m.Alpha+m.Beta)*want, m.VarianceForecast(2)[1], 1e-9)
}
