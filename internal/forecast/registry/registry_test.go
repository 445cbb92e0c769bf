package registry_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/compute"
	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/arima"
	"github.com/augurhq/augur/internal/forecast/lstm"
	"github.com/augurhq/augur/internal/forecast/registry"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

func sp500(t testing.TB) []float64 {
	return forecasttest.Closes(t, forecasttest.SP500Last504)
}

func TestNamesAreKnown(t *testing.T) {
	names := registry.Names()
	require.Equal(t, []string{"lstm", "arima", "arima_auto", "ets", "theta", "linreg", "naive", "drift"}, names)
	for _, name := range names {
		require.True(t, registry.Known(name), name)
	}
	for _, name := range []string{"", "LINREG", "random_forest", "linreg "} {
		require.False(t, registry.Known(name), "%q", name)
	}
	names[0] = "mutated"
	require.NotEqual(t, "mutated", registry.Names()[0], "Names must return a fresh slice")
}

// TestRunEveryModel runs every model but the LSTM, which trains too long for
// a unit test on the real series (TestRunLSTMUsesTheSeed covers it).
func TestRunEveryModel(t *testing.T) {
	closes := sp500(t)
	for _, name := range registry.Names() {
		if name == registry.NameLSTM {
			continue
		}
		for _, horizon := range []int{1, 7, forecast.MaxHorizon} {
			t.Run(name+"/"+strconv.Itoa(horizon), func(t *testing.T) {
				var progress []forecast.Progress
				rep, err := registry.Run(context.Background(), name, closes, registry.Options{
					Horizon:  horizon,
					Progress: func(p forecast.Progress) { progress = append(progress, p) },
				})
				require.NoError(t, err)
				require.Equal(t, name, rep.Model)
				require.Len(t, rep.Forecast, horizon)
				require.NotEmpty(t, rep.Test)
				require.Positive(t, rep.Persistence.RMSE)
				require.NotEmpty(t, progress)
				last := progress[len(progress)-1]
				require.Equal(t, name, last.Model)
				require.Equal(t, last.Total, last.Step, "the last progress report marks completion")
			})
		}
	}
}

func TestRunDefaultHorizon(t *testing.T) {
	rep, err := registry.Run(context.Background(), registry.NameLinearRegression, sp500(t), registry.Options{})
	require.NoError(t, err)
	require.Len(t, rep.Forecast, forecast.DefaultHorizon)
}

func TestRunRejects(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	closes := sp500(t)
	tests := []struct {
		name  string
		ctx   context.Context
		model string
		opts  registry.Options
		want  error
	}{
		{name: "unknown model", ctx: context.Background(), model: "prophet", want: registry.ErrUnknownModel},
		{name: "horizon too long", ctx: context.Background(), model: registry.NameDrift, opts: registry.Options{Horizon: forecast.MaxHorizon + 1}, want: forecast.ErrInvalidHorizon},
		{name: "canceled", ctx: canceled, model: registry.NamePersistence, want: context.Canceled},
		{name: "unknown bands", ctx: context.Background(), model: registry.NameDrift, opts: registry.Options{Bands: "bollinger"}, want: registry.ErrUnknownBands},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := registry.Run(tt.ctx, tt.model, closes, tt.opts)
			require.ErrorIs(t, err, tt.want)
		})
	}
	_, err := registry.Run(context.Background(), registry.NameLinearRegression, closes[:10], registry.Options{})
	require.ErrorIs(t, err, forecast.ErrNotEnoughData)
}

// TestEveryModelIsScoredOnTheSameTestDays runs every model on one job's
// series, the S&P 500's last 504 closes with the default horizon: all must
// be scored on the very same test days, each saying how far ahead it
// predicts (the linear regression the horizon, the rest one day).
func TestEveryModelIsScoredOnTheSameTestDays(t *testing.T) {
	closes := sp500(t)
	var want []int
	for i := forecast.TestStart(len(closes)); i < len(closes); i++ {
		want = append(want, i)
	}
	require.Len(t, want, 101)
	for _, name := range registry.Names() {
		t.Run(name, func(t *testing.T) {
			rep, err := registry.Run(context.Background(), name, closes, registry.Options{Horizon: forecast.DefaultHorizon})
			require.NoError(t, err)
			days := make([]int, len(rep.Test))
			for i, p := range rep.Test {
				days[i] = p.Index
			}
			require.Equal(t, want, days)
			if name == registry.NameLinearRegression {
				require.Equal(t, forecast.DefaultHorizon, rep.PredictsDaysAhead)
				require.Equal(t, "7 days ahead", rep.Predicts)
				return
			}
			require.Equal(t, 1, rep.PredictsDaysAhead)
			require.Equal(t, "next day", rep.Predicts)
		})
	}
}

