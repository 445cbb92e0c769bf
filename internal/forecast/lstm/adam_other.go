//go:build !amd64 || purego

package lstm

// fastestAdamUpdate32 is the Go update: the package has no kernel of its
// own for this architecture.
func fastestAdamUpdate32() adamUpdateFunc[float32] {
	return goAdamUpdate[float32]
}
