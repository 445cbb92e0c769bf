package crossval_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// FuzzRun feeds arbitrary series and plans (the plan comes from a
// request) to Run with a model that forecasts the last close: it must
// never panic or index outside the series, must refuse a plan that does
// not fit with ErrPlan and a bad series with forecast.ErrInvalidSeries,
// and what it returns must have a score per horizon and encode as JSON.
func FuzzRun(f *testing.F) {
	gspc := forecasttest.Closes(f, forecasttest.SP500Last504)
	f.Add(forecasttest.EncodeSeries(gspc[:120]), uint8(10), uint8(5), uint8(5), true, false)
	f.Add(forecasttest.EncodeSeries(gspc[:30]), uint8(30), uint8(1), uint8(1), false, true)
	f.Add(forecasttest.EncodeSeries([]float64{1, 1, 1, 1, 1, 1, 1}), uint8(2), uint8(1), uint8(2), true, true)
	f.Add(forecasttest.EncodeSeries([]float64{1, 2, math.NaN(), 4}), uint8(1), uint8(1), uint8(1), true, false)
	f.Add(forecasttest.EncodeSeries([]float64{0, 1e-310, 0, 1e-310, 0, 1e-310, 5, 5}), uint8(2), uint8(1), uint8(2), true, false)
	f.Fuzz(func(t *testing.T, raw []byte, origins, step, horizon uint8, refit, fixed bool) {
		closes := forecasttest.DecodeSeries(raw[:min(len(raw), 300*8)])
		plan := crossval.Plan{Origins: int(origins), Step: int(step), Horizon: int(horizon), Refit: refit, Window: crossval.Expanding}
		if fixed {
			plan.Window = crossval.Fixed
		}
		fits := 0
		res, err := crossval.Run(context.Background(), closes, constant{holds: true, fits: &fits}, plan, 2, nil)
		if err != nil {
			require.True(t, errors.Is(err, crossval.ErrPlan) || errors.Is(err, forecast.ErrInvalidSeries), "%v", err)
			return
		}
		require.Len(t, res.Horizons, plan.Horizon)
		require.Len(t, res.Origins, plan.Origins)
		for _, h := range res.Horizons {
			if h.MASE != nil {
				require.False(t, math.IsNaN(*h.MASE) || math.IsInf(*h.MASE, 0))
			}
		}
		_, err = json.Marshal(res)
		require.NoError(t, err)
	})
}
