package forecast

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidSeries means the input closes contain a value no model can use
// (NaN, ±Inf, or beyond ±MaxPrice), which would otherwise poison every
// metric silently.
var ErrInvalidSeries = errors.New("invalid price series")

// MaxPrice is the largest magnitude of a close the models accept. No share
// or index has ever traded near it (the dearest share, Berkshire Hathaway
// A, is below 1e6), so a larger value is a data error or a unit mix-up; and
// below it squared errors summed over any series stay far from overflow,
// where a close of 1e300 turned RMSEs into +Inf and trained the LSTM on
// nonsense.
const MaxPrice = 1e12

// CheckFinite rejects a series with NaN or infinite values, or values
// beyond ±MaxPrice, with ErrInvalidSeries naming the first such close.
// Every model runs it before fitting, so a bad close is named instead of
// turning every metric into NaN or nonsense.
func CheckFinite(closes []float64) error {
	for i, v := range closes {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: close %d is %v", ErrInvalidSeries, i, v)
		}
		if math.Abs(v) > MaxPrice {
			return fmt.Errorf("%w: close %d is %v, beyond %g, the largest price accepted: a data error or a unit mix-up", ErrInvalidSeries, i, v, float64(MaxPrice))
		}
	}
	return nil
}
