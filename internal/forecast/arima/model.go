package arima

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/augurhq/augur/internal/forecast"
)

// Limits on the order. Beyond them a daily-price model is overfitting, the
// likelihood surface is too flat to estimate, and a request could ask for
// minutes of CPU.
const (
	// MaxP is the largest autoregressive order accepted.
	MaxP = 10
	// MaxD is the largest number of differences accepted.
	MaxD = 2
	// MaxQ is the largest moving-average order accepted.
	MaxQ = 10
)

// Errors that callers branch on.
var (
	// ErrInvalidOrder means an order is negative or beyond MaxP, MaxD, MaxQ.
	ErrInvalidOrder = errors.New("invalid ARIMA order")
	// ErrConstantSeries means the series, once differenced d times, is
	// constant: every model fits it perfectly and the likelihood has no
	// maximum. The wrapping error says which values are constant.
	ErrConstantSeries = errors.New("a constant series has nothing to estimate")
	// ErrNonStationary means AR coefficients have a root on or inside the
	// unit circle, so the process has no stationary start: coefficients
	// given to Filter, or an optimum numerically on the boundary.
	ErrNonStationary = errors.New("AR coefficients are not stationary")
)

// Order is the (p, d, q) of an ARIMA model: p autoregressive lags, d
// differences and q moving-average lags.
type Order struct {
	P, D, Q int
	// Drift adds a constant to the once-differenced series (d = 1 only),
	// the mean daily change: a linear trend in the prices, as R's
	// auto.arima and pmdarima consider for d = 1.
	Drift bool
}

// String formats the order the way statisticians write it.
func (o Order) String() string {
	if o.Drift {
		return fmt.Sprintf("ARIMA(%d,%d,%d) with drift", o.P, o.D, o.Q)
	}
	return fmt.Sprintf("ARIMA(%d,%d,%d)", o.P, o.D, o.Q)
}

// Validate reports ErrInvalidOrder for negative orders, orders beyond the
// package limits, or a drift with d other than 1.
func (o Order) Validate() error {
	if o.P < 0 || o.D < 0 || o.Q < 0 || o.P > MaxP || o.D > MaxD || o.Q > MaxQ {
		return fmt.Errorf("%w: %s, want 0 ≤ p ≤ %d, 0 ≤ d ≤ %d, 0 ≤ q ≤ %d", ErrInvalidOrder, o, MaxP, MaxD, MaxQ)
	}
	if o.Drift && o.D != 1 {
		return fmt.Errorf("%w: %s, a drift needs d = 1 (with d = 0 the mean is always estimated)", ErrInvalidOrder, o)
	}
	return nil
}

// hasMean reports whether the model estimates a mean of the differenced
// series. Like statsmodels' ARIMA, undifferenced models always do; after
// one difference the mean is the drift, a deterministic trend in prices,
// estimated only when asked for.
func (o Order) hasMean() bool { return o.D == 0 || o.Drift }

// NumParams counts the estimated parameters, σ² included, as information
// criteria need them.
func (o Order) NumParams() int {
	k := o.P + o.Q + 1
	if o.hasMean() {
		k++
	}
	return k
}

// MinObservations is the shortest series Fit accepts for this order: after
// differencing, one observation more than the parameters plus one, the
// least for which AICc is defined.
func (o Order) MinObservations() int {
	return o.D + o.NumParams() + 2
}

// Coefficients are an ARIMA model's parameters in statsmodels' convention:
//
//	(1 - φ₁L - … - φ_pL^p)(Δ^d y_t - μ) = (1 + θ₁L + … + θ_qL^q) ε_t,  ε_t ~ N(0, σ²).
type Coefficients struct {
	// Mean is μ, the series' mean when d = 0 (statsmodels' "const"), or
	// the drift, the mean of the differenced series, for a model with
	// Drift; it is zero for other differenced models.
	Mean float64
	// AR holds φ₁…φ_p ("ar.L1"…).
	AR []float64
	// MA holds θ₁…θ_q ("ma.L1"…).
	MA []float64
	// Sigma2 is σ², the innovation variance ("sigma2").
	Sigma2 float64
}

// clone returns a deep copy, so a model's coefficients cannot be changed
// through a slice handed to a caller.
func (c Coefficients) clone() Coefficients {
	c.AR = append([]float64(nil), c.AR...)
	c.MA = append([]float64(nil), c.MA...)
	return c
}

// Model is an ARIMA model filtered through a series: its coefficients,
// likelihood and the Kalman state needed to forecast beyond the series.
type Model struct {
	Order        Order
	Coefficients Coefficients
	// LogLikelihood is the exact Gaussian log-likelihood of the d-times
	// differenced series. It equals statsmodels' SARIMAX with
	// simple_differencing=True; statsmodels' ARIMA class reports a value
	// that differs slightly for d ≥ 1 because of its approximate diffuse
	// prior (see testdata/gen_reference.py).
	LogLikelihood float64
	// NObs is the number of observations the likelihood covers, len(y) - d.
	NObs int
	// Converged is false when Fit stopped on its iteration limit or a line
	// search failure rather than on a convergence criterion. The
	// coefficients are then the best point found.
	Converged bool

	// state is the predicted ARMA state a_{n+1|n} beyond the series.
	state []float64
	// phi is φ padded to the state dimension, for propagating state.
	phi []float64
	// stateCov is the covariance of state's error, P_{n+1|n}, r×r
	// row-major in units of σ², and rvec is R = (1, θ₁, …) padded to r:
	// what ForecastVariance needs to propagate uncertainty.
	stateCov []float64
	rvec     []float64
	// lastLevels[k] is the last value of Δ^k y, for k < d, to undo the
	// differencing of forecasts.
	lastLevels []float64
	// invHessian is the optimiser's final inverse-Hessian approximation,
	// the curvature Refit starts from.
	invHessian []float64
}

