package ets

import (
	"context"
	"math"

	"github.com/augurhq/augur/internal/forecast"
)

// Name is the Report.Model of Run.
const Name = "ets"

// Run chooses and fits an ETS model on the training part of closes (those
// before forecast.TestStart), walks it forward over the test closes, and
// forecasts horizon closes from a model chosen and fitted on all of them
// (forecast.FitAndFilter, which also says what Params holds besides the
// final fit's Params).
//
// The walk-forward fits once and filters: each test close is predicted one
// step ahead, with its 80% and 95% intervals, from the states the training
// fit's parameters reach after every close before it (Observe), as R's
// forecast(ets(test, model = fit)) evaluates a fitted ETS model. Refitting
// at every step, as arima.Run does, would cost one automatic search (six
// Nelder–Mead fits) per test day, about a hundred times as much, and gain
// little: the states, where an ETS model keeps what it learnt of the
// recent closes, take in every close either way; only α, β, φ and σ² stay
// as the training part set them.
//
// It returns an error wrapping forecast.ErrNotEnoughData when the training
// part is shorter than MinObservations or there is no test close.
func Run(ctx context.Context, closes []float64, horizon int, progress forecast.ProgressFunc) (*forecast.Report, error) {
	return forecast.FitAndFilter(ctx, Name, closes, horizon, MinObservations, progress, func(y []float64) (forecast.Filter, error) {
		return Fit(y, Config{})
	})
}

// Params describes the fitted model for a report: "model" (as
// "ETS(A,Ad,N)"), "aicc", "alpha", "beta", "phi", "initial_level",
// "initial_slope", "sigma2" and, from an automatic search, "candidates",
// each "model" with its "aicc" (null where it could not be fitted).
func (m *Model) Params() map[string]any {
	p := map[string]any{
		"model":         m.Spec.String(),
		"aicc":          m.AICc,
		"alpha":         m.Alpha,
		"beta":          m.Beta,
		"phi":           m.Phi,
		"initial_level": m.Level0,
		"initial_slope": m.Slope0,
		"sigma2":        m.Sigma2,
	}
	if m.Candidates != nil {
		cands := make([]map[string]any, len(m.Candidates))
		for i, c := range m.Candidates {
			// JSON has no infinity: a model that could not be fitted has
			// no AICc.
			var aicc *float64
			if !math.IsInf(c.AICc, 0) {
				aicc = &c.AICc
			}
			cands[i] = map[string]any{"model": c.Spec.String(), "aicc": aicc}
		}
		p["candidates"] = cands
	}
	return p
}
