// Package crossval scores a price model as forecasters do: by rolling-origin
// cross-validation (Tashman 2000; R's forecast::tsCV), forecasting h days
// ahead from many origins and scoring every horizon 1..h separately, where
// the single test split of package forecast scores one step ahead once.
// It knows no model: a Model fits a window of closes and forecasts from it.
// It does no I/O.
package crossval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/augurhq/augur/internal/forecast"
)

// Path is a model's forecast of the next h closes from one origin, with
// its 80% and 95% bands, one per step; a band slice is empty when the
// model gave none.
type Path struct {
	Point      []float64
	PI80, PI95 []forecast.Band
}

// Fitted is a model fitted at one origin. Forecast forecasts h closes past
// the end of history with the parameters fitted then: history is the
// fitted window itself, or, when the plan does not refit, a later window
// of the same series.
type Fitted interface {
	Forecast(ctx context.Context, history []float64, h int) (Path, error)
}

// Model fits a window of closes. Holds reports whether its Fitted can
// forecast from a later window than the one it was fitted on; a model
// that cannot is refitted at every origin whatever the plan says.
type Model interface {
	Fit(ctx context.Context, train []float64, h int) (Fitted, error)
	Holds() bool
}

// Window kinds of a Plan.
const (
	// Expanding fits each origin on every close before it.
	Expanding = "expanding"
	// Fixed fits each origin on the same number of closes before it as
	// the first origin had, so old prices drop out.
	Fixed = "fixed"
)

// Plan places the forecast origins. The last origin leaves exactly
// Horizon closes after it, so every horizon is scored on all Origins, and
// each earlier origin is Step closes before the next.
type Plan struct {
	// Origins is the number of forecast origins.
	Origins int `json:"origins"`
	// Step is the number of closes between consecutive origins.
	Step int `json:"step"`
	// Horizon is h, the number of days forecast from each origin.
	Horizon int `json:"horizon"`
	// Refit fits the model again at every origin; without it the model
	// is fitted at the first origin and its parameters are kept (for a
	// model that Holds).
	Refit bool `json:"refit"`
	// Window is Expanding or Fixed.
	Window string `json:"window"`
}

// ErrPlan means a plan cannot be run on the series given: a field out of
// range, or too few closes for its origins.
var ErrPlan = errors.New("invalid evaluation plan")

// Validate checks the plan's own fields.
func (p Plan) Validate() error {
	switch {
	case p.Origins < 1:
		return fmt.Errorf("%w: origins %d, want at least 1", ErrPlan, p.Origins)
	case p.Step < 1:
		return fmt.Errorf("%w: step %d, want at least 1", ErrPlan, p.Step)
	case p.Horizon < 1 || p.Horizon > forecast.MaxHorizon:
		return fmt.Errorf("%w: horizon %d, want 1..%d", ErrPlan, p.Horizon, forecast.MaxHorizon)
	case p.Window != Expanding && p.Window != Fixed:
		return fmt.Errorf("%w: window %q, want %q or %q", ErrPlan, p.Window, Expanding, Fixed)
	}
	return nil
}

// OriginIndexes are the origins of the plan on n closes: origin o
// forecasts closes[o], …, closes[o+h−1] from the closes before o. It
// fails with ErrPlan when the first origin would have fewer than minTrain
// closes before it.
func (p Plan) OriginIndexes(n, minTrain int) ([]int, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	first := n - p.Horizon - (p.Origins-1)*p.Step
	if first < max(minTrain, 2) {
		return nil, fmt.Errorf("%w: %d origins %d apart with horizon %d on %d closes leave %d closes before the first origin, want at least %d",
			ErrPlan, p.Origins, p.Step, p.Horizon, n, max(first, 0), max(minTrain, 2))
	}
	out := make([]int, p.Origins)
	for i := range out {
		out[i] = first + i*p.Step
	}
	return out, nil
}

