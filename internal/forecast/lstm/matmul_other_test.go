//go:build !amd64 || purego

package lstm

// kernelProducts is empty: the package has no assembly product here.
func kernelProducts() []struct {
	name    string
	product matmulFunc[float32]
} {
	return nil
}
