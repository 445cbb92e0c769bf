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

// BenchmarkFilteredModels times ETS (the automatic search, twice) and Theta
// on two years of the S&P 500, walk-forward, intervals and scores
// included, for their registry Cost against the closed-form models.
//
//	go test -run '^$' -bench FilteredModels ./internal/forecast/registry
func BenchmarkFilteredModels(b *testing.B) {
	closes := sp500(b)
	for _, name := range []string{registry.NameETS, registry.NameTheta} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := registry.Run(context.Background(), name, closes, registry.Options{Horizon: 7}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
