package forecast

import (
	"errors"
	"fmt"
	"math"
)

// DefaultHorizon is the number of trading days forecast when the caller
// asks for none: the seven days the original app displayed.
const DefaultHorizon = 7

// MaxHorizon bounds the forecast length. Beyond six weeks of trading days the
// models here are extrapolating far outside anything their test sets measured.
const MaxHorizon = 30

// ErrInvalidHorizon means the requested horizon is outside 1..MaxHorizon.
// Callers validating user input branch on it to answer with a client error.
var ErrInvalidHorizon = errors.New("invalid forecast horizon")

// ResolveHorizon maps 0 to DefaultHorizon and rejects values outside
// 1..MaxHorizon with ErrInvalidHorizon, so every model and every entry point
// agrees on what a horizon may be.
func ResolveHorizon(horizon int) (int, error) {
	if horizon == 0 {
		return DefaultHorizon, nil
	}
	if horizon < 1 || horizon > MaxHorizon {
		return 0, fmt.Errorf("%w: %d is not in 1..%d", ErrInvalidHorizon, horizon, MaxHorizon)
	}
	return horizon, nil
}

// ErrInvalidSeries means the input closes contain a value no model can use
// (NaN or ±Inf), which would otherwise poison every metric silently.
var ErrInvalidSeries = errors.New("invalid price series")

// checkFinite rejects series with NaN or infinite values.
func checkFinite(closes []float64) error {
	for i, v := range closes {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: close %d is %v", ErrInvalidSeries, i, v)
		}
	}
	return nil
}
