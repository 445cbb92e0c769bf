package forecast_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
)

func TestResolveHorizon(t *testing.T) {
	tests := []struct {
		in, want int
		valid    bool
	}{
		{in: 0, want: forecast.DefaultHorizon, valid: true},
		{in: 1, want: 1, valid: true},
		{in: forecast.MaxHorizon, want: forecast.MaxHorizon, valid: true},
		{in: forecast.MaxHorizon + 1},
		{in: -1},
	}
	for _, tt := range tests {
		got, err := forecast.ResolveHorizon(tt.in)
		if !tt.valid {
			require.ErrorIs(t, err, forecast.ErrInvalidHorizon, "horizon %d", tt.in)
			continue
		}
		require.NoError(t, err, "horizon %d", tt.in)
		require.Equal(t, tt.want, got)
	}
}
