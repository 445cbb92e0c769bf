package forecast

import (
	"context"
	"fmt"
	"math"
	"time"
)

// NameLinearRegression is the Report.Model of LinearRegression.
const NameLinearRegression = "linreg"

// LinearRegression predicts the close horizon trading days ahead from today's
// close with ordinary least squares on standardised input: the original app's
// third model, fitted as scikit-learn's StandardScaler and LinearRegression
// do, but without the app's ×1.04 fudge factor, which only made the errors
// worse.
//
// It is scored on the same test days as every other model, the closes from
// TestStart on, each predicted from the close horizon days before it. So that
// no test close is learnt, it is fitted only on the pairs (close i, close
// i+horizon) whose target lies before TestStart. (The original cut its rows
// at the same index but kept the pairs whose targets reached horizon days
// into the test days, and so scored horizon fewer days.) It predicts horizon
// days ahead, so its persistence is the same close horizon days earlier.
//
// Its 80% and 95% intervals are the textbook OLS prediction intervals of
// the fit (see olsIntervals).
//
// horizon is taken as given (the registry resolves it once for every model)
// and must be at least 1. The forecast applies the model to each of the last
// horizon closes: the model applied to closes[n-horizon+k] predicts day
// n+k+1, so together they are the next horizon days, as in the original
// app's seven-day forecast.
func LinearRegression(ctx context.Context, closes []float64, horizon int) (*Report, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("linear regression: %w", err)
	}
	if err := CheckFinite(closes); err != nil {
		return nil, fmt.Errorf("linear regression: %w", err)
	}
	n := len(closes)
	cut := TestStart(n)
	pairs := cut - horizon
	if pairs < 2 || cut >= n {
		return nil, fmt.Errorf("linear regression: %d closes with horizon %d leave %d training pairs and %d test days, want at least 2 and 1: %w",
			n, horizon, max(0, pairs), n-cut, ErrNotEnoughData)
	}

	x, y := closes[:pairs], closes[horizon:cut]
	fit := fitScaledOLS(x, y)
	intervals, withIntervals := newOLSIntervals(fit, x, y)

	test := make([]TestPoint, 0, n-cut)
	for i := cut; i < n; i++ {
		p := TestPoint{Index: i, Actual: closes[i], Predicted: fit.predict(closes[i-horizon])}
		if withIntervals {
			pi80, pi95 := intervals.bands(closes[i-horizon])
			p.PI80, p.PI95 = &pi80, &pi95
		}
		test = append(test, p)
	}
	next := make([]float64, horizon)
	var next80, next95 []Band
	for k := range next {
		next[k] = fit.predict(closes[n-horizon+k])
		if withIntervals {
			pi80, pi95 := intervals.bands(closes[n-horizon+k])
			next80, next95 = append(next80, pi80), append(next95, pi95)
		}
	}

	rep := &Report{
		Model: NameLinearRegression,
		Params: map[string]any{
			"slope":      fit.slope(),
			"intercept":  fit.interceptPrice(),
			"horizon":    horizon,
			"train_size": pairs,
			"test_size":  len(test),
		},
		Forecast:     next,
		ForecastPI80: next80,
		ForecastPI95: next95,
		Test:         test,
	}
	rep.Score(closes, horizon)
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// scaledOLS is a one-feature least-squares fit on the standardised feature
// (x - mean) / scale, kept in that form so predictions round exactly as
// scikit-learn's StandardScaler + LinearRegression pipeline does.
type scaledOLS struct {
	mean, scale     float64
	coef, intercept float64
}

// fitScaledOLS fits y ≈ intercept + coef·(x-mean)/scale. scale is the
// population standard deviation of x (StandardScaler's choice), or 1 for a
// constant x, where the best fit is the flat line at mean(y).
func fitScaledOLS(x, y []float64) scaledOLS {
	n := float64(len(x))
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= n
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	fit := scaledOLS{mean: mean, scale: 1}
	if sd := math.Sqrt(ss / n); sd > 0 {
		fit.scale = sd
	}

	// Centre the scaled feature again: its mean is zero only up to rounding,
	// and the reference solver centres too.
	var zMean, yMean float64
	z := make([]float64, len(x))
	for i, v := range x {
		z[i] = (v - fit.mean) / fit.scale
		zMean += z[i]
		yMean += y[i]
	}
	zMean /= n
	yMean /= n
	var szy, szz float64
	for i := range z {
		dz := z[i] - zMean
		szy += dz * (y[i] - yMean)
		szz += dz * dz
	}
	if szz > 0 {
		fit.coef = szy / szz
	}
	fit.intercept = yMean - fit.coef*zMean
	return fit
}

func (f scaledOLS) predict(x float64) float64 {
	return f.intercept + f.coef*(x-f.mean)/f.scale
}

// slope is the fitted change in the target per unit of close, in price units.
func (f scaledOLS) slope() float64 {
	return f.coef / f.scale
}

// interceptPrice is the fitted target for a close of zero, in price units.
func (f scaledOLS) interceptPrice() float64 {
	return f.intercept - f.coef*f.mean/f.scale
}
