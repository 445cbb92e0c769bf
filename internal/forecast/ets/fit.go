package ets

import (
	"errors"
	"fmt"
	"math"

	"github.com/augurhq/augur/internal/forecast"
)

// MinObservations is the shortest series Fit accepts: ten closes, the
// window R's initstate draws the starting level and slope from, and enough
// that every candidate has more closes than parameters plus two, where R
// refuses to optimise a model.
const MinObservations = 10

// R's default bounds on the smoothing parameters (ets's lower and upper).
const (
	lowerSmoothing = 1e-4
	upperSmoothing = 0.9999
	lowerPhi       = 0.8
	upperPhi       = 0.98
	// maxEvaluations is ets's maxit for the Nelder–Mead search.
	maxEvaluations = 2000
	// likFloor is where R's target function stops rewarding a
	// near-perfect fit (its lik < -1e10 guard).
	likFloor = -1e10
	// constantAlpha is the α R gives a constant series.
	constantAlpha = 0.99999
)

// Criterion is what the parameters are estimated by.
type Criterion int

const (
	// Likelihood is maximum likelihood, R's default opt.crit = "lik".
	Likelihood Criterion = iota
	// MSE minimises the one-step mean squared error, opt.crit = "mse",
	// which R's ses (and so thetaf) uses.
	MSE
)

// Config chooses what Fit fits.
type Config struct {
	// Model is a spec's short name (see ParseSpec) to fit that model only;
	// "" chooses among Specs by AICc, R's ets(y) with model "ZZZ".
	Model string
	// Criterion is the estimation criterion; the zero value is Likelihood.
	Criterion Criterion
}

// Candidate is one model the automatic search fitted.
type Candidate struct {
	Spec Spec
	// AICc is +Inf for a model that could not be fitted.
	AICc float64
}

// Model is a fitted ETS model.
type Model struct {
	Spec Spec
	// Alpha smooths the level; Beta the slope (0 without a trend); Phi
	// damps the slope (1 unless the trend is damped).
	Alpha, Beta, Phi float64
	// Level0 and Slope0 are the estimated initial states; Slope0 is 0
	// without a trend.
	Level0, Slope0 float64
	// Level and Slope are the states after the last close, where the
	// forecasts start.
	Level, Slope float64
	// Sigma2 is R's residual variance: the sum of squared residuals
	// (relative residuals for multiplicative errors) over n minus the
	// number of estimated parameters and initial states.
	Sigma2 float64
	// LogLik, AIC, AICc and BIC are R's: −0.5 × the optimised objective,
	// which leaves out the likelihood's constant terms, with the
	// parameters, the initial states and the variance counted.
	LogLik, AIC, AICc, BIC float64
	// NObs is the number of closes fitted.
	NObs int
	// Candidates are the models the automatic search compared, in the
	// order it tried them; nil when Config.Model fixed the model.
	Candidates []Candidate
}

// Fit fits an ETS model to y as R's ets(y, model, opt.crit) does; see the
// package documentation for what it follows and where it differs.
//
// It returns an error wrapping forecast.ErrInvalidSeries when y holds a
// non-finite value, forecast.ErrNotEnoughData when y is shorter than
// MinObservations, and one naming the problem when Config.Model is
// unknown, asks for multiplicative errors on a series that is not
// positive, or when no model could be fitted.
func Fit(y []float64, cfg Config) (*Model, error) {
	if err := forecast.CheckFinite(y); err != nil {
		return nil, fmt.Errorf("ets: %w", err)
	}
	if len(y) < MinObservations {
		return nil, fmt.Errorf("ets: %d closes, want at least %d: %w", len(y), MinObservations, forecast.ErrNotEnoughData)
	}
	specs := Specs()
	if cfg.Model != "" {
		s, err := ParseSpec(cfg.Model)
		if err != nil {
			return nil, err
		}
		specs = []Spec{s}
	}
	if cfg.Model == "" && isConstant(y) {
		return constantModel(y), nil
	}
	positive := true
	for _, v := range y {
		positive = positive && v > 0
	}
	var (
		best       *Model
		candidates []Candidate
	)
	for _, s := range specs {
		if s.Multiplicative && !positive {
			if cfg.Model != "" {
				return nil, fmt.Errorf("ets: %s needs closes above zero", s)
			}
			continue
		}
		m, err := fitSpec(y, s, cfg.Criterion)
		aicc := math.Inf(1)
		if err == nil {
			aicc = m.AICc
		}
		candidates = append(candidates, Candidate{Spec: s, AICc: aicc})
		if err == nil && (best == nil || m.AICc < best.AICc) {
			best = m
		}
	}
	if best == nil {
		return nil, errNoModel
	}
	if cfg.Model == "" {
		best.Candidates = candidates
	}
	return best, nil
}

