package arima

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/compute"
	"github.com/augurhq/augur/internal/forecast"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// TestRunWalkForwardMatchesStatsmodels replays the reference walk-forwards:
// the test RMSE must be within 1% of statsmodels' and every one-step
// prediction close to statsmodels' own.
func TestRunWalkForwardMatchesStatsmodels(t *testing.T) {
	ref := loadReference(t)
	files := map[string]string{"gspc_last504": "gspc_last504.csv", "msft_1991_2000": "msft_1991_2000.csv"}
	require.Len(t, ref.WalkForward, 2)
	for _, wf := range ref.WalkForward {
		t.Run(wf.Name, func(t *testing.T) {
			closes := forecasttest.Closes(t, files[wf.Name])
			var steps []forecast.Progress
			rep, err := Run(context.Background(), closes, DefaultConfig(), 7, func(p forecast.Progress) {
				steps = append(steps, p)
			})
			require.NoError(t, err)

			require.Equal(t, Name, rep.Model)
			require.InEpsilon(t, wf.RMSE, rep.Metrics.RMSE, 0.01)
			require.Len(t, rep.Test, len(wf.Predictions))
			scale := closes[len(closes)-1]
			for i, p := range rep.Test {
				require.Equal(t, wf.Train+i, p.Index)
				require.Equal(t, closes[p.Index], p.Actual)
				require.InDelta(t, wf.Predictions[i], p.Predicted, 1e-4*scale, "test point %d", i)
			}

			require.Len(t, steps, len(wf.Predictions))
			for i, p := range steps {
				require.Equal(t, forecast.Progress{Model: Name, Step: i + 1, Total: len(wf.Predictions)}, p)
			}

			require.Equal(t, []int{6, 1, 0}, rep.Params["order"])
			require.Equal(t, len(wf.Predictions), rep.Params["refits"])
			require.Equal(t, 0, rep.Params["not_converged"])
			require.Equal(t, wf.Train, rep.Params["train_size"])
			first := rep.Params["first_fit"].(map[string]any)
			require.Len(t, first["coefficients"], 7)
			require.Less(t, first["log_likelihood"], 0.0)
			require.Greater(t, first["aicc"], 0.0)

			require.Len(t, rep.Forecast, 7)
			for _, v := range rep.Forecast {
				require.InEpsilon(t, closes[len(closes)-1], v, 0.1)
			}
			// The persistence comparison is on the same test points.
			require.NotNil(t, rep.DM)
			require.Equal(t, rep.DM.Better(), rep.BeatsPersistence)
			// Every test point carries its intervals, and coverage is measured.
			for _, p := range rep.Test {
				require.NotNil(t, p.PI80)
				require.NotNil(t, p.PI95)
				require.Less(t, p.PI95.Lower, p.PI80.Lower)
				require.Greater(t, p.PI95.Upper, p.PI80.Upper)
			}
			require.Len(t, rep.Coverage, 2)
			require.Equal(t, len(rep.Test), rep.Coverage[0].Points)
			require.Len(t, rep.ForecastPI95, len(rep.Forecast))
			require.Greater(t, rep.Seconds, 0.0)
		})
	}
}

func TestRunAuto(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	rep, err := Run(context.Background(), closes, Config{Auto: true}, 5, nil)
	require.NoError(t, err)
	require.Equal(t, NameAuto, rep.Model)
	order := rep.Params["order"].([]int)
	require.Equal(t, 1, order[1], "S&P 500 closes are integrated")
	candidates := rep.Params["candidates"].([]map[string]any)
	require.NotEmpty(t, candidates)
	first := rep.Params["first_fit"].(map[string]any)
	for _, c := range candidates {
		require.GreaterOrEqual(t, c["aicc"], first["aicc"])
	}
	require.Len(t, rep.Test, len(closes)-forecast.TestStart(len(closes)))
	require.Len(t, rep.Forecast, 5)
}

func TestRunIsDeterministic(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	for _, cfg := range []Config{DefaultConfig(), {P: 1, D: 1, Q: 1}} {
		a, err := Run(context.Background(), closes, cfg, 7, nil)
		require.NoError(t, err)
		b, err := Run(context.Background(), closes, cfg, 7, nil)
		require.NoError(t, err)
		a.Seconds, b.Seconds = 0, 0
		require.Equal(t, a, b)
	}
}

