package jobs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/jobs"
)

// TestReuseKeyNamesEverythingThatChangesTheResult checks that two requests
// share a reuse key exactly when they would compute the same result.
func TestReuseKeyNamesEverythingThatChangesTheResult(t *testing.T) {
	lastBar := time.Date(2001, 1, 2, 0, 0, 0, 0, time.UTC)
	base := func() jobs.PredictionParams {
		return jobs.PredictionParams{Models: []string{"linreg", "lstm"}, Horizon: 7, Lookback: 504,
			Recommendation: "evidence", LSTMMode: "window"}
	}
	key := func(p jobs.PredictionParams, ticker string, last time.Time) string {
		return string(p.ReuseKey(ticker, last))
	}
	want := key(base(), "MSFT", lastBar)

	same := base()
	same.Models = []string{"lstm", "linreg"}
	same.Fresh = true
	require.Equal(t, want, key(same, "MSFT", lastBar), "model order and fresh change nothing")

	changes := map[string]func(*jobs.PredictionParams){
		"models":         func(p *jobs.PredictionParams) { p.Models = []string{"linreg"} },
		"horizon":        func(p *jobs.PredictionParams) { p.Horizon = 5 },
		"lookback":       func(p *jobs.PredictionParams) { p.Lookback = 252 },
		"seed":           func(p *jobs.PredictionParams) { p.Seed = 1 },
		"sentiment":      func(p *jobs.PredictionParams) { p.Sentiment = true },
		"preset":         func(p *jobs.PredictionParams) { p.Preset = "hft" },
		"recommendation": func(p *jobs.PredictionParams) { p.Recommendation = "classic" },
		"lstm_mode":      func(p *jobs.PredictionParams) { p.LSTMMode = "clean" },
	}
	for name, change := range changes {
		p := base()
		change(&p)
		require.NotEqual(t, want, key(p, "MSFT", lastBar), name)
	}
	require.NotEqual(t, want, key(base(), "IBM", lastBar), "ticker")
	require.NotEqual(t, want, key(base(), "MSFT", lastBar.AddDate(0, 0, 1)), "last bar")
}
