package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAdamTwoSteps checks two Adam updates against values worked out by
// hand (lr 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7, PyTorch's placement of ε).
func TestAdamTwoSteps(t *testing.T) {
	cases := []struct {
		name              string
		start             float64
		grads             [2]float64
		wantM, wantV      [2]float64
		wantAfterEachStep [2]float64
	}{
		{
			// Step 1: m = 0.1·0.5 = 0.05, v = 0.001·0.25 = 0.00025; the bias
			// corrections give m̂ = 0.5, v̂ = 0.25, so the step is
			// 0.001·0.5/(0.5 + 1e-7) = 0.001/(1 + 2e-7).
			// Step 2: m = 0.9·0.05 − 0.1·0.25 = 0.02,
			// v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225; the step is
			// (0.001/0.19)·0.02 / (√0.00031225/√0.001999 + 1e-7).
			name:              "gradient changes sign",
			start:             1,
			grads:             [2]float64{0.5, -0.25},
			wantM:             [2]float64{0.05, 0.02},
			wantV:             [2]float64{0.00025, 0.00031225},
			wantAfterEachStep: [2]float64{0.99900000019999996000, 0.99873366322772818813},
		},
		{
			// Step 1: m̂ = -0.1, v̂ = 0.01: the step is -0.001·0.1/(0.1 + 1e-7).
			// Step 2: m = -0.009 + 0.04 = 0.031,
			// v = 0.00000999 + 0.00016 = 0.00016999.
			name:              "small then large gradient",
			start:             -2,
			grads:             [2]float64{-0.1, 0.4},
			wantM:             [2]float64{-0.01, 0.031},
			wantV:             [2]float64{0.00001, 0.00016999},
			wantAfterEachStep: [2]float64{-1.99900000099999900000, -1.99955950430217116527},
		},
		{
			// No gradient, no move: m = v = 0 and the step is 0/ε.
			name:              "zero gradient",
			start:             0.3,
			grads:             [2]float64{0, 0},
			wantAfterEachStep: [2]float64{0.3, 0.3},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opt := newAdam[float64](1, 1e-3)
			params := []float64{tc.start}
			for step, g := range tc.grads {
				opt.next().apply(params, []float64{g}, opt.m, opt.v)
				require.InDelta(t, tc.wantM[step], opt.m[0], 1e-16, "m after step %d", step+1)
				require.InDelta(t, tc.wantV[step], opt.v[0], 1e-16, "v after step %d", step+1)
				require.InDelta(t, tc.wantAfterEachStep[step], params[0], 1e-15, "parameter after step %d", step+1)
			}
		})
	}
}

// float32AdamUpdates are the float32 update loops to check: on a CPU with
// AVX2 and FMA the first is the assembly kernel.
var float32AdamUpdates = []struct {
	name   string
	update adamUpdateFunc[float32]
}{
	{"fastest", fastestAdamUpdate32()},
	{"go", goAdamUpdate[float32]},
}

// TestAdamUpdate32 checks the float32 update loops against the float64 one
// over three steps, on lengths around the kernel's vectors of 8, with NaN
// padding after every slice that must stay untouched.
func TestAdamUpdate32(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 9))
	for _, impl := range float32AdamUpdates {
		for _, n := range []int{1, 7, 8, 9, 17, 100} {
			t.Run(fmt.Sprintf("%s/%d", impl.name, n), func(t *testing.T) {
				const pad = 3
				nan := float32(math.NaN())
				opt32, opt64 := newAdam[float32](n+pad, 1e-3), newAdam[float64](n, 1e-3)
				params32 := filled(n+pad, nan)
				params64 := make([]float64, n)
				for i := range n {
					params64[i] = rng.NormFloat64()
					params32[i] = float32(params64[i])
					params64[i] = float64(params32[i])
				}
				for i := n; i < n+pad; i++ {
					opt32.m[i], opt32.v[i] = nan, nan
				}
				for range 3 {
					grads64 := make([]float64, n)
					grads32 := filled(n+pad, nan)
					for i := range n {
						grads32[i] = float32(1e-2 * rng.NormFloat64())
						grads64[i] = float64(grads32[i])
					}
					step := opt32.next()
					impl.update(step, params32[:n], grads32, opt32.m, opt32.v)
					opt64.next().apply(params64, grads64, opt64.m, opt64.v)
				}
				for i := range n {
					// A step is at most about the learning rate, so
					// its float32 rounding is far below 1e-9.
					require.InDelta(t, params64[i], float64(params32[i]), 2e-7*math.Abs(params64[i])+1e-9, "parameter %d", i)
					require.InDelta(t, opt64.m[i], float64(opt32.m[i]), 1e-8, "m %d", i)
					require.InDelta(t, opt64.v[i], float64(opt32.v[i]), 1e-10, "v %d", i)
				}
				for i := n; i < n+pad; i++ {
					require.True(t, math.IsNaN(float64(params32[i])), "parameter %d past the slice was written", i)
					require.True(t, math.IsNaN(float64(opt32.m[i])) && math.IsNaN(float64(opt32.v[i])), "moments %d past the slice were written", i)
				}
			})
		}
	}
}

// BenchmarkAdam32 times one float32 update of the default network's
// parameters.
func BenchmarkAdam32(b *testing.B) {
	n := architecture{layers: 4, units: 50, window: 7}.parameterCount()
	opt := newAdam[float32](n, 1e-3)
	params, grads := make([]float32, n), make([]float32, n)
	for i := range grads {
		grads[i] = float32(i%7-3) * 1e-3
	}
	step := opt.next()
	for _, impl := range float32AdamUpdates {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				impl.update(step, params, grads, opt.m, opt.v)
			}
		})
	}
}
