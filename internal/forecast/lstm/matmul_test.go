package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// float32Products are the float32 products to check: on a CPU with AVX2
// and FMA the first is an assembly kernel (with more on amd64, see
// matmul_amd64_test.go).
var float32Products = append([]struct {
	name    string
	product matmulFunc[float32]
}{
	{"fastest", fastestMatmul32()},
	{"gonum", gemm32},
}, kernelProducts()...)

// TestMatmul32 checks the float32 products against a float64 reference on
// every edge of the kernel: row counts below, at and past its block of 4,
// column counts around its panels of 16 and 8, and strides wider than the
// matrices, whose padding must neither be read nor written.
func TestMatmul32(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	const pad = 3
	for _, impl := range float32Products {
		for _, m := range []int{1, 3, 4, 5, 6, 7, 16, 51} {
			for _, k := range []int{1, 2, 51, 100} {
				for _, n := range []int{1, 4, 7, 8, 9, 15, 16, 17, 24, 31, 100, 200} {
					t.Run(fmt.Sprintf("%s/%dx%dx%d", impl.name, m, k, n), func(t *testing.T) {
						lda, ldb, ldc := k+pad, n+pad, n+pad
						// NaN padding poisons any result that reads it.
						a := filled(m*lda, float32(math.NaN()))
						b := filled(k*ldb, float32(math.NaN()))
						for i := range m {
							for l := range k {
								a[i*lda+l] = float32(rng.NormFloat64())
							}
						}
						for l := range k {
							for j := range n {
								b[l*ldb+j] = float32(rng.NormFloat64())
							}
						}
						const sentinel = -12345
						c := filled(m*ldc, sentinel)

						impl.product(m, n, k, a, lda, b, ldb, c, ldc)

						for i := range m {
							for j := range ldc {
								got := c[i*ldc+j]
								if j >= n {
									require.Equal(t, float32(sentinel), got, "padding c[%d][%d] was written", i, j)
									continue
								}
								// float32 rounding of a k-term sum stays
								// within k·2⁻²³ of the sum of the magnitudes.
								var want, magnitude float64
								for l := range k {
									p := float64(a[i*lda+l]) * float64(b[l*ldb+j])
									want += p
									magnitude += math.Abs(p)
								}
								require.InDelta(t, want, float64(got), float64(k)*0x1p-23*magnitude+1e-30, "c[%d][%d]", i, j)
							}
						}
					})
				}
			}
		}
	}
}

// TestMatmul32RowsAreIndependent checks that a row of the product has the
// same bits whichever block of rows it is computed in, which the kernel's
// overlapping last block relies on.
func TestMatmul32RowsAreIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const m, k, n = 7, 100, 200
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	for _, impl := range float32Products {
		t.Run(impl.name, func(t *testing.T) {
			whole := make([]float32, m*n)
			impl.product(m, n, k, a, k, b, n, whole, n)
			for first := 0; first+4 <= m; first++ {
				block := make([]float32, 4*n)
				impl.product(4, n, k, a[first*k:], k, b, n, block, n)
				require.Equal(t, whole[first*n:(first+4)*n], block, "rows %d to %d", first, first+3)
			}
		})
	}
}

func TestMatmul32RejectsShortOperands(t *testing.T) {
	const m, k, n = 8, 5, 20
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	cases := []struct {
		name    string
		a, b, c []float32
		lda     int
	}{
		{"short a", a[:len(a)-1], b, c, k},
		{"short b", a, b[:len(b)-1], c, k},
		{"short c", a, b, c[:len(c)-1], k},
		{"stride narrower than a row", a, b, c, k - 1},
	}
	for _, impl := range float32Products {
		for _, tc := range cases {
			t.Run(impl.name+"/"+tc.name, func(t *testing.T) {
				require.Panics(t, func() { impl.product(m, n, k, tc.a, tc.lda, tc.b, n, tc.c, n) })
			})
		}
	}
}

func filled(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// BenchmarkMatmul32 times the float32 products on the default network's
// shapes: a shard's step forward and backward (16 samples, 100 inputs, 200
// gates) and half a layer's kernel gradient over a batch of 32 windows.
func BenchmarkMatmul32(b *testing.B) {
	shapes := []struct{ m, k, n int }{{16, 100, 200}, {16, 200, 100}, {50, 224, 200}}
	for _, impl := range float32Products {
		for _, s := range shapes {
			x, y, z := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
			for i := range x {
				x[i] = float32(i%17) / 17
			}
			for i := range y {
				y[i] = float32(i%13) / 13
			}
			b.Run(fmt.Sprintf("%s/%dx%dx%d", impl.name, s.m, s.k, s.n), func(b *testing.B) {
				for b.Loop() {
					impl.product(s.m, s.n, s.k, x, s.k, y, s.n, z, s.n)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
