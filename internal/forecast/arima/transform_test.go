package arima

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConstrainStationaryMatchesStatsmodels(t *testing.T) {
	ref := loadReference(t)
	require.NotEmpty(t, ref.Transforms)
	for _, c := range ref.Transforms {
		n := len(c.Unconstrained)
		got := make([]float64, n)
		constrainStationary(got, c.Unconstrained, make([]float64, 2*n))
		require.InDeltaSlice(t, c.Constrained, got, 1e-12)

		back := make([]float64, n)
		require.True(t, unconstrainStationary(back, got, make([]float64, 2*n)))
		require.InDeltaSlice(t, c.Unconstrained, back, 1e-9)
	}
}

func TestUnconstrainStationaryRejectsNonStationary(t *testing.T) {
	tests := []struct {
		name       string
		coef       []float64
		stationary bool
	}{
		{name: "empty", coef: nil, stationary: true},
		{name: "AR(1) inside", coef: []float64{0.99}, stationary: true},
		{name: "AR(1) unit root", coef: []float64{1}, stationary: false},
		{name: "AR(1) explosive", coef: []float64{-1.5}, stationary: false},
		{name: "AR(2) complex roots inside", coef: []float64{1.2, -0.5}, stationary: true},
		{name: "AR(2) one root outside triangle", coef: []float64{0.6, 0.5}, stationary: false},
		{name: "random walk in differences", coef: []float64{2, -1}, stationary: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(tt.coef)
			ok := unconstrainStationary(make([]float64, n), tt.coef, make([]float64, 2*n))
			require.Equal(t, tt.stationary, ok)
		})
	}
}
