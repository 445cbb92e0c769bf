package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// float32CellSteps are the float32 cell steps to check: on a CPU with AVX2
// and FMA the first is the assembly kernel.
var float32CellSteps = []struct {
	name string
	step cellStepFunc[float32]
}{
	{"fastest", fastestCellStep32()},
	{"go", goCellStep(gates32, tanh32To)},
}

// cellOperands are a cell step's inputs, in float64 for the reference.
type cellOperands struct {
	rows, units, hStride int
	z, bias, cPrev       []float64
}

func randomCellOperands(rng *rand.Rand, rows, units, hStride int, first bool) cellOperands {
	op := cellOperands{rows: rows, units: units, hStride: hStride}
	random := func(n int, scale float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = scale * rng.NormFloat64()
		}
		return s
	}
	op.z = random(rows*4*units, 3)
	op.bias = random(4*units, 1)
	if !first {
		op.cPrev = random(rows*units, 2)
	}
	return op
}

func toFloat32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}

// runCellStep32 runs step on op with every output surrounded by NaN
// padding (h also between its rows) and checks the padding is untouched.
func runCellStep32(t *testing.T, step cellStepFunc[float32], op cellOperands) (z, c, ct, h []float32) {
	const pad = 5
	nan := float32(math.NaN())
	cells := op.rows * op.units
	z = append(toFloat32(op.z), filled(pad, nan)...)
	bias := append(toFloat32(op.bias), filled(pad, nan)...)
	var cPrev []float32
	if op.cPrev != nil {
		cPrev = append(toFloat32(op.cPrev), filled(pad, nan)...)[:cells]
	}
	c = filled(cells+pad, nan)
	ct = filled(cells+pad, nan)
	h = filled((op.rows-1)*op.hStride+op.units+pad, nan)

	step(z[:len(op.z)], bias[:len(op.bias)], cPrev, c[:cells], ct[:cells], h[:len(h)-pad], op.hStride, op.rows, op.units)

	untouched := func(name string, s []float32, written func(i int) bool) {
		for i, v := range s {
			if !written(i) {
				require.True(t, math.IsNaN(float64(v)), "%s[%d] outside the operand was written: %v", name, i, v)
			}
		}
	}
	untouched("z", z, func(i int) bool { return i < len(op.z) })
	untouched("c", c, func(i int) bool { return i < cells })
	untouched("ct", ct, func(i int) bool { return i < cells })
	untouched("h", h, func(i int) bool { return i/op.hStride < op.rows && i%op.hStride < op.units })
	return z, c, ct, h
}

// TestCellStep32 checks the float32 cell steps against the float64 one on
// every edge of the kernel: unit counts below, at and past its vectors of 8,
// one and several rows, the first step and later ones, and h rows wider
// than the units, whose padding must neither be read nor written.
func TestCellStep32(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	reference := goCellStep(gates64, tanh64To)
	for _, impl := range float32CellSteps {
		for _, units := range []int{1, 3, 7, 8, 9, 16, 17, 50} {
			for _, rows := range []int{1, 2, 5} {
				for _, first := range []bool{true, false} {
					t.Run(fmt.Sprintf("%s/%d units/%d rows/first %v", impl.name, units, rows, first), func(t *testing.T) {
						hStride := units + 3
						op := randomCellOperands(rng, rows, units, hStride, first)
						z, c, ct, h := runCellStep32(t, impl.step, op)

						// The reference works on the float32 inputs, so
						// only the steps' own rounding differs.
						wantZ := toFloat64(toFloat32(op.z))
						cells := rows * units
						wantC, wantCt := make([]float64, cells), make([]float64, cells)
						wantH := make([]float64, len(h))
						var cPrev []float64
						if op.cPrev != nil {
							cPrev = toFloat64(toFloat32(op.cPrev))
						}
						reference(wantZ, toFloat64(toFloat32(op.bias)), cPrev, wantC, wantCt, wantH, hStride, rows, units)

						// Gates and tanh are within 1, and c within the
						// magnitude of its two terms, each float32 op
						// adding half an ulp.
						for i, want := range wantZ {
							require.InDelta(t, want, float64(z[i]), 1e-6, "gate %d", i)
						}
						for i := range cells {
							scale := math.Abs(wantZ[(i/units)*4*units+i%units] * wantZ[(i/units)*4*units+2*units+i%units])
							if cPrev != nil {
								scale += math.Abs(cPrev[i])
							}
							require.InDelta(t, wantC[i], float64(c[i]), 1e-6*max(scale, 1), "c %d", i)
							require.InDelta(t, wantCt[i], float64(ct[i]), 2e-6, "tanh(c) %d", i)
						}
						for r := range rows {
							for j := range units {
								require.InDelta(t, wantH[r*hStride+j], float64(h[r*hStride+j]), 2e-6, "h row %d unit %d", r, j)
							}
						}
					})
				}
			}
		}
	}
}

