package jobs_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// revisablePrices serves risingSeries, whose last close a test can revise
// on the same date, as a provider does with a session in progress.
type revisablePrices struct {
	mu     sync.Mutex
	series *market.Series
}

func (r *revisablePrices) Load(_ context.Context, ticker string) (*market.Series, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.series == nil {
		r.series = risingSeries(ticker)
	}
	out := *r.series
	out.Bars = append([]market.Bar(nil), r.series.Bars...)
	return &out, nil
}

func (r *revisablePrices) reviseLastClose(by float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.series.Bars[len(r.series.Bars)-1].Close += by
}

// TestARevisedCloseIsComputedAgain is issue 20, item 1: with the last
// bar's close revised on the same date, an identical request was answered
// with the result of the old close.
func TestARevisedCloseIsComputedAgain(t *testing.T) {
	prices := &revisablePrices{}
	f := newFixture(t, prices)
	predict := func() (*store.Job, float64) {
		job, _, err := f.db.CreateJob(context.Background(), store.NewJob{
			OwnerID: f.owner, Kind: store.KindPrediction, Ticker: "ABC", Queue: jobs.QueueCritical,
			Params: store.JSON(`{"models":["arima"],"horizon":3,"recommendation":"evidence"}`),
		})
		require.NoError(t, err)
		require.NoError(t, f.queue.Enqueue(context.Background(), job))
		done := f.awaitFinal(t, job)
		require.Equal(t, store.StatusSucceeded, done.Status, done.Error)
		var res struct {
			LastClose float64 `json:"last_close"`
		}
		require.NoError(t, json.Unmarshal(done.Result, &res))
		return done, res.LastClose
	}
	first, close1 := predict()
	again, close2 := predict()
	require.True(t, again.Reused, "the same bars: the first result is taken")
	require.Equal(t, close1, close2)
	require.False(t, first.Reused)

	prices.reviseLastClose(2.5)
	revised, close3 := predict()
	require.False(t, revised.Reused, "a revised close is other data")
	require.Equal(t, close1+2.5, close3)
}
