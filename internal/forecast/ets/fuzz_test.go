package ets

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// FuzzFit feeds arbitrary series to Fit, automatic and with each fixed
// model: it must never panic, must reject non-finite closes with
// forecast.ErrInvalidSeries and short series with forecast.ErrNotEnoughData,
// and whatever it returns must be finite, from the AICc to the last
// interval bound (a report with a NaN or an infinity cannot be encoded as
// JSON).
func FuzzFit(f *testing.F) {
	gspc := forecasttest.Closes(f, forecasttest.SP500Last504)
	msft := forecasttest.Closes(f, forecasttest.MSFT)
	f.Add(forecasttest.EncodeSeries(gspc[:60]), uint8(0))
	f.Add(forecasttest.EncodeSeries(gspc[300:420]), uint8(3))
	f.Add(forecasttest.EncodeSeries(msft[:40]), uint8(6))
	f.Add(forecasttest.EncodeSeries([]float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}), uint8(0))
	f.Add(forecasttest.EncodeSeries([]float64{1, -2, 3, -4, 5, 0, 7, -8, 9, 0, 11, -12}), uint8(4))
	f.Add(forecasttest.EncodeSeries([]float64{1e12, 1e-300, 1e12, 1e-300, 1e12, 1e-300, 1e12, 1e-300, 1e12, 1e-300}), uint8(5))
	f.Add(forecasttest.EncodeSeries([]float64{1, 2, math.NaN(), 4, 5, 6, 7, 8, 9, 10, 11, 12}), uint8(1))
	models := append([]string{""}, specCodes()...)

	f.Fuzz(func(t *testing.T, raw []byte, pick uint8) {
		y := forecasttest.DecodeSeries(raw[:min(len(raw), 150*8)])
		cfg := Config{Model: models[int(pick)%len(models)]}
		m, err := Fit(y, cfg)
		switch {
		case forecast.CheckFinite(y) != nil:
			require.ErrorIs(t, err, forecast.ErrInvalidSeries)
		case len(y) < MinObservations:
			require.ErrorIs(t, err, forecast.ErrNotEnoughData)
		case err == nil:
			requireFinite(t, m)
		default:
			require.False(t, errors.Is(err, forecast.ErrInvalidSeries), "%v", err)
		}
	})
}

// specCodes are the short names of every model ParseSpec reads.
func specCodes() []string {
	var codes []string
	for _, s := range Specs() {
		codes = append(codes, s.Code())
	}
	return codes
}

func requireFinite(t *testing.T, m *Model) {
	t.Helper()
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	for name, v := range map[string]float64{"AICc": m.AICc, "log-likelihood": m.LogLik, "sigma2": m.Sigma2, "alpha": m.Alpha, "beta": m.Beta, "phi": m.Phi, "level": m.Level, "slope": m.Slope} {
		require.True(t, finite(v), "%s = %v", name, v)
	}
	mean := m.Forecast(30)
	pi80, pi95 := m.ForecastBands(30)
	for h := range mean {
		require.True(t, finite(mean[h]), "forecast %d = %v", h+1, mean[h])
		for _, b := range []forecast.Band{pi80[h], pi95[h]} {
			require.True(t, finite(b.Lower) && finite(b.Upper), "band %d = %+v", h+1, b)
		}
	}
}
