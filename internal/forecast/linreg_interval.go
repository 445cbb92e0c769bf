package forecast

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// olsIntervals gives the textbook OLS prediction intervals of a
// one-feature regression: ŷ ± t_{n−2} · s · √(1 + 1/n + (x₀ − x̄)²/Sxx), with
// s² the residual variance on n − 2 degrees of freedom. The intervals
// assume independent normal errors of constant variance; the regression's
// overlapping h-day targets make its residuals correlated for h > 1, which
// the coverage on the test days shows honestly.
type olsIntervals struct {
	fit          scaledOLS
	n, mean, sxx float64
	sd           float64 // s, the residual standard deviation
	t80, t95     float64 // Student t quantiles on n − 2 degrees of freedom
}

// newOLSIntervals measures the fit's residuals on its training data x, y.
// It reports false when fewer than three points leave no residual degrees
// of freedom.
func newOLSIntervals(fit scaledOLS, x, y []float64) (olsIntervals, bool) {
	n := len(x)
	if n < 3 {
		return olsIntervals{}, false
	}
	o := olsIntervals{fit: fit, n: float64(n)}
	for _, v := range x {
		o.mean += v
	}
	o.mean /= o.n
	var ssr float64
	for i, v := range x {
		o.sxx += (v - o.mean) * (v - o.mean)
		r := y[i] - fit.predict(v)
		ssr += r * r
	}
	o.sd = math.Sqrt(ssr / (o.n - 2))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: o.n - 2}
	o.t80 = t.Quantile(0.5 + Level80/2)
	o.t95 = t.Quantile(0.5 + Level95/2)
	return o, true
}

// bands returns the 80% and 95% prediction intervals at feature value x0.
// A constant training feature (Sxx = 0) has no slope, and the leverage
// term drops out.
func (o olsIntervals) bands(x0 float64) (pi80, pi95 Band) {
	leverage := 1 / o.n
	if o.sxx > 0 {
		leverage += (x0 - o.mean) * (x0 - o.mean) / o.sxx
	}
	se := o.sd * math.Sqrt(1+leverage)
	y := o.fit.predict(x0)
	return Band{Lower: y - o.t80*se, Upper: y + o.t80*se}, Band{Lower: y - o.t95*se, Upper: y + o.t95*se}
}
