package arima

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"

	"github.com/augurhq/augur/internal/forecast"
)

// Fit estimates the model by exact maximum likelihood, as statsmodels'
// tsa.arima.model.ARIMA does by default: the series is differenced d times,
// the ARMA part (plus a mean when d = 0) is filtered from its stationary
// distribution, AR stationarity and MA invertibility are enforced by
// statsmodels' parameter transforms, and L-BFGS maximises the likelihood
// with σ² concentrated out (its estimate is the closed-form maximiser, so
// the optimum is the same as statsmodels' with σ² as a free parameter).
//
// start, when not nil, is where the optimiser begins: a walk-forward passes
// the previous step's coefficients, which are nearly optimal for a series
// one value longer. A start that is not stationary and invertible, and a nil
// start, fall back to statsmodels' conditional-sum-of-squares starting
// values.
//
// Fit checks ctx before every likelihood evaluation and returns ctx.Err()
// when it is done.
func Fit(ctx context.Context, y []float64, order Order, start *Coefficients) (*Model, error) {
	if err := order.Validate(); err != nil {
		return nil, err
	}
	if err := checkFinite(y); err != nil {
		return nil, err
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
		return nil, fmt.Errorf("arima: %s: %w", order, ErrConstantSeries)
	}

	x0 := make([]float64, obj.dim())
	if start == nil || !obj.pack(x0, *start) {
		obj.pack(x0, conditionalSumOfSquares(z, order))
	}
	xHat, converged, err := obj.maximise(ctx, x0)
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
	return &Model{
		Order: order,
		Coefficients: Coefficients{
			Mean:   mean,
			AR:     append([]float64(nil), obj.ar...),
			MA:     append([]float64(nil), obj.ma...),
			Sigma2: sigma2,
		},
		LogLikelihood: -0.5 * (n*(math.Log(2*math.Pi*sigma2)+1) + sumLogF),
		NObs:          len(z),
		Converged:     converged,
		state:         append([]float64(nil), obj.kf.a...),
		phi:           append([]float64(nil), obj.kf.phi...),
		lastLevels:    levels,
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

// gradientStep is the relative step of the central differences, ε^⅓, which
// balances truncation against rounding error.
var gradientStep = math.Cbrt(2.220446049250313e-16)

// gradient approximates ∇value by central differences; a side that leaves
// the valid region falls back to a one-sided difference.
func (o *objective) gradient(grad, x []float64) {
	xs := o.xs
	copy(xs, x)
	centre := math.NaN()
	for i, xi := range x {
		h := gradientStep * max(1, math.Abs(xi))
		xs[i] = xi + h
		fPlus := o.value(xs)
		xs[i] = xi - h
		fMinus := o.value(xs)
		xs[i] = xi
		plusOK, minusOK := !math.IsInf(fPlus, 0), !math.IsInf(fMinus, 0)
		if (plusOK != minusOK) && math.IsNaN(centre) {
			centre = o.value(xs)
		}
		switch {
		case plusOK && minusOK:
			grad[i] = (fPlus - fMinus) / (2 * h)
		case plusOK:
			grad[i] = (fPlus - centre) / h
		case minusOK:
			grad[i] = (centre - fMinus) / h
		default:
			grad[i] = 0
		}
	}
}

// Optimiser settings. The objective is per observation, so the thresholds
// do not depend on the series length; they are tighter than statsmodels'
// (L-BFGS-B's pgtol 1e-5 and factr 1e7) because warm-started refits begin
// close enough that loose tolerances would stop them without moving.
const (
	gradientThreshold = 1e-7
	relativeTolerance = 1e-12
	maxIterations     = 200
)

// maximise runs L-BFGS from x0 and returns the best point and whether a
// convergence criterion (rather than a limit or a failure) stopped it.
func (o *objective) maximise(ctx context.Context, x0 []float64) (x []float64, converged bool, err error) {
	if len(x0) == 0 {
		return x0, true, ctx.Err()
	}
	problem := optimize.Problem{
		Func: o.value,
		Grad: o.gradient,
		Status: func() (optimize.Status, error) {
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			return optimize.NotTerminated, nil
		},
	}
	settings := &optimize.Settings{
		GradientThreshold: gradientThreshold,
		Converger:         &optimize.FunctionConverge{Relative: relativeTolerance, Iterations: 2},
		MajorIterations:   maxIterations,
	}
	res, err := optimize.Minimize(problem, x0, settings, &optimize.LBFGS{})
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, false, ctxErr
	}
	if res == nil || math.IsInf(res.F, 0) || math.IsNaN(res.F) {
		// The start itself could not be evaluated or the method gave up
		// before its first step; the start is all we have.
		return x0, false, nil
	}
	switch res.Status {
	case optimize.GradientThreshold, optimize.FunctionConvergence, optimize.MethodConverge:
		converged = err == nil
	}
	return res.X, converged, nil
}
