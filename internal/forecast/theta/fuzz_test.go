package theta

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/ets"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// FuzzFit feeds arbitrary series to Fit: it must never panic, must reject
// non-finite closes with forecast.ErrInvalidSeries and short series with
// forecast.ErrNotEnoughData, and its forecasts and bounds must be finite.
func FuzzFit(f *testing.F) {
	gspc := forecasttest.Closes(f, forecasttest.SP500Last504)
	f.Add(forecasttest.EncodeSeries(gspc[:60]))
	f.Add(forecasttest.EncodeSeries([]float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}))
	f.Add(forecasttest.EncodeSeries([]float64{1e12, -1e12, 1e12, -1e12, 1e12, -1e12, 1e12, -1e12, 1e12, -1e12}))
	f.Add(forecasttest.EncodeSeries([]float64{1, 2, math.Inf(1), 4, 5, 6, 7, 8, 9, 10, 11, 12}))

	f.Fuzz(func(t *testing.T, raw []byte) {
		y := forecasttest.DecodeSeries(raw[:min(len(raw), 150*8)])
		m, err := Fit(y)
		switch {
		case forecast.CheckFinite(y) != nil:
			require.ErrorIs(t, err, forecast.ErrInvalidSeries)
			return
		case len(y) < ets.MinObservations:
			require.ErrorIs(t, err, forecast.ErrNotEnoughData)
			return
		case err != nil:
			return
		}
		finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
		mean := m.Forecast(forecast.MaxHorizon)
		pi80, pi95 := m.ForecastBands(forecast.MaxHorizon)
		for h := range mean {
			require.True(t, finite(mean[h]), "forecast %d = %v", h+1, mean[h])
			for _, b := range []forecast.Band{pi80[h], pi95[h]} {
				require.True(t, finite(b.Lower) && finite(b.Upper), "band %d = %+v", h+1, b)
			}
		}
	})
}
