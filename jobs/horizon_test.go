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
// HTTP layer passes the request's value through untouched.
func TestNormalizeResolvesTheHorizon(t *testing.T) {
	tests := []struct {
		name    string
		horizon int
		want    int
		valid   bool
	}{
		{name: "absent or zero", horizon: 0, want: forecast.DefaultHorizon, valid: true},
		{name: "one day", horizon: 1, want: 1, valid: true},
		{name: "longest", horizon: forecast.MaxHorizon, want: forecast.MaxHorizon, valid: true},
		{name: "too long", horizon: forecast.MaxHorizon + 1},
		{name: "negative", horizon: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := jobs.PredictionParams{Horizon: tt.horizon}
			ferr := p.Normalize(registry.Known, nil)
			if !tt.valid {
				require.NotNil(t, ferr)
				require.Equal(t, "horizon", ferr.Field)
				require.Equal(t, "out_of_range", ferr.Code)
				return
			}
			require.Nil(t, ferr)
			require.Equal(t, tt.want, p.Horizon)
		})
	}
}
