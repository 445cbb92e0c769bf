package arima

import "github.com/augurhq/augur/internal/forecast"

// ForecastVariance returns the variances of the errors of Forecast(h), in
// the series' units squared: the state-space forecast variance that
// statsmodels' get_forecast(h).var_pred_mean gives.
//
// The ARMA state beyond the series, α_{n+1}, is known up to an error δ with
// covariance σ²·P_{n+1|n} from the Kalman filter, and each later state adds
// a new shock: α_{n+j} = T^{j−1} α_{n+1} + Σ_{i=2}^{j} T^{j−i} R ε_{n+i}. So
// the error of the j-th differenced forecast is c_j·δ + Σ_i ψ_{j−i} ε_{n+i}
// with c_j = Z T^{j−1} and ψ_m = c_{m+1}·R, the model's MA(∞) weights.
// Undoing d differences sums these errors d times over, which for the k-th
// level forecast weighs the j-th differenced error by the binomial
// coefficient C(k−j+d−1, d−1); the forecasts' known starting levels add no
// error. The variance is then σ²·(A_k P A_kᵀ + Σ_i B_{k,i}²), A and B the
// summed weights.
func (m *Model) ForecastVariance(h int) []float64 {
	if h <= 0 {
		return nil
	}
	r := len(m.state)
	d := m.Order.D
	// c[j] is Z T^j (row j+1 of the text), psi[j] its product with R.
	c := make([][]float64, h)
	psi := make([]float64, h)
	row := make([]float64, r)
	row[0] = 1
	for j := range c {
		c[j] = append([]float64(nil), row...)
		for i, v := range row {
			psi[j] += v * m.rvec[i]
		}
		// row·T: T has φ in its first column and ones on the superdiagonal.
		var first float64
		for i, v := range row {
			first += v * m.phi[i]
		}
		copy(row[1:], row[:r-1])
		row[0] = first
	}

	out := make([]float64, h)
	a := make([]float64, r)
	for k := 1; k <= h; k++ {
		clear(a)
		for j := 1; j <= k; j++ {
			w := integrationWeight(k-j, d)
			for i := range a {
				a[i] += w * c[j-1][i]
			}
		}
		var v float64
		for i := 0; i < r; i++ {
			for l := 0; l < r; l++ {
				v += a[i] * m.stateCov[i*r+l] * a[l]
			}
		}
		// Shock ε_{n+i}, 2 ≤ i ≤ k, reaches differenced forecast j ≥ i
		// with weight ψ_{j−i}.
		for i := 2; i <= k; i++ {
			var b float64
			for j := i; j <= k; j++ {
				b += integrationWeight(k-j, d) * psi[j-i]
			}
			v += b * b
		}
		out[k-1] = m.Coefficients.Sigma2 * v
	}
	return out
}

// integrationWeight is C(gap+d−1, d−1): how often the differenced value
// gap steps before a level is counted in that level after d cumulative
// sums (1 for d = 1, gap+1 for d = 2; for d = 0 only gap 0 counts).
func integrationWeight(gap, d int) float64 {
	if d == 0 {
		if gap == 0 {
			return 1
		}
		return 0
	}
	w := 1.0
	for i := 1; i < d; i++ {
		w = w * float64(gap+i) / float64(i)
	}
	return w
}

// ForecastBands returns the 80% and 95% Gaussian prediction intervals of
// Forecast(h), as statsmodels' get_forecast(h).conf_int(alpha) gives them
// for alpha 0.2 and 0.05.
func (m *Model) ForecastBands(h int) (pi80, pi95 []forecast.Band) {
	return forecast.GaussianBands(m.Forecast(h), m.ForecastVariance(h))
}
