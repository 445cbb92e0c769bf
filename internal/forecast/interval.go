package forecast

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// The nominal levels of the prediction intervals every model reports.
const (
	Level80 = 0.80
	Level95 = 0.95
)

// Band is a prediction interval: the value is expected to fall within
// [Lower, Upper] with the band's nominal probability.
type Band struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// Contains reports whether v lies within the band, bounds included.
func (b Band) Contains(v float64) bool { return b.Lower <= v && v <= b.Upper }

// Width is Upper − Lower.
func (b Band) Width() float64 { return b.Upper - b.Lower }

// GaussianBand is the interval center ± z·sd with z the standard normal
// quantile for a central probability of level: the interval of a model
// whose errors are normal with standard deviation sd, as statsmodels'
// conf_int gives.
func GaussianBand(center, sd, level float64) Band {
	z := distuv.UnitNormal.Quantile(0.5 + level/2)
	return Band{Lower: center - z*sd, Upper: center + z*sd}
}

// GaussianBands are the 80% and 95% GaussianBand of each mean with its
// variance: the intervals of a model whose h-step errors are normal, as
// statsmodels and R's forecast give them.
func GaussianBands(mean, variance []float64) (pi80, pi95 []Band) {
	pi80 = make([]Band, len(mean))
	pi95 = make([]Band, len(mean))
	for k := range mean {
		sd := math.Sqrt(variance[k])
		pi80[k] = GaussianBand(mean[k], sd, Level80)
		pi95[k] = GaussianBand(mean[k], sd, Level95)
	}
	return pi80, pi95
}

// ConformalQuantile is the split-conformal quantile of absolute errors at
// level: the ⌈(n+1)·level⌉-th smallest of the n values. If the next error
// is exchangeable with these (drawn from the same distribution, in any
// order), |error| ≤ that quantile with probability at least level
// (Vovk et al. 2005; Lei et al. 2018), whatever the distribution. It
// reports false when n is too small for the level (fewer than 4 errors at
// 80%, fewer than 19 at 95%), where the guarantee needs an infinite band.
func ConformalQuantile(absErrors []float64, level float64) (float64, bool) {
	sorted := slices.Clone(absErrors)
	slices.Sort(sorted)
	return sortedQuantile(sorted, level)
}

// sortedQuantile is ConformalQuantile of errors already sorted ascending.
func sortedQuantile(sorted []float64, level float64) (float64, bool) {
	n := len(sorted)
	rank := int(math.Ceil(float64(n+1) * level))
	if n == 0 || rank > n {
		return 0, false
	}
	return sorted[rank-1], true
}

// SetConformalBands gives the test points and the forecast of rep split
// conformal intervals built from walk-forward errors, for models with no
// error distribution of their own (persistence, drift, the LSTM).
//
// Each test point's band uses only errors known before it: prior, the
// absolute out-of-sample one-step errors the model made before the test set
// (nil when it has none, as for the LSTM, whose errors on its own training
// data are in-sample and too small), followed by the absolute errors of the
// earlier test points. A point with too few errors for a level gets no band
// at that level, and coverage skips it. So coverage on the test days
// measures intervals that could have been drawn at the time.
//
// The forecast bands use all of those errors. Step k of the forecast gets
// the one-step quantile scaled by √k: errors of one-step models on daily
// closes add up like a random walk's, so their spread grows with the square
// root of the distance. That is an assumption, not a guarantee, and the
// test coverage only checks the one-step bands.
func SetConformalBands(rep *Report, prior []float64) {
	// The errors are kept sorted as they arrive, so each point's quantiles
	// are a lookup and its error one insertion, rather than a sort of
	// every error so far for each point: that sort was most of a cheap
	// model's time.
	errs := make([]float64, 0, len(prior)+len(rep.Test))
	for _, e := range prior {
		errs = append(errs, math.Abs(e))
	}
	slices.Sort(errs)
	for i := range rep.Test {
		p := &rep.Test[i]
		p.PI80 = conformalBand(p.Predicted, errs, Level80, 1)
		p.PI95 = conformalBand(p.Predicted, errs, Level95, 1)
		e := math.Abs(p.Predicted - p.Actual)
		at, _ := slices.BinarySearch(errs, e)
		errs = slices.Insert(errs, at, e)
	}
	rep.ForecastPI80, rep.ForecastPI95 = nil, nil
	q80, ok80 := sortedQuantile(errs, Level80)
	q95, ok95 := sortedQuantile(errs, Level95)
	if !ok80 || !ok95 {
		return
	}
	for k, v := range rep.Forecast {
		scale := math.Sqrt(float64(k + 1))
		rep.ForecastPI80 = append(rep.ForecastPI80, Band{Lower: v - q80*scale, Upper: v + q80*scale})
		rep.ForecastPI95 = append(rep.ForecastPI95, Band{Lower: v - q95*scale, Upper: v + q95*scale})
	}
}

// conformalBand is center ± the conformal quantile of the sorted absolute
// errors times scale, or nil when there are too few errors.
func conformalBand(center float64, sorted []float64, level, scale float64) *Band {
	q, ok := sortedQuantile(sorted, level)
	if !ok {
		return nil
	}
	return &Band{Lower: center - q*scale, Upper: center + q*scale}
}

// Coverage is how often a model's prediction intervals held the actual
// value on its test days.
type Coverage struct {
	// Level is the nominal probability, 0.8 or 0.95.
	Level float64 `json:"level"`
	// Covered is the share of the test points with a band at this level
	// whose actual value fell inside it.
	Covered float64 `json:"covered"`
	// MeanWidth is the mean width of those bands, in price units.
	MeanWidth float64 `json:"mean_width"`
	// Points is the number of test points with a band at this level.
	Points int `json:"points"`
}

// CoverageOf measures the empirical coverage of the test points' 80% and
// 95% bands. A level no point has a band for is left out.
func CoverageOf(test []TestPoint) []Coverage {
	var out []Coverage
	for _, level := range []float64{Level80, Level95} {
		c := Coverage{Level: level}
		var width float64
		for _, p := range test {
			b := p.PI80
			if level == Level95 {
				b = p.PI95
			}
			if b == nil {
				continue
			}
			c.Points++
			width += b.Width()
			if b.Contains(p.Actual) {
				c.Covered++
			}
		}
		if c.Points == 0 {
			continue
		}
		c.Covered /= float64(c.Points)
		c.MeanWidth = width / float64(c.Points)
		out = append(out, c)
	}
	return out
}
