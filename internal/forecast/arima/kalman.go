package arima

import "math"

// kalman evaluates the exact Gaussian likelihood of a zero-mean ARMA(p, q)
// process with unit innovation variance (σ² is concentrated out by the
// caller) through the Kalman filter on Harvey's state-space form:
//
//	α_{t+1} = T α_t + R ε_{t+1},   y_t = α_t[0],
//
// with T the companion matrix (φ in its first column, ones on the
// superdiagonal) and R = (1, θ₁, …, θ_{r-1})ᵀ, r = max(p, q+1). The state
// starts from its stationary distribution, P₁ solving P = T P Tᵀ + R Rᵀ.
//
// All buffers live in the struct so that the optimiser's thousands of
// evaluations allocate nothing, and the loops exploit T's structure: the
// covariance update costs O(r²) instead of the O(r³) of dense products, and
// once P has converged (after p steps for a pure AR model, geometrically
// otherwise) the gain is frozen and a step costs O(r).
type kalman struct {
	r     int
	phi   []float64 // φ padded with zeros to r
	rvec  []float64 // R padded with zeros to r
	a     []float64 // predicted state a_{t|t-1}; after run, a_{n+1|n}
	p     []float64 // predicted covariance, r×r row-major
	pNext []float64
	gain  []float64
	lyap  []float64 // r(r+1)/2 square system of the Lyapunov equation
	rhs   []float64
}

// convergenceTolerance is how close successive covariances must be before
// the filter switches to its steady state. Freezing the gain at this
// distance from its limit moves the log-likelihood by about n·1e-13.
const convergenceTolerance = 1e-13

func newKalman(p, q int) *kalman {
	r := max(p, q+1)
	nSym := r * (r + 1) / 2
	return &kalman{
		r:     r,
		phi:   make([]float64, r),
		rvec:  make([]float64, r),
		a:     make([]float64, r),
		p:     make([]float64, r*r),
		pNext: make([]float64, r*r),
		gain:  make([]float64, r),
		lyap:  make([]float64, nSym*nSym),
		rhs:   make([]float64, nSym),
	}
}

// setCoefficients loads φ and θ; the slices must fit in the state.
func (k *kalman) setCoefficients(ar, ma []float64) {
	clear(k.phi)
	copy(k.phi, ar)
	clear(k.rvec)
	k.rvec[0] = 1
	copy(k.rvec[1:], ma)
}

// symIndex numbers the upper triangle of an r×r symmetric matrix.
func (k *kalman) symIndex(i, j int) int {
	if i > j {
		i, j = j, i
	}
	return i*k.r - i*(i-1)/2 + j - i
}

// stationaryCovariance solves P = T P Tᵀ + R Rᵀ for the initial state
// covariance into k.p. Written out with T's structure, element (i, j) reads
//
//	P[i][j] = φ_i φ_j P[0][0] + φ_i P[0][j+1] + φ_j P[i+1][0] + P[i+1][j+1] + R_i R_j
//
// (indexes ≥ r drop out), a linear system in the r(r+1)/2 distinct elements
// solved by Gaussian elimination with partial pivoting. It reports false
// when the system is numerically singular, i.e. the AR part has a root on
// the unit circle.
func (k *kalman) stationaryCovariance() bool {
	r := k.r
	nSym := r * (r + 1) / 2
	a := k.lyap
	clear(a)
	for i := 0; i < r; i++ {
		for j := i; j < r; j++ {
			row := a[k.symIndex(i, j)*nSym:][:nSym]
			row[k.symIndex(i, j)]++
			row[0] -= k.phi[i] * k.phi[j]
			if j+1 < r {
				row[k.symIndex(0, j+1)] -= k.phi[i]
			}
			if i+1 < r {
				row[k.symIndex(i+1, 0)] -= k.phi[j]
			}
			if i+1 < r && j+1 < r {
				row[k.symIndex(i+1, j+1)]--
			}
			k.rhs[k.symIndex(i, j)] = k.rvec[i] * k.rvec[j]
		}
	}
	if !solveInPlace(a, k.rhs, nSym) {
		return false
	}
	for i := 0; i < r; i++ {
		for j := i; j < r; j++ {
			v := k.rhs[k.symIndex(i, j)]
			k.p[i*r+j] = v
			k.p[j*r+i] = v
		}
	}
	return k.p[0] > 0 && !math.IsInf(k.p[0], 0)
}

