package arima

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/augurhq/augur/internal/forecast"
)

// Fit estimates the model by exact maximum likelihood, as statsmodels'
// tsa.arima.model.ARIMA does by default: the series is differenced d times,
// the ARMA part (plus a mean when d = 0) is filtered from its stationary
// distribution, AR stationarity and MA invertibility are enforced by
// statsmodels' parameter transforms, and a quasi-Newton method (BFGS with
// gonum's line search, where statsmodels uses L-BFGS-B) maximises the
// likelihood. σ² is concentrated out: its maximiser has a closed form
// given the other parameters, so the optimum is statsmodels' own, with one
// dimension less to search.
//
// start, when not nil, is where the optimiser begins; one that is not
// stationary and invertible, and a nil start, fall back to statsmodels'
// conditional-sum-of-squares starting values. To continue from an earlier
// fit, Refit is better still.
//
// Fit checks ctx before every step of the optimiser and returns ctx.Err()
// when it is done.
func Fit(ctx context.Context, y []float64, order Order, start *Coefficients) (*Model, error) {
	return fit(ctx, y, order, start, nil)
}

// Refit fits m's order to y, typically the series m was fitted to extended
// by new observations, starting from m's coefficients and from the
// curvature its optimiser learnt, which is what makes a walk-forward cheap:
// most refits take one or two quasi-Newton steps.
func (m *Model) Refit(ctx context.Context, y []float64) (*Model, error) {
	return fit(ctx, y, m.Order, &m.Coefficients, m.invHessian)
}

// fit is Fit with an optional inverse Hessian (in the optimiser's
// unconstrained coordinates) to start the quasi-Newton method from.
func fit(ctx context.Context, y []float64, order Order, start *Coefficients, invHessian []float64) (*Model, error) {
	if err := order.Validate(); err != nil {
		return nil, err
	}
	if err := forecast.CheckFinite(y); err != nil {
		return nil, fmt.Errorf("arima: %w", err)
	}
	if need := order.MinObservations(); len(y) < need {
		return nil, fmt.Errorf("arima: %s needs %d observations, got %d: %w", order, need, len(y), forecast.ErrNotEnoughData)
	}
	if start != nil && (len(start.AR) != order.P || len(start.MA) != order.Q) {
		return nil, fmt.Errorf("arima: start for %s needs %d AR and %d MA coefficients, got %d and %d", order, order.P, order.Q, len(start.AR), len(start.MA))
	}
	z, levels := difference(y, order.D)
	obj := newObjective(z, order)
	if obj.centredSumSquares == 0 {
		return nil, constantError(order, z[0])
	}

	x0 := make([]float64, obj.dim())
	if start == nil || !obj.pack(x0, *start) {
		obj.pack(x0, conditionalSumOfSquares(z, order))
	}
	q := newQuasiNewton(len(x0), invHessian)
	xHat, converged, err := obj.minimise(ctx, x0, q)
	if err != nil {
		return nil, err
	}

	mean := obj.unpack(xHat)
	obj.kf.setCoefficients(obj.ar, obj.ma)
	sumLogF, sumSq, ok := obj.kf.run(z, mean)
	if !ok {
		return nil, fmt.Errorf("arima: %s: the optimum left the stationary region: %w", order, ErrNonStationary)
	}
	n := float64(len(z))
	sigma2 := sumSq / n
	logLik := -0.5 * (n*(math.Log(2*math.Pi*sigma2)+1) + sumLogF)
	if !(sigma2 > 0) || math.IsInf(sigma2, 0) || math.IsNaN(logLik) || math.IsInf(logLik, 0) {
		return nil, fmt.Errorf("arima: %s: the likelihood is not finite (sigma2 = %v); the values are too extreme for floating point", order, sigma2)
	}
	return &Model{
		Order: order,
		Coefficients: Coefficients{
			Mean:   mean,
			AR:     append([]float64(nil), obj.ar...),
			MA:     append([]float64(nil), obj.ma...),
			Sigma2: sigma2,
		},
		LogLikelihood: logLik,
		NObs:          len(z),
		Converged:     converged,
		state:         append([]float64(nil), obj.kf.a...),
		phi:           append([]float64(nil), obj.kf.phi...),
		stateCov:      append([]float64(nil), obj.kf.p...),
		rvec:          append([]float64(nil), obj.kf.rvec...),
		lastLevels:    levels,
		invHessian:    q.invHess,
	}, nil
}

// objective is the negative concentrated log-likelihood per observation as
// a function of the unconstrained parameters (mean, AR, MA), with every
// buffer preallocated.
type objective struct {
	z     []float64
	order Order
	// The mean is optimised as (μ - centre)/scale so that its step sizes are
	// comparable to the other parameters' whatever the price level.
	centre, scale     float64
	centredSumSquares float64

	kf     *kalman
	ar, ma []float64
	work   []float64
	xs     []float64

	// The last point value was evaluated at, for valueAt.
	lastX     []float64
	lastF     float64
	lastValid bool
}

