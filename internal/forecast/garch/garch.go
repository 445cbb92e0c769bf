// Package garch is a volatility model of daily log returns: GARCH(1,1)
// with Student-t errors and a constant mean, fitted by maximum likelihood
// as R's fGarch::garchFit(~garch(1,1), cond.dist = "std",
// include.mean = TRUE) fits it, with the same parameters (mu, omega,
// alpha1, beta1, shape), the same start of the variance recursion, the
// same bounds and the same scaling of the returns. Its multi-step variance
// forecasts give price bands that widen when the market turns wild, where
// the price models' bands keep the calm of their training days, and a
// one-day value at risk. Pure Go and gonum, no I/O.
//
// The model, for returns r_t:
//
//	r_t = mu + e_t,  e_t = sqrt(h_t) z_t,  z_t ~ standardised t(shape)
//	h_t = omega + alpha1 e_{t-1}^2 + beta1 h_{t-1}
//
// where the standardised t has unit variance (fGarch's dstd with sd = 1).
package garch

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"

	"github.com/augurhq/augur/internal/forecast"
)

// Name labels the volatility model in reports and results.
const Name = "garch(1,1)-t"

// MinReturns is the fewest returns Fit accepts. Five parameters, one of
// them a tail shape, need some hundreds of days to be pinned down; below
// fifty the likelihood is so flat that the fit says nothing.
const MinReturns = 50

// ErrDegenerate means the returns carry no variation to model: all equal,
// or so nearly that their standard deviation is zero.
var ErrDegenerate = errors.New("returns have no variation")

// Model is a fitted GARCH(1,1)-t, on the scale of the returns it was
// fitted to, with the state of the variance recursion after the last
// return, from which it forecasts.
type Model struct {
	Mu    float64 `json:"mu"`
	Omega float64 `json:"omega"`
	Alpha float64 `json:"alpha1"`
	Beta  float64 `json:"beta1"`
	// Shape is the Student-t degrees of freedom, in (2, 10] as fGarch
	// bounds it.
	Shape float64 `json:"shape"`
	// LogLikelihood is the log-likelihood of the returns at the fit, on
	// their own scale (fGarch reports its negative, fit@fit$llh).
	LogLikelihood float64 `json:"log_likelihood"`
	// N is the number of returns fitted.
	N int `json:"n"`
	// Converged is false when the optimiser stopped on its iteration
	// limit rather than at a stationary point.
	Converged bool `json:"converged"`

	// resid and variance are the last return's residual e_T and
	// conditional variance h_T: the state that Update advances and the
	// forecasts start from.
	resid, variance float64
}

// Bounds of the parameters on the scaled returns (returns divided by their
// standard deviation), as fGarch's .garchInitParameters sets them: mu
// within ten times the mean's magnitude, omega between 1e-6 and 100 times
// the variance (1 after scaling), alpha1 and beta1 in (0, 1), shape up to
// 10. fGarch's lower shape bound is 1, but the standardised t has no
// variance at or below 2, where its density is NaN and fGarch's objective
// a penalty; the optimum is never there, so the bound here is just above 2.
const (
	tiny       = 1e-8
	omegaLower = 1e-6
	omegaUpper = 100
	shapeLower = 2 + 1e-4
	shapeUpper = 10
)

// fGarch's starting point: alpha1 0.1, beta1 0.8, omega the variance times
// what they leave, shape 4.
const (
	alphaStart = 0.1
	betaStart  = 0.8
	shapeStart = 4
)

// LogReturns is the daily log returns of closes, log(c_t / c_{t-1}). Closes
// must be positive and finite (forecast.ErrInvalidSeries otherwise).
func LogReturns(closes []float64) ([]float64, error) {
	if err := forecast.CheckFinite(closes); err != nil {
		return nil, err
	}
	out := make([]float64, 0, max(0, len(closes)-1))
	for i, c := range closes {
		if !(c > 0) {
			return nil, fmt.Errorf("%w: close %d is %v, and a log return needs positive prices", forecast.ErrInvalidSeries, i, c)
		}
		if i > 0 {
			out = append(out, math.Log(c/closes[i-1]))
		}
	}
	return out, nil
}

