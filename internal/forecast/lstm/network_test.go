package lstm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestInitialisation(t *testing.T) {
	a := architecture{layers: 3, units: 6, window: 4}
	n := newNetwork[float64](a, rand.New(rand.NewPCG(9, 0)))
	h, g := a.units, a.gates()
	for l := 0; l < a.layers; l++ {
		in, cols := a.inputs(l), a.stepWidth(l)
		kernel := n.p.kernel[l]
		// Glorot-uniform input weights stay within √(6/(fan_in+fan_out)).
		limit := math.Sqrt(6 / float64(in+g))
		for j := 0; j < g; j++ {
			for i := 0; i < in; i++ {
				require.LessOrEqual(t, math.Abs(kernel[i*g+j]), limit)
			}
		}
		// Each gate's recurrent block is orthogonal: QᵀQ = I.
		for gate := 0; gate < 4; gate++ {
			at := func(r, c int) float64 { return kernel[(in+c)*g+gate*h+r] }
			for c1 := 0; c1 < h; c1++ {
				for c2 := 0; c2 < h; c2++ {
					var dot float64
					for r := 0; r < h; r++ {
						dot += at(r, c1) * at(r, c2)
					}
					want := 0.0
					if c1 == c2 {
						want = 1
					}
					require.InDelta(t, want, dot, 1e-12, "layer %d gate %d columns %d·%d", l, gate, c1, c2)
				}
			}
		}
		// Zero biases except the forget gate's 1.
		for j, b := range n.p.bias[l] {
			want := 0.0
			if j >= h && j < 2*h {
				want = 1
			}
			require.Equal(t, want, b, "layer %d bias %d", l, j)
		}
		// The transposed copy matches.
		for j := 0; j < g; j++ {
			for c := 0; c < cols; c++ {
				require.Equal(t, kernel[c*g+j], n.kernelT[l][j*cols+c])
			}
		}
	}
	require.Zero(t, n.p.denseB[0])
	for _, w := range n.p.denseW {
		require.LessOrEqual(t, math.Abs(w), math.Sqrt(6/float64(h+1)))
	}
}
