package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/jobs"
)

// TestNormalizeResolvesTheHorizon checks that a prediction's horizon is
// resolved here, by the forecast package's rule, and nowhere before: the
// HTTP layer passes the request's value (0 when absent) through untouched.
func TestNormalizeResolvesTheHorizon(t *testing.T) {
	resolved := []struct{ given, want int }{
		{given: 0, want: forecast.DefaultHorizon},
		{given: 1, want: 1},
		{given: forecast.MaxHorizon, want: forecast.MaxHorizon},
	}
	for _, tt := range resolved {
		p := jobs.PredictionParams{Horizon: tt.given}
		require.Nil(t, p.Normalize(registry.Known, nil), "horizon %d", tt.given)
		require.Equal(t, tt.want, p.Horizon, "horizon %d", tt.given)
	}
	for _, given := range []int{forecast.MaxHorizon + 1, -1} {
		p := jobs.PredictionParams{Horizon: given}
		ferr := p.Normalize(registry.Known, nil)
		require.NotNil(t, ferr, "horizon %d", given)
		require.Equal(t, "horizon", ferr.Field)
		require.Equal(t, "out_of_range", ferr.Code)
	}
}