// AIC is Akaike's information criterion, -2·loglik + 2k.
func (m *Model) AIC() float64 {
	return -2*m.LogLikelihood + 2*float64(m.Order.NumParams())
}

// AICc is the AIC with the small-sample correction statsmodels and pmdarima
// use, 2k(k+1)/(n-k-1) with n = NObs.
func (m *Model) AICc() float64 {
	k := float64(m.Order.NumParams())
	return m.AIC() + 2*k*(k+1)/(float64(m.NObs)-k-1)
}

// Named returns the coefficients under statsmodels' parameter names (const,
// ar.L1…, ma.L1…, sigma2), so results can be compared side by side; a
// drift is named "drift", as R calls it.
func (m *Model) Named() map[string]float64 {
	c := m.Coefficients
	out := make(map[string]float64, m.Order.NumParams())
	switch {
	case m.Order.Drift:
		out["drift"] = c.Mean
	case m.Order.hasMean():
		out["const"] = c.Mean
	}
	for i, v := range c.AR {
		out["ar.L"+strconv.Itoa(i+1)] = v
	}
	for i, v := range c.MA {
		out["ma.L"+strconv.Itoa(i+1)] = v
	}
	out["sigma2"] = c.Sigma2
	return out
}

// Forecast returns the minimum-mean-square-error forecasts of the next h
// values of the series the model was filtered through.
func (m *Model) Forecast(h int) []float64 {
	if h <= 0 {
		return nil
	}
	a := append([]float64(nil), m.state...)
	r := len(a)
	out := make([]float64, h)
	for step := range out {
		out[step] = a[0] + m.Coefficients.Mean
		a0 := a[0]
		for i := 0; i < r-1; i++ {
			a[i] = m.phi[i]*a0 + a[i+1]
		}
		a[r-1] = m.phi[r-1] * a0
	}
	for k := len(m.lastLevels) - 1; k >= 0; k-- {
		level := m.lastLevels[k]
		for i := range out {
			level += out[i]
			out[i] = level
		}
	}
	return out
}

// Filter runs the Kalman filter through y at fixed coefficients, without
// estimating anything: for the log-likelihood of given parameters and for
// forecasts from them. The AR part must be stationary; the MA part need not
// be invertible.
func Filter(y []float64, order Order, c Coefficients) (*Model, error) {
	if err := order.Validate(); err != nil {
		return nil, err
	}
	if len(c.AR) != order.P || len(c.MA) != order.Q {
		return nil, fmt.Errorf("arima: %s takes %d AR and %d MA coefficients, got %d and %d", order, order.P, order.Q, len(c.AR), len(c.MA))
	}
	if !(c.Sigma2 > 0) || math.IsInf(c.Sigma2, 0) {
		return nil, fmt.Errorf("arima: sigma2 must be positive and finite, got %v", c.Sigma2)
	}
	if err := forecast.CheckFinite(y); err != nil {
		return nil, fmt.Errorf("arima: %w", err)
	}
	if len(y) <= order.D {
		return nil, fmt.Errorf("arima: %d observations leave nothing after %d differences", len(y), order.D)
	}
	if !order.hasMean() && c.Mean != 0 {
		return nil, fmt.Errorf("arima: %s has no mean, got %v", order, c.Mean)
	}
	work := make([]float64, 2*max(order.P, 1))
	if !unconstrainStationary(make([]float64, order.P), c.AR, work) {
		return nil, fmt.Errorf("arima: %v: %w", c.AR, ErrNonStationary)
	}
	z, levels := difference(y, order.D)
	kf := newKalman(order.P, order.Q)
	kf.setCoefficients(c.AR, c.MA)
	sumLogF, sumSq, ok := kf.run(z, c.Mean)
	if !ok {
		return nil, fmt.Errorf("arima: %v: %w", c.AR, ErrNonStationary)
	}
	n := float64(len(z))
	logLik := -0.5 * (n*math.Log(2*math.Pi*c.Sigma2) + sumLogF + sumSq/c.Sigma2)
	if math.IsNaN(logLik) || math.IsInf(logLik, 0) {
		return nil, fmt.Errorf("arima: %s: the likelihood is not finite; the values are too extreme for floating point", order)
	}
	return &Model{
		Order:         order,
		Coefficients:  c.clone(),
		LogLikelihood: logLik,
		NObs:          len(z),
		Converged:     true,
		state:         append([]float64(nil), kf.a...),
		phi:           append([]float64(nil), kf.phi...),
		stateCov:      append([]float64(nil), kf.p...),
		rvec:          append([]float64(nil), kf.rvec...),
		lastLevels:    levels,
	}, nil
}

// difference returns Δ^d y and the last value of each intermediate series
// Δ^k y, k < d.
func difference(y []float64, d int) (z, lastLevels []float64) {
	z = append([]float64(nil), y...)
	lastLevels = make([]float64, d)
	for k := 0; k < d; k++ {
		lastLevels[k] = z[len(z)-1]
		for i := 0; i < len(z)-1; i++ {
			z[i] = z[i+1] - z[i]
		}
		z = z[:len(z)-1]
	}
	return z, lastLevels
}
