package lstm

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExp32(t *testing.T) {
	cases := []struct {
		name string
		x    float32
	}{
		{"zero", 0},
		{"one", 1},
		{"minus one", -1},
		{"largest finite result", 88.72},
		{"overflow", 88.73},
		{"smallest normal result", -87.33},
		{"subnormal result", -100},
		{"underflow", -104},
		{"positive infinity", float32(math.Inf(1))},
		{"negative infinity", float32(math.Inf(-1))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The correctly rounded float32 result, including its overflow
			// to +Inf and underflow to 0.
			want := float64(float32(math.Exp(float64(tc.x))))
			got := float64(exp32(tc.x))
			if math.IsInf(want, 0) || want == 0 {
				require.Equal(t, want, got)
				return
			}
			// Allow two ulps: 2⁻²² relative for normal results, 2⁻¹⁴⁸
			// absolute for subnormal ones.
			tol := max(math.Pow(2, -22)*want, math.Pow(2, -148))
			require.InDelta(t, want, got, tol)
		})
	}
	t.Run("NaN", func(t *testing.T) {
		require.True(t, math.IsNaN(float64(exp32(float32(math.NaN())))))
	})
	t.Run("dense grid", func(t *testing.T) {
		for x := float32(-87); x < 88.7; x += 0.00123 {
			want := math.Exp(float64(x))
			got := float64(exp32(x))
			require.InEpsilon(t, want, got, 2.5e-7, "exp32(%v)", x)
		}
	})
}

func TestActivations(t *testing.T) {
	const units = 3
	// Blocks of three: input gate, forget gate, cell candidate, output gate.
	pre := []float64{-30, -2, -0.5, 0, 0.25, 1, 3, 9, -9, 0.1, -0.1, 40}
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	want := make([]float64, len(pre))
	for i, v := range pre {
		if i/units == 2 {
			want[i] = math.Tanh(v)
		} else {
			want[i] = sigmoid(v)
		}
	}

	z64 := slices.Clone(pre)
	gates64(z64, units)
	z32 := make([]float32, len(pre))
	for i, v := range pre {
		z32[i] = float32(v)
	}
	gates32(z32, units)
	for i := range pre {
		require.InDelta(t, want[i], z64[i], 1e-15, "float64 gate value %d", i)
		require.InDelta(t, want[i], float64(z32[i]), 3e-7, "float32 gate value %d", i)
	}

	src := []float64{-20, -1, 0, 1e-9, 0.5, 20}
	dst := make([]float64, len(src))
	tanh64To(dst, src)
	for i, v := range src {
		require.InDelta(t, math.Tanh(v), dst[i], 1e-15, "tanh(%v)", v)
	}
}
