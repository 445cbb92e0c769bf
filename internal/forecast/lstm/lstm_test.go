package lstm

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/compute"
	"github.com/augurhq/augur/internal/forecast"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// smallConfig keeps tests fast under the race detector.
func smallConfig(mode string) Config {
	return Config{Layers: 2, Units: 8, Window: 7, Epochs: 2, BatchSize: 32, Dropout: 0.1, LearningRate: 1e-3, Seed: 1, Mode: mode}
}

// withoutTimings drops the wall-clock fields, the only ones allowed to
// differ between identical runs.
func withoutTimings(r *forecast.Report) forecast.Report {
	c := *r
	c.Seconds = 0
	c.Params = map[string]any{}
	for k, v := range r.Params {
		if k != "train_seconds" {
			c.Params[k] = v
		}
	}
	return c
}

func TestRunReport(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	for _, mode := range []string{ModeWindow, ModeClean} {
		t.Run(mode, func(t *testing.T) {
			cfg := smallConfig(mode)
			rep, err := Run(context.Background(), closes, cfg, 5, nil)
			require.NoError(t, err)

			require.Equal(t, Name, rep.Model)
			// int(0.8·504) = 403: 101 test points from index 403 on, and
			// 403 − 7 = 396 training windows, as in the reference.
			require.Len(t, rep.Test, 101)
			for p, point := range rep.Test {
				require.Equal(t, 403+p, point.Index)
				require.Equal(t, closes[point.Index], point.Actual)
				require.False(t, math.IsNaN(point.Predicted) || math.IsInf(point.Predicted, 0), "prediction %d", p)
			}
			require.Len(t, rep.Forecast, 5)
			for _, v := range rep.Forecast {
				require.Positive(t, v)
			}
			// The reference's persistence RMSE on the same test points.
			require.InDelta(t, 80.4713, rep.Persistence.RMSE, 1e-4)
			require.Positive(t, rep.Metrics.RMSE)
			require.NotNil(t, rep.DM)
			require.Equal(t, rep.DM.Better(), rep.BeatsPersistence)
			// Split-conformal bands from the earlier test errors only: the
			// first 80% band needs 4 errors, the first 95% band 19.
			for p, point := range rep.Test {
				require.Equal(t, p >= 4, point.PI80 != nil, "point %d", p)
				require.Equal(t, p >= 19, point.PI95 != nil, "point %d", p)
			}
			require.Equal(t, []int{97, 82}, []int{rep.Coverage[0].Points, rep.Coverage[1].Points})
			require.Len(t, rep.ForecastPI80, 5)
			require.Len(t, rep.ForecastPI95, 5)

			require.Equal(t, mode, rep.Params["mode"])
			require.Equal(t, 396, rep.Params["training_windows"])
			require.Equal(t, architecture{layers: 2, units: 8, window: 7}.parameterCount(), rep.Params["parameters"])
			require.Equal(t, cfg.Seed, rep.Params["seed"])
			require.Positive(t, rep.Params["final_loss"])
			require.Positive(t, rep.Seconds)
		})
	}
}

func TestParameterCount(t *testing.T) {
	cases := []struct {
		name string
		arch architecture
		want int
	}{
		// Kernel 4×(1+1), bias 4, dense weight and bias.
		{"one unit", architecture{layers: 1, units: 1, window: 3}, 14},
		// What Keras's model.summary() prints for the original model:
		// 10,400 + 3 × 20,200 + 51.
		{"original 4×50", architecture{layers: 4, units: 50, window: 7}, 71051},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.arch.parameterCount())
		})
	}
}

func TestRunIsDeterministic(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	cfg := smallConfig(ModeWindow)
	first, err := Run(context.Background(), closes, cfg, 3, nil)
	require.NoError(t, err)
	again, err := Run(context.Background(), closes, cfg, 3, nil)
	require.NoError(t, err)
	require.Equal(t, withoutTimings(first), withoutTimings(again))

	cfg.Seed++
	other, err := Run(context.Background(), closes, cfg, 3, nil)
	require.NoError(t, err)
	require.NotEqual(t, first.Test, other.Test)
	require.NotEqual(t, first.Params["final_loss"], other.Params["final_loss"])
}

