package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

// TestJobStateIsTheJobWithoutItsResult: JobState reads every column Job
// reads but the result, and finds the same jobs.
func TestJobStateIsTheJobWithoutItsResult(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "MSFT", Queue: "default",
		IdempotencyKey: "k", RequestHash: []byte("h"), RequestID: "req-1"})
	require.NoError(t, err)
	started, err := db.StartJob(ctx, job.ID, "w1", time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(`{"big":"result"}`), ""))

	full, err := db.Job(ctx, job.ID, owner)
	require.NoError(t, err)
	require.JSONEq(t, `{"big":"result"}`, string(full.Result))
	state, err := db.JobState(ctx, job.ID, owner)
	require.NoError(t, err)
	require.Nil(t, state.Result)
	full.Result = nil
	require.Equal(t, full, state)

	_, err = db.JobState(ctx, job.ID, owner+1)
	require.ErrorIs(t, err, store.ErrNotFound, "someone else's job is not found")
}