// TestCellStep32Extremes checks saturation and NaN: pre-activations far
// beyond the exponential's range saturate the gates exactly as math.Exp
// would to float32 precision, and a NaN stays NaN through the gate, the
// cell and the output.
func TestCellStep32Extremes(t *testing.T) {
	inf := math.Inf(1)
	pre := []float64{-1e30, -200, -90, -88, -40, 40, 88, 90, 200, 1e30, -inf, inf}
	units := len(pre)
	for _, impl := range float32CellSteps {
		t.Run(impl.name, func(t *testing.T) {
			op := cellOperands{rows: 1, units: units, hStride: units, bias: make([]float64, 4*units)}
			for range 4 {
				op.z = append(op.z, pre...)
			}
			z, c, _, h := runCellStep32(t, impl.step, op)
			for j, v := range pre {
				sigmoid := 1 / (1 + math.Exp(-v))
				// Four float32 ulps, or next to nothing beyond the
				// exponential's range.
				require.InDelta(t, sigmoid, float64(z[j]), 0x1p-21*sigmoid+1e-37, "σ(%v)", v)
				require.InDelta(t, math.Tanh(v), float64(z[2*units+j]), 0x1p-21, "tanh(%v)", v)
			}
			for j := range units {
				require.False(t, math.IsNaN(float64(c[j])) || math.IsNaN(float64(h[j])), "unit %d", j)
			}

			op.z[2*units+1] = math.NaN()
			z, c, ct, h := runCellStep32(t, impl.step, op)
			require.True(t, math.IsNaN(float64(z[2*units+1])), "tanh(NaN)")
			require.True(t, math.IsNaN(float64(c[1])), "c from a NaN candidate")
			require.True(t, math.IsNaN(float64(ct[1])), "tanh(c) from a NaN candidate")
			require.True(t, math.IsNaN(float64(h[1])), "h from a NaN candidate")
		})
	}
}

// TestCellStep32RowsAreIndependent checks that a row's results have the
// same bits whether it is stepped alone or with others, and that repeating
// a step repeats them.
func TestCellStep32RowsAreIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	const rows, units = 6, 50
	op := randomCellOperands(rng, rows, units, units, false)
	for _, impl := range float32CellSteps {
		t.Run(impl.name, func(t *testing.T) {
			z, c, ct, h := runCellStep32(t, impl.step, op)
			again, _, _, _ := runCellStep32(t, impl.step, op)
			require.Equal(t, z[:len(op.z)], again[:len(op.z)])
			for r := range rows {
				one := cellOperands{rows: 1, units: units, hStride: units, bias: op.bias,
					z: op.z[r*4*units : (r+1)*4*units], cPrev: op.cPrev[r*units : (r+1)*units]}
				zr, cr, ctr, hr := runCellStep32(t, impl.step, one)
				require.Equal(t, z[r*4*units:(r+1)*4*units], zr[:4*units], "gates of row %d", r)
				require.Equal(t, c[r*units:(r+1)*units], cr[:units], "c of row %d", r)
				require.Equal(t, ct[r*units:(r+1)*units], ctr[:units], "tanh(c) of row %d", r)
				require.Equal(t, h[r*units:(r+1)*units], hr[:units], "h of row %d", r)
			}
		})
	}
}