// Fit fits GARCH(1,1)-t to returns by maximum likelihood as fGarch does:
// the returns are divided by their standard deviation, the five parameters
// start where fGarch starts them and stay within its bounds, and mu and
// omega are scaled back at the end. The variance recursion starts, as
// fGarch's "mci" does, from h_1 = omega + (alpha1 + beta1) · mean(e²).
//
// The bounds are kept by a logistic map of each parameter from the real
// line, and the likelihood is maximised over the mapped parameters by
// BFGS with its exact gradient (the variance recursion's derivatives
// carried alongside it). fGarch uses a Fortran SQP on the bounded
// parameters; both stop at the same optimum.
func Fit(ctx context.Context, returns []float64) (*Model, error) {
	if err := forecast.CheckFinite(returns); err != nil {
		return nil, err
	}
	if len(returns) < MinReturns {
		return nil, fmt.Errorf("garch: %d returns, need at least %d: %w", len(returns), MinReturns, forecast.ErrNotEnoughData)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scale := stat.StdDev(returns, nil)
	if !(scale > 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("garch: %w", ErrDegenerate)
	}
	x := make([]float64, len(returns))
	floats.ScaleTo(x, 1/scale, returns)
	// Scaled returns of a tiny spread can still be too close together to
	// tell apart; the variance of x is then not 1 and the fit meaningless.
	if v := stat.Variance(x, nil); !(math.Abs(v-1) < 1e-6) {
		return nil, fmt.Errorf("garch: %w", ErrDegenerate)
	}
	mean := stat.Mean(x, nil)
	bounds := [nParams][2]float64{
		{-10 * math.Abs(mean), 10 * math.Abs(mean)},
		{omegaLower, omegaUpper},
		{tiny, 1 - tiny},
		{tiny, 1 - tiny},
		{shapeLower, shapeUpper},
	}
	start := [nParams]float64{mean, 1 - alphaStart - betaStart, alphaStart, betaStart, shapeStart}
	obj := &objective{x: x, bounds: bounds, fixedMean: mean == 0}

	u0 := make([]float64, nParams)
	for i := range u0 {
		u0[i] = obj.toFree(i, start[i])
	}
	res, err := optimize.Minimize(optimize.Problem{Func: obj.value, Grad: obj.grad}, u0, &optimize.Settings{
		GradientThreshold: 1e-9,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-14, Relative: 1e-14, Iterations: 20},
		MajorIterations:   1000,
		FuncEvaluations:   5000,
	}, &optimize.BFGS{})
	if res == nil {
		return nil, fmt.Errorf("garch: optimise: %w", err)
	}
	var theta [nParams]float64
	for i := range theta {
		theta[i] = obj.fromFree(i, res.X[i])
	}
	// The likelihood per return on the scaled series, turned into the
	// log-likelihood of the returns themselves: dividing by scale adds
	// log(scale) per return to the negative log-likelihood.
	nll, resid, variance := negLogLik(x, theta, nil)
	if !finite(nll) {
		return nil, fmt.Errorf("garch: the fit's likelihood is %v: %w", nll, ErrDegenerate)
	}
	m := &Model{
		Mu:            theta[pMu] * scale,
		Omega:         theta[pOmega] * scale * scale,
		Alpha:         theta[pAlpha],
		Beta:          theta[pBeta],
		Shape:         theta[pShape],
		LogLikelihood: -nll - float64(len(x))*math.Log(scale),
		N:             len(x),
		Converged:     err == nil,
		resid:         resid * scale,
		variance:      variance * scale * scale,
	}
	return m, nil
}

// Update advances the variance recursion by one new return with the
// fitted parameters unchanged: the way to follow the market between fits.
func (m *Model) Update(r float64) {
	m.variance = m.Omega + m.Alpha*m.resid*m.resid + m.Beta*m.variance
	m.resid = r - m.Mu
}

// Parameter indices.
const (
	pMu = iota
	pOmega
	pAlpha
	pBeta
	pShape
	nParams
)

// objective is the negative log-likelihood per return of the scaled
// returns x, as a function of free parameters u on the real line, each
// mapped into its bounds by a logistic curve. With fixedMean (returns of
// mean zero, where fGarch's bounds pin mu to 0) mu stays at its bound.
type objective struct {
	x         []float64
	bounds    [nParams][2]float64
	fixedMean bool
	grad1     [nParams]float64
}

