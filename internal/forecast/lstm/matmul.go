package lstm

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// matmulFunc sets c = a·b for row-major a (m×k), b (k×n) and c (m×n) with
// row strides lda, ldb and ldc, BLAS's gemm without transposes or scaling.
// Every product in the network has this one form, with the kernels kept in
// both orientations, because it is the form a SIMD kernel computes best:
// broadcasts of a times contiguous rows of b, with no horizontal sums.
type matmulFunc[F floating] func(m, n, k int, a []F, lda int, b []F, ldb int, c []F, ldc int)

// matmulFor picks the product for F once, so the hot loops call it directly
// instead of dispatching on the type at every product.
func matmulFor[F floating]() matmulFunc[F] {
	var impl any
	switch any(F(0)).(type) {
	case float32:
		impl = fastestMatmul32()
	case float64:
		impl = matmulFunc[float64](gemm64)
	}
	return impl.(matmulFunc[F])
}

// gemm32 is the portable float32 product, gonum's.
func gemm32(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	blas32.Implementation().Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
}

// gemm64 is the float64 product, gonum's: float64 serves only the gradient
// check, where speed does not matter.
func gemm64(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	blas64.Implementation().Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
}

// checkOperands panics, as gonum does, if the operands of a product do not
// hold the matrices their shapes and strides describe: an assembly kernel
// would read or write past them instead.
func checkOperands(m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) {
	fits := func(length, rows, cols, stride int) bool {
		return stride >= cols && (rows == 0 || cols == 0 || length >= (rows-1)*stride+cols)
	}
	if m < 0 || n < 0 || k < 0 || !fits(lenA, m, k, lda) || !fits(lenB, k, n, ldb) || !fits(lenC, m, n, ldc) {
		panic(fmt.Sprintf("lstm: bad product operands: %d×%d·%d×%d into %d×%d with strides %d, %d, %d and lengths %d, %d, %d",
			m, k, k, n, m, n, lda, ldb, ldc, lenA, lenB, lenC))
	}
}