// The budget decides only which goroutine runs each part of a batch, never
// what the parts compute: every budget trains the same network to the bit.
func TestRunIsTheSameUnderEveryBudget(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	cfg := DefaultConfig()
	cfg.Epochs = 3
	unbudgeted, err := Run(context.Background(), closes, cfg, 7, nil)
	require.NoError(t, err)

	for _, tc := range []struct {
		name       string
		threads    int
		othersHold int
		parallel   bool
	}{
		{"one thread", 1, 0, false},
		{"two threads", 2, 0, true},
		{"two threads, one held elsewhere", 2, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			budget := compute.NewBudget(tc.threads)
			for range tc.othersHold {
				defer budget.Hold()()
			}
			rep, err := Run(compute.WithBudget(context.Background(), budget), closes, cfg, 7, nil)
			require.NoError(t, err)
			require.Equal(t, withoutTimings(unbudgeted), withoutTimings(rep))

			// The run split its batches on this budget, and spread
			// them over two cores only while the second was free.
			stats := budget.Stats()
			if tc.parallel {
				require.Positive(t, stats.Parallel)
				require.Zero(t, stats.Serial)
			} else {
				require.Zero(t, stats.Parallel)
				require.Positive(t, stats.Serial)
			}
		})
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	cfg := smallConfig(ModeWindow)
	cfg.Epochs = 20

	t.Run("during training", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var steps []int
		_, err := Run(ctx, closes, cfg, 1, func(p forecast.Progress) {
			steps = append(steps, p.Step)
			if p.Step == 1 {
				cancel()
			}
		})
		require.ErrorIs(t, err, context.Canceled)
		require.LessOrEqual(t, len(steps), 2, "epochs reported after cancellation: %v", steps)
	})
	t.Run("before starting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		called := false
		_, err := Run(ctx, closes, cfg, 1, func(forecast.Progress) { called = true })
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, called)
	})
}

func TestRunReportsEveryEpoch(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	cfg := smallConfig(ModeClean)
	cfg.Epochs = 3
	var got []forecast.Progress
	rep, err := Run(context.Background(), closes, cfg, 0, func(p forecast.Progress) { got = append(got, p) })
	require.NoError(t, err)
	require.Len(t, got, 3)
	for i, p := range got {
		require.Equal(t, Name, p.Model)
		require.Equal(t, i+1, p.Step)
		require.Equal(t, 3, p.Total)
		require.Positive(t, p.Loss)
	}
	require.Equal(t, got[2].Loss, rep.Params["final_loss"])
	require.Empty(t, rep.Forecast)
}

// TestTrainingLossFalls trains on a smooth series the network can learn and
// checks that the epoch loss comes down.
func TestTrainingLossFalls(t *testing.T) {
	closes := make([]float64, 300)
	for i := range closes {
		closes[i] = 100 + 10*math.Sin(float64(i)/8) + 0.05*float64(i)
	}
	cfg := Config{Layers: 2, Units: 12, Window: 7, Epochs: 15, BatchSize: 16, Dropout: 0, LearningRate: 1e-2, Seed: 3, Mode: ModeClean}
	var losses []float64
	_, err := Run(context.Background(), closes, cfg, 0, func(p forecast.Progress) { losses = append(losses, p.Loss) })
	require.NoError(t, err)
	require.Len(t, losses, cfg.Epochs)
	require.Less(t, losses[len(losses)-1], losses[0]/10, "epoch losses: %v", losses)
}

// TestScalingIgnoresTheTestPart checks the fix of the original's leak:
// changing the closes after the split changes nothing in training.
func TestScalingIgnoresTheTestPart(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	changed := slices.Clone(closes)
	for i := 403; i < len(changed); i++ {
		changed[i] *= 3
	}
	for _, mode := range []string{ModeWindow, ModeClean} {
		t.Run(mode, func(t *testing.T) {
			cfg := smallConfig(mode)
			a, err := Run(context.Background(), closes, cfg, 0, nil)
			require.NoError(t, err)
			b, err := Run(context.Background(), changed, cfg, 0, nil)
			require.NoError(t, err)
			require.Equal(t, a.Params["scaler"], b.Params["scaler"])
			require.Equal(t, a.Params["final_loss"], b.Params["final_loss"])
			require.NotEqual(t, a.Test, b.Test)
		})
	}
}

