package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/jobs"
)

// TestNormalizeLSTMMode: the mode is resolved and stored with the job, so
// the worker runs the LSTM the user asked for (defect 2 of issue 12).
func TestNormalizeLSTMMode(t *testing.T) {
	for given, want := range map[string]string{"": "window", "window": "window", " Clean ": "clean"} {
		p := jobs.PredictionParams{LSTMMode: given}
		require.Nil(t, p.Normalize(registry.Known, nil), "%q", given)
		require.Equal(t, want, p.LSTMMode, "%q", given)
	}
	p := jobs.PredictionParams{LSTMMode: "minmax"}
	ferr := p.Normalize(registry.Known, nil)
	require.NotNil(t, ferr)
	require.Equal(t, "lstm_mode", ferr.Field)
	require.Equal(t, "unknown_mode", ferr.Code)
	require.Contains(t, ferr.Message, "window, clean")
}
