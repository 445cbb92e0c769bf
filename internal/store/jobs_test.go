package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func newOwner(t *testing.T, db *store.DB) int64 {
	return dbtest.User(t, db).ID
}

func TestFinishedJobNeverMovesBackwards(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "MSFT", Queue: "critical"})
	require.NoError(t, err)
	require.Equal(t, store.StatusQueued, job.Status)
	require.JSONEq(t, `{}`, string(job.Params))
	require.Nil(t, job.ProgressDetail)

	started, err := db.StartJob(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, 1, started.Attempts)
	require.NoError(t, db.SetProgress(ctx, job.ID, 40, store.JSON(`{"stage":"lstm"}`)))
	require.NoError(t, db.SetProgress(ctx, job.ID, 30, nil), "progress never goes down, but the write is fine")
	require.NoError(t, db.FinishJob(ctx, job.ID, store.StatusSucceeded, store.JSON(`{"answer":42}`), ""))

	// A late duplicate: neither the failure nor a restart may touch it.
	require.ErrorIs(t, db.FinishJob(ctx, job.ID, store.StatusFailed, nil, "late"), store.ErrJobFinished)
	_, err = db.StartJob(ctx, job.ID)
	require.ErrorIs(t, err, store.ErrJobFinished)
	require.ErrorIs(t, db.SetProgress(ctx, job.ID, 50, nil), store.ErrJobFinished)
	_, _, err = db.CancelJob(ctx, job.ID, owner)
	require.ErrorIs(t, err, store.ErrJobFinished)

	got, err := db.Job(ctx, job.ID, owner)
	require.NoError(t, err)
	require.Equal(t, store.StatusSucceeded, got.Status)
	require.Equal(t, 100, got.Progress)
	require.JSONEq(t, `{"answer":42}`, string(got.Result))
	require.False(t, got.Error.Valid)

	_, err = db.Job(ctx, job.ID, owner+1000)
	require.ErrorIs(t, err, store.ErrNotFound, "another owner sees nothing")
}

func TestListedDocumentsDoNotShareBuffers(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	for i := 0; i < 3; i++ {
		_, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: "low",
			Params: store.JSON(fmt.Sprintf(`{"n":%d}`, i))})
		require.NoError(t, err)
	}
	list, err := db.ListJobs(ctx, owner, nil, 10)
	require.NoError(t, err)
	require.Len(t, list, 3)
	for i, j := range list {
		require.JSONEq(t, fmt.Sprintf(`{"n":%d}`, 2-i), string(j.Params))
	}
}

func TestCancelQueuedAndRunning(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	for _, start := range []bool{false, true} {
		job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "X", Queue: "critical"})
		require.NoError(t, err)
		want := store.StatusQueued
		if start {
			_, err := db.StartJob(ctx, job.ID)
			require.NoError(t, err)
			want = store.StatusRunning
		}
		canceled, previous, err := db.CancelJob(ctx, job.ID, owner)
		require.NoError(t, err)
		require.Equal(t, want, previous)
		require.Equal(t, store.StatusCanceled, canceled.Status)
		require.True(t, canceled.FinishedAt.Valid)
		require.ErrorIs(t, db.FinishJob(ctx, job.ID, store.StatusSucceeded, store.JSON(`{}`), ""), store.ErrJobFinished)
	}
}
