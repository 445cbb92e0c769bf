package theta

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// Run's walk-forward is thetaf at every origin with the training fit's α
// and initial level: the first test close is that fit's own forecast, and
// every later one is the SES level run through the closes before it plus
// the drift of the line through them, with thetaf's one-step band.
func TestRunIsThetafWithAlphaHeld(t *testing.T) {
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	rep, err := Run(context.Background(), closes, 5, nil)
	require.NoError(t, err)
	train := forecast.TestStart(len(closes))
	first, err := Fit(closes[:train])
	require.NoError(t, err)
	require.Len(t, rep.Test, len(closes)-train)
	require.InDelta(t, first.Forecast(1)[0], rep.Test[0].Predicted, 1e-9)

	alpha, sd := first.Alpha, math.Sqrt(first.SES.Sigma2)
	for k, p := range rep.Test {
		i := train + k
		level := first.SES.Level0
		for _, v := range closes[:i] {
			level += alpha * (v - level)
		}
		_, slope := forecast.TrendLine(closes[:i])
		want := level + slope/2*(1-math.Pow(1-alpha, float64(i)))/alpha
		require.InDelta(t, want, p.Predicted, 1e-9*want, "test close %d", i)
		require.InDelta(t, want+1.959963984540054*sd, p.PI95.Upper, 1e-9*want)
	}

	final, err := Fit(closes)
	require.NoError(t, err)
	require.Equal(t, final.Forecast(5), rep.Forecast)
	require.Equal(t, first.Alpha, rep.Params["first_fit"].(map[string]any)["alpha"])
	require.NotEmpty(t, rep.Coverage)
}
