// Package lstm is the stacked-LSTM price model of the original app, in Go:
// 4 LSTM layers of 50 units with dropout, a dense head on the last hidden
// state, trained with Adam on windows of daily closes.
//
// Unlike the original it fits its scaling on the training part only, and by
// default it scales each window relative to its own last close, which keeps
// the model from saturating on trending series: on the S&P 500's last 504
// days its test RMSE is about that of persistence (80.5), where level
// scaling gives about 145.
//
// Training runs in float32, like Keras and PyTorch, with each mini-batch
// split in two parts. They run on two goroutines while the compute budget
// that the context carries (compute.FromContext) has a core free, and one
// after the other otherwise: alone in a worker a run uses two cores, and
// beside other models it leaves them theirs. On x86-64 CPUs with AVX2 and
// FMA the hot loops run on the package's own assembly kernels: the matrix
// products, several times as fast as gonum's BLAS (in AVX-512 where the CPU
// has it, to the same bits); each step's gate activations and cell update,
// forward and backward, eight units at a time with a vectorised float32
// exponential; and the Adam update. Elsewhere, and under the purego build
// tag, gonum and the same loops in Go do the work. The float64 build, which
// serves only the gradient check, always runs the Go loops. Training is
// bit-for-bit reproducible from the seed on a given machine, whatever the
// budget: the split and every summation order are fixed. Machines with and
// without the kernels round differently.
package lstm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/augurhq/augur/internal/compute"
	"github.com/augurhq/augur/internal/forecast"
)

// Name is the model's name in reports and progress.
const Name = "lstm"

// Modes of scaling the series for the network.
const (
	// ModeWindow feeds each window as log returns relative to its last
	// close and predicts the next close's log return.
	ModeWindow = "window"
	// ModeClean is the original app's MinMax scaling of price levels,
	// fitted on the training part only (the original fitted it on the whole
	// series, leaking the test period into training).
	ModeClean = "clean"
)

// Modes lists the accepted Config.Mode values, the default first.
func Modes() []string { return []string{ModeWindow, ModeClean} }

var (
	// ErrInvalidConfig means the configuration is unusable.
	ErrInvalidConfig = errors.New("invalid configuration")
	// ErrDiverged means training or prediction produced values that are not
	// finite, from extreme prices or an extreme learning rate. The same
	// data and configuration will fail the same way.
	ErrDiverged = errors.New("training diverged")
)

// Config is the network and training setup.
type Config struct {
	Layers, Units, Window, Epochs, BatchSize int
	Dropout, LearningRate                    float64
	Seed                                     int64
	Mode                                     string // "window" (default, per-window scaling) or "clean"
}

// DefaultConfig is the original app's setup (4×50, window 7, 25 epochs, batch 32, dropout 0.1, lr 1e-3) with the better mode.
func DefaultConfig() Config {
	return Config{
		Layers:       4,
		Units:        50,
		Window:       7,
		Epochs:       25,
		BatchSize:    32,
		Dropout:      0.1,
		LearningRate: 1e-3,
		Mode:         ModeWindow,
	}
}

// mode resolves the empty mode to the default.
func (c Config) mode() string {
	if c.Mode == "" {
		return ModeWindow
	}
	return c.Mode
}

func (c Config) validate() error {
	var problems []error
	for _, f := range []struct {
		name  string
		value int
	}{{"layers", c.Layers}, {"units", c.Units}, {"window", c.Window}, {"epochs", c.Epochs}, {"batch size", c.BatchSize}} {
		if f.value < 1 {
			problems = append(problems, fmt.Errorf("%s is %d, want at least 1", f.name, f.value))
		}
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		problems = append(problems, fmt.Errorf("dropout is %v, want 0 ≤ dropout < 1", c.Dropout))
	}
	if !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) {
		problems = append(problems, fmt.Errorf("learning rate is %v, want a positive number", c.LearningRate))
	}
	if m := c.mode(); m != ModeWindow && m != ModeClean {
		problems = append(problems, fmt.Errorf("mode is %q, want %q or %q", m, ModeWindow, ModeClean))
	}
	if len(problems) > 0 {
		return fmt.Errorf("lstm: %w: %w", ErrInvalidConfig, errors.Join(problems...))
	}
	return nil
}

// Run trains on the closes before forecast.TestStart, evaluates one-step
// predictions on the closes from it on, and forecasts horizon steps.
//
// The test predictions use the true previous closes as inputs; the
// forecast feeds its own predictions back. horizon is taken as given: the
// registry resolves it once with forecast.ResolveHorizon for every model,
// and 0 forecasts nothing, as in arima.Run. The 80% and 95% intervals are
// split conformal, from the test errors of the days before each point
// (forecast.SetConformalBands). progress, if not nil, is called after every
// epoch. Run checks ctx between mini-batches.
func Run(ctx context.Context, closes []float64, cfg Config, horizon int, progress forecast.ProgressFunc) (*forecast.Report, error) {
	return RunWithWeights(ctx, closes, cfg, horizon, progress, nil)
}

// paramWeightsCached is the report param, shown with the others, that says
// whether the network came from the WeightStore; WeightsCached reads it.
const paramWeightsCached = "weights_cached"

// WeightsCached reports whether the run that made rep took its trained
// network from the WeightStore rather than training it. It is false for
// another model's report.
func WeightsCached(rep *forecast.Report) bool {
	cached, _ := rep.Params[paramWeightsCached].(bool)
	return cached
}

