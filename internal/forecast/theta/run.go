package theta

import (
	"context"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/ets"
)

// Name is the Report.Model of Run.
const Name = "theta"

// Run fits the Theta method on the training part of closes (those before
// forecast.TestStart), walks it forward over the test closes, and
// forecasts horizon closes from a fit on all of them.
//
// The walk-forward fits α and the initial level once, on the training
// part, and at every test close predicts one step ahead, with thetaf's 80%
// and 95% intervals, from the SES level after every close before it and
// the drift refitted on those closes (Observe): thetaf at each origin with
// α held, which costs a line fit per day instead of a Nelder–Mead search,
// for the reason ets.Run gives.
//
// forecast.FitAndFilter runs it, and says what Params holds besides the
// final fit's Params. Run returns an error wrapping forecast.ErrNotEnoughData when the training part is
// shorter than ets.MinObservations or there is no test close.
func Run(ctx context.Context, closes []float64, horizon int, progress forecast.ProgressFunc) (*forecast.Report, error) {
	return forecast.FitAndFilter(ctx, Name, closes, horizon, ets.MinObservations, progress, func(y []float64) (forecast.Filter, error) {
		return Fit(y)
	})
}

// Params describes the fitted model for a report: "alpha", "drift",
// "sigma2" (SES's) and "initial_level".
func (m *Model) Params() map[string]any {
	return map[string]any{
		"alpha":         m.Alpha,
		"drift":         m.Drift,
		"sigma2":        m.SES.Sigma2,
		"initial_level": m.SES.Level0,
	}
}