func TestCellStep32RejectsShortOperands(t *testing.T) {
	const rows, units = 3, 10
	z, bias := make([]float32, rows*4*units), make([]float32, 4*units)
	cells := make([]float32, rows*units)
	cases := []struct {
		name                  string
		z, bias, cPrev, c, ct []float32
		h                     []float32
		hStride               int
	}{
		{"short z", z[:len(z)-1], bias, cells, cells, cells, cells, units},
		{"short bias", z, bias[:len(bias)-1], cells, cells, cells, cells, units},
		{"short cPrev", z, bias, cells[:1], cells, cells, cells, units},
		{"short c", z, bias, cells, cells[:len(cells)-1], cells, cells, units},
		{"short tanh(c)", z, bias, cells, cells, cells[:len(cells)-1], cells, units},
		{"short h", z, bias, cells, cells, cells, cells[:len(cells)-1], units},
		{"h stride narrower than a row", z, bias, cells, cells, cells, cells, units - 1},
	}
	for _, impl := range float32CellSteps {
		for _, tc := range cases {
			t.Run(impl.name+"/"+tc.name, func(t *testing.T) {
				require.Panics(t, func() { impl.step(tc.z, tc.bias, tc.cPrev, tc.c, tc.ct, tc.h, tc.hStride, rows, units) })
			})
		}
	}
}

func toFloat64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// BenchmarkCellStep32 times the float32 cell steps on a shard's step of
// the default network: 16 samples of 50 units.
func BenchmarkCellStep32(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	const rows, units = 16, 50
	op := randomCellOperands(rng, rows, units, units, false)
	z0, bias, cPrev := toFloat32(op.z), toFloat32(op.bias), toFloat32(op.cPrev)
	z := make([]float32, len(z0))
	c, ct, h := make([]float32, rows*units), make([]float32, rows*units), make([]float32, rows*units)
	for _, impl := range float32CellSteps {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				copy(z, z0)
				impl.step(z, bias, cPrev, c, ct, h, units, rows, units)
			}
		})
	}
}

// float32CellBacks are the float32 cell gradients to check: on a CPU with
// AVX2 and FMA the first is the assembly kernel.
var float32CellBacks = []struct {
	name string
	back cellBackFunc[float32]
}{
	{"fastest", fastestCellBack32()},
	{"go", goCellBack[float32]},
}

// nanPadded returns s in float32 followed by NaN padding, sliced to s's
// length: a kernel that reads past it gets NaN.
func nanPadded(s []float64) []float32 {
	if s == nil {
		return nil
	}
	return append(toFloat32(s), filled(5, float32(math.NaN()))...)[:len(s)]
}