// RunWithWeights is Run that takes the trained network from weights when
// it holds one for the same training data and configuration, and stores
// the one it trains otherwise. WeightsCached tells which; the predictions
// are the same either way.
func RunWithWeights(ctx context.Context, closes []float64, cfg Config, horizon int, progress forecast.ProgressFunc, weights WeightStore) (*forecast.Report, error) {
	started := time.Now()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	mode := cfg.mode()
	cut := forecast.TestStart(len(closes))
	if cut-cfg.Window < 1 || len(closes)-cut < 1 {
		return nil, fmt.Errorf("lstm: %d closes leave %d training windows of %d days and %d test points, want at least 1 of each: %w",
			len(closes), max(0, cut-cfg.Window), cfg.Window, len(closes)-cut, forecast.ErrNotEnoughData)
	}
	if err := checkSeries(closes, mode); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lstm: %w", err)
	}
	// The run's own goroutine is one of the budget's threads, so that the
	// parts of the models beside it leave its core alone.
	budget := compute.FromContext(ctx)
	defer budget.Hold()()

	var scale scaler
	if mode == ModeClean {
		scale = fitLevels(closes[:cut])
	} else {
		scale = fitReturns(closes[:cut])
	}
	arch := architecture{layers: cfg.Layers, units: cfg.Units, window: cfg.Window}
	samples := cut - cfg.Window
	windows := make([]float32, samples*cfg.Window)
	targets := make([]float32, samples)
	encoded := make([]float64, cfg.Window)
	for s := range samples {
		window := closes[s : s+cfg.Window]
		scale.encode(encoded, window)
		for t, v := range encoded {
			windows[s*cfg.Window+t] = float32(v)
		}
		targets[s] = float32(scale.target(window, closes[s+cfg.Window]))
	}

	// A batch larger than the data trains exactly like one of all the
	// samples, and sizing the workspaces by it could exhaust memory.
	batchSize := min(cfg.BatchSize, samples)
	tr := newTrainer[float32](arch, batchSize, cfg.Dropout, cfg.LearningRate, cfg.Seed, budget)
	trainStarted := time.Now()
	loss, cached, err := trainOrLoad(ctx, tr, weights, weightsKey(cfg, mode, windows, targets), windows, targets, cfg.Epochs, progress)
	if err != nil {
		return nil, err
	}
	trainSeconds := time.Since(trainStarted).Seconds()

	rep := &forecast.Report{
		Model:    Name,
		Test:     testPredictions(tr, scale, closes, cut),
		Forecast: recursiveForecast(tr, scale, closes[len(closes)-cfg.Window:], horizon),
		Params: map[string]any{
			"mode":             mode,
			"layers":           cfg.Layers,
			"units":            cfg.Units,
			"window":           cfg.Window,
			"epochs":           cfg.Epochs,
			"batch_size":       cfg.BatchSize,
			"dropout":          cfg.Dropout,
			"learning_rate":    cfg.LearningRate,
			"seed":             cfg.Seed,
			"precision":        "float32",
			"training_windows": samples,
			"parameters":       arch.parameterCount(),
			"final_loss":       loss,
			"scaler":           scale.describe(),
			"train_seconds":    trainSeconds,
			paramWeightsCached: cached,
		},
	}
	if err := checkFinite(loss, rep); err != nil {
		return nil, err
	}
	// The network's errors on its own training windows are in-sample and
	// too small to calibrate anything: its bands come from its test errors
	// alone, each from those of the days before it.
	forecast.SetConformalBands(rep, nil)
	rep.Score(closes, 1)
	rep.Seconds = time.Since(started).Seconds()
	return rep, nil
}

// checkFinite rejects a run whose loss or predictions are NaN or infinite,
// which no caller can use and JSON cannot carry.
func checkFinite(loss float64, rep *forecast.Report) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if bad(loss) {
		return fmt.Errorf("lstm: final training loss is %v: %w", loss, ErrDiverged)
	}
	for _, p := range rep.Test {
		if bad(p.Predicted) {
			return fmt.Errorf("lstm: prediction for close %d is %v: %w", p.Index, p.Predicted, ErrDiverged)
		}
	}
	for i, v := range rep.Forecast {
		if bad(v) {
			return fmt.Errorf("lstm: forecast step %d is %v: %w", i+1, v, ErrDiverged)
		}
	}
	return nil
}

// testPredictions predicts every close from cut on from the true closes
// before it.
func testPredictions(tr *trainer[float32], scale scaler, closes []float64, cut int) []forecast.TestPoint {
	steps := tr.net.arch.window
	points := len(closes) - cut
	windows := make([]float32, points*steps)
	encoded := make([]float64, steps)
	for p := range points {
		scale.encode(encoded, closes[cut+p-steps:cut+p])
		for t, v := range encoded {
			windows[p*steps+t] = float32(v)
		}
	}
	outputs := make([]float32, points)
	tr.predict(windows, outputs)
	test := make([]forecast.TestPoint, points)
	for p := range points {
		i := cut + p
		test[p] = forecast.TestPoint{
			Index:     i,
			Actual:    closes[i],
			Predicted: scale.decode(closes[i-steps:i], float64(outputs[p])),
		}
	}
	return test
}

// recursiveForecast predicts horizon closes after last (the final window of
// the series), each one from a window that ends with the predictions before it.
func recursiveForecast(tr *trainer[float32], scale scaler, last []float64, horizon int) []float64 {
	steps := len(last)
	history := append(make([]float64, 0, steps+horizon), last...)
	encoded := make([]float64, steps)
	input := make([]float32, steps)
	output := make([]float32, 1)
	for range horizon {
		window := history[len(history)-steps:]
		scale.encode(encoded, window)
		for t, v := range encoded {
			input[t] = float32(v)
		}
		tr.predict(input, output)
		history = append(history, scale.decode(window, float64(output[0])))
	}
	return history[steps:]
}
