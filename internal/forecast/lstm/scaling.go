package lstm

import (
	"fmt"
	"math"

	"github.com/augurhq/augur/internal/forecast"
)

// scaler maps raw closes to what the network sees and back. It is fitted on
// the training part only, so nothing about the test period leaks into the
// model.
type scaler interface {
	// encode writes the network's inputs for a window of closes into dst.
	encode(dst []float64, window []float64)
	// target is the training target for the close that follows window.
	target(window []float64, next float64) float64
	// decode turns the network's output for window back into a close.
	decode(window []float64, output float64) float64
	// describe reports the fitted values for the report's parameters.
	describe() map[string]any
}

// levelScaler is the original app's MinMax scaling of price levels to
// [0, 1]. Fitted on the training part it cannot reach test prices beyond the
// training range: the network's saturating units cap its output there.
type levelScaler struct {
	low, span float64
}

func fitLevels(train []float64) levelScaler {
	low, high := train[0], train[0]
	for _, v := range train {
		low, high = min(low, v), max(high, v)
	}
	span := high - low
	if span == 0 {
		// A flat series: any span maps it to 0 and back.
		span = 1
	}
	return levelScaler{low: low, span: span}
}

func (s levelScaler) encode(dst, window []float64) {
	for i, v := range window {
		dst[i] = (v - s.low) / s.span
	}
}

func (s levelScaler) target(_ []float64, next float64) float64 {
	return (next - s.low) / s.span
}

func (s levelScaler) decode(_ []float64, output float64) float64 {
	return output*s.span + s.low
}

func (s levelScaler) describe() map[string]any {
	return map[string]any{"min": s.low, "max": s.low + s.span}
}

// returnScaler expresses a window as log returns relative to its last
// close and predicts the log return of the next close, both divided by the
// typical daily log return of the training part. It has no level to
// saturate on, so trending series stay within reach, and it needs no
// information from outside the window beyond that one scale.
type returnScaler struct {
	scale float64
}

// fitReturns requires positive closes; the caller checks.
func fitReturns(train []float64) returnScaler {
	var sum float64
	for i := 1; i < len(train); i++ {
		r := math.Log(train[i] / train[i-1])
		sum += r * r
	}
	scale := 1.0
	if len(train) > 1 && sum > 0 {
		scale = math.Sqrt(sum / float64(len(train)-1))
	}
	return returnScaler{scale: scale}
}

func (s returnScaler) encode(dst, window []float64) {
	last := window[len(window)-1]
	for i, v := range window {
		dst[i] = math.Log(v/last) / s.scale
	}
}

func (s returnScaler) target(window []float64, next float64) float64 {
	return math.Log(next/window[len(window)-1]) / s.scale
}

func (s returnScaler) decode(window []float64, output float64) float64 {
	return window[len(window)-1] * math.Exp(output*s.scale)
}

func (s returnScaler) describe() map[string]any {
	return map[string]any{"log_return_scale": s.scale}
}

// checkSeries rejects closes the chosen mode cannot scale: non-finite ones
// like every model, and non-positive ones in window mode, whose log returns
// do not exist.
func checkSeries(closes []float64, mode string) error {
	if err := forecast.CheckFinite(closes); err != nil {
		return fmt.Errorf("lstm: %w", err)
	}
	if mode != ModeWindow {
		return nil
	}
	for i, v := range closes {
		if v <= 0 {
			return fmt.Errorf("lstm: close %d is %v, the %q mode needs positive prices: %w", i, v, mode, forecast.ErrInvalidSeries)
		}
	}
	return nil
}
