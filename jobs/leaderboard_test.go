package jobs_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

func TestDefaultLeaderboard(t *testing.T) {
	p := jobs.DefaultLeaderboard()
	require.Equal(t, "dj30", p.Sample)
	require.Equal(t, jobs.DefaultLookback, p.Tail)
	require.Equal(t, []string{"lstm", "arima", "arima_auto", "ets", "theta", "linreg", "naive", "drift"}, p.Models)
}

// TestLeaderboardJob runs a small leaderboard through the queue and the
// worker: the result is the leaderboard, stored with the job.
func TestLeaderboardJob(t *testing.T) {
	f := newFixture(t, &flakyPrices{})
	params, err := json.Marshal(jobs.LeaderboardParams{Sample: "dj30", Tail: 120, Horizon: 3, Models: []string{"naive", "drift"}})
	require.NoError(t, err)
	job, created, err := f.db.CreateLeaderboardJob(context.Background(), f.owner, store.JSON(params), jobs.QueueCritical)
	require.NoError(t, err)
	require.True(t, created)
	require.NoError(t, f.queue.Enqueue(context.Background(), job))

	got := f.awaitFinal(t, job)
	require.Equal(t, store.StatusSucceeded, got.Status, "%v", got.Error)
	var lb struct {
		Series  int `json:"series"`
		Horizon int `json:"horizon"`
		Workers int `json:"workers"`
		Models  []struct {
			Model       string   `json:"model"`
			Series      int      `json:"series"`
			MeanHitRate *float64 `json:"mean_hit_rate"`
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal(got.Result, &lb))
	require.Equal(t, 30, lb.Series)
	require.Equal(t, 3, lb.Horizon)
	require.Equal(t, 1, lb.Workers, "background work keeps to one core")
	require.Len(t, lb.Models, 2)
	require.Equal(t, "naive", lb.Models[0].Model)
	require.Equal(t, 30, lb.Models[0].Series)
	require.Nil(t, lb.Models[0].MeanHitRate, "persistence makes no calls")
	require.NotNil(t, lb.Models[1].MeanHitRate)
}

func TestLeaderboardJobWithBadParamsFailsAtOnce(t *testing.T) {
	f := newFixture(t, &flakyPrices{})
	job, _, err := f.db.CreateLeaderboardJob(context.Background(), f.owner, store.JSON(`{"sample":"ftse100","tail":100}`), jobs.QueueCritical)
	require.NoError(t, err)
	require.NoError(t, f.queue.Enqueue(context.Background(), job))
	got := f.awaitFinal(t, job)
	require.Equal(t, store.StatusFailed, got.Status)
	require.Equal(t, 1, got.Attempts, "a permanent error is not retried")
	require.Contains(t, got.Error, `unknown sample "ftse100"`)
}