func TestRunRejects(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	valid := smallConfig(ModeWindow)
	with := func(change func(*Config)) Config {
		c := valid
		change(&c)
		return c
	}
	negative := slices.Clone(closes)
	negative[10] = -1
	nan := slices.Clone(closes)
	nan[450] = math.NaN()
	cases := []struct {
		name    string
		closes  []float64
		cfg     Config
		horizon int
		want    error
	}{
		{"no closes", nil, valid, 1, forecast.ErrNotEnoughData},
		// int(0.8·9) = 7 leaves no training window of 7 days.
		{"shorter than a window", closes[:9], valid, 1, forecast.ErrNotEnoughData},
		{"no layers", closes, with(func(c *Config) { c.Layers = 0 }), 1, ErrInvalidConfig},
		{"no units", closes, with(func(c *Config) { c.Units = 0 }), 1, ErrInvalidConfig},
		{"no window", closes, with(func(c *Config) { c.Window = 0 }), 1, ErrInvalidConfig},
		{"no epochs", closes, with(func(c *Config) { c.Epochs = 0 }), 1, ErrInvalidConfig},
		{"no batch", closes, with(func(c *Config) { c.BatchSize = 0 }), 1, ErrInvalidConfig},
		{"dropout of 1", closes, with(func(c *Config) { c.Dropout = 1 }), 1, ErrInvalidConfig},
		{"NaN dropout", closes, with(func(c *Config) { c.Dropout = math.NaN() }), 1, ErrInvalidConfig},
		{"zero learning rate", closes, with(func(c *Config) { c.LearningRate = 0 }), 1, ErrInvalidConfig},
		{"unknown mode", closes, with(func(c *Config) { c.Mode = "app" }), 1, ErrInvalidConfig},
		{"non-positive close in window mode", negative, valid, 1, forecast.ErrInvalidSeries},
		{"NaN close", nan, with(func(c *Config) { c.Mode = ModeClean }), 1, forecast.ErrInvalidSeries},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.closes, tc.cfg, tc.horizon, nil)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestCleanModeAcceptsNonPositiveCloses(t *testing.T) {
	// Level scaling has no logarithm: a series crossing zero (a spread, an
	// oil future in April 2020) is fine.
	closes := make([]float64, 60)
	for i := range closes {
		closes[i] = float64(i%13) - 4
	}
	cfg := smallConfig(ModeClean)
	cfg.Epochs = 1
	_, err := Run(context.Background(), closes, cfg, 2, nil)
	require.NoError(t, err)
}

func TestScalersRoundTrip(t *testing.T) {
	train := []float64{100, 102, 99, 105, 110, 108}
	window := []float64{104, 107, 111}
	cases := []struct {
		name  string
		scale scaler
	}{
		{"levels", fitLevels(train)},
		{"returns", fitReturns(train)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, next := range []float64{90, 111, 130} {
				require.InDelta(t, next, tc.scale.decode(window, tc.scale.target(window, next)), 1e-9)
			}
			encoded := make([]float64, len(window))
			tc.scale.encode(encoded, window)
			// Encoding a window is the same map as the target of each of its
			// values.
			for i, v := range window {
				require.InDelta(t, tc.scale.target(window, v), encoded[i], 1e-12)
			}
		})
	}
	t.Run("levels map the training range to [0, 1]", func(t *testing.T) {
		s := fitLevels(train)
		require.Equal(t, 0.0, s.target(nil, 99))
		require.Equal(t, 1.0, s.target(nil, 110))
	})
	t.Run("returns are relative to the window's last close", func(t *testing.T) {
		encoded := make([]float64, len(window))
		fitReturns(train).encode(encoded, window)
		require.Equal(t, 0.0, encoded[len(encoded)-1])
		require.Less(t, encoded[0], encoded[1])
	})
}

func TestDefaultConfig(t *testing.T) {
	cfg := DefaultConfig()
	require.NoError(t, cfg.validate())
	require.Equal(t, Config{Layers: 4, Units: 50, Window: 7, Epochs: 25, BatchSize: 32, Dropout: 0.1, LearningRate: 1e-3, Mode: ModeWindow}, cfg)
}

func TestBatchLargerThanTheData(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")[:120]
	cfg := smallConfig(ModeWindow)
	// int(0.8·120) − 7 = 89 training windows.
	cfg.BatchSize = 89
	whole, err := Run(context.Background(), closes, cfg, 2, nil)
	require.NoError(t, err)
	cfg.BatchSize = 1 << 40
	huge, err := Run(context.Background(), closes, cfg, 2, nil)
	require.NoError(t, err)
	require.Equal(t, whole.Test, huge.Test)
	require.Equal(t, whole.Forecast, huge.Forecast)
}

func TestRunReportsDivergence(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	cfg := smallConfig(ModeClean)
	// Steps of about 1e30 drive the float32 weights to overflow.
	cfg.LearningRate = 1e30
	_, err := Run(context.Background(), closes, cfg, 1, nil)
	require.ErrorIs(t, err, ErrDiverged)
}
