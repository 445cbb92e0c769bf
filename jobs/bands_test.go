package jobs_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// TestPredictionWithGARCHBandsCarriesTheRisk runs a prediction of the
// bundled S&P 500 asking for GARCH bands: the model's bands are GARCH's,
// the result carries the one-day 95% VaR and the recommendation quotes it.
func TestPredictionWithGARCHBandsCarriesTheRisk(t *testing.T) {
	prices, err := market.NewLoader(market.Config{Sources: []string{"sample"}}, nil, nil, nil)
	require.NoError(t, err)
	f := newFixture(t, prices)
	job, _, err := f.db.CreateJob(context.Background(), store.NewJob{
		OwnerID: f.owner, Kind: store.KindPrediction, Ticker: "^GSPC", Queue: jobs.QueueCritical,
		Params: store.JSON(`{"models":["drift"],"horizon":5,"lookback":504,"recommendation":"evidence","bands":"garch"}`),
	})
	require.NoError(t, err)
	require.NoError(t, f.queue.Enqueue(context.Background(), job))
	job = f.awaitFinal(t, job)
	require.Equal(t, store.StatusSucceeded, job.Status, job.Error)

	var res jobs.PredictionResult
	require.NoError(t, json.Unmarshal(job.Result, &res))
	require.Empty(t, res.RiskError)
	require.NotNil(t, res.Risk)
	require.Equal(t, res.LastClose, res.Risk.LastClose)
	// The S&P's last close is 2020-04-17, a month after the crash's worst
	// days: a one-day 95% VaR well above the 1-2% of calm years.
	require.Greater(t, res.Risk.VaR95, 0.03)
	require.Less(t, res.Risk.VaR95, 0.2)
	require.InDelta(t, res.Risk.VaR95*res.LastClose, res.Risk.VaR95Price, 1e-6)
	require.Equal(t, 5, res.Risk.Horizon)

	drift := res.Models["drift"]
	require.NotNil(t, drift)
	require.Contains(t, drift.Params, "bands")
	require.Len(t, drift.ForecastPI95, 5)
	require.NotNil(t, res.Recommendation)
	require.Contains(t, res.Recommendation.Reasons[len(res.Recommendation.Reasons)-1], "value at risk")
}
