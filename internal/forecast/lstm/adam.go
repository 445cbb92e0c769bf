package lstm

import "math"

// adam is the Adam optimiser with PyTorch's update rule (bias-corrected
// moments, epsilon added to the corrected root of the second moment).
type adam[F floating] struct {
	learningRate, beta1, beta2, epsilon float64
	// m and v are the first and second moment estimates, one per parameter,
	// in the layout of the parameters.
	m, v []F
	// steps counts the updates made, for the bias correction.
	steps int
	// update is the update loop for F.
	update adamUpdateFunc[F]
}

// adamUpdateFunc updates params from grads and the moments m and v, four
// slices over the same parameters, with one step's constants.
type adamUpdateFunc[F floating] func(s adamStep[F], params, grads, m, v []F)

// adamUpdateFor picks the update loop for F: the assembly kernel for
// float32 where the CPU has it, Go otherwise.
func adamUpdateFor[F floating]() adamUpdateFunc[F] {
	var update any
	switch any(F(0)).(type) {
	case float32:
		update = fastestAdamUpdate32()
	case float64:
		update = adamUpdateFunc[float64](goAdamUpdate[float64])
	}
	return update.(adamUpdateFunc[F])
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
		update:  adamUpdateFor[F](),
	}
}

// adamStep is one update's constants. Its apply can run on disjoint parts
// of the parameters concurrently.
type adamStep[F floating] struct {
	beta1, beta2, keep1, keep2 F
	// The bias-corrected step lr·m̂/(√v̂ + ε) is lr/c₁·m/(√v/√c₂ + ε),
	// which is stepSize·m/(√v + epsilon) with both scaled by √c₂: one
	// division per parameter instead of two.
	stepSize, epsilon F
	update            adamUpdateFunc[F]
}

// next starts the next update.
func (a *adam[F]) next() adamStep[F] {
	a.steps++
	correction1 := 1 - math.Pow(a.beta1, float64(a.steps))
	correction2 := 1 - math.Pow(a.beta2, float64(a.steps))
	return adamStep[F]{
		beta1:    F(a.beta1),
		beta2:    F(a.beta2),
		keep1:    F(1 - a.beta1),
		keep2:    F(1 - a.beta2),
		stepSize: F(a.learningRate / correction1 * math.Sqrt(correction2)),
		epsilon:  F(a.epsilon * math.Sqrt(correction2)),
		update:   a.update,
	}
}

// apply updates params from grads and the moments m and v, four slices
// over the same parameters.
func (s adamStep[F]) apply(params, grads, m, v []F) {
	s.update(s, params, grads, m, v)
}

// goAdamUpdate is the update loop in Go.
func goAdamUpdate[F floating](s adamStep[F], params, grads, m, v []F) {
	m, v, grads = m[:len(params)], v[:len(params)], grads[:len(params)]
	for i, g := range grads {
		mi := s.beta1*m[i] + s.keep1*g
		vi := s.beta2*v[i] + s.keep2*g*g
		m[i], v[i] = mi, vi
		params[i] -= s.stepSize * mi / (F(math.Sqrt(float64(vi))) + s.epsilon)
	}
}
