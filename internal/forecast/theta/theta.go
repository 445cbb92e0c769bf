// Package theta forecasts daily closes by the Theta method of Assimakopoulos
// and Nikolopoulos (2000) as R's forecast::thetaf computes it (Hyndman and
// Billah 2003): simple exponential smoothing plus a drift of half the slope
// of a straight line fitted to the series, with thetaf's prediction
// intervals.
//
// Daily closes have no fixed period, and thetaf tests for seasonality only
// when the series has a frequency above one, so there is no seasonal
// adjustment here.
package theta

import (
	"fmt"
	"math"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/ets"
)

// minAlpha is thetaf's floor on α, which it divides by.
const minAlpha = 1e-10

// Model is a fitted Theta model.
type Model struct {
	// SES is the simple exponential smoothing model, ETS(A,N,N) fitted by
	// the one-step mean squared error as R's ses fits it; its Level is
	// where the forecasts start.
	SES *ets.Model
	// Alpha is SES's α, floored at 1e-10.
	Alpha float64
	// Drift is half the least-squares slope of the closes on time.
	Drift float64
	// NObs is how many closes the drift and the level have seen.
	NObs int
}

// Fit fits the Theta method to y. It returns ets.Fit's errors: wrapping
// forecast.ErrInvalidSeries for a non-finite close and
// forecast.ErrNotEnoughData below ets.MinObservations.
func Fit(y []float64) (*Model, error) {
	ses, err := ets.Fit(y, ets.Config{Model: "ANN", Criterion: ets.MSE})
	if err != nil {
		return nil, fmt.Errorf("theta: simple exponential smoothing: %w", err)
	}
	return &Model{SES: ses, Alpha: max(minAlpha, ses.Alpha), Drift: drift(y), NObs: len(y)}, nil
}

// Forecast returns the point forecasts 1..h steps after the last close:
// the SES level plus the drift times h − 1 + (1 − (1−α)^n)/α, thetaf's
// formula.
func (m *Model) Forecast(h int) []float64 {
	out := make([]float64, h)
	lead := (1 - math.Pow(1-m.Alpha, float64(m.NObs))) / m.Alpha
	for k := range out {
		out[k] = m.SES.Level + m.Drift*(float64(k)+lead)
	}
	return out
}

// ForecastBands returns the 80% and 95% intervals of Forecast(h) as thetaf
// gives them: normal, with the variance σ²·(1 + (h−1)·α²) of SES's
// forecasts, the drift taken as known.
func (m *Model) ForecastBands(h int) (pi80, pi95 []forecast.Band) {
	variance := make([]float64, h)
	for k := range variance {
		variance[k] = m.SES.Sigma2 * (1 + float64(k)*m.Alpha*m.Alpha)
	}
	return forecast.GaussianBands(m.Forecast(h), variance)
}

// Observe moves the model on by the last close of y, the closes so far:
// the SES level takes it in with α unchanged, and the drift is refitted on
// y. It is thetaf at the next origin with SES's α and initial level kept,
// which is what the walk-forward of Run needs.
func (m *Model) Observe(y []float64) {
	m.SES.Observe(y)
	m.Drift = drift(y)
	m.NObs = len(y)
}

// drift is half the slope of the least-squares line through y.
func drift(y []float64) float64 {
	_, slope := forecast.TrendLine(y)
	return slope / 2
}
