//go:build !amd64 || purego

package lstm

// fastestCellStep32 is the Go cell step: the package has no kernel of its
// own for this architecture.
func fastestCellStep32() cellStepFunc[float32] {
	return goCellStep(gates32, tanh32To)
}

// fastestCellBack32 is the Go cell gradient.
func fastestCellBack32() cellBackFunc[float32] {
	return goCellBack[float32]
}