// TestCellBack32 checks the float32 cell gradients against the float64
// one on the kernel's edges, as TestCellStep32 does: unit counts around its
// vectors of 8, one and several rows, the first, a middle and the last step
// (no cPrev, both, no dhNext), and dhNext rows wider than the units, whose
// padding must not be read. Outputs are NaN-padded to show they are not
// written past.
func TestCellBack32(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 3))
	random := func(n int, low, high float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = low + (high-low)*rng.Float64()
		}
		return s
	}
	for _, impl := range float32CellBacks {
		for _, units := range []int{1, 3, 7, 8, 9, 16, 17, 50} {
			for _, rows := range []int{1, 2, 5} {
				for _, step := range []string{"first", "middle", "last"} {
					t.Run(fmt.Sprintf("%s/%d units/%d rows/%s", impl.name, units, rows, step), func(t *testing.T) {
						cells, stride := rows*units, units+3
						// Activations as the forward step leaves them:
						// gates in (0, 1) but g in (-1, 1).
						gates := random(4*cells, 0, 1)
						for r := range rows {
							copy(gates[r*4*units+2*units:r*4*units+3*units], random(units, -1, 1))
						}
						ct := random(cells, -1, 1)
						dOut := random(cells, -1, 1)
						dc := random(cells, -1, 1)
						var cPrev, dhNext []float64
						if step != "first" {
							cPrev = random(cells, -3, 3)
						}
						if step != "last" {
							dhNext = random((rows-1)*stride+units, -1, 1)
						}
						// Round the inputs to float32 first, so only the
						// gradients' own rounding differs.
						round := func(s []float64) []float64 {
							if s == nil {
								return nil
							}
							return toFloat64(toFloat32(s))
						}
						gates, ct, cPrev, dOut, dhNext, dc = round(gates), round(ct), round(cPrev), round(dOut), round(dhNext), round(dc)
						wantDc := append([]float64(nil), dc...)
						wantDGates := make([]float64, 4*cells)
						goCellBack(gates, ct, cPrev, dOut, dhNext, wantDc, wantDGates, stride, rows, units)

						gotDc := append(toFloat32(dc), filled(5, float32(math.NaN()))...)
						gotDGates := filled(4*cells+5, float32(math.NaN()))
						impl.back(nanPadded(gates), nanPadded(ct), nanPadded(cPrev), nanPadded(dOut), nanPadded(dhNext),
							gotDc[:cells], gotDGates[:4*cells], stride, rows, units)

						// Every term is a product of a few factors within
						// 1 and 3 or a sum of two: a few float32 ulps of 10.
						const tol = 1e-5
						for i, want := range wantDc {
							require.InDelta(t, want, float64(gotDc[i]), tol, "dc %d", i)
						}
						for i, want := range wantDGates {
							require.InDelta(t, want, float64(gotDGates[i]), tol, "gate gradient %d", i)
						}
						for i := cells; i < len(gotDc); i++ {
							require.True(t, math.IsNaN(float64(gotDc[i])), "dc[%d] past the operand was written", i)
						}
						for i := 4 * cells; i < len(gotDGates); i++ {
							require.True(t, math.IsNaN(float64(gotDGates[i])), "dGates[%d] past the operand was written", i)
						}
					})
				}
			}
		}
	}
}

func TestCellBack32RejectsShortOperands(t *testing.T) {
	const rows, units = 3, 10
	gates, cells := make([]float32, rows*4*units), make([]float32, rows*units)
	cases := []struct {
		name                                    string
		gates, ct, cPrev, dOut, dhNext, dc, dGs []float32
		dhStride                                int
	}{
		{"short gates", gates[:len(gates)-1], cells, cells, cells, cells, cells, gates, units},
		{"short tanh(c)", gates, cells[:len(cells)-1], cells, cells, cells, cells, gates, units},
		{"short cPrev", gates, cells, cells[:1], cells, cells, cells, gates, units},
		{"short dOut", gates, cells, cells, cells[:len(cells)-1], cells, cells, gates, units},
		{"short dhNext", gates, cells, cells, cells, cells[:len(cells)-1], cells, gates, units},
		{"short dc", gates, cells, cells, cells, cells, cells[:len(cells)-1], gates, units},
		{"short dGates", gates, cells, cells, cells, cells, cells, gates[:len(gates)-1], units},
		{"dh stride narrower than a row", gates, cells, cells, cells, cells, cells, gates, units - 1},
	}
	for _, impl := range float32CellBacks {
		for _, tc := range cases {
			t.Run(impl.name+"/"+tc.name, func(t *testing.T) {
				require.Panics(t, func() {
					impl.back(tc.gates, tc.ct, tc.cPrev, tc.dOut, tc.dhNext, tc.dc, tc.dGs, tc.dhStride, rows, units)
				})
			})
		}
	}
}
