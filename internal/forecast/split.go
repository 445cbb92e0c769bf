package forecast

// trainFraction is the share of a series every model fits on; the rest is
// the test set all of them are scored on. 0.8 is what the original app and
// models_ref.py use, so figures stay comparable with the reference.
const trainFraction = 0.8

// TestStart is the index of the first test close in a series of n closes,
// int(0.8 × n) exactly as Python's int(0.8 * n). Every model fits on the
// closes before it and is scored on the closes from it to the end, so the
// reports of one series are measured on the same days.
func TestStart(n int) int {
	return int(trainFraction * float64(n))
}