func newObjective(z []float64, order Order) *objective {
	o := &objective{
		z:     z,
		order: order,
		kf:    newKalman(order.P, order.Q),
		ar:    make([]float64, order.P),
		ma:    make([]float64, order.Q),
		work:  make([]float64, 2*max(order.P, order.Q, 1)),
		scale: 1,
	}
	if order.hasMean() {
		for _, v := range z {
			o.centre += v
		}
		o.centre /= float64(len(z))
	}
	for _, v := range z {
		o.centredSumSquares += (v - o.centre) * (v - o.centre)
	}
	if order.hasMean() && o.centredSumSquares > 0 {
		o.scale = math.Sqrt(o.centredSumSquares / float64(len(z)))
	}
	o.xs = make([]float64, o.dim())
	o.lastX = make([]float64, o.dim())
	return o
}

func (o *objective) dim() int {
	k := o.order.P + o.order.Q
	if o.order.hasMean() {
		k++
	}
	return k
}

// pack writes the unconstrained parameters of c to x and reports false when
// c is not stationary and invertible.
func (o *objective) pack(x []float64, c Coefficients) bool {
	if o.order.hasMean() {
		x[0] = (c.Mean - o.centre) / o.scale
		x = x[1:]
	}
	if !unconstrainStationary(x[:o.order.P], c.AR, o.work) {
		return false
	}
	for i, v := range c.MA {
		o.ma[i] = -v
	}
	return unconstrainStationary(x[o.order.P:], o.ma, o.work)
}

// unpack sets o.ar and o.ma from x and returns the mean.
func (o *objective) unpack(x []float64) float64 {
	var mean float64
	if o.order.hasMean() {
		mean = o.centre + o.scale*x[0]
		x = x[1:]
	}
	constrainStationary(o.ar, x[:o.order.P], o.work)
	constrainStationary(o.ma, x[o.order.P:], o.work)
	for i := range o.ma {
		o.ma[i] = -o.ma[i]
	}
	return mean
}

// value is -loglik/n with σ² concentrated out; +Inf marks parameters the
// filter cannot evaluate, which the line search then steps back from.
func (o *objective) value(x []float64) float64 {
	f := o.evaluate(x)
	copy(o.lastX, x)
	o.lastF, o.lastValid = f, true
	return f
}

func (o *objective) evaluate(x []float64) float64 {
	mean := o.unpack(x)
	o.kf.setCoefficients(o.ar, o.ma)
	sumLogF, sumSq, ok := o.kf.run(o.z, mean)
	n := float64(len(o.z))
	sigma2 := sumSq / n
	if !ok || !(sigma2 > 0) || math.IsInf(sigma2, 0) {
		return math.Inf(1)
	}
	f := 0.5*(math.Log(2*math.Pi*sigma2)+1) + 0.5*sumLogF/n
	if math.IsNaN(f) {
		return math.Inf(1)
	}
	return f
}

// gradientStep is the relative step of the forward differences, √ε, which
// balances truncation against rounding error. Their error, about 1e-7 for
// this objective, is well below gradientThreshold, and they cost half as
// many likelihood evaluations as central differences.
const gradientStep = 1.4901161193847656e-08

// gradient approximates ∇value by forward differences, or backward ones
// where the forward step leaves the region the filter can evaluate.
func (o *objective) gradient(grad, x []float64) {
	f0 := o.valueAt(x)
	xs := o.xs
	copy(xs, x)
	for i, xi := range x {
		h := gradientStep * max(1, math.Abs(xi))
		xs[i] = xi + h
		f := o.value(xs)
		if math.IsInf(f, 0) {
			xs[i] = xi - h
			f = o.value(xs)
			h = -h
		}
		xs[i] = xi
		if math.IsInf(f, 0) || math.IsInf(f0, 0) {
			grad[i] = 0
			continue
		}
		grad[i] = (f - f0) / h
	}
}

// valueAt is value(x), reusing the last result when the line search has
// just evaluated the same point, as it always has before asking for the
// gradient there.
func (o *objective) valueAt(x []float64) float64 {
	if o.lastValid && slices.Equal(x, o.lastX) {
		return o.lastF
	}
	return o.value(x)
}

// constantError names what is constant in a series whose d-times
// differenced values all equal v: the prices themselves, their daily
// changes, or a higher difference.
func constantError(order Order, v float64) error {
	switch order.D {
	case 0:
		return fmt.Errorf("arima: %s: every value is %v: %w", order, v, ErrConstantSeries)
	case 1:
		return fmt.Errorf("arima: %s: every change from one value to the next is %v: %w", order, v, ErrConstantSeries)
	default:
		return fmt.Errorf("arima: %s: after %d differences every value is %v: %w", order, order.D, v, ErrConstantSeries)
	}
}
