package registry_test

import (
	"context"
	"testing"

	"github.com/augurhq/augur/internal/forecast/registry"
)

// BenchmarkClosedFormModels times each closed-form model on two years of
// the S&P 500, intervals and scores included: what the worker spends on
// the models of a cheap job.
//
//	go test -run '^$' -bench ClosedFormModels ./internal/forecast/registry
func BenchmarkClosedFormModels(b *testing.B) {
	closes := sp500(b)
	for _, name := range []string{registry.NamePersistence, registry.NameDrift, registry.NameLinearRegression} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := registry.Run(context.Background(), name, closes, registry.Options{Horizon: 7}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
