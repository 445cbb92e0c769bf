package arima

import (
	"math/cmplx"

	"gonum.org/v1/gonum/mat"
)

// minRootModulus is the smallest modulus an AR or MA root of a candidate
// of SelectOrder may have: R's auto.arima refuses roots inside 1 + 1e-2.
const minRootModulus = 1.01

// nearUnitRoot reports whether the model has an AR or MA root inside
// minRootModulus.
func nearUnitRoot(c Coefficients) bool { return maxInverseRoot(c) > 1/minRootModulus }

// maxInverseRoot is the largest modulus among the inverse roots of the AR
// polynomial 1 - φ₁z - … - φ_p z^p and the MA polynomial 1 + θ₁z + … +
// θ_q z^q: 0 for neither, near 1 for a model close to a unit root or to
// non-invertibility. The inverse roots of such a polynomial are the
// eigenvalues of its companion matrix.
func maxInverseRoot(c Coefficients) float64 {
	negMA := make([]float64, len(c.MA))
	for i, th := range c.MA {
		negMA[i] = -th
	}
	return max(companionRadius(c.AR), companionRadius(negMA))
}

// companionRadius is the spectral radius of the companion matrix with a in
// its first row, a's trailing zeros (|a_i| ≤ 1e-8, as R's auto.arima
// trims them) dropped first.
func companionRadius(a []float64) float64 {
	for len(a) > 0 && abs(a[len(a)-1]) <= 1e-8 {
		a = a[:len(a)-1]
	}
	n := len(a)
	if n == 0 {
		return 0
	}
	m := mat.NewDense(n, n, nil)
	for j, v := range a {
		m.Set(0, j, v)
	}
	for i := 1; i < n; i++ {
		m.Set(i, i-1, 1)
	}
	var eig mat.Eigen
	if !eig.Factorize(m, mat.EigenNone) {
		return 1 // no answer: treat it as the boundary, which is refused
	}
	radius := 0.0
	for _, v := range eig.Values(nil) {
		radius = max(radius, cmplx.Abs(v))
	}
	return radius
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