// errNoModel means no candidate could be fitted: the objective was not
// finite at R's starting values.
var errNoModel = errors.New("ets: no model could be fitted to this series")

// isConstant reports whether every close equals the first.
func isConstant(y []float64) bool {
	for _, v := range y {
		if v != y[0] {
			return false
		}
	}
	return true
}

// constantModel is what R's ets returns for a constant series:
// ses(y, alpha = 0.99999, initial = "simple"), an ETS(A,N,N) that starts
// at the first close and never errs.
func constantModel(y []float64) *Model {
	m := &Model{Spec: Spec{}, Alpha: constantAlpha, Phi: 1, Level0: y[0]}
	m.finish(y, 1)
	return m
}

// fitSpec estimates one model by R's etsmodel: Nelder–Mead over the
// smoothing parameters followed by the initial states, from R's starting
// values.
func fitSpec(y []float64, s Spec, crit Criterion) (*Model, error) {
	start := startValues(y, s)
	m := new(Model)
	objective := func(par []float64) float64 {
		s.unpackInto(m, par)
		if !m.withinBounds() {
			return math.Inf(1)
		}
		lik, mse := m.filter(y, nil)
		if crit == MSE {
			return mse
		}
		return lik
	}
	par, _, ok := nelderMead(objective, start, maxEvaluations)
	if !ok {
		return nil, fmt.Errorf("ets: %s cannot be evaluated at its starting values", s)
	}
	s.unpackInto(m, par)
	if !m.finish(y, len(par)) {
		return nil, fmt.Errorf("ets: %s fitted no finite model", s)
	}
	return m, nil
}

// startValues is R's initparam followed by initstate for a non-seasonal
// model: α a fifth of the way into its bounds, β a tenth of the way up to
// α, φ 99% of the way up, and the initial level and slope from the first
// ten closes (their mean without a trend, a least-squares line with one).
func startValues(y []float64, s Spec) []float64 {
	alpha := lowerSmoothing + 0.2*(upperSmoothing-lowerSmoothing)
	par := []float64{alpha}
	if s.Trend != NoTrend {
		par = append(par, lowerSmoothing+0.1*(min(upperSmoothing, alpha)-lowerSmoothing))
	}
	if s.Trend == DampedTrend {
		par = append(par, lowerPhi+0.99*(upperPhi-lowerPhi))
	}
	first := y[:MinObservations]
	if s.Trend == NoTrend {
		var sum float64
		for _, v := range first {
			sum += v
		}
		return append(par, sum/float64(len(first)))
	}
	// R's lsfit(1:10, y[1:10]) starts at time 1: its intercept, the level
	// at time 0, is one slope before the line's value at the first close.
	first0, b0 := forecast.TrendLine(first)
	l0 := first0 - b0
	// R nudges a line through zero at time 1, where a multiplicative
	// error would divide by a zero forecast.
	if math.Abs(l0+b0) < 1e-8 {
		l0 *= 1 + 1e-3
		b0 *= 1 - 1e-3
	}
	return append(par, l0, b0)
}

// unpackInto sets m to the model of R's parameter vector (α, β, φ, level,
// slope, as the spec has them); the search reuses one model for all its
// evaluations.
func (s Spec) unpackInto(m *Model, par []float64) {
	*m = Model{Spec: s, Alpha: par[0], Phi: 1}
	i := 1
	if s.Trend != NoTrend {
		m.Beta = par[i]
		i++
	}
	if s.Trend == DampedTrend {
		m.Phi = par[i]
		i++
	}
	m.Level0 = par[i]
	if s.Trend != NoTrend {
		m.Slope0 = par[i+1]
	}
}