// fromFree maps free parameter u of index i into its bounds.
func (o *objective) fromFree(i int, u float64) float64 {
	lo, hi := o.bounds[i][0], o.bounds[i][1]
	if i == pMu && o.fixedMean {
		return 0
	}
	return lo + (hi-lo)/(1+math.Exp(-u))
}

// toFree is fromFree's inverse.
func (o *objective) toFree(i int, v float64) float64 {
	lo, hi := o.bounds[i][0], o.bounds[i][1]
	if i == pMu && o.fixedMean {
		return 0
	}
	return math.Log((v - lo) / (hi - v))
}

func (o *objective) theta(u []float64) [nParams]float64 {
	var t [nParams]float64
	for i := range t {
		t[i] = o.fromFree(i, u[i])
	}
	return t
}

func (o *objective) value(u []float64) float64 {
	nll, _, _ := negLogLik(o.x, o.theta(u), nil)
	return nll / float64(len(o.x))
}

func (o *objective) grad(g, u []float64) {
	t := o.theta(u)
	negLogLik(o.x, t, &o.grad1)
	for i := range g {
		lo, hi := o.bounds[i][0], o.bounds[i][1]
		s := 1 / (1 + math.Exp(-u[i]))
		dv := (hi - lo) * s * (1 - s)
		if i == pMu && o.fixedMean {
			dv = 0
		}
		g[i] = o.grad1[i] * dv / float64(len(o.x))
	}
}

// negLogLik is the negative log-likelihood of returns x under theta, and
// the last residual and conditional variance. With grad non-nil it also
// writes the gradient with respect to theta there. A parameter set whose
// likelihood is not finite gives +Inf, which a line search backs away from.
func negLogLik(x []float64, theta [nParams]float64, grad *[nParams]float64) (nll, lastResid, lastVar float64) {
	mu, omega, alpha, beta, nu := theta[pMu], theta[pOmega], theta[pAlpha], theta[pBeta], theta[pShape]
	n := float64(len(x))
	var sumE2, sumE float64
	for _, v := range x {
		e := v - mu
		sumE2 += e * e
		sumE += e
	}
	mvar := sumE2 / n
	// The standardised t's log-density constant and its derivative in nu.
	lg1, _ := math.Lgamma((nu + 1) / 2)
	lg2, _ := math.Lgamma(nu / 2)
	c := lg1 - lg2 - 0.5*math.Log(math.Pi*(nu-2))
	dc := 0.5*mathext.Digamma((nu+1)/2) - 0.5*mathext.Digamma(nu/2) - 0.5/(nu-2)

	// h and its derivatives in mu, omega, alpha, beta (shape does not
	// enter the recursion).
	h := omega + (alpha+beta)*mvar
	dh := [4]float64{(alpha + beta) * (-2 * sumE / n), 1, mvar, mvar}
	var g [nParams]float64
	var prevE float64
	for t, v := range x {
		e := v - mu
		if t > 0 {
			hPrev := h
			h = omega + alpha*prevE*prevE + beta*hPrev
			dh = [4]float64{
				-2*alpha*prevE + beta*dh[0],
				1 + beta*dh[1],
				prevE*prevE + beta*dh[2],
				hPrev + beta*dh[3],
			}
		}
		if !(h > 0) {
			return math.Inf(1), 0, 0
		}
		q := e * e / ((nu - 2) * h)
		nll += 0.5*math.Log(h) + (nu+1)/2*math.Log1p(q) - c
		if grad != nil {
			dldh := 0.5/h - (nu+1)/2*q/(1+q)/h
			dlde := (nu + 1) * e / ((nu - 2) * h * (1 + q))
			g[pMu] += dldh*dh[0] - dlde
			g[pOmega] += dldh * dh[1]
			g[pAlpha] += dldh * dh[2]
			g[pBeta] += dldh * dh[3]
			g[pShape] += -dc + 0.5*math.Log1p(q) - (nu+1)/2*q/(nu-2)/(1+q)
		}
		prevE = e
	}
	if grad != nil {
		*grad = g
	}
	if !finite(nll) {
		return math.Inf(1), 0, 0
	}
	return nll, prevE, h
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
