package garch

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// FuzzFit feeds arbitrary closes to LogReturns, Fit, the forecasts and the
// VaR: they must never panic, must reject bad input with an error, and
// whatever they return must be finite (a NaN cannot even be encoded as
// JSON), with parameters inside fGarch's bounds.
func FuzzFit(f *testing.F) {
	gspc := forecasttest.Closes(f, forecasttest.SP500Last504)
	msft := forecasttest.Closes(f, forecasttest.MSFT)
	f.Add(forecasttest.EncodeSeries(gspc))
	f.Add(forecasttest.EncodeSeries(gspc[:60]))
	f.Add(forecasttest.EncodeSeries(msft[:300]))
	constant := make([]float64, 80)
	for i := range constant {
		constant[i] = 7
	}
	f.Add(forecasttest.EncodeSeries(constant))
	f.Add(forecasttest.EncodeSeries([]float64{1, 2, math.NaN(), 4, 5}))
	f.Add(forecasttest.EncodeSeries([]float64{1e-300, 1e12, 1e-300, 1e12, 1e-300, 1e12}))

	f.Fuzz(func(t *testing.T, raw []byte) {
		closes := forecasttest.DecodeSeries(raw[:min(len(raw), 400*8)])
		r, err := LogReturns(closes)
		if err != nil {
			require.ErrorIs(t, err, forecast.ErrInvalidSeries)
			return
		}
		m, err := Fit(context.Background(), r)
		if err != nil {
			require.True(t, errors.Is(err, forecast.ErrNotEnoughData) || errors.Is(err, ErrDegenerate) || errors.Is(err, forecast.ErrInvalidSeries), "unexpected error %v", err)
			return
		}
		for _, v := range []float64{m.Mu, m.Omega, m.Alpha, m.Beta, m.Shape, m.LogLikelihood} {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "parameter %v in %+v", v, m)
		}
		require.True(t, m.Omega > 0 && m.Alpha > 0 && m.Alpha < 1 && m.Beta > 0 && m.Beta < 1 && m.Shape > 2 && m.Shape <= 10, "%+v", m)
		for _, sd := range m.CumulativeSD(20) {
			require.False(t, math.IsNaN(sd) || math.IsInf(sd, 0) || sd <= 0, "sd %v", sd)
		}
		risk := m.Risk(closes[len(closes)-1], 7)
		require.False(t, math.IsNaN(risk.VaR95) || math.IsInf(risk.VaR95, 0), "VaR %v", risk.VaR95)
	})
}
