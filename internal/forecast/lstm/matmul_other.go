//go:build !amd64 || purego

package lstm

// fastestMatmul32 is gonum's product: the package has no kernel of its own
// for this architecture.
func fastestMatmul32() matmulFunc[float32] {
	return gemm32
}
