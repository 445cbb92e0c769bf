package arima

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

func TestFilterLogLikelihoodMatchesStatsmodels(t *testing.T) {
	ref := loadReference(t)
	require.NotEmpty(t, ref.LogLike)
	for _, c := range ref.LogLike {
		t.Run(c.Name, func(t *testing.T) {
			order := orderOf(c.Order)
			m, err := Filter(c.Series, order, coefficientsFrom(order, c.Params))
			require.NoError(t, err)
			require.Equal(t, len(c.Series)-order.D, m.NObs)
			// Same model, same likelihood: agreement to rounding.
			require.InDelta(t, c.LogLikeDifferenced, m.LogLikelihood, 1e-6*math.Abs(c.LogLikeDifferenced))
			// statsmodels' ARIMA class uses an approximate diffuse prior
			// for the integrated states; it stays close to the exact value.
			require.InDelta(t, c.LogLikeARIMA, m.LogLikelihood, 0.01)
			require.InDeltaSlice(t, c.Forecast5, m.Forecast(5), 1e-6*math.Abs(c.Forecast5[0]))
		})
	}
}

// TestFitIsAtLeastAsLikelyAsStatsmodels fits each reference series and
// checks that the optimum found is no worse than statsmodels' optimum under
// the same (exact) likelihood, and close to it in the coefficients where
// the surface is well conditioned.
func TestFitIsAtLeastAsLikelyAsStatsmodels(t *testing.T) {
	ref := loadReference(t)
	for _, c := range ref.LogLike {
		t.Run(c.Name, func(t *testing.T) {
			order := orderOf(c.Order)
			theirs, err := Filter(c.Series, order, coefficientsFrom(order, c.FitParams))
			require.NoError(t, err)
			ours, err := Fit(context.Background(), c.Series, order, nil)
			require.NoError(t, err)
			require.GreaterOrEqual(t, ours.LogLikelihood, theirs.LogLikelihood-1e-6*math.Abs(theirs.LogLikelihood))
			require.InDelta(t, c.FitLLFARIMA, ours.LogLikelihood, 0.05)
		})
	}
}

func TestFirstFitCoefficientsMatchStatsmodels(t *testing.T) {
	ref := loadReference(t)
	files := map[string]string{"gspc_last504": "gspc_last504.csv", "msft_1991_2000": "msft_1991_2000.csv"}
	for _, c := range ref.FirstFit {
		t.Run(c.Name, func(t *testing.T) {
			closes := forecasttest.Closes(t, files[c.Name])
			require.Len(t, closes, c.N)
			order := orderOf(c.Order)
			m, err := Fit(context.Background(), closes[:c.Train], order, nil)
			require.NoError(t, err)
			require.True(t, m.Converged)
			named := m.Named()
			require.Len(t, named, len(c.ParamNames))
			for i, name := range c.ParamNames {
				if name == "sigma2" {
					require.InEpsilon(t, c.Params[i], named[name], 1e-3)
					continue
				}
				require.InDelta(t, c.Params[i], named[name], 0.01, name)
			}
			require.InDelta(t, c.LLFARIMA, m.LogLikelihood, 0.01)
		})
	}
}

func TestDrift(t *testing.T) {
	require.ErrorIs(t, Order{P: 1, D: 0, Drift: true}.Validate(), ErrInvalidOrder)
	require.ErrorIs(t, Order{D: 2, Drift: true}.Validate(), ErrInvalidOrder)
	require.NoError(t, Order{D: 1, Drift: true}.Validate())
	require.Equal(t, "ARIMA(0,1,1) with drift", Order{D: 1, Q: 1, Drift: true}.String())
	require.Equal(t, 3, Order{D: 1, Q: 1, Drift: true}.NumParams())

	// A random walk with drift 0.5 forecasts the last value plus 0.5 a day.
	y := []float64{10, 10.4, 11.1, 11.4, 12.1, 12.5}
	m, err := Filter(y, Order{D: 1, Drift: true}, Coefficients{Mean: 0.5, Sigma2: 1})
	require.NoError(t, err)
	require.InDeltaSlice(t, []float64{13, 13.5, 14}, m.Forecast(3), 1e-12)
	require.Equal(t, map[string]float64{"drift": 0.5, "sigma2": 1}, m.Named())
	// A drift shifts the forecast, not its uncertainty.
	require.InDeltaSlice(t, []float64{1, 2, 3}, m.ForecastVariance(3), 1e-12)

	_, err = Filter(y, Order{D: 1}, Coefficients{Mean: 0.5, Sigma2: 1})
	require.Error(t, err, "a mean without a drift term")
}

// TestDriftMatchesStatsmodels: the likelihood at fixed parameters and the
// maximum-likelihood fit of models with drift agree with SARIMAX with a
// constant on the differenced series.
func TestDriftMatchesStatsmodels(t *testing.T) {
	ref := loadReference(t)
	require.NotEmpty(t, ref.Drift)
	for _, c := range ref.Drift {
		order := orderOf(c.Order)
		order.Drift = true
		coef := Coefficients{Mean: c.Params[0], MA: c.Params[1 : 1+order.Q], Sigma2: c.Params[len(c.Params)-1]}
		m, err := Filter(c.Series, order, coef)
		require.NoError(t, err, c.Name)
		require.InDelta(t, c.LogLike, m.LogLikelihood, 1e-6, c.Name)

		fit, err := Fit(context.Background(), c.Series, order, nil)
		require.NoError(t, err, c.Name)
		require.InDelta(t, c.FitLLF, fit.LogLikelihood, 1e-4, c.Name)
		require.InDelta(t, c.FitParams[0], fit.Coefficients.Mean, 1e-3*math.Max(1, math.Abs(c.FitParams[0])), c.Name)
		require.InEpsilon(t, c.FitParams[len(c.FitParams)-1], fit.Coefficients.Sigma2, 1e-3, c.Name)
	}
}
