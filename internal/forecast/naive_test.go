package forecast_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// TestPersistenceMatchesReference checks the one-step persistence RMSE that
// models_ref.py reports beside ARIMA and the LSTM on the same test points.
func TestPersistenceMatchesReference(t *testing.T) {
	tests := []struct {
		file     string
		rmse     float64
		testSize int
	}{
		{file: "gspc_last504.csv", rmse: 80.4713, testSize: 101},
		{file: "msft_1991_2000.csv", rmse: 2.4374, testSize: 506},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			closes := forecasttest.Closes(t, tt.file)
			rep, err := forecast.Persistence(context.Background(), closes, 5)
			require.NoError(t, err)
			require.Equal(t, forecast.NamePersistence, rep.Model)
			require.InDelta(t, tt.rmse, rep.Metrics.RMSE, 5e-5)
			require.Equal(t, rep.Metrics, rep.Persistence, "persistence is scored against itself")
			require.False(t, rep.BeatsPersistence)
			require.Len(t, rep.Test, tt.testSize)
			require.Equal(t, len(closes)-tt.testSize, rep.Test[0].Index)
			last := closes[len(closes)-1]
			require.Equal(t, []float64{last, last, last, last, last}, rep.Forecast)
		})
	}
}

func TestNaiveBaselinesByHand(t *testing.T) {
	tests := []struct {
		name     string
		run      func(context.Context, []float64, int) (*forecast.Report, error)
		closes   []float64
		horizon  int
		test     []forecast.TestPoint
		forecast []float64
	}{
		{
			name:     "persistence",
			run:      forecast.Persistence,
			closes:   []float64{10, 12, 11, 15, 14},
			horizon:  2,
			test:     []forecast.TestPoint{{Index: 4, Actual: 14, Predicted: 15}},
			forecast: []float64{14, 14},
		},
		{
			// The test prediction sees only closes[:4]: drift (15-10)/3.
			// The forecast uses all five: drift (14-10)/4 = 1 a day.
			name:     "drift",
			run:      forecast.Drift,
			closes:   []float64{10, 12, 11, 15, 14},
			horizon:  3,
			test:     []forecast.TestPoint{{Index: 4, Actual: 14, Predicted: 15 + 5.0/3}},
			forecast: []float64{15, 16, 17},
		},
		{
			name:     "drift over ten points",
			run:      forecast.Drift,
			closes:   []float64{1, 2, 4, 4, 5, 7, 8, 8, 9, 10},
			horizon:  1,
			test:     []forecast.TestPoint{{Index: 8, Actual: 9, Predicted: 8 + 7.0/7}, {Index: 9, Actual: 10, Predicted: 9 + 8.0/8}},
			forecast: []float64{11},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := tt.run(context.Background(), tt.closes, tt.horizon)
			require.NoError(t, err)
			require.Len(t, rep.Test, len(tt.test))
			for i, want := range tt.test {
				require.Equal(t, want.Index, rep.Test[i].Index)
				require.Equal(t, want.Actual, rep.Test[i].Actual)
				require.InDelta(t, want.Predicted, rep.Test[i].Predicted, 1e-12)
			}
			require.InDeltaSlice(t, tt.forecast, rep.Forecast, 1e-12)
		})
	}
}

// On a straight-line trend the drift is exact while persistence lags by one
// step every day, so Drift must report a perfect score. With no variation
// in the two models' loss difference the Diebold–Mariano test has nothing
// to measure, so a perfect score alone does not count as beating
// persistence.
func TestDriftOnAStraightLine(t *testing.T) {
	closes := make([]float64, 50)
	for i := range closes {
		closes[i] = 100 + 2*float64(i)
	}
	rep, err := forecast.Drift(context.Background(), closes, forecast.DefaultHorizon)
	require.NoError(t, err)
	require.Equal(t, forecast.NameDrift, rep.Model)
	require.InDelta(t, 0, rep.Metrics.RMSE, 1e-9)
	require.InDelta(t, 2, rep.Persistence.RMSE, 1e-9)
	require.Nil(t, rep.DM)
	require.False(t, rep.BeatsPersistence)
	require.InDelta(t, 2, rep.Params["drift_per_day"], 1e-12)
	require.Len(t, rep.Forecast, forecast.DefaultHorizon)
	require.InDelta(t, closes[49]+2*forecast.DefaultHorizon, rep.Forecast[forecast.DefaultHorizon-1], 1e-9)
}

// On a trend with a zig-zag around it, drift's errors are a third of
// persistence's on every other day: significantly better.
func TestDriftBeatsPersistenceOnTrend(t *testing.T) {
	closes := make([]float64, 100)
	for i := range closes {
		closes[i] = 100 + 2*float64(i) + 0.5*float64(1-2*(i%2))
	}
	rep, err := forecast.Drift(context.Background(), closes, forecast.DefaultHorizon)
	require.NoError(t, err)
	require.Less(t, rep.Metrics.RMSE, rep.Persistence.RMSE)
	require.NotNil(t, rep.DM)
	require.Equal(t, 20, rep.DM.N)
	require.Less(t, rep.DM.PValue, 0.01)
	require.True(t, rep.BeatsPersistence)
	require.Regexp(t, `^beats persistence \(p [<=] 0\.\d{3}\)$`, rep.Verdict)
}

// The baselines calibrate their conformal bands on their errors before the
// test days too, so every test point has both bands.
func TestBaselineIntervals(t *testing.T) {
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	for _, run := range []func(context.Context, []float64, int) (*forecast.Report, error){forecast.Persistence, forecast.Drift} {
		rep, err := run(context.Background(), closes, 4)
		require.NoError(t, err)
		for _, p := range rep.Test {
			require.NotNil(t, p.PI80, rep.Model)
			require.NotNil(t, p.PI95, rep.Model)
			require.InDelta(t, p.Predicted, (p.PI95.Lower+p.PI95.Upper)/2, 1e-9)
		}
		require.Len(t, rep.Coverage, 2)
		require.Equal(t, forecast.Level80, rep.Coverage[0].Level)
		require.Equal(t, 101, rep.Coverage[1].Points)
		require.Len(t, rep.ForecastPI95, 4)
		// The bands widen with the square root of the distance.
		require.InDelta(t, 2*rep.ForecastPI95[0].Width(), rep.ForecastPI95[3].Width(), 1e-9)
	}
}

func TestNaiveBaselinesRejectBadInput(t *testing.T) {
	tests := []struct {
		name    string
		run     func(context.Context, []float64, int) (*forecast.Report, error)
		closes  []float64
		horizon int
		want    error
	}{
		{name: "persistence one close", run: forecast.Persistence, closes: []float64{1}, want: forecast.ErrNotEnoughData},
		{name: "drift two closes", run: forecast.Drift, closes: []float64{1, 2}, want: forecast.ErrNotEnoughData},
		{name: "persistence infinity", run: forecast.Persistence, closes: []float64{1, math.Inf(1), 3}, want: forecast.ErrInvalidSeries},
		{name: "drift NaN", run: forecast.Drift, closes: []float64{1, 2, math.NaN()}, want: forecast.ErrInvalidSeries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.run(context.Background(), tt.closes, tt.horizon)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestNaiveBaselinesStopWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, run := range []func(context.Context, []float64, int) (*forecast.Report, error){forecast.Persistence, forecast.Drift} {
		_, err := run(ctx, []float64{1, 2, 3, 4, 5}, 1)
		require.ErrorIs(t, err, context.Canceled)
	}
}
