package forecast

import (
	"fmt"
	"math"
	"slices"
)

// judge compares the report's test predictions with persistence's on the
// very same points and sets DM, BeatsPersistence, Coverage and Verdict.
// lag is the prediction distance (see Score): persistence predicts
// closes[Index-lag], and the Diebold–Mariano test allows for errors
// correlated over lag-1 days.
func (r *Report) judge(closes []float64, lag int) {
	var model, persistence []float64
	for _, p := range r.Test {
		if p.Index-lag < 0 || p.Index >= len(closes) {
			continue
		}
		model = append(model, p.Predicted-p.Actual)
		persistence = append(persistence, closes[p.Index-lag]-p.Actual)
	}
	r.DM = nil
	if t, err := DieboldMariano(model, persistence, lag); err == nil {
		r.DM = &t
	}
	r.BeatsPersistence = r.DM != nil && r.DM.Better()
	r.Coverage = CoverageOf(r.Test)
	r.Verdict = verdict(r.DM, model, persistence)
}

// verdict says in words how a model compares with persistence. A lower
// RMSE that the test cannot tell from luck reads "no better".
func verdict(dm *DMTest, model, persistence []float64) string {
	if dm == nil {
		if len(model) > 0 && slices.Equal(model, persistence) {
			return "the same as persistence on every test day"
		}
		return "not comparable with persistence: too few test days, or no variation in the difference of their errors"
	}
	return dmVerdict(*dm)
}

// dmVerdict is the verdict of a computed test.
func dmVerdict(dm DMTest) string {
	p := FormatP(dm.PValue)
	switch {
	case dm.Better():
		return fmt.Sprintf("beats persistence (%s)", p)
	case dm.Statistic > 0 && dm.PValue < SignificanceLevel:
		return fmt.Sprintf("worse than persistence (%s)", p)
	default:
		return fmt.Sprintf("no better than persistence (%s)", p)
	}
}

// FormatP writes a p-value for people, "p = 0.031", or "p < 0.001" below
// that, where more digits would claim a precision the test's assumptions
// do not have.
func FormatP(p float64) string {
	if p < 0.001 {
		return "p < 0.001"
	}
	return fmt.Sprintf("p = %.3f", math.Min(p, 1))
}
