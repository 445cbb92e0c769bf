package forecast

import (
	"context"
	"fmt"
	"time"

	"github.com/augurhq/augur/internal/compute"
)

// Forecaster is a fitted model that forecasts the closes after the ones it
// was fitted on, with Gaussian or other 80% and 95% intervals.
type Forecaster interface {
	Forecast(h int) []float64
	ForecastBands(h int) (pi80, pi95 []Band)
}

// Filter is a fitted model that can be moved on close by close with its
// parameters held, as an exponential smoothing model updates its states.
type Filter interface {
	Forecaster
	// Observe moves the model on by the last close of history, the closes
	// so far.
	Observe(history []float64)
	// Params describes the fit for Report.Params.
	Params() map[string]any
}

// OneStepPoint is the test point of closes[i] predicted one step ahead by
// m, with its intervals.
func OneStepPoint(m Forecaster, closes []float64, i int) TestPoint {
	pi80, pi95 := m.ForecastBands(1)
	return TestPoint{Index: i, Actual: closes[i], Predicted: m.Forecast(1)[0], PI80: &pi80[0], PI95: &pi95[0]}
}

// OneStepReport is the scored report of a model that predicted test one
// step ahead and forecasts horizon closes with final.
func OneStepReport(name string, closes []float64, params map[string]any, test []TestPoint, final Forecaster, horizon int, started time.Time) *Report {
	next80, next95 := final.ForecastBands(horizon)
	rep := &Report{
		Model:        name,
		Params:       params,
		Forecast:     final.Forecast(horizon),
		ForecastPI80: next80,
		ForecastPI95: next95,
		Test:         test,
	}
	rep.Score(closes, 1)
	rep.Seconds = time.Since(started).Seconds()
	return rep
}

// FitAndFilter runs a model that is fitted once and filtered: fit on the
// closes before TestStart, then over the test closes each one predicted one
// step ahead, with its intervals, by the training fit moved on by every
// close before it (Filter.Observe), and finally fit on all closes for the
// forecast of horizon closes. It is the walk-forward of models whose fitted
// states, not their parameters, carry what they learnt of recent closes,
// at the cost of two fits instead of one per test day.
//
// fit must return a new model on every call. Progress reports two steps,
// one per fit. Params is the final fit's, with "first_fit" (the training
// fit's Params), "train_size" and "test_size". It holds one thread of the
// compute budget ctx carries, and returns an error wrapping
// ErrNotEnoughData when the training part is shorter than minTrain or no
// close is left to test.
func FitAndFilter(ctx context.Context, name string, closes []float64, horizon, minTrain int, progress ProgressFunc, fit func([]float64) (Filter, error)) (*Report, error) {
	started := time.Now()
	if err := CheckFinite(closes); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer compute.FromContext(ctx).Hold()()
	n := len(closes)
	train := TestStart(n)
	if train < minTrain || train >= n {
		return nil, fmt.Errorf("%s: %d closes leave %d for training and %d for testing, want at least %d and 1: %w",
			name, n, train, n-train, minTrain, ErrNotEnoughData)
	}
	report := func(step int) {
		if progress != nil {
			progress(Progress{Model: name, Step: step, Total: 2})
		}
	}

	first, err := fit(closes[:train])
	if err != nil {
		return nil, fmt.Errorf("%s: fit on %d closes: %w", name, train, err)
	}
	report(1)
	firstParams := first.Params()
	test := make([]TestPoint, 0, n-train)
	for i := train; i < n; i++ {
		test = append(test, OneStepPoint(first, closes, i))
		first.Observe(closes[:i+1])
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	final, err := fit(closes)
	if err != nil {
		return nil, fmt.Errorf("%s: fit on all %d closes: %w", name, n, err)
	}
	report(2)

	params := final.Params()
	params["first_fit"] = firstParams
	params["train_size"] = train
	params["test_size"] = len(test)
	return OneStepReport(name, closes, params, test, final, horizon, started), nil
}
