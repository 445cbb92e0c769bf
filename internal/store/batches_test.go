package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func TestWatchlists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner, other := newOwner(t, db), newOwner(t, db)

	w, err := db.CreateWatchlist(ctx, owner, "Dow", []string{"MSFT", "IBM"})
	require.NoError(t, err)
	require.Equal(t, []string{"MSFT", "IBM"}, []string(w.Tickers))
	_, err = db.CreateWatchlist(ctx, owner, "dow", []string{"KO"})
	require.ErrorIs(t, err, store.ErrWatchlistNameTaken, "names are unique whatever their case")
	_, err = db.CreateWatchlist(ctx, other, "Dow", []string{"KO"})
	require.NoError(t, err, "another user's list may share the name")

	_, err = db.Watchlist(ctx, other, w.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "another user's list is not found")
	_, err = db.UpdateWatchlist(ctx, other, w.ID, "Mine", []string{"KO"})
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, db.DeleteWatchlist(ctx, other, w.ID), store.ErrNotFound)

	w, err = db.UpdateWatchlist(ctx, owner, w.ID, "Dow 2", []string{"KO", "MSFT", "AA"})
	require.NoError(t, err)
	require.Equal(t, "Dow 2", w.Name)
	require.Equal(t, []string{"KO", "MSFT", "AA"}, []string(w.Tickers))
	list, err := db.Watchlists(ctx, owner)
	require.NoError(t, err)
	require.Len(t, list, 1)

	for i := 1; i < store.MaxWatchlists; i++ {
		_, err = db.CreateWatchlist(ctx, owner, fmt.Sprintf("list %d", i), []string{"KO"})
		require.NoError(t, err)
	}
	_, err = db.CreateWatchlist(ctx, owner, "one too many", []string{"KO"})
	require.ErrorIs(t, err, store.ErrTooManyWatchlists)
	require.NoError(t, db.DeleteWatchlist(ctx, owner, w.ID))
}

// finishBatchJob runs a batch job to success with the recommendation
// action and one model's forecast, as a worker would.
func finishBatchJob(t *testing.T, db *store.DB, job *store.Job, action string, forecast float64) {
	t.Helper()
	ctx := context.Background()
	started, err := db.StartJob(ctx, job.ID, "worker-b", time.Minute)
	require.NoError(t, err)
	result, err := json.Marshal(map[string]any{
		"last_close":     100.5,
		"recommendation": map[string]any{"action": action},
		"models": map[string]any{"linreg": map[string]any{
			"forecast": []float64{forecast - 1, forecast}, "verdict": "no better than persistence", "beats_persistence": false,
		}},
	})
	require.NoError(t, err)
	require.NoError(t, db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(result), ""))
}

func TestBatchesCountAsTheirJobsAndCompareWithTheBatchBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	w, err := db.CreateWatchlist(ctx, owner, "mine", []string{"MSFT", "KO", "AA"})
	require.NoError(t, err)
	params := store.JSON(`{"models":["linreg"],"horizon":7}`)
	held := store.DispatchRule{PerOwner: 1, AheadPerSlot: 1}
	newBatch := store.NewBatch{OwnerID: owner, WatchlistID: w.ID, Tickers: w.Tickers, Params: params, Queue: "low"}

	_, _, err = db.CreateBatch(ctx, newBatch, 2, held)
	var capped *store.BatchOverCapError
	require.ErrorAs(t, err, &capped, "a batch of 3 past a cap of 2")
	require.Equal(t, store.BatchOverCapError{Unfinished: 0, Asked: 3, Max: 2}, *capped)

	first, jobs, err := db.CreateBatch(ctx, newBatch, 20, held)
	require.NoError(t, err)
	require.Len(t, jobs, 3)
	require.Equal(t, 3, first.Queued)
	for _, j := range jobs {
		require.True(t, j.WaitsForTurn(), "held for the owner's turn")
		require.Equal(t, "low", j.Queue)
	}
	_, _, err = db.CreateBatch(ctx, newBatch, 5, held)
	require.ErrorAs(t, err, &capped, "3 unfinished and 3 more is past 5")

	byTicker := map[string]*store.Job{}
	for _, j := range jobs {
		byTicker[j.Ticker] = j
	}
	finishBatchJob(t, db, byTicker["MSFT"], "HOLD", 300)
	finishBatchJob(t, db, byTicker["KO"], "BUY", 50)
	canceled, err := db.CancelBatch(ctx, first.ID, owner)
	require.NoError(t, err)
	require.Len(t, canceled, 1, "only AA was unfinished")
	require.Equal(t, "AA", canceled[0].Job.Ticker)
	require.Equal(t, store.StatusQueued, canceled[0].Previous)
	first, err = db.Batch(ctx, first.ID, owner)
	require.NoError(t, err)
	require.True(t, first.Final())
	require.NotNil(t, first.CanceledAt)
	require.Equal(t, 2, first.Succeeded)
	require.Equal(t, 1, first.Canceled)

	second, jobs, err := db.CreateBatch(ctx, newBatch, 20, store.DispatchRule{})
	require.NoError(t, err)
	for _, j := range jobs {
		require.False(t, j.WaitsForTurn(), "without turns every job is dispatched at once")
	}
	for _, j := range jobs {
		switch j.Ticker {
		case "MSFT":
			finishBatchJob(t, db, j, "HOLD", 310)
		case "KO":
			finishBatchJob(t, db, j, "SELL", 48)
		}
	}
	rows, err := db.BatchRows(ctx, second.ID, owner)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, []string{"MSFT", "KO", "AA"}, []string{rows[0].Ticker, rows[1].Ticker, rows[2].Ticker}, "in the list's order")
	msft, ko, aa := rows[0], rows[1], rows[2]
	require.Equal(t, "HOLD", msft.Action)
	require.Equal(t, "HOLD", msft.PreviousAction)
	require.False(t, msft.Changed())
	require.JSONEq(t, `{"linreg":{"forecast":310,"verdict":"no better than persistence","beats_persistence":false}}`, string(msft.Models))
	require.JSONEq(t, `{"linreg":{"forecast":300,"verdict":"no better than persistence","beats_persistence":false}}`, string(msft.PreviousModels))
	require.Equal(t, "SELL", ko.Action)
	require.Equal(t, "BUY", ko.PreviousAction)
	require.True(t, ko.Changed())
	require.InDelta(t, 100.5, ko.LastClose.Float64, 1e-9)
	require.Equal(t, store.StatusQueued, aa.Status)
	require.Nil(t, aa.PreviousJobID, "AA was canceled in the batch before")
	require.False(t, aa.Changed())

	_, err = db.Batch(ctx, second.ID, newOwner(t, db))
	require.ErrorIs(t, err, store.ErrNotFound, "another user's batch is not found")
	_, err = db.CancelBatch(ctx, second.ID, newOwner(t, db))
	require.ErrorIs(t, err, store.ErrNotFound)
}
