// Package forecast holds what Augur's price models share: the Report each
// one makes, its metrics and significance tests, prediction intervals,
// the train/test split, and the recommendation that combines reports. It
// also holds the closed-form models (linear regression and the naive
// baselines). The fitted models live in subpackages, lstm, arima, ets and
// theta, the volatility model that can band any of them in garch, and
// registry runs every model by name. None of them does I/O: the input is
// a series of daily closes and the output is forecasts plus an honest
// report of how good they were.
package forecast

import "errors"

// Metrics measures one model's test-set predictions against the actual values.
type Metrics struct {
	RMSE float64 `json:"rmse"`
	MAE  float64 `json:"mae"`
	// MAPE is the mean absolute percentage error, in percent.
	MAPE float64 `json:"mape"`
	// DirectionalAccuracy is the hit rate (0..1) of the direction calls: of
	// the test points whose prediction moved away from the previous actual
	// close, on days the price moved, the share that moved the right way.
	// A flat prediction is no call (see Direction).
	DirectionalAccuracy float64 `json:"directional_accuracy"`
	// DirectionalCallShare is the share (0..1) of test points with a call.
	DirectionalCallShare float64 `json:"directional_call_share"`
	// DirectionalPValue is the Pesaran–Timmermann test of the calls'
	// skill beyond their base rates (one-sided), on non-overlapping
	// windows when the model predicts more than a day ahead; nil when
	// there is no test (calls or moves all one way, or too few).
	DirectionalPValue *float64 `json:"directional_p_value"`
}

// TestPoint is one out-of-sample prediction, kept so a chart can be drawn.
type TestPoint struct {
	// Index is the position of the predicted value in the input series.
	Index     int     `json:"index"`
	Actual    float64 `json:"actual"`
	Predicted float64 `json:"predicted"`
	// PI80 and PI95 are the 80% and 95% prediction intervals the model
	// would have given for this point when it was made; nil when it had
	// too little history to give one (see SetConformalBands).
	PI80 *Band `json:"pi80,omitempty"`
	PI95 *Band `json:"pi95,omitempty"`
}

// Report is what one model run produces.
type Report struct {
	Model string `json:"model"`
	// Params describes the fitted model (order, coefficients, epochs, …).
	Params map[string]any `json:"params,omitempty"`
	// Forecast holds the predicted closes for the next Horizon trading days
	// after the last input value (for one-step models Horizon may be 1).
	Forecast []float64 `json:"forecast"`
	// ForecastPI80 and ForecastPI95 are the 80% and 95% prediction
	// intervals of the Forecast values, one per value, or empty when the
	// model could not give them.
	ForecastPI80 []Band `json:"forecast_pi80,omitempty"`
	ForecastPI95 []Band `json:"forecast_pi95,omitempty"`
	// PredictsDaysAhead is how far ahead, in trading days, each test
	// prediction was made: 1 for the one-step models, the horizon for the
	// direct multi-step linear regression.
	PredictsDaysAhead int `json:"predicts_days_ahead"`
	// Predicts says the same in words for a table: "next day" or
	// "7 days ahead".
	Predicts string `json:"predicts"`
	// Metrics are the model's test-set metrics.
	Metrics Metrics `json:"metrics"`
	// Persistence are the metrics of the persistence forecast over the same
	// distance (the close PredictsDaysAhead days earlier) on the very same
	// test days, so the two can be compared honestly.
	Persistence Metrics `json:"persistence"`
	// DM is the Diebold–Mariano test of the model's squared errors against
	// persistence's on the same test points; nil when it cannot be computed
	// (see DieboldMariano), for example for persistence itself.
	DM *DMTest `json:"dm_test,omitempty"`
	// BeatsPersistence is true when the model is significantly more
	// accurate than persistence: DM.Better(), p < SignificanceLevel. A
	// lower RMSE alone may be luck and does not count.
	BeatsPersistence bool `json:"beats_persistence"`
	// Verdict says the same in words with the p-value, as "beats
	// persistence (p = 0.012)" or "no better than persistence (p = 0.410)".
	Verdict string `json:"verdict,omitempty"`
	// Coverage is the empirical coverage and mean width of the test
	// points' 80% and 95% intervals, beside the nominal level.
	Coverage []Coverage  `json:"coverage,omitempty"`
	Test     []TestPoint `json:"test"`
	Seconds  float64     `json:"seconds"`
}

// Progress is one progress report from a running model.
type Progress struct {
	Model string `json:"model"`
	// Step and Total count the model's own units of work (epochs for the
	// LSTM, walk-forward refits for ARIMA).
	Step  int     `json:"step"`
	Total int     `json:"total"`
	Loss  float64 `json:"loss,omitempty"`
}

// ProgressFunc receives progress reports. It may be nil.
type ProgressFunc func(Progress)

// ErrNotEnoughData means the series is too short for the model and its
// train/test split. Retrying cannot help.
var ErrNotEnoughData = errors.New("not enough data for this model")
