package forecast

import (
	"context"
	"fmt"
	"time"
)

// Names of the baseline models in Report.Model.
const (
	NamePersistence = "naive"
	NameDrift       = "drift"
)

// Persistence is the naive forecast: tomorrow's close equals today's. It is
// the bar every other model must clear — daily closes are close to a random
// walk, and a model that cannot beat this has learned nothing usable. Its
// test points are one-step predictions of the closes from TestStart on (the
// test days of every model) and its forecast is the last
// close repeated horizon times (as resolved by the registry). Its intervals
// are split conformal (SetConformalBands), calibrated on the daily changes.
func Persistence(ctx context.Context, closes []float64, horizon int) (*Report, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("persistence: %w", err)
	}
	if err := CheckFinite(closes); err != nil {
		return nil, fmt.Errorf("persistence: %w", err)
	}
	n := len(closes)
	cut := TestStart(n)
	if cut < 1 {
		return nil, fmt.Errorf("persistence: %d closes leave no history before the test set: %w", n, ErrNotEnoughData)
	}

	test := make([]TestPoint, 0, n-cut)
	for i := cut; i < n; i++ {
		test = append(test, TestPoint{Index: i, Actual: closes[i], Predicted: closes[i-1]})
	}
	next := make([]float64, horizon)
	for k := range next {
		next[k] = closes[n-1]
	}

	rep := &Report{
		Model:    NamePersistence,
		Params:   map[string]any{"horizon": horizon, "test_size": len(test)},
		Forecast: next,
		Test:     test,
	}
	// Persistence's errors before the test days are the daily changes, as
	// out-of-sample as those on the test days: they calibrate its bands.
	prior := make([]float64, 0, cut-1)
	for i := 1; i < cut; i++ {
		prior = append(prior, closes[i-1]-closes[i])
	}
	SetConformalBands(rep, prior)
	rep.Score(closes, 1)
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// Drift is the random walk with drift: the next close is the last one plus
// the mean daily change of all history so far. It is the second textbook
// baseline; on a trending series it can beat plain persistence, so a model
// that only beats persistence may merely have found the trend.
//
// Each one-step test prediction from TestStart on uses only the closes
// before it, so no test value leaks into the drift estimate. The forecast
// extends the drift of the whole series horizon days from the last close
// (as resolved by the registry). Its intervals are split conformal
// (SetConformalBands), calibrated on its own earlier one-step errors.
func Drift(ctx context.Context, closes []float64, horizon int) (*Report, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	if err := CheckFinite(closes); err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	n := len(closes)
	cut := TestStart(n)
	// A drift needs at least one change (two closes) before the first test point.
	if cut < 2 {
		return nil, fmt.Errorf("drift: %d closes leave fewer than two before the test set: %w", n, ErrNotEnoughData)
	}

	test := make([]TestPoint, 0, n-cut)
	for i := cut; i < n; i++ {
		test = append(test, TestPoint{Index: i, Actual: closes[i], Predicted: closes[i-1] + meanChange(closes[:i])})
	}
	drift := meanChange(closes)
	next := make([]float64, horizon)
	for k := range next {
		next[k] = closes[n-1] + float64(k+1)*drift
	}

	rep := &Report{
		Model:    NameDrift,
		Params:   map[string]any{"horizon": horizon, "test_size": len(test), "drift_per_day": drift},
		Forecast: next,
		Test:     test,
	}
	// Each drift prediction before the test days also used only the closes
	// before it, so its errors calibrate the bands as honestly.
	prior := make([]float64, 0, cut-2)
	for i := 2; i < cut; i++ {
		prior = append(prior, closes[i-1]+meanChange(closes[:i])-closes[i])
	}
	SetConformalBands(rep, prior)
	rep.Score(closes, 1)
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// meanChange is the mean one-step change of closes; the sum of changes
// telescopes to last minus first. closes must hold at least two values.
func meanChange(closes []float64) float64 {
	return (closes[len(closes)-1] - closes[0]) / float64(len(closes)-1)
}