// withinBounds is R's check_params with bounds = "both": the usual bounds
// 0.0001 ≤ α ≤ 0.9999, 0.0001 ≤ β ≤ min(α, 0.9999), 0.8 ≤ φ ≤ 0.98, and the
// admissible region, which for these models those bounds already imply
// except for the check on φ kept here for clarity.
func (m *Model) withinBounds() bool {
	if m.Alpha < lowerSmoothing || m.Alpha > upperSmoothing {
		return false
	}
	if m.Spec.Trend != NoTrend && (m.Beta < lowerSmoothing || m.Beta > m.Alpha || m.Beta > upperSmoothing) {
		return false
	}
	if m.Spec.Trend == DampedTrend && (m.Phi < lowerPhi || m.Phi > upperPhi) {
		return false
	}
	// The admissible region (Hyndman et al. 2008, ch. 10) for a level and
	// a damped slope; with the bounds above it always holds, but R checks
	// both and so does this.
	phi := m.Phi
	if m.Alpha < 1-1/phi || m.Alpha > 1+1/phi {
		return false
	}
	return m.Spec.Trend == NoTrend || (m.Beta >= m.Alpha*(phi-1) && m.Beta <= (1+phi)*(2-m.Alpha))
}

// filter runs the model through y from its initial states, as R's etscalc
// does, leaving the final states in Level and Slope. It returns R's
// objective, n·log(Σe²) (+ 2·Σlog|ŷ| for multiplicative errors, whose e
// are relative), floored at likFloor and +Inf when not finite, and the
// one-step mean squared error. resid, when not nil, receives the
// residuals.
func (m *Model) filter(y []float64, resid []float64) (lik, mse float64) {
	l, b := m.Level0, m.Slope0
	var sse, sseAbs float64
	// Σlog|ŷ| is kept as the product of the |ŷ|, a mantissa and a power of
	// two renormalised at every step, and logged once at the end: a
	// logarithm per close was most of the fit's time.
	prodMant, prodExp := 1.0, 0
	g := m.gains()
	for i, v := range y {
		f, phib := g.step(l, b)
		e := v - f
		sseAbs += e * e
		if m.Spec.Multiplicative {
			e /= f
			var exp int
			prodMant, exp = math.Frexp(prodMant * math.Abs(f))
			prodExp += exp
		}
		sse += e * e
		if resid != nil {
			resid[i] = e
		}
		l, b = g.update(l, f, phib, v)
	}
	m.Level, m.Slope = l, b
	n := float64(len(y))
	lik = n * math.Log(sse)
	if m.Spec.Multiplicative {
		lik += 2 * (math.Log(prodMant) + float64(prodExp)*math.Ln2)
	}
	lik = max(lik, likFloor)
	if math.IsNaN(lik) {
		lik = math.Inf(1)
	}
	return lik, sseAbs / n
}

// gains are the smoothing parameters as the state update uses them, taken
// out of the model once per pass over the closes: β/α divided once rather
// than at every close as R does (the same quotient either way).
type gains struct {
	alpha, ratio, phi float64
	trend             bool
}

func (m *Model) gains() gains {
	g := gains{alpha: m.Alpha, phi: m.Phi, trend: m.Spec.Trend != NoTrend}
	if g.trend {
		g.ratio = m.Beta / m.Alpha
	}
	return g
}

// step is the one-step forecast from level l and slope b, and the damped
// slope φ·b within it.
func (g gains) step(l, b float64) (f, phib float64) {
	if !g.trend {
		return l, 0
	}
	phib = g.phi * b
	return l + phib, phib
}

// update is R's state update after observing v, from the forecast f and
// damped slope phib that step gave for level l: the same for additive and
// multiplicative errors, which differ only in how the error is scored.
func (g gains) update(l, f, phib, v float64) (float64, float64) {
	nl := f + g.alpha*(v-f)
	if !g.trend {
		return nl, 0
	}
	return nl, phib + g.ratio*(nl-l-phib)
}

// finish computes the final states, R's information criteria and σ² for
// a model with numPar estimated parameters and initial states, and reports
// whether they and the forecasts are all finite.
func (m *Model) finish(y []float64, numPar int) bool {
	resid := make([]float64, len(y))
	lik, _ := m.filter(y, resid)
	n := float64(len(y))
	k := float64(numPar + 1) // the variance counts too
	m.NObs = len(y)
	m.LogLik = -0.5 * lik
	m.AIC = lik + 2*k
	m.BIC = lik + math.Log(n)*k
	m.AICc = m.AIC + 2*k*(k+1)/(n-k-1)
	var ss float64
	for _, e := range resid {
		ss += e * e
	}
	m.Sigma2 = ss / (n - float64(numPar))
	// The forecasts up to the longest horizon a job may ask for must be
	// numbers too: a slope near the largest float overflows within it.
	for _, v := range append([]float64{m.AICc, m.BIC, m.Sigma2, m.Level, m.Slope}, m.Forecast(forecast.MaxHorizon)...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
