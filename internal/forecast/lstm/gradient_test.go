package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGradientMatchesFiniteDifferences checks backpropagation through time,
// through every layer, the dropout masks and the dense head, against central
// differences of the loss, in float64.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	cases := []struct {
		name                         string
		layers, units, window, batch int
		dropout                      float64
	}{
		{"4 layers with dropout", 4, 3, 4, 2, 0.25},
		{"4 layers without dropout", 4, 3, 4, 2, 0},
		{"uneven shards", 2, 4, 5, 3, 0.1},
		{"single step window", 2, 3, 1, 2, 0.1},
		{"single layer", 1, 5, 6, 4, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := architecture{layers: tc.layers, units: tc.units, window: tc.window}
			tr := newTrainer[float64](a, tc.batch, tc.dropout, 1e-3, 11, nil)
			// Move the parameters off their special initial values (zero
			// biases, identical forget biases) so every term is exercised.
			data := rand.New(rand.NewPCG(3, 5))
			for i := range tr.net.params {
				tr.net.params[i] += 0.1 * data.NormFloat64()
			}
			tr.net.syncTransposed()
			windows := make([]float64, tc.batch*tc.window)
			targets := make([]float64, tc.batch)
			for i := range windows {
				windows[i] = data.NormFloat64()
			}
			for i := range targets {
				targets[i] = data.NormFloat64()
			}
			batch := make([]int, tc.batch)
			for i := range batch {
				batch[i] = i
			}

			// The masks are drawn once here, so every evaluation below sees
			// the same network function.
			tr.prepare(batch, windows, targets)
			tr.gradient()
			analytic := split(a, slices.Clone(tr.grad))
			loss := func() float64 { return tr.gradient() / float64(tc.batch) }

			const step = 1e-6
			numericFlat := make([]float64, len(tr.net.params))
			for i := range tr.net.params {
				orig := tr.net.params[i]
				tr.net.params[i] = orig + step
				up := loss()
				tr.net.params[i] = orig - step
				down := loss()
				tr.net.params[i] = orig
				numericFlat[i] = (up - down) / (2 * step)
			}
			numeric := split(a, numericFlat)

			check := func(name string, got, want []float64) {
				t.Helper()
				var diff, normGot, normWant float64
				for i := range got {
					d := got[i] - want[i]
					diff += d * d
					normGot += got[i] * got[i]
					normWant += want[i] * want[i]
				}
				require.Positive(t, normWant, "%s: the numerical gradient is zero, the check would be vacuous", name)
				rel := math.Sqrt(diff) / math.Max(math.Sqrt(normGot), math.Sqrt(normWant))
				require.LessOrEqual(t, rel, 1e-5, "%s: relative error of the analytic gradient", name)
			}
			for l := 0; l < a.layers; l++ {
				check(fmt.Sprintf("kernel %d", l), analytic.kernel[l], numeric.kernel[l])
				check(fmt.Sprintf("bias %d", l), analytic.bias[l], numeric.bias[l])
			}
			check("dense weights", analytic.denseW, numeric.denseW)
			check("dense bias", analytic.denseB, numeric.denseB)
		})
	}
}