// Origin is one forecast origin's outcome.
type Origin struct {
	// Index is the origin: the first forecast close is closes[Index].
	Index int `json:"index"`
	// Errors are actual − forecast at horizons 1..h, R's tsCV sign.
	Errors []float64 `json:"errors"`
}

// HorizonScore scores the forecasts made k days ahead over every origin.
type HorizonScore struct {
	H    int     `json:"h"`
	RMSE float64 `json:"rmse"`
	MAE  float64 `json:"mae"`
	// MASE is the mean of |error| / scale over the origins, each origin's
	// scale being the in-sample MAE of the one-step naive forecast on its
	// training window (Hyndman & Koehler 2006): below 1 beats what a
	// random walk did in sample. It is nil when a training window was
	// flat, with no scale, or so nearly flat that the ratio overflows.
	MASE *float64 `json:"mase"`
	// Coverage80 and Coverage95 are the shares of origins whose band
	// held the actual close, and Winkler95 the mean Winkler interval score
	// of the 95% band (width plus 40 times any miss; lower is better);
	// nil when the model gave no bands.
	Coverage80 *float64 `json:"coverage80,omitempty"`
	Coverage95 *float64 `json:"coverage95,omitempty"`
	Winkler95  *float64 `json:"winkler95,omitempty"`
	// PersistenceRMSE is the RMSE of the last close as the forecast, from
	// the same origins at the same horizon.
	PersistenceRMSE float64 `json:"persistence_rmse"`
	// DM tests the squared errors against persistence's (nil when no
	// test is possible, as for persistence itself), and BeatsPersistence
	// is its verdict (forecast.DMTest.Better).
	DM               *forecast.DMTest `json:"dm_test,omitempty"`
	BeatsPersistence bool             `json:"beats_persistence"`
}

// Result is a model's rolling-origin evaluation.
type Result struct {
	Plan Plan `json:"plan"`
	// Fits is the number of times the model was fitted.
	Fits     int            `json:"fits"`
	Horizons []HorizonScore `json:"horizons"`
	Origins  []Origin       `json:"origins"`
}

// Progress receives the number of origins done of the total; it may be nil.
type Progress func(done, total int)

// Run evaluates model on closes by plan. minTrain is the fewest closes
// the model can be fitted on. It returns an error wrapping ctx.Err() when
// ctx is done between origins, and one wrapping ErrPlan when the plan
// does not fit the series.
func Run(ctx context.Context, closes []float64, model Model, plan Plan, minTrain int, progress Progress) (*Result, error) {
	if err := forecast.CheckFinite(closes); err != nil {
		return nil, err
	}
	origins, err := plan.OriginIndexes(len(closes), minTrain)
	if err != nil {
		return nil, err
	}
	h := plan.Horizon
	refit := plan.Refit || !model.Holds()
	window := origins[0]
	res := &Result{Plan: plan, Origins: make([]Origin, len(origins))}
	paths := make([]Path, len(origins))
	var fitted Fitted
	for i, o := range origins {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("cross-validation: %w", err)
		}
		train := closes[:o]
		if plan.Window == Fixed {
			train = closes[o-window : o]
		}
		if fitted == nil || refit {
			if fitted, err = model.Fit(ctx, train, h); err != nil {
				return nil, fmt.Errorf("cross-validation: fit at origin %d: %w", o, err)
			}
			res.Fits++
		}
		path, err := fitted.Forecast(ctx, train, h)
		if err != nil {
			return nil, fmt.Errorf("cross-validation: forecast at origin %d: %w", o, err)
		}
		if len(path.Point) != h {
			return nil, fmt.Errorf("cross-validation: the model forecast %d days from origin %d, want %d", len(path.Point), o, h)
		}
		paths[i] = path
		errs := make([]float64, h)
		for k := range errs {
			errs[k] = closes[o+k] - path.Point[k]
		}
		res.Origins[i] = Origin{Index: o, Errors: errs}
		if progress != nil {
			progress(i+1, len(origins))
		}
	}
	res.Horizons = score(closes, plan, window, res.Origins, paths)
	return res, nil
}

