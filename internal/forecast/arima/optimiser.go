package arima

import (
	"context"
	"errors"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// Optimiser settings. The objective is per observation, so the thresholds
// do not depend on the series length. The gradient threshold is ten times
// tighter than statsmodels' (L-BFGS-B's pgtol 1e-5), which leaves the
// coefficients about 1e-6 from the exact optimum, far inside the two
// libraries' agreement.
const (
	gradientThreshold = 1e-6
	relativeTolerance = 1e-12
	maxIterations     = 200
)

// quasiNewton is BFGS as an optimize.NextDirectioner whose inverse-Hessian
// approximation survives the fit. gonum's own BFGS and LBFGS restart from
// the identity on every call, so a warm-started refit must relearn the
// curvature and its first step, normalised to length one, overshoots the
// optimum it starts next to; the walk-forward spent most of its time
// there. Carried over, the curvature of the previous refit (one observation
// shorter, practically the same surface) makes the very first step a
// Newton step, and a refit usually ends after one or two iterations.
type quasiNewton struct {
	dim int
	// invHess is the inverse-Hessian approximation, dim×dim row-major.
	invHess []float64
	// fresh means invHess is the identity, to be rescaled at the first
	// update (Nocedal and Wright, eq. 6.20) as gonum's BFGS does.
	fresh bool

	x, grad, s, y, hy []float64
}

var _ optimize.NextDirectioner = (*quasiNewton)(nil)

// newQuasiNewton starts from invHess when it has the right size and from
// the identity otherwise.
func newQuasiNewton(dim int, invHess []float64) *quasiNewton {
	q := &quasiNewton{
		dim:     dim,
		invHess: make([]float64, dim*dim),
		x:       make([]float64, dim),
		grad:    make([]float64, dim),
		s:       make([]float64, dim),
		y:       make([]float64, dim),
		hy:      make([]float64, dim),
	}
	if len(invHess) == dim*dim {
		copy(q.invHess, invHess)
	} else {
		q.reset()
	}
	return q
}

func (q *quasiNewton) reset() {
	clear(q.invHess)
	for i := 0; i < q.dim; i++ {
		q.invHess[i*q.dim+i] = 1
	}
	q.fresh = true
}

// InitDirection implements optimize.NextDirectioner.
func (q *quasiNewton) InitDirection(loc *optimize.Location, dir []float64) (stepSize float64) {
	copy(q.x, loc.X)
	copy(q.grad, loc.Gradient)
	q.direction(dir, loc.Gradient)
	if q.fresh {
		// Steepest descent: a unit step is as good a guess as any.
		var norm float64
		for _, v := range dir {
			norm += v * v
		}
		return 1 / math.Sqrt(norm)
	}
	return 1
}

// NextDirection implements optimize.NextDirectioner.
func (q *quasiNewton) NextDirection(loc *optimize.Location, dir []float64) (stepSize float64) {
	n := q.dim
	var sy, yy float64
	for i := 0; i < n; i++ {
		q.s[i] = loc.X[i] - q.x[i]
		q.y[i] = loc.Gradient[i] - q.grad[i]
		sy += q.s[i] * q.y[i]
		yy += q.y[i] * q.y[i]
	}
	// Without positive curvature along the step the update would break
	// positive definiteness; the backtracking line search does not
	// guarantee it, so such steps leave the approximation alone.
	if sy > 0 {
		if q.fresh {
			scale := sy / yy
			for i := range q.invHess {
				q.invHess[i] *= scale
			}
			q.fresh = false
		}
		// H ← H - ρ(H y sᵀ + s yᵀ H) + (ρ² yᵀH y + ρ) s sᵀ, ρ = 1/sᵀy.
		rho := 1 / sy
		var yhy float64
		for i := 0; i < n; i++ {
			var v float64
			for j := 0; j < n; j++ {
				v += q.invHess[i*n+j] * q.y[j]
			}
			q.hy[i] = v
			yhy += q.y[i] * v
		}
		c := rho*rho*yhy + rho
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				q.invHess[i*n+j] += -rho*(q.hy[i]*q.s[j]+q.s[i]*q.hy[j]) + c*q.s[i]*q.s[j]
			}
		}
	}
	copy(q.x, loc.X)
	copy(q.grad, loc.Gradient)
	q.direction(dir, loc.Gradient)
	return 1
}

// direction sets dir = -H·grad.
func (q *quasiNewton) direction(dir, grad []float64) {
	n := q.dim
	for i := 0; i < n; i++ {
		var v float64
		for j := 0; j < n; j++ {
			v -= q.invHess[i*n+j] * grad[j]
		}
		dir[i] = v
	}
}

// minimise runs the quasi-Newton method with gonum's line search from x0
// and returns the best point and whether a convergence criterion (rather
// than the iteration limit or a line-search failure) stopped it. The loop
// drives gonum's LinesearchMethod directly instead of through
// optimize.Minimize, whose goroutine and channel hand-offs cost as much as
// a likelihood evaluation here; ctx is checked before every evaluation.
func (o *objective) minimise(ctx context.Context, x0 []float64, q *quasiNewton) (x []float64, converged bool, err error) {
	dim := len(x0)
	best := append([]float64(nil), x0...)
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if dim == 0 {
		return best, true, nil
	}
	loc := &optimize.Location{X: append([]float64(nil), x0...), Gradient: make([]float64, dim)}
	loc.F = o.value(loc.X)
	if math.IsInf(loc.F, 0) {
		return best, false, nil
	}
	o.gradient(loc.Gradient, loc.X)
	if infNorm(loc.Gradient) <= gradientThreshold {
		return best, true, nil
	}

	ls := &optimize.LinesearchMethod{NextDirectioner: q, Linesearcher: &optimize.Backtracking{}}
	op, lsErr := ls.Init(loc)
	bestF := loc.F
	stalls, iterations := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		if lsErr != nil {
			if errors.Is(lsErr, optimize.ErrNonDescentDirection) && !q.fresh {
				// The carried curvature does not fit this surface;
				// start again from the best point with steepest descent.
				q.reset()
				op, lsErr = ls.Init(loc)
				continue
			}
			return best, false, nil
		}
		if op == optimize.MajorIteration {
			iterations++
			improvement := bestF - loc.F
			copy(best, loc.X)
			bestF = loc.F
			if infNorm(loc.Gradient) <= gradientThreshold {
				return best, true, nil
			}
			if improvement <= relativeTolerance*math.Abs(loc.F) {
				if stalls++; stalls >= 2 {
					return best, true, nil
				}
			} else {
				stalls = 0
			}
			if iterations >= maxIterations {
				return best, false, nil
			}
		} else {
			if op&optimize.FuncEvaluation != 0 {
				loc.F = o.value(loc.X)
			}
			if op&optimize.GradEvaluation != 0 {
				o.gradient(loc.Gradient, loc.X)
			}
		}
		op, lsErr = ls.Iterate(loc)
	}
}

func infNorm(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}
