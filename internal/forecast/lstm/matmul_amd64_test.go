//go:build amd64 && !purego

package lstm

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"
)

// kernelProducts are the assembly products this CPU can run, each checked
// like the fastest.
func kernelProducts() []struct {
	name    string
	product matmulFunc[float32]
} {
	var kernels []struct {
		name    string
		product matmulFunc[float32]
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		kernels = append(kernels, struct {
			name    string
			product matmulFunc[float32]
		}{"avx2", matmulFMA32})
	}
	if cpu.X86.HasAVX512F {
		kernels = append(kernels, struct {
			name    string
			product matmulFunc[float32]
		}{"avx512", matmulAVX512})
	}
	return kernels
}

// TestMatmulKernelsAgree checks that the AVX2 and AVX-512 kernels give the
// same bits, on widths around both kernels' panels, so that training does
// not depend on which one the CPU has.
func TestMatmulKernelsAgree(t *testing.T) {
	if !cpu.X86.HasAVX512F || !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("the CPU lacks AVX-512 or AVX2 and FMA")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	const k = 37
	// Six rows take the four-row AVX-512 kernel, thirteen the eight-row one
	// and then the four-row one.
	for _, m := range []int{6, 13} {
		for _, n := range []int{1, 8, 15, 16, 17, 31, 32, 33, 48, 100, 200} {
			a, b := make([]float32, m*k), make([]float32, k*n)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			avx2, avx512 := make([]float32, m*n), make([]float32, m*n)
			matmulFMA32(m, n, k, a, k, b, n, avx2, n)
			matmulAVX512(m, n, k, a, k, b, n, avx512, n)
			require.Equal(t, avx2, avx512, "%d×%d", m, n)
		}
	}
}