// While ARIMA fits, its goroutine holds a thread of the budget: a model
// beside it on a budget of one must run its parts on its own goroutine.
func TestRunHoldsAThread(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	for _, cfg := range []Config{DefaultConfig(), {Auto: true}} {
		budget := compute.NewBudget(1)
		progressed := false
		_, err := Run(compute.WithBudget(context.Background(), budget), closes, cfg, 7, func(forecast.Progress) {
			if !progressed {
				progressed = true
				budget.Do(2, func(int) {})
			}
		})
		require.NoError(t, err)
		require.True(t, progressed)
		require.Equal(t, compute.Stats{Serial: 1}, budget.Stats())

		// The thread is given back when the run ends.
		budget.Do(2, func(int) {})
		require.Equal(t, compute.Stats{Parallel: 1, Serial: 1}, budget.Stats())
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	closes := forecasttest.Closes(t, "msft_1991_2000.csv")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := 0
	rep, err := Run(ctx, closes, DefaultConfig(), 7, func(p forecast.Progress) {
		steps = p.Step
		if p.Step == 2 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Nil(t, rep)
	require.Equal(t, 2, steps, "no refit may complete after the cancellation")
}

func TestRunCancelledDuringFit(t *testing.T) {
	closes := forecasttest.Closes(t, "msft_1991_2000.csv")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Fit(ctx, closes, DefaultConfig().order(), nil)
	require.ErrorIs(t, err, context.Canceled)
	_, err = SelectOrder(ctx, closes)
	require.ErrorIs(t, err, context.Canceled)
}

func TestRunRejectsBadInput(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	withNaN := append([]float64(nil), closes...)
	withNaN[100] = math.NaN()
	tests := []struct {
		name    string
		closes  []float64
		cfg     Config
		horizon int
		want    error
	}{
		{name: "too short for the order", closes: closes[:10], cfg: DefaultConfig(), horizon: 7, want: forecast.ErrNotEnoughData},
		{name: "too short for auto", closes: closes[:2], cfg: Config{Auto: true}, horizon: 7, want: forecast.ErrNotEnoughData},
		{name: "empty", closes: nil, cfg: DefaultConfig(), horizon: 7, want: forecast.ErrNotEnoughData},
		{name: "NaN close", closes: withNaN, cfg: DefaultConfig(), horizon: 7, want: forecast.ErrInvalidSeries},
		{name: "negative order", closes: closes, cfg: Config{P: -1, D: 1}, horizon: 7, want: ErrInvalidOrder},
		{name: "order too large", closes: closes, cfg: Config{P: MaxP + 1, D: 1}, horizon: 7, want: ErrInvalidOrder},
		{name: "constant series", closes: constantSeries(60, 42), cfg: DefaultConfig(), horizon: 7, want: ErrConstantSeries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Run(context.Background(), tt.closes, tt.cfg, tt.horizon, nil)
			require.ErrorIs(t, err, tt.want)
			require.Nil(t, rep)
		})
	}
}

func TestRunShortestSeries(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	order := DefaultConfig().order()
	n := minSeriesLength(order)
	rep, err := Run(context.Background(), closes[:n], DefaultConfig(), forecast.DefaultHorizon, nil)
	require.NoError(t, err)
	require.NotEmpty(t, rep.Test)
	require.Len(t, rep.Forecast, forecast.DefaultHorizon)
	_, err = Run(context.Background(), closes[:n-1], DefaultConfig(), forecast.DefaultHorizon, nil)
	require.ErrorIs(t, err, forecast.ErrNotEnoughData)
}

func constantSeries(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestConstantSeriesErrorNamesTheCause is defect 4 of issue 12: a constant
// series with d = 0 was said to be "constant after differencing".
func TestConstantSeriesErrorNamesTheCause(t *testing.T) {
	line := make([]float64, 60)
	for i := range line {
		line[i] = 10 + 0.5*float64(i)
	}
	for _, tc := range []struct {
		closes []float64
		cfg    Config
		want   string
	}{
		{closes: constantSeries(60, 42), cfg: Config{P: 1}, want: "ARIMA(1,0,0): every value is 42: a constant series has nothing to estimate"},
		{closes: constantSeries(60, 42), cfg: DefaultConfig(), want: "ARIMA(6,1,0): every change from one value to the next is 0"},
		{closes: line, cfg: Config{P: 1, D: 2}, want: "ARIMA(1,2,0): after 2 differences every value is 0"},
	} {
		_, err := Run(context.Background(), tc.closes, tc.cfg, 1, nil)
		require.ErrorIs(t, err, ErrConstantSeries)
		require.ErrorContains(t, err, tc.want)
		require.NotContains(t, err.Error(), "after differencing")
	}
}
