package arima

import "math"

// The optimiser works on unconstrained reals. These transforms map them to
// AR coefficients of a stationary polynomial (or, negated, MA coefficients
// of an invertible one) through partial autocorrelations in (-1, 1): Jones
// (1980) with Monahan's (1984) r = x/√(1+x²), exactly as statsmodels'
// constrain_stationary_univariate does, so that the two libraries search the
// same space and reach the same optimum.

// constrainStationary writes to dst the AR coefficients whose partial
// autocorrelations are x/√(1+x²). work must hold 2·len(x) values.
func constrainStationary(dst, x, work []float64) {
	n := len(x)
	prev, cur := work[:n], work[n:2*n]
	for k := 0; k < n; k++ {
		r := x[k] / math.Sqrt(1+x[k]*x[k])
		for i := 0; i < k; i++ {
			cur[i] = prev[i] + r*prev[k-i-1]
		}
		cur[k] = r
		prev, cur = cur, prev
	}
	for i := 0; i < n; i++ {
		dst[i] = -prev[i]
	}
}

// unconstrainStationary inverts constrainStationary by running the
// Durbin-Levinson recursion backwards. It reports false when coef is not
// stationary (a partial autocorrelation falls outside (-1, 1)), which doubles
// as a root-free stationarity test. work must hold 2·len(coef) values.
func unconstrainStationary(dst, coef, work []float64) bool {
	n := len(coef)
	cur, prev := work[:n], work[n:2*n]
	for i := 0; i < n; i++ {
		cur[i] = -coef[i]
	}
	for k := n - 1; k >= 0; k-- {
		r := cur[k]
		if !(math.Abs(r) < 1) {
			return false
		}
		dst[k] = r / math.Sqrt(1-r*r)
		for j := 0; j < k; j++ {
			prev[j] = (cur[j] - r*cur[k-j-1]) / (1 - r*r)
		}
		cur, prev = prev, cur
	}
	return true
}
