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

// runningJob creates a prediction of owner's and starts it, and returns
// the attempt that runs it.
func runningJob(t *testing.T, db *store.DB, owner int64) store.Attempt {
	t.Helper()
	ctx := context.Background()
	job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "MSFT", Queue: "default"})
	require.NoError(t, err)
	started, err := db.StartJob(ctx, job.ID, "w", time.Minute)
	require.NoError(t, err)
	return started.Attempt()
}

func TestClaimComputation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	running := func() store.Attempt { return runningJob(t, db, owner) }
	key := []byte("same computation")
	claim := func(a store.Attempt, force bool) uuid.UUID {
		got, err := db.ClaimComputation(ctx, key, a, force, 0)
		require.NoError(t, err)
		require.False(t, got.Succeeded)
		return got.JobID
	}

	a, b, c := running(), running(), running()
	require.Equal(t, a.JobID, claim(a, false), "the first claims")
	require.Equal(t, a.JobID, claim(b, false), "a second follows the first, which a live worker runs")
	require.Equal(t, a.JobID, claim(a, false), "claiming again is harmless")

	// The first fails: the next one takes over.
	require.NoError(t, db.FinishJob(ctx, a, store.StatusFailed, nil, "boom"))
	require.Equal(t, b.JobID, claim(b, false))
	require.Equal(t, b.JobID, claim(c, false))

	// Released for a retry, b is not waited for: its retry could queue
	// behind the very jobs waiting for it.
	require.NoError(t, db.ReleaseJob(ctx, b, "worker shut down", time.Time{}))
	require.Equal(t, c.JobID, claim(c, false))

	// Succeeded, c's result is there to take, unless asked to compute.
	require.NoError(t, db.FinishJob(ctx, c, store.StatusSucceeded, store.JSON(`{"answer":42}`), ""))
	d := running()
	got, err := db.ClaimComputation(ctx, key, d, false, 0)
	require.NoError(t, err)
	require.Equal(t, store.Claim{JobID: c.JobID, Succeeded: true}, got)
	require.Equal(t, d.JobID, claim(d, true), "force takes the claim")
	require.Equal(t, d.JobID, claim(running(), false), "and later ones follow it")
}

// TestAStaleAttemptClaimsNothing: an attempt whose job another attempt
// took over can neither claim a computation for it nor take a claim over.
func TestAStaleAttemptClaimsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	stale, _ := takenOver(t, db, owner)
	_, err := db.ClaimComputation(ctx, []byte("fresh key"), stale, false, 0)
	require.ErrorIs(t, err, store.ErrNotHeld, "no first claim")
	var refused *store.NotHeldError
	require.ErrorAs(t, err, &refused)
	require.Equal(t, 2, refused.Holder.Number)

	// A key claimed by a job that then failed is taken over by the next
	// claimant, but not by a stale one.
	failed := runningJob(t, db, owner)
	key := []byte("claimed before")
	got, err := db.ClaimComputation(ctx, key, failed, false, 0)
	require.NoError(t, err)
	require.Equal(t, failed.JobID, got.JobID)
	require.NoError(t, db.FinishJob(ctx, failed, store.StatusFailed, nil, "boom"))
	_, err = db.ClaimComputation(ctx, key, stale, true, 0)
	require.ErrorIs(t, err, store.ErrNotHeld, "no takeover")
	live := runningJob(t, db, owner)
	got, err = db.ClaimComputation(ctx, key, live, false, 0)
	require.NoError(t, err)
	require.Equal(t, live.JobID, got.JobID, "the claim was still the failed job's to take over")
}

func TestFinishReusedCopiesTheResult(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	started := func() store.Attempt {
		a := runningJob(t, db, owner)
		require.NoError(t, db.SetProgress(ctx, a, 40, store.JSON(`{"stage":"waiting"}`)))
		return a
	}
	computed, taker := started(), started()
	require.ErrorIs(t, db.FinishReused(ctx, taker, computed.JobID), store.ErrNotFound, "a running job has no result to take")
	require.NoError(t, db.FinishJob(ctx, computed, store.StatusSucceeded, store.JSON(`{"answer":42}`), ""))

	require.NoError(t, db.FinishReused(ctx, taker, computed.JobID))
	got, err := db.Job(ctx, taker.JobID, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusSucceeded, got.Status)
	require.JSONEq(t, `{"answer":42}`, string(got.Result))
	require.True(t, got.Reused)
	require.Equal(t, &computed.JobID, got.ReusedFrom)
	require.Equal(t, 100, got.Progress)
	require.Nil(t, got.ProgressDetail)
	require.NotNil(t, got.FinishedAt)
	require.NoError(t, db.FinishReused(ctx, taker, computed.JobID), "the same write again, its answer lost, finds it landed")
	require.ErrorIs(t, db.FinishJob(ctx, taker, store.StatusFailed, nil, "late"), store.ErrJobFinished, "a final job is never written again")

	// A stale attempt takes no result.
	stale, _ := takenOver(t, db, owner)
	require.ErrorIs(t, db.FinishReused(ctx, stale, computed.JobID), store.ErrNotHeld)
	again, err := db.Job(ctx, stale.JobID, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusRunning, again.Status)
	require.Empty(t, again.Result)
}

func TestAResultTakenFromAnotherUserDoesNotNameTheirJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	theirs := runningJob(t, db, newOwner(t, db))
	require.NoError(t, db.FinishJob(ctx, theirs, store.StatusSucceeded, store.JSON(`{"answer":42}`), ""))
	mine := runningJob(t, db, newOwner(t, db))

	require.NoError(t, db.FinishReused(ctx, mine, theirs.JobID))
	got, err := db.Job(ctx, mine.JobID, 0)
	require.NoError(t, err)
	require.JSONEq(t, `{"answer":42}`, string(got.Result))
	require.True(t, got.Reused, "the result was reused")
	require.Nil(t, got.ReusedFrom, "another user's job id is not mine to see")
}
