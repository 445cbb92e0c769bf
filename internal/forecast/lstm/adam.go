package lstm

import "math"

// adam is the Adam optimiser with PyTorch's update rule (bias-corrected
// moments, epsilon added to the corrected root of the second moment).
type adam[F floating] struct {
	learningRate, beta1, beta2, epsilon float64
	// m and v are the first and second moment estimates, one per parameter.
	m, v []F
	// steps counts the updates made, for the bias correction.
	steps int
}

func newAdam[F floating](parameters int, learningRate float64) *adam[F] {
	return &adam[F]{
		learningRate: learningRate,
		beta1:        0.9,
		beta2:        0.999,
		// Keras's default; PyTorch's 1e-8 would change the steps of
		// parameters whose gradients are tiny.
		epsilon: 1e-7,
		m:       make([]F, parameters),
		v:       make([]F, parameters),
	}
}

// update takes one step on params against grads.
func (a *adam[F]) update(params, grads []F) {
	a.steps++
	correction1 := 1 - math.Pow(a.beta1, float64(a.steps))
	correction2 := 1 - math.Pow(a.beta2, float64(a.steps))
	stepSize := F(a.learningRate / correction1)
	rootCorrection2 := F(math.Sqrt(correction2))
	beta1, beta2 := F(a.beta1), F(a.beta2)
	keep1, keep2 := F(1-a.beta1), F(1-a.beta2)
	eps := F(a.epsilon)
	m, v := a.m[:len(params)], a.v[:len(params)]
	for i, g := range grads[:len(params)] {
		mi := beta1*m[i] + keep1*g
		vi := beta2*v[i] + keep2*g*g
		m[i], v[i] = mi, vi
		params[i] -= stepSize * mi / (F(math.Sqrt(float64(vi)))/rootCorrection2 + eps)
	}
}
