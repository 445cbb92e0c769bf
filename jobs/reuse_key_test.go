package jobs_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/jobs"
)

// TestReuseKeyNamesEverythingThatChangesTheResult checks that two requests
// share a reuse key exactly when they would compute the same result.
func TestReuseKeyNamesEverythingThatChangesTheResult(t *testing.T) {
	bars := risingSeries("MSFT").Bars
	base := func() jobs.PredictionParams {
		return jobs.PredictionParams{Models: []string{"linreg", "lstm"}, Horizon: 7, Lookback: 504,
			Recommendation: "evidence", LSTMMode: "window"}
	}
	key := func(p jobs.PredictionParams, ticker string, bars []market.Bar) string {
		return string(p.ReuseKey(ticker, bars))
	}
	want := key(base(), "MSFT", bars)

	same := base()
	same.Models = []string{"lstm", "linreg"}
	same.Fresh = true
	same.Bands = "model"
	require.Equal(t, want, key(same, "MSFT", bars), "model order, fresh and the default bands spelled out change nothing")

	changes := map[string]func(*jobs.PredictionParams){
		"models":         func(p *jobs.PredictionParams) { p.Models = []string{"linreg"} },
		"horizon":        func(p *jobs.PredictionParams) { p.Horizon = 5 },
		"lookback":       func(p *jobs.PredictionParams) { p.Lookback = 252 },
		"seed":           func(p *jobs.PredictionParams) { p.Seed = 1 },
		"sentiment":      func(p *jobs.PredictionParams) { p.Sentiment = true },
		"preset":         func(p *jobs.PredictionParams) { p.Preset = "hft" },
		"recommendation": func(p *jobs.PredictionParams) { p.Recommendation = "classic" },
		"lstm_mode":      func(p *jobs.PredictionParams) { p.LSTMMode = "clean" },
		"bands":          func(p *jobs.PredictionParams) { p.Bands = "garch" },
		"evaluation":     func(p *jobs.PredictionParams) { p.Evaluation = &jobs.EvaluationParams{Origins: 3} },
	}
	for name, change := range changes {
		p := base()
		change(&p)
		require.NotEqual(t, want, key(p, "MSFT", bars), name)
	}
	require.NotEqual(t, want, key(base(), "IBM", bars), "ticker")
	require.NotEqual(t, want, key(base(), "MSFT", bars[:len(bars)-1]), "a bar less")
	require.Equal(t, want, key(base(), "MSFT", slices.Clone(bars)), "the same bars")

	// A close revised on the same date (Yahoo's bar of a session in
	// progress, a correction) is other data: issue 20, item 1.
	for name, revise := range map[string]func(*market.Bar){
		"last close":       func(b *market.Bar) { b.Close += 0.01 },
		"last volume":      func(b *market.Bar) { b.Volume++ },
		"last adjusted":    func(b *market.Bar) { b.AdjClose *= 0.5 },
		"an earlier close": nil,
	} {
		revised := slices.Clone(bars)
		if revise != nil {
			revise(&revised[len(revised)-1])
		} else {
			revised[10].Close += 1
		}
		require.NotEqual(t, want, key(base(), "MSFT", revised), name)
	}
}
