package forecast

import (
	"errors"
	"fmt"
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
// 1..MaxHorizon with ErrInvalidHorizon. It is the one owner of the rule: the
// model registry, PredictionParams.Normalize and the backtest command call
// it, and the models take the value it gives as is.
func ResolveHorizon(horizon int) (int, error) {
	if horizon == 0 {
		return DefaultHorizon, nil
	}
	if horizon < 1 || horizon > MaxHorizon {
		return 0, fmt.Errorf("%w: %d is not in 1..%d", ErrInvalidHorizon, horizon, MaxHorizon)
	}
	return horizon, nil
}
