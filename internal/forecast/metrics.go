package forecast

import (
	"fmt"
	"math"
)

// Evaluate computes the metrics of test-set predictions. closes is the whole
// input series and lag the model's prediction distance in steps: the close
// known when the prediction was made (closes[Index-lag]) is what the
// direction calls are scored from (see Directions).
func Evaluate(closes []float64, test []TestPoint, lag int) Metrics {
	if len(test) == 0 {
		return Metrics{}
	}
	var se, ae, ape float64
	var apeN int
	for _, p := range test {
		e := p.Predicted - p.Actual
		se += e * e
		ae += math.Abs(e)
		if p.Actual != 0 {
			ape += math.Abs(e / p.Actual)
			apeN++
		}
	}
	n := float64(len(test))
	m := Metrics{RMSE: math.Sqrt(se / n), MAE: ae / n}
	if apeN > 0 {
		m.MAPE = 100 * ape / float64(apeN)
	}
	dir := Directions(closes, test, lag)
	m.DirectionalAccuracy = dir.HitRate()
	m.DirectionalCallShare = dir.CallShare()
	if p, ok := Directions(closes, NonOverlapping(test, lag), lag).PValue(); ok {
		m.DirectionalPValue = &p
	}
	return m
}

// PersistenceOn returns the test points that the persistence forecast
// (tomorrow = today, or in general: the value at Index-lag equals the value
// at Index) makes on the same indexes as test. lag is how many steps ahead
// the model under comparison predicts; use 1 for one-step models.
func PersistenceOn(closes []float64, test []TestPoint, lag int) []TestPoint {
	out := make([]TestPoint, 0, len(test))
	for _, p := range test {
		if p.Index-lag < 0 || p.Index >= len(closes) {
			continue
		}
		out = append(out, TestPoint{Index: p.Index, Actual: p.Actual, Predicted: closes[p.Index-lag]})
	}
	return out
}

// Score fills the report's Metrics and Persistence from its Test points,
// PredictsDaysAhead and Predicts from lag, the model's prediction distance
// in steps (1 for one-step-ahead models, the horizon for direct multi-step
// models), and DM, BeatsPersistence, Verdict and Coverage from the
// comparison with persistence (see judge). Models set their test points'
// intervals before they call it.
func (r *Report) Score(closes []float64, lag int) {
	r.PredictsDaysAhead = lag
	r.Predicts = daysAhead(lag)
	r.Metrics = Evaluate(closes, r.Test, lag)
	r.Persistence = Evaluate(closes, PersistenceOn(closes, r.Test, lag), lag)
	r.judge(closes, lag)
}

// daysAhead labels a prediction distance for people.
func daysAhead(days int) string {
	if days == 1 {
		return "next day"
	}
	return fmt.Sprintf("%d days ahead", days)
}