// score computes the per-horizon figures of the origins' errors and paths.
func score(closes []float64, plan Plan, window int, origins []Origin, paths []Path) []HorizonScore {
	out := make([]HorizonScore, plan.Horizon)
	scales := make([]float64, len(origins))
	for i, o := range origins {
		from := 0
		if plan.Window == Fixed {
			from = o.Index - window
		}
		scales[i] = NaiveScale(closes[from:o.Index])
	}
	scaled := !slices.ContainsFunc(scales, math.IsNaN)
	n := float64(len(origins))
	for k := range out {
		s := HorizonScore{H: k + 1}
		model := make([]float64, len(origins))
		naive := make([]float64, len(origins))
		var se, ae, ase, pse, in80, in95, wink float64
		bands := true
		for i, o := range origins {
			e := o.Errors[k]
			model[i] = e
			naive[i] = closes[o.Index+k] - closes[o.Index-1]
			se += e * e
			ae += math.Abs(e)
			ase += math.Abs(e) / scales[i]
			pse += naive[i] * naive[i]
			p := paths[i]
			if len(p.PI80) != plan.Horizon || len(p.PI95) != plan.Horizon {
				bands = false
				continue
			}
			actual := closes[o.Index+k]
			if p.PI80[k].Contains(actual) {
				in80++
			}
			if p.PI95[k].Contains(actual) {
				in95++
			}
			wink += Winkler(p.PI95[k], actual, forecast.Level95)
		}
		s.RMSE, s.MAE = math.Sqrt(se/n), ae/n
		// A window of near-zero changes (denormal prices) can scale an
		// error to infinity, which is no score and no JSON either.
		if mase := ase / n; scaled && !math.IsInf(mase, 0) {
			s.MASE = &mase
		}
		s.PersistenceRMSE = math.Sqrt(pse / n)
		if bands {
			c80, c95, w := in80/n, in95/n, wink/n
			s.Coverage80, s.Coverage95, s.Winkler95 = &c80, &c95, &w
		}
		if dm, err := forecast.DieboldMariano(model, naive, overlap(k+1, plan.Step)); err == nil {
			s.DM = &dm
			s.BeatsPersistence = dm.Better()
		}
		out[k] = s
	}
	return out
}

// overlap is the h the Diebold–Mariano test takes for errors made h days
// ahead from origins step apart: consecutive errors share ⌈h/step⌉−1
// days of shocks, so they are correlated up to that lag and no further.
// With step 1 it is h itself, the lag h−1 of the textbook test.
func overlap(h, step int) int {
	return (h + step - 1) / step
}

// NaiveScale is the MASE denominator of a training window: the mean
// absolute one-step change, the in-sample MAE of the naive forecast. A
// flat window scales by NaN, as a division by zero must not pass for a
// score.
func NaiveScale(train []float64) float64 {
	if len(train) < 2 {
		return math.NaN()
	}
	var sum float64
	for i := 1; i < len(train); i++ {
		sum += math.Abs(train[i] - train[i-1])
	}
	if sum == 0 {
		return math.NaN()
	}
	return sum / float64(len(train)-1)
}

// Winkler is the interval score of band at nominal level for the actual
// value (Winkler 1972; Gneiting & Raftery 2007): its width, plus 2/α
// times the distance by which the value fell outside, α = 1 − level. It
// rewards narrow bands and punishes misses, so two models' bands can be
// compared with one number.
func Winkler(band forecast.Band, actual, level float64) float64 {
	alpha := 1 - level
	score := band.Width()
	if actual < band.Lower {
		score += 2 / alpha * (band.Lower - actual)
	}
	if actual > band.Upper {
		score += 2 / alpha * (actual - band.Upper)
	}
	return score
}