// TestLSTMAndARIMAAgreeOnTheHorizon calls the two model packages directly,
// past the registry: both take the horizon as given, so the same value,
// zero included, gives forecasts of the same length (zero: none, only the
// test record).
func TestLSTMAndARIMAAgreeOnTheHorizon(t *testing.T) {
	closes := sp500(t)
	closes = closes[len(closes)-60:]
	for _, horizon := range []int{0, 1, 5} {
		t.Run(strconv.Itoa(horizon), func(t *testing.T) {
			byLSTM, err := lstm.Run(context.Background(), closes, lstm.DefaultConfig(), horizon, nil)
			require.NoError(t, err)
			byARIMA, err := arima.Run(context.Background(), closes, arima.DefaultConfig(), horizon, nil)
			require.NoError(t, err)
			require.Len(t, byLSTM.Forecast, horizon)
			require.Len(t, byARIMA.Forecast, horizon)
		})
	}
}

// The LSTM runs with its full default network here, so it gets a short
// series: 60 closes train in a fraction of the time of the real ones
// (BenchmarkRun covers those).
func TestRunLSTMUsesTheSeed(t *testing.T) {
	closes := sp500(t)
	closes = closes[len(closes)-60:]
	run := func(seed int64) (*forecast.Report, []forecast.Progress) {
		var progress []forecast.Progress
		rep, err := registry.Run(context.Background(), registry.NameLSTM, closes, registry.Options{
			Horizon:  5,
			Seed:     seed,
			Progress: func(p forecast.Progress) { progress = append(progress, p) },
		})
		require.NoError(t, err)
		return rep, progress
	}
	first, progress := run(7)
	require.Equal(t, registry.NameLSTM, first.Model)
	require.Len(t, first.Forecast, 5)
	require.Len(t, first.Test, 12)
	require.NotEmpty(t, progress)
	require.Equal(t, progress[len(progress)-1].Total, progress[len(progress)-1].Step)

	second, _ := run(8)
	require.NotEqual(t, first.Forecast, second.Forecast, "another seed trains another network")
}

// TestRunLSTMMode is defect 2 of issue 12: the LSTM's clean mode could not
// be chosen through the registry.
func TestRunLSTMMode(t *testing.T) {
	closes := sp500(t)
	closes = closes[len(closes)-60:]
	require.Equal(t, []string{lstm.ModeWindow, lstm.ModeClean}, registry.LSTMModes())
	for _, mode := range []string{"", lstm.ModeWindow, lstm.ModeClean} {
		rep, err := registry.Run(context.Background(), registry.NameLSTM, closes, registry.Options{Horizon: 2, LSTMMode: mode})
		require.NoError(t, err, mode)
		want := mode
		if want == "" {
			want = lstm.ModeWindow
		}
		require.Equal(t, want, rep.Params["mode"])
	}
	_, err := registry.Run(context.Background(), registry.NameLSTM, closes, registry.Options{LSTMMode: "fancy"})
	require.ErrorIs(t, err, lstm.ErrInvalidConfig)
	// Other models ignore the option.
	_, err = registry.Run(context.Background(), registry.NameDrift, closes, registry.Options{LSTMMode: lstm.ModeClean})
	require.NoError(t, err)
}

