package forecast

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidSeries means the input closes contain a value no model can use
// (NaN or ±Inf), which would otherwise poison every metric silently.
var ErrInvalidSeries = errors.New("invalid price series")

// CheckFinite rejects a series with NaN or infinite values with
// ErrInvalidSeries. Every model runs it before fitting, so a bad close is
// named instead of turning every metric into NaN.
func CheckFinite(closes []float64) error {
	for i, v := range closes {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: close %d is %v", ErrInvalidSeries, i, v)
		}
	}
	return nil
}
