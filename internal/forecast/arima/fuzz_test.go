package arima

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// FuzzFit feeds arbitrary series and small orders to Fit, Forecast and
// SelectOrder: they must never panic, must reject non-finite input with
// forecast.ErrInvalidSeries, and whatever they return must be finite (a
// report with a NaN cannot even be encoded as JSON).
func FuzzFit(f *testing.F) {
	gspc := forecasttest.Closes(f, "gspc_last504.csv")
	msft := forecasttest.Closes(f, "msft_1991_2000.csv")
	f.Add(forecasttest.EncodeSeries(gspc[:60]), uint8(6), uint8(1), uint8(0))
	f.Add(forecasttest.EncodeSeries(gspc[200:280]), uint8(1), uint8(1), uint8(1))
	f.Add(forecasttest.EncodeSeries(msft[:40]), uint8(2), uint8(0), uint8(1))
	f.Add(forecasttest.EncodeSeries(msft[1000:1100]), uint8(0), uint8(2), uint8(2))
	f.Add(forecasttest.EncodeSeries(constantSeries(30, 7)), uint8(1), uint8(0), uint8(0))
	f.Add(forecasttest.EncodeSeries([]float64{1, 2, math.NaN(), 4, 5, 6, 7, 8, 9, 10, 11, 12}), uint8(1), uint8(0), uint8(0))
	f.Add(forecasttest.EncodeSeries([]float64{1e300, -1e300, 1e300, -1e300, 1e300, -1e300, 1e300, 0, 1}), uint8(1), uint8(0), uint8(0))

	f.Fuzz(func(t *testing.T, raw []byte, p, d, q uint8) {
		y := forecasttest.DecodeSeries(raw[:min(len(raw), 150*8)])
		order := Order{P: int(p % 4), D: int(d % 3), Q: int(q % 3)}
		hasNonFinite := forecast.CheckFinite(y) != nil

		m, err := Fit(context.Background(), y, order, nil)
		if hasNonFinite {
			require.ErrorIs(t, err, forecast.ErrInvalidSeries)
			return
		}
		if err == nil {
			requireFiniteModel(t, m)
			warm, err := Fit(context.Background(), y, order, &m.Coefficients)
			if err == nil {
				requireFiniteModel(t, warm)
			}
		} else if len(y) < order.MinObservations() {
			require.ErrorIs(t, err, forecast.ErrNotEnoughData)
		}

		sel, err := SelectOrder(context.Background(), y)
		if err == nil {
			requireFiniteModel(t, sel.Best)
		} else {
			require.False(t, errors.Is(err, forecast.ErrInvalidSeries))
		}
	})
}

func requireFiniteModel(t *testing.T, m *Model) {
	t.Helper()
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	require.True(t, finite(m.LogLikelihood), "log-likelihood %v", m.LogLikelihood)
	require.True(t, finite(m.AICc()) || m.NObs <= m.Order.NumParams()+1, "AICc %v", m.AICc())
	require.True(t, m.Coefficients.Sigma2 > 0 && finite(m.Coefficients.Sigma2), "sigma2 %v", m.Coefficients.Sigma2)
	for name, v := range m.Named() {
		require.True(t, finite(v), "%s = %v", name, v)
	}
	for _, v := range m.Forecast(10) {
		require.True(t, finite(v), "forecast %v", v)
	}
}
