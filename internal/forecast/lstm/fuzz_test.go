package lstm

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// FuzzRun feeds arbitrary series to a tiny model: Run must return a typed
// error or a complete report with finite numbers, never panic.
func FuzzRun(f *testing.F) {
	sp500 := forecasttest.Closes(f, "gspc_last504.csv")[:40]
	flat := make([]float64, 30)
	for i := range flat {
		flat[i] = 42
	}
	crossing := make([]float64, 30)
	for i := range crossing {
		crossing[i] = float64(i - 15)
	}
	for _, seed := range [][]float64{sp500, flat, crossing, {1e300, 1e-300, 1e300, 1e-300, 1e300, 1e-300, 1e300, 1e-300, 1e300, 1e-300}} {
		f.Add(forecasttest.EncodeSeries(seed), true)
		f.Add(forecasttest.EncodeSeries(seed), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, window bool) {
		closes := forecasttest.DecodeSeries(data[:min(len(data), 200*8)])
		cfg := Config{Layers: 1, Units: 3, Window: 3, Epochs: 1, BatchSize: 4, Dropout: 0.1, LearningRate: 1e-3, Mode: ModeClean}
		if window {
			cfg.Mode = ModeWindow
		}
		rep, err := Run(context.Background(), closes, cfg, 2, nil)
		if err != nil {
			known := errors.Is(err, forecast.ErrNotEnoughData) || errors.Is(err, forecast.ErrInvalidSeries) || errors.Is(err, ErrDiverged)
			require.True(t, known, "untyped error: %v", err)
			return
		}
		cut := forecast.TestStart(len(closes))
		require.Len(t, rep.Test, len(closes)-cut)
		require.Len(t, rep.Forecast, 2)
		for _, p := range rep.Test {
			require.False(t, math.IsNaN(p.Predicted) || math.IsInf(p.Predicted, 0))
		}
		for _, v := range rep.Forecast {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0))
		}
		require.False(t, math.IsNaN(rep.Metrics.RMSE))
	})
}
