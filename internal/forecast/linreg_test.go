package forecast_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// TestLinearRegressionOnTheSharedTestDays checks the fit and the scores on
// real series against the closed-form least squares computed apart, in
// float64 (forecasttest/testdata/README.md names the script): trained on
// the pairs whose 7-day target lies before the test days, scored on the
// same test days as every other model, against 7-day persistence.
func TestLinearRegressionOnTheSharedTestDays(t *testing.T) {
	tests := []struct {
		file            string
		rmse            float64
		persistenceRMSE float64
		slope           float64
		intercept       float64
		trainSize       int
		testSize        int
	}{
		{file: "gspc_last504.csv", rmse: 178.096957, persistenceRMSE: 184.2603, slope: 0.913802, intercept: 251.057826, trainSize: 396, testSize: 101},
		{file: "msft_1991_2000.csv", rmse: 6.731839, persistenceRMSE: 6.4710, slope: 1.017430, intercept: -0.030460, trainSize: 2016, testSize: 506},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			closes := forecasttest.Closes(t, tt.file)
			rep, err := forecast.LinearRegression(context.Background(), closes, 7)
			require.NoError(t, err)

			require.Equal(t, forecast.NameLinearRegression, rep.Model)
			require.InEpsilon(t, tt.rmse, rep.Metrics.RMSE, 1e-6)
			require.InDelta(t, tt.persistenceRMSE, rep.Persistence.RMSE, 5e-5)
			require.InDelta(t, tt.slope, rep.Params["slope"], 1e-6)
			require.InDelta(t, tt.intercept, rep.Params["intercept"], 1e-6)
			require.Equal(t, tt.trainSize, rep.Params["train_size"])
			require.Equal(t, 7, rep.Params["horizon"])
			require.Equal(t, 7, rep.PredictsDaysAhead)
			require.Equal(t, "7 days ahead", rep.Predicts)
			// A lower RMSE is not enough: only a significant DM test counts.
			require.NotNil(t, rep.DM)
			require.Equal(t, 7, rep.DM.H)
			require.Equal(t, rep.DM.Better(), rep.BeatsPersistence)
			// OLS prediction intervals on every test day and forecast value.
			for _, p := range rep.Test {
				require.NotNil(t, p.PI80)
				require.NotNil(t, p.PI95)
				require.Greater(t, p.PI95.Width(), p.PI80.Width())
			}
			require.Len(t, rep.Coverage, 2)
			require.Len(t, rep.ForecastPI80, 7)
			require.Len(t, rep.ForecastPI95, 7)

			require.Len(t, rep.Test, tt.testSize)
			require.Equal(t, forecast.TestStart(len(closes)), rep.Test[0].Index, "the test days start where every model's do")
			require.Equal(t, len(closes)-1, rep.Test[len(rep.Test)-1].Index, "last test target is the last close")
			for _, p := range rep.Test {
				require.Equal(t, closes[p.Index], p.Actual)
			}

			slope := rep.Params["slope"].(float64)
			intercept := rep.Params["intercept"].(float64)
			require.Len(t, rep.Forecast, 7)
			for k, v := range rep.Forecast {
				want := intercept + slope*closes[len(closes)-7+k]
				require.InEpsilon(t, want, v, 1e-9, "forecast day %d", k+1)
			}
		})
	}
}

func TestLinearRegressionExactRelations(t *testing.T) {
	tests := []struct {
		name      string
		closes    func(i int) float64
		horizon   int
		slope     float64
		intercept float64
	}{
		{
			// closes[i+h] = 1.01^h × closes[i] exactly, so OLS must recover it.
			name:    "geometric growth",
			closes:  func(i int) float64 { return 50 * math.Pow(1.01, float64(i)) },
			horizon: 3,
			slope:   math.Pow(1.01, 3),
		},
		{
			// closes[i+h] = closes[i] + 2h: slope 1, intercept 2h.
			name:      "linear trend",
			closes:    func(i int) float64 { return 100 + 2*float64(i) },
			horizon:   5,
			slope:     1,
			intercept: 10,
		},
		{
			// No variance in the feature: the best fit is the flat mean.
			name:      "constant",
			closes:    func(int) float64 { return 42 },
			horizon:   7,
			slope:     0,
			intercept: 42,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			closes := make([]float64, 120)
			for i := range closes {
				closes[i] = tt.closes(i)
			}
			rep, err := forecast.LinearRegression(context.Background(), closes, tt.horizon)
			require.NoError(t, err)
			require.InDelta(t, tt.slope, rep.Params["slope"], 1e-9)
			require.InDelta(t, tt.intercept, rep.Params["intercept"], 1e-6)
			require.InDelta(t, 0, rep.Metrics.RMSE, 1e-6)
			require.Len(t, rep.Forecast, tt.horizon)
			last := closes[len(closes)-1]
			require.InDelta(t, tt.intercept+tt.slope*last, rep.Forecast[tt.horizon-1], 1e-6,
				"the last forecast day is the model applied to today's close")
		})
	}
}

func TestLinearRegressionRejectsBadInput(t *testing.T) {
	rising := make([]float64, 100)
	for i := range rising {
		rising[i] = float64(100 + i)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name    string
		ctx     context.Context
		closes  []float64
		horizon int
		want    error
	}{
		{name: "one training pair for the horizon", ctx: context.Background(), closes: rising[:11], horizon: 7, want: forecast.ErrNotEnoughData},
		{name: "empty", ctx: context.Background(), closes: nil, horizon: 7, want: forecast.ErrNotEnoughData},
		{name: "NaN close", ctx: context.Background(), closes: append([]float64{math.NaN()}, rising...), horizon: 7, want: forecast.ErrInvalidSeries},
		{name: "canceled", ctx: canceled, closes: rising, horizon: 7, want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := forecast.LinearRegression(tt.ctx, tt.closes, tt.horizon)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func BenchmarkLinearRegression(b *testing.B) {
	closes := forecasttest.Closes(b, "msft_1991_2000.csv")
	ctx := context.Background()
	for b.Loop() {
		if _, err := forecast.LinearRegression(ctx, closes, 7); err != nil {
			b.Fatal(err)
		}
	}
}