// solveInPlace solves the n×n system a·x = b by Gaussian elimination with
// partial pivoting, leaving x in b and destroying a.
func solveInPlace(a, b []float64, n int) bool {
	for col := 0; col < n; col++ {
		pivot, best := col, math.Abs(a[col*n+col])
		for row := col + 1; row < n; row++ {
			if v := math.Abs(a[row*n+col]); v > best {
				pivot, best = row, v
			}
		}
		if !(best > 1e-14) {
			return false
		}
		if pivot != col {
			for j := col; j < n; j++ {
				a[col*n+j], a[pivot*n+j] = a[pivot*n+j], a[col*n+j]
			}
			b[col], b[pivot] = b[pivot], b[col]
		}
		inv := 1 / a[col*n+col]
		for row := col + 1; row < n; row++ {
			f := a[row*n+col] * inv
			if f == 0 {
				continue
			}
			for j := col + 1; j < n; j++ {
				a[row*n+j] -= f * a[col*n+j]
			}
			b[row] -= f * b[col]
		}
	}
	for row := n - 1; row >= 0; row-- {
		s := b[row]
		for j := row + 1; j < n; j++ {
			s -= a[row*n+j] * b[j]
		}
		b[row] = s / a[row*n+row]
	}
	return true
}

// run filters z - mean and returns Σ log F_t and Σ v_t²/F_t, where v_t are
// the one-step prediction errors and F_t their variances in units of σ².
// It reports false when the coefficients give no valid stationary start.
// Afterwards k.a holds the one-step-ahead state prediction beyond z.
func (k *kalman) run(z []float64, mean float64) (sumLogF, sumSq float64, ok bool) {
	if !k.stationaryCovariance() {
		return 0, 0, false
	}
	r := k.r
	phi, rvec, a, p, next, gain := k.phi, k.rvec, k.a, k.p, k.pNext, k.gain
	clear(a)
	t := 0
	for ; t < len(z); t++ {
		f := p[0]
		if !(f > 0) || math.IsInf(f, 0) {
			return 0, 0, false
		}
		v := z[t] - mean - a[0]
		sumLogF += math.Log(f)
		sumSq += v * v / f
		// Gain K = T P Zᵀ / F, with P Zᵀ the first column of P.
		for i := 0; i < r-1; i++ {
			gain[i] = (phi[i]*p[0] + p[(i+1)*r]) / f
		}
		gain[r-1] = phi[r-1] * p[0] / f
		a0 := a[0]
		for i := 0; i < r-1; i++ {
			a[i] = phi[i]*a0 + a[i+1] + gain[i]*v
		}
		a[r-1] = phi[r-1]*a0 + gain[r-1]*v
		// P_{t+1} = T (P - P Zᵀ Z P / F) Tᵀ + R Rᵀ. The bracket has a zero
		// first row and column, so T (·) Tᵀ merely shifts it up-left by one.
		var delta float64
		for i := 0; i < r; i++ {
			for j := i; j < r; j++ {
				v := rvec[i] * rvec[j]
				if i+1 < r && j+1 < r {
					v += p[(i+1)*r+j+1] - p[(i+1)*r]*p[(j+1)*r]/f
				}
				next[i*r+j] = v
				next[j*r+i] = v
				delta = max(delta, math.Abs(v-p[i*r+j]))
			}
		}
		p, next = next, p
		if delta <= convergenceTolerance*p[0] {
			t++
			break
		}
	}
	k.p, k.pNext = p, next
	if t == len(z) {
		return sumLogF, sumSq, true
	}
	// Steady state: F and K no longer change.
	f := p[0]
	for i := 0; i < r-1; i++ {
		gain[i] = (phi[i]*p[0] + p[(i+1)*r]) / f
	}
	gain[r-1] = phi[r-1] * p[0] / f
	sumLogF += float64(len(z)-t) * math.Log(f)
	var steadySq float64
	for ; t < len(z); t++ {
		v := z[t] - mean - a[0]
		steadySq += v * v
		a0 := a[0]
		for i := 0; i < r-1; i++ {
			a[i] = phi[i]*a0 + a[i+1] + gain[i]*v
		}
		a[r-1] = phi[r-1]*a0 + gain[r-1]*v
	}
	return sumLogF, sumSq + steadySq/f, true
}
