package garch

import (
	"context"
	"fmt"

	"github.com/augurhq/augur/internal/compute"
	"github.com/augurhq/augur/internal/forecast"
)

// RefitEvery is how many trading days SetBands lets pass between fits of
// the walk-forward. Between fits the model follows the market with its
// parameters fixed (Model.Update), so each day's variance still reacts to
// the day before: in a crash the bands widen the next morning, not at the
// next fit. The parameters themselves move slowly (they describe years of
// returns), and a weekly refit keeps a model's bands to a fifth of the
// cost of a daily one (a fit of 500 returns takes about 2.5 ms).
const RefitEvery = 5

// SetBands replaces the 80% and 95% bands of rep, made of closes, with
// bands from GARCH(1,1)-t fitted to the log returns: around each test
// point's own prediction, and around each forecast value.
//
// A test point predicted d = rep.PredictsDaysAhead days ahead from close
// o gets the band of the d-day return after o, from a model that knew the
// returns up to close o only: fitted then, or up to RefitEvery days before
// and updated with the returns since. A point with fewer than MinReturns
// returns before it, or no fit yet, gets no band, and coverage skips it.
// The forecast bands come from a fit on every return, step k's band from
// the sum of the next k days' variances (see Model.PriceBand). Coverage is
// measured again. Params gains "bands", naming the model, the refit
// interval and the final fit.
//
// It returns an error when the final fit fails (too few closes, or none
// that move), leaving rep's own bands untouched, or when ctx ends.
//
// Like the models, it holds one thread of the compute budget that ctx
// carries (compute.FromContext) while it fits.
func SetBands(ctx context.Context, rep *forecast.Report, closes []float64) error {
	defer compute.FromContext(ctx).Hold()()
	returns, err := LogReturns(closes)
	if err != nil {
		return fmt.Errorf("garch bands: %w", err)
	}
	final, err := Fit(ctx, returns)
	if err != nil {
		return fmt.Errorf("garch bands: %w", err)
	}
	ahead := max(1, rep.PredictsDaysAhead)
	var (
		m        *Model
		fittedAt = -RefitEvery // returns known at the last fit attempt
		known    int           // returns m has taken in
	)
	for i := range rep.Test {
		p := &rep.Test[i]
		p.PI80, p.PI95 = nil, nil
		origin := p.Index - ahead // the last close known; as many returns
		if origin < MinReturns || origin > len(returns) {
			continue
		}
		if origin-fittedAt >= RefitEvery {
			fittedAt = origin
			// A fit that fails (a flat stretch) leaves the last model in
			// use, if any.
			if next, err := Fit(ctx, returns[:origin]); err == nil {
				m, known = next, origin
			} else if ctx.Err() != nil {
				return fmt.Errorf("garch bands: %w", ctx.Err())
			}
		}
		if m == nil {
			continue
		}
		for ; known < origin; known++ {
			m.Update(returns[known])
		}
		sd := m.CumulativeSD(ahead)[ahead-1]
		b80, b95 := m.PriceBand(p.Predicted, sd, forecast.Level80), m.PriceBand(p.Predicted, sd, forecast.Level95)
		p.PI80, p.PI95 = &b80, &b95
	}
	rep.Coverage = forecast.CoverageOf(rep.Test)

	rep.ForecastPI80, rep.ForecastPI95 = nil, nil
	for k, sd := range final.CumulativeSD(len(rep.Forecast)) {
		rep.ForecastPI80 = append(rep.ForecastPI80, final.PriceBand(rep.Forecast[k], sd, forecast.Level80))
		rep.ForecastPI95 = append(rep.ForecastPI95, final.PriceBand(rep.Forecast[k], sd, forecast.Level95))
	}
	if rep.Params == nil {
		rep.Params = map[string]any{}
	}
	rep.Params["bands"] = map[string]any{"model": Name, "refit_every": RefitEvery, "fit": final}
	return nil
}
