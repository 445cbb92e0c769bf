//go:build amd64 && !purego

package lstm

import "golang.org/x/sys/cpu"

// fastestMatmul32 is the assembly kernel for the widest vectors the CPU
// and the OS support: AVX-512, or AVX2 and FMA (every x86-64 server CPU
// since 2013); gonum's product elsewhere. The kernels give the same bits.
func fastestMatmul32() matmulFunc[float32] {
	switch {
	case cpu.X86.HasAVX512F:
		return matmulAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return matmulFMA32
	}
	return gemm32
}

// matmulFMA32 is matmulFunc[float32] in AVX2 and FMA, four rows of c at a
// time, several times as fast as gonum's product on the network's shapes
// (see BenchmarkMatmul32). Each element is one fused multiply-add chain
// over k in order, so results do not depend on how rows are grouped.
func matmulFMA32(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	by4Rows(mul4Rows, m, n, k, a, lda, b, ldb, c, ldc)
}

// matmulAVX512 is matmulFMA32 in AVX-512, with twice as many lanes, eight
// rows of c at a time and the last rows four at a time.
func matmulAVX512(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 8 || n == 0 || k == 0 {
		by4Rows(mul4Rows512, m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
	checkOperands(m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	r := 0
	for ; r+8 <= m; r += 8 {
		mul8Rows512(&c[r*ldc], ldc, &a[r*lda], lda, &b[0], ldb, k, n)
	}
	for ; r < m; r += 4 {
		// As in by4Rows, the last block may overlap the one before.
		r = min(r, m-4)
		mul4Rows512(&c[r*ldc], ldc, &a[r*lda], lda, &b[0], ldb, k, n)
	}
}

// by4Rows computes a product four rows of c at a time with mul4.
func by4Rows(mul4 func(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k, n int),
	m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 4 || n == 0 || k == 0 {
		// Too few rows for the kernel: only inference of a window or
		// two comes here.
		gemm32(m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
	checkOperands(m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	for r := 0; r < m; r += 4 {
		// When m is not a multiple of 4 the last block overlaps the one
		// before, whose rows it computes again, to the same values.
		r = min(r, m-4)
		mul4(&c[r*ldc], ldc, &a[r*lda], lda, &b[0], ldb, k, n)
	}
}

// mul4Rows sets the 4×n matrix at c to the 4×k matrix at a times the k×n
// matrix at b (row strides in elements; k ≥ 1).
//
//go:noescape
func mul4Rows(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k, n int)

// mul4Rows512 is mul4Rows in AVX-512.
//
//go:noescape
func mul4Rows512(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k, n int)

// mul8Rows512 is mul4Rows512 for eight rows.
//
//go:noescape
func mul8Rows512(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k, n int)
