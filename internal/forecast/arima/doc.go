// Package arima fits ARIMA(p,d,q) models to daily closes by exact Gaussian
// maximum likelihood, in pure Go, and judges them with the same walk-forward
// test as the Python original: statsmodels' ARIMA refitted on all history
// before each one-step prediction.
//
// The estimator follows statsmodels' tsa.arima.model.ARIMA closely enough
// that coefficients and test errors agree with it (see the tests and
// testdata/gen_reference.py): Harvey's state-space form, a Kalman filter
// started from the stationary distribution, AR stationarity and MA
// invertibility enforced by the Jones/Monahan transforms, the same starting
// values. The one deliberate difference is in the likelihood of integrated
// models: the series is differenced exactly, where statsmodels keeps the
// integrated states under an approximate diffuse prior (see
// Model.LogLikelihood).
//
// Three things make it fast: a Kalman filter that allocates nothing, costs
// O(r²) per step instead of O(r³) by using the companion structure, and
// switches to its steady state once the covariance has converged; a
// quasi-Newton optimiser driven without goroutines; and warm starts, where
// each walk-forward refit begins at the previous refit's optimum with the
// curvature it learnt there (Model.Refit).
//
// SelectOrder chooses the order as pmdarima's auto_arima does: d by KPSS
// tests, then p and q by a stepwise AICc search.
package arima
