package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/jobs"
)

// TestNormalizeModes: the LSTM's scaling and the band source are resolved
// and stored with the job, so the worker runs what the user asked for
// (defect 2 of issue 12), and an unknown value is refused naming its field.
func TestNormalizeModes(t *testing.T) {
	for _, tt := range []struct {
		field, code, listed string
		resolved            map[string]string
		unknown             string
		set                 func(*jobs.PredictionParams, string)
		get                 func(*jobs.PredictionParams) string
	}{
		{
			field: "lstm_mode", code: "unknown_mode", listed: "window, clean", unknown: "minmax",
			resolved: map[string]string{"": "window", "window": "window", " Clean ": "clean"},
			set:      func(p *jobs.PredictionParams, v string) { p.LSTMMode = v },
			get:      func(p *jobs.PredictionParams) string { return p.LSTMMode },
		},
		{
			field: "bands", code: "unknown_bands", listed: "model, garch", unknown: "bollinger",
			resolved: map[string]string{"": "model", "model": "model", " GARCH ": "garch"},
			set:      func(p *jobs.PredictionParams, v string) { p.Bands = v },
			get:      func(p *jobs.PredictionParams) string { return p.Bands },
		},
	} {
		for given, want := range tt.resolved {
			var p jobs.PredictionParams
			tt.set(&p, given)
			require.Nil(t, p.Normalize(registry.Known, nil), "%s %q", tt.field, given)
			require.Equal(t, want, tt.get(&p), "%s %q", tt.field, given)
		}
		var p jobs.PredictionParams
		tt.set(&p, tt.unknown)
		ferr := p.Normalize(registry.Known, nil)
		require.NotNil(t, ferr)
		require.Equal(t, tt.field, ferr.Field)
		require.Equal(t, tt.code, ferr.Code)
		require.Contains(t, ferr.Message, tt.listed)
	}
}
