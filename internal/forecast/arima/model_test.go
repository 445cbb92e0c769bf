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
