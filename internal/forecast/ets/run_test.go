package ets

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// Run predicts every test close from the training fit's parameters and
// initial states run through all the closes before it: the same as filtering
// the fitted model afresh over closes[:i], not a refit.
func TestRunFiltersTheTrainingFit(t *testing.T) {
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	rep, err := Run(context.Background(), closes, 7, nil)
	require.NoError(t, err)
	train := forecast.TestStart(len(closes))
	first, err := Fit(closes[:train], Config{})
	require.NoError(t, err)
	require.Len(t, rep.Test, len(closes)-train)
	for k, p := range rep.Test {
		i := train + k
		fresh := *first
		fresh.filter(closes[:i], nil)
		pi80, pi95 := fresh.ForecastBands(1)
		require.Equal(t, i, p.Index)
		require.InDelta(t, fresh.Forecast(1)[0], p.Predicted, 1e-9*closes[i], "test close %d", i)
		require.InDelta(t, pi80[0].Lower, p.PI80.Lower, 1e-9*closes[i])
		require.InDelta(t, pi95[0].Upper, p.PI95.Upper, 1e-9*closes[i])
	}

	final, err := Fit(closes, Config{})
	require.NoError(t, err)
	require.Equal(t, final.Spec.String(), rep.Params["model"])
	require.Equal(t, first.Spec.String(), rep.Params["first_fit"].(map[string]any)["model"])
	require.Equal(t, final.Forecast(7), rep.Forecast)
	require.Len(t, rep.Params["candidates"], len(Specs()))
	require.Len(t, rep.ForecastPI95, 7)
	require.NotEmpty(t, rep.Coverage)
}

func TestRunRefusesTooShortASeries(t *testing.T) {
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	_, err := Run(context.Background(), closes[:12], 7, nil)
	require.ErrorIs(t, err, forecast.ErrNotEnoughData)
	_, err = Run(context.Background(), closes[:13], 7, nil)
	require.NoError(t, err, "13 closes leave 10 to train on and 3 to test")
}

// A series with a close at or below zero gets additive errors only, as in
// R, and a fixed multiplicative model is refused.
func TestMultiplicativeErrorsNeedPositiveCloses(t *testing.T) {
	y := []float64{3, 1, -2, 0.5, 4, 2, -1, 3, 5, 2, 1, 4}
	m, err := Fit(y, Config{})
	require.NoError(t, err)
	require.False(t, m.Spec.Multiplicative)
	require.Len(t, m.Candidates, 3)
	_, err = Fit(y, Config{Model: "MNN"})
	require.ErrorContains(t, err, "above zero")
	_, err = Fit(y, Config{Model: "AMN"})
	require.ErrorContains(t, err, "unknown model")
}

// A constant series gets R's answer: ETS(A,N,N) with α 0.99999 forecasting
// the constant with no spread.
func TestConstantSeries(t *testing.T) {
	y := []float64{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}
	m, err := Fit(y, Config{})
	require.NoError(t, err)
	require.Equal(t, "ETS(A,N,N)", m.Spec.String())
	require.Equal(t, constantAlpha, m.Alpha)
	require.Equal(t, []float64{7, 7, 7}, m.Forecast(3))
	_, pi95 := m.ForecastBands(1)
	require.Zero(t, pi95[0].Width())
}
