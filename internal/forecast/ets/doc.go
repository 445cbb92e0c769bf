// Package ets fits exponential smoothing state-space models to daily
// closes as R's forecast::ets does, and chooses among them by AICc.
//
// Daily closes have no fixed seasonal period, and R's ets on a series of
// frequency 1 (a plain vector) considers no season either, so only the
// non-seasonal models are here: additive or multiplicative errors, and no
// trend, an additive trend or a damped additive trend (ETS(A,N,N) …
// ETS(M,Ad,N)). A multiplicative trend is left out, as R leaves it out of
// its automatic search by default (allow.multiplicative.trend = FALSE).
//
// The fit follows R step for step, so that the same model is chosen and the
// forecasts agree (see testdata/gen_reference.R): the same starting values
// (initparam and initstate: the level and slope from a regression on the
// first ten closes), the same objective (n·log of the sum of squared
// errors, plus 2·Σ log|forecast| for multiplicative errors), the same
// "both" bounds (0.0001 ≤ β ≤ α ≤ 0.9999, 0.8 ≤ φ ≤ 0.98, within the
// admissible region), the same Nelder–Mead search over the smoothing
// parameters and the initial states together, and R's AICc, whose
// likelihood omits the constant terms. Multiplicative errors are not tried
// on a series with a close at or below zero.
//
// The prediction intervals are analytic, as in R for these models:
// Hyndman et al. (2008) class 1 variances for additive errors and class 2
// for multiplicative errors with no or an additive trend. R simulates only
// for the classes left out here (a multiplicative trend), so nothing is
// simulated.
//
// Two cases differ from R on purpose. A series shorter than MinObservations
// is refused, where R falls back to HoltWinters on eight closes or fewer.
// A constant series is the same ETS(A,N,N) with α = 0.99999 that R returns
// for it, with its initial level at the first close.
package ets
