package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

// runningJob creates a prediction of owner's and starts it.
func runningJob(t *testing.T, db *store.DB, owner int64) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "MSFT", Queue: "default"})
	require.NoError(t, err)
	_, err = db.StartJob(ctx, job.ID, "w", time.Minute)
	require.NoError(t, err)
	return job.ID
}

func TestClaimComputation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	running := func() uuid.UUID { return runningJob(t, db, owner) }
	key := []byte("same computation")
	claim := func(id uuid.UUID, force bool) uuid.UUID {
		got, err := db.ClaimComputation(ctx, key, id, force)
		require.NoError(t, err)
		require.False(t, got.Succeeded)
		return got.JobID
	}

	a, b, c := running(), running(), running()
	require.Equal(t, a, claim(a, false), "the first claims")
	require.Equal(t, a, claim(b, false), "a second follows the first, which a live worker runs")
	require.Equal(t, a, claim(a, false), "claiming again is harmless")

	// The first fails: the next one takes over.
	require.NoError(t, db.FinishJob(ctx, a, store.StatusFailed, nil, "boom"))
	require.Equal(t, b, claim(b, false))
	require.Equal(t, b, claim(c, false))

	// Released for a retry, b is not waited for: its retry could queue
	// behind the very jobs waiting for it.
	require.NoError(t, db.ReleaseJob(ctx, b, 1, "worker shut down", time.Time{}))
	require.Equal(t, c, claim(c, false))

	// Succeeded, c's result is there to take, unless asked to compute.
	require.NoError(t, db.FinishJob(ctx, c, store.StatusSucceeded, store.JSON(`{"answer":42}`), ""))
	d := running()
	got, err := db.ClaimComputation(ctx, key, d, false)
	require.NoError(t, err)
	require.Equal(t, store.Claim{JobID: c, Succeeded: true}, got)
	require.Equal(t, d, claim(d, true), "force takes the claim")
	require.Equal(t, d, claim(running(), false), "and later ones follow it")
}

func TestFinishReusedCopiesTheResult(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	started := func() uuid.UUID {
		id := runningJob(t, db, owner)
		require.NoError(t, db.SetProgress(ctx, id, 40, store.JSON(`{"stage":"waiting"}`)))
		return id
	}
	computed, taker := started(), started()
	require.ErrorIs(t, db.FinishReused(ctx, taker, computed), store.ErrNotFound, "a running job has no result to take")
	require.NoError(t, db.FinishJob(ctx, computed, store.StatusSucceeded, store.JSON(`{"answer":42}`), ""))

	require.NoError(t, db.FinishReused(ctx, taker, computed))
	got, err := db.Job(ctx, taker, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusSucceeded, got.Status)
	require.JSONEq(t, `{"answer":42}`, string(got.Result))
	require.True(t, got.Reused)
	require.Equal(t, &computed, got.ReusedFrom)
	require.Equal(t, 100, got.Progress)
	require.Nil(t, got.ProgressDetail)
	require.NotNil(t, got.FinishedAt)
	require.ErrorIs(t, db.FinishReused(ctx, taker, computed), store.ErrJobFinished, "a final job is never written again")
}

func TestAResultTakenFromAnotherUserDoesNotNameTheirJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	theirs := runningJob(t, db, newOwner(t, db))
	require.NoError(t, db.FinishJob(ctx, theirs, store.StatusSucceeded, store.JSON(`{"answer":42}`), ""))
	mine := runningJob(t, db, newOwner(t, db))

	require.NoError(t, db.FinishReused(ctx, mine, theirs))
	got, err := db.Job(ctx, mine, 0)
	require.NoError(t, err)
	require.JSONEq(t, `{"answer":42}`, string(got.Result))
	require.True(t, got.Reused, "the result was reused")
	require.Nil(t, got.ReusedFrom, "another user's job id is not mine to see")
}
