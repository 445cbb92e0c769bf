package forecast_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
)

// TestTestStartMatchesPython pins the cut to Python's int(0.8 * n), the one
// the reference figures (models_ref.py) were computed with.
func TestTestStartMatchesPython(t *testing.T) {
	tests := []struct{ n, want int }{
		{n: 0, want: 0},
		{n: 1, want: 0},
		{n: 9, want: 7},
		{n: 10, want: 8},
		{n: 504, want: 403},
		{n: 2522, want: 2017},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, forecast.TestStart(tt.n), "n = %d", tt.n)
	}
}