// BenchmarkRun times every model on the S&P 500's last 504 closes, the
// series of the Python reference figures (bench/models compares them).
func BenchmarkRun(b *testing.B) {
	closes := sp500(b)
	for _, name := range registry.Names() {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := registry.Run(context.Background(), name, closes, registry.Options{Horizon: 7}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPredictionJob is the model work of one default prediction job:
// the original app's three models and the persistence baseline on two years
// of the S&P 500 (the original needed about two minutes for this).
func BenchmarkPredictionJob(b *testing.B) {
	closes := sp500(b)
	for b.Loop() {
		for _, name := range []string{"linreg", "arima", "lstm", "naive"} {
			if _, err := registry.Run(context.Background(), name, closes, registry.Options{Horizon: 7}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFourJobs is the model work of four default prediction jobs
// (BenchmarkPredictionJob's) in a worker with as many slots as cores, the
// default WORKER_CONCURRENCY, on the S&P 500's last 504 closes (a default
// job) and on Microsoft's 2,529 (a job with a longer lookback, whose LSTM
// trains five times as long). Each iteration runs them one after another
// (as at a concurrency of 1, each LSTM on every core), then four at once
// through the slots sharing one compute budget of a thread per core, as the
// worker does, then the same with no budget, where every LSTM part has a
// goroutine of its own (as before the budget). It reports the wall seconds
// of each and the two ratios to one after another; the goal is a budgeted
// ratio of at most 1.1.
func BenchmarkFourJobs(b *testing.B) {
	for _, series := range []string{forecasttest.SP500Last504, forecasttest.MSFT} {
		b.Run(series, func(b *testing.B) {
			closes := forecasttest.Closes(b, series)
			slots := runtime.GOMAXPROCS(0)
			budget := compute.WithBudget(context.Background(), compute.NewBudget(slots))
			run := func(ctx context.Context, slots int) time.Duration {
				started := time.Now()
				jobs := make(chan struct{}, 4)
				for range 4 {
					jobs <- struct{}{}
				}
				close(jobs)
				var wg sync.WaitGroup
				for range slots {
					wg.Go(func() {
						for range jobs {
							for _, name := range []string{"linreg", "arima", "lstm", "naive"} {
								if _, err := registry.Run(ctx, name, closes, registry.Options{Horizon: 7}); err != nil {
									b.Error(err)
								}
							}
						}
					})
				}
				wg.Wait()
				return time.Since(started)
			}
			var sequential, shared, unshared time.Duration
			for b.Loop() {
				sequential += run(budget, 1)
				shared += run(budget, slots)
				unshared += run(context.Background(), slots)
			}
			b.ReportMetric(sequential.Seconds()/float64(b.N), "sequential-s")
			b.ReportMetric(shared.Seconds()/float64(b.N), "budget-s")
			b.ReportMetric(unshared.Seconds()/float64(b.N), "no-budget-s")
			b.ReportMetric(shared.Seconds()/sequential.Seconds(), "budget/sequential")
			b.ReportMetric(unshared.Seconds()/sequential.Seconds(), "no-budget/sequential")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// The two ARIMA names must reach the two configurations: the original's
// fixed (6,1,0) and the automatic order search.
func TestRunARIMAConfigurations(t *testing.T) {
	closes := sp500(t)
	fixed, err := registry.Run(context.Background(), registry.NameARIMA, closes, registry.Options{})
	require.NoError(t, err)
	require.Equal(t, []int{6, 1, 0}, fixed.Params["order"])
	// statsmodels' walk-forward RMSE on this series (reference-figures.md).
	require.InDelta(t, 79.0643, fixed.Metrics.RMSE, 0.01)

	auto, err := registry.Run(context.Background(), registry.NameARIMAAuto, closes, registry.Options{})
	require.NoError(t, err)
	require.Contains(t, auto.Params, "candidates", "only the automatic search reports its candidates")
}

// TestExtremeCloseIsNamed is defect 4 of issue 12: one close of 1e300 made
// linreg's result unencodable (+Inf) and the LSTM report an RMSE of 132,378
// without a word. Every model now refuses the series and names the close.
func TestExtremeCloseIsNamed(t *testing.T) {
	closes := sp500(t)
	closes = append([]float64(nil), closes[len(closes)-120:]...)
	for _, v := range []float64{1e300, -1e300, 2e12} {
		closes[50] = v
		for _, name := range registry.Names() {
			_, err := registry.Run(context.Background(), name, closes, registry.Options{Horizon: 2})
			require.ErrorIs(t, err, forecast.ErrInvalidSeries, "%s with %g", name, v)
			require.ErrorContains(t, err, "close 50 is "+strconv.FormatFloat(v, 'g', -1, 64), name)
			require.ErrorContains(t, err, "largest price accepted", name)
		}
	}
	// The largest accepted price itself is fine.
	closes[50] = forecast.MaxPrice
	_, err := registry.Run(context.Background(), registry.NameDrift, closes, registry.Options{Horizon: 2})
	require.NoError(t, err)
}

func TestClosedForm(t *testing.T) {
	for _, name := range []string{registry.NameLinearRegression, registry.NamePersistence, registry.NameDrift} {
		require.True(t, registry.ClosedForm(name), name)
	}
	for _, name := range []string{registry.NameLSTM, registry.NameARIMA, registry.NameARIMAAuto, registry.NameETS, registry.NameTheta, "unknown"} {
		require.False(t, registry.ClosedForm(name), name)
	}
}

// A job's progress is split over its models by Cost: every model needs
// one, a fitted model outweighs a closed-form one, and the LSTM, the
// slowest by far, weighs the most.
func TestEveryModelHasACostForTheProgressBar(t *testing.T) {
	for _, name := range registry.Names() {
		if registry.ClosedForm(name) {
			require.Equal(t, 1.0, registry.Cost(name), name)
		} else {
			require.Greater(t, registry.Cost(name), 1.0, name)
			require.LessOrEqual(t, registry.Cost(name), registry.Cost(registry.NameLSTM), name)
		}
	}
}

// A progress message names what each model's steps count.
func TestStepUnit(t *testing.T) {
	for name, want := range map[string]string{
		registry.NameLSTM: "epoch", registry.NameARIMA: "walk-forward refit", registry.NameARIMAAuto: "walk-forward refit",
		registry.NameETS: "fit", registry.NameTheta: "fit",
		registry.NameLinearRegression: "step", registry.NamePersistence: "step", registry.NameDrift: "step", "unknown": "step",
	} {
		require.Equal(t, want, registry.StepUnit(name), name)
	}
}

// Every model's run is a fit but the LSTM's that took its network from
// the weight store.
func TestFitted(t *testing.T) {
	closes := sp500(t)
	rep, err := registry.Run(context.Background(), registry.NameLinearRegression, closes, registry.Options{})
	require.NoError(t, err)
	require.True(t, registry.Fitted(rep))
	require.True(t, registry.Fitted(&forecast.Report{Params: map[string]any{"weights_cached": false}}))
	require.False(t, registry.Fitted(&forecast.Report{Params: map[string]any{"weights_cached": true}}))
}

// TestRunGARCHBands asks for GARCH bands: the report's bands and coverage
// are GARCH's, the point forecasts the model's own; on prices that never
// move GARCH cannot fit, and the model keeps its own bands with the reason.
func TestRunGARCHBands(t *testing.T) {
	closes := sp500(t)
	own, err := registry.Run(context.Background(), registry.NameDrift, closes, registry.Options{Horizon: 3})
	require.NoError(t, err)
	rep, err := registry.Run(context.Background(), registry.NameDrift, closes, registry.Options{Horizon: 3, Bands: registry.BandsGARCH})
	require.NoError(t, err)
	require.Equal(t, own.Forecast, rep.Forecast)
	require.Equal(t, own.Metrics, rep.Metrics)
	require.NotEqual(t, own.ForecastPI95, rep.ForecastPI95)
	require.Equal(t, forecast.CoverageOf(rep.Test), rep.Coverage)
	require.NotEqual(t, own.Coverage, rep.Coverage)
	require.Contains(t, rep.Params, "bands")

	flat := make([]float64, 120)
	for i := range flat {
		flat[i] = 42
	}
	own, err = registry.Run(context.Background(), registry.NameDrift, flat, registry.Options{Horizon: 3})
	require.NoError(t, err)
	rep, err = registry.Run(context.Background(), registry.NameDrift, flat, registry.Options{Horizon: 3, Bands: registry.BandsGARCH})
	require.NoError(t, err)
	require.Equal(t, own.ForecastPI95, rep.ForecastPI95)
	require.Contains(t, rep.Params["bands_error"], "no variation")
}
