package garch

import (
	"context"
	"testing"
)

// BenchmarkFit fits every fGarch reference series once per iteration, the
// same returns testdata/gen_reference.R times fGarch on; bench_vs_fgarch.sh
// runs both and prints the ratio.
func BenchmarkFit(b *testing.B) {
	refs := loadReference(b)
	returns := make([][]float64, len(refs))
	for i, ref := range refs {
		r, err := LogReturns(ref.Closes)
		if err != nil {
			b.Fatal(err)
		}
		returns[i] = r
	}
	b.ResetTimer()
	for range b.N {
		for _, r := range returns {
			if _, err := Fit(context.Background(), r); err != nil {
				b.Fatal(err)
			}
		}
	}
}
