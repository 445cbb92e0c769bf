package ets

import (
	"math"

	"github.com/augurhq/augur/internal/forecast"
)

// Forecast returns the point forecasts 1..h steps after the last close:
// the level plus the (damped) slope summed over the steps.
func (m *Model) Forecast(h int) []float64 {
	mu, _ := m.moments(h)
	return mu
}

// ForecastBands returns the 80% and 95% prediction intervals of Forecast(h),
// the forecast ± z·√variance as R's forecast.ets gives them.
func (m *Model) ForecastBands(h int) (pi80, pi95 []forecast.Band) {
	return forecast.GaussianBands(m.moments(h))
}

// moments are the forecasts' means and variances by R's class1 (additive
// errors) and class2 (multiplicative errors): with the state [level,
// slope], the measurement row w = [1, φ], the transition F = [[1, φ],
// [0, φ]] and the gains g = [α, β], the mean h steps ahead is w·F^(h−1)·x
// and c_j = w·F^(j−1)·g is how much an error j steps back still moves it.
// Additive errors add up to σ²(1 + Σc_j²); multiplicative ones compound,
// through R's recursion on θ_j = E[ŷ_j²].
func (m *Model) moments(h int) (mu, variance []float64) {
	mu = make([]float64, h)
	c := make([]float64, h)
	// f is F^(j−1); with no trend the slope terms stay zero.
	f := [2][2]float64{{1, 0}, {0, 1}}
	trend := m.Spec.Trend != NoTrend
	for j := 0; j < h; j++ {
		// w·F^j = [f00 + φ f10, f01 + φ f11]
		w0, w1 := f[0][0], 0.0
		if trend {
			w0 += m.Phi * f[1][0]
			w1 = f[0][1] + m.Phi*f[1][1]
		}
		mu[j] = w0*m.Level + w1*m.Slope
		c[j] = w0*m.Alpha + w1*m.Beta
		if trend {
			f = [2][2]float64{
				{f[0][0], f[0][0]*m.Phi + f[0][1]*m.Phi},
				{f[1][0], f[1][0]*m.Phi + f[1][1]*m.Phi},
			}
		}
	}
	variance = make([]float64, h)
	if !m.Spec.Multiplicative {
		sum := 0.0
		for j := 0; j < h; j++ {
			variance[j] = m.Sigma2 * (1 + sum)
			sum += c[j] * c[j]
		}
		return mu, boundVariances(variance)
	}
	theta := make([]float64, h)
	for j := 0; j < h; j++ {
		theta[j] = mu[j] * mu[j]
		for k := 0; k < j; k++ {
			theta[j] += m.Sigma2 * c[k] * c[k] * theta[j-1-k]
		}
		variance[j] = (1+m.Sigma2)*theta[j] - mu[j]*mu[j]
	}
	return mu, boundVariances(variance)
}

// boundVariances replaces a variance that overflowed, which compounding
// multiplicative errors can do on absurd series (closes of 1e-76 with
// relative errors in the thousands), by the largest float: the interval is
// then as wide as a number can say, where an infinite bound could not even
// be written as JSON.
func boundVariances(variance []float64) []float64 {
	for j, v := range variance {
		if math.IsNaN(v) || v > math.MaxFloat64 {
			variance[j] = math.MaxFloat64
		}
	}
	return variance
}

// Observe moves the model's final states on by the last close of history,
// with its parameters unchanged: the model's own update, which is how it
// forecasts the next day without being fitted again.
func (m *Model) Observe(history []float64) {
	g := m.gains()
	f, phib := g.step(m.Level, m.Slope)
	m.Level, m.Slope = g.update(m.Level, f, phib, history[len(history)-1])
	m.NObs++
}
