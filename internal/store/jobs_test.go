package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func newOwner(t *testing.T, db *store.DB) int64 {
	return dbtest.User(t, db).ID
}

func TestFinishedJobNeverMovesBackwards(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "MSFT", Queue: "critical"})
	require.NoError(t, err)
	require.Equal(t, store.StatusQueued, job.Status)
	require.JSONEq(t, `{}`, string(job.Params))
	require.Nil(t, job.ProgressDetail)

	started, err := db.StartJob(ctx, job.ID, "worker-a", time.Minute)
	require.NoError(t, err)
	require.Equal(t, 1, started.Attempts)
	require.NoError(t, db.SetProgress(ctx, job.ID, 40, store.JSON(`{"stage":"lstm"}`)))
	require.NoError(t, db.SetProgress(ctx, job.ID, 30, nil), "progress never goes down, but the write is fine")
	require.NoError(t, db.FinishJob(ctx, job.ID, store.StatusSucceeded, store.JSON(`{"answer":42}`), ""))

	// A late duplicate: neither the failure nor a restart may touch it.
	require.ErrorIs(t, db.FinishJob(ctx, job.ID, store.StatusFailed, nil, "late"), store.ErrJobFinished)
	_, err = db.StartJob(ctx, job.ID, "worker-b", time.Minute)
	require.ErrorIs(t, err, store.ErrJobFinished)
	require.ErrorIs(t, db.SetProgress(ctx, job.ID, 50, nil), store.ErrJobFinished)
	_, _, err = db.CancelJob(ctx, job.ID, owner)
	require.ErrorIs(t, err, store.ErrJobFinished)

	got, err := db.Job(ctx, job.ID, owner)
	require.NoError(t, err)
	require.Equal(t, store.StatusSucceeded, got.Status)
	require.Equal(t, 100, got.Progress)
	require.JSONEq(t, `{"answer":42}`, string(got.Result))
	require.Empty(t, got.Error)

	_, err = db.Job(ctx, job.ID, owner+1000)
	require.ErrorIs(t, err, store.ErrNotFound, "another owner sees nothing")
}

func TestListedDocumentsDoNotShareBuffers(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	for _, start := range []bool{false, true} {
		job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "X", Queue: "critical"})
		require.NoError(t, err)
		want := store.StatusQueued
		if start {
			_, err := db.StartJob(ctx, job.ID, "worker-a", time.Minute)
			require.NoError(t, err)
			want = store.StatusRunning
		}
		canceled, previous, err := db.CancelJob(ctx, job.ID, owner)
		require.NoError(t, err)
		require.Equal(t, want, previous)
		require.Equal(t, store.StatusCanceled, canceled.Status)
		require.NotNil(t, canceled.FinishedAt)
		require.ErrorIs(t, db.FinishJob(ctx, job.ID, store.StatusSucceeded, store.JSON(`{}`), ""), store.ErrJobFinished)
	}
}

func TestARunningJobHasOneHolderAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: newOwner(t, db), Kind: store.KindPrediction, Ticker: "X", Queue: "critical"})
	require.NoError(t, err)

	held, err := db.StartJob(ctx, job.ID, "worker-a", time.Minute)
	require.NoError(t, err)
	require.True(t, held.Held())
	require.False(t, held.WorkerLost)
	require.Equal(t, "worker-a", held.WorkerID)
	require.NotNil(t, held.HeartbeatAt)

	_, err = db.StartJob(ctx, job.ID, "worker-b", time.Minute)
	require.ErrorIs(t, err, store.ErrJobHeld, "a live lease keeps a second worker out")
	require.NoError(t, db.Heartbeat(ctx, job.ID, held.Attempts, time.Minute))

	// A released attempt (one that failed and will be retried) lets the
	// retry in at once, and may not renew a hold it gave up.
	// It says why, and when the retry is due, until the retry starts.
	retryAt := time.Now().Add(20 * time.Second).Truncate(time.Microsecond)
	require.NoError(t, db.ReleaseJob(ctx, job.ID, held.Attempts, "upstream hiccup", retryAt))
	waiting, err := db.Job(ctx, job.ID, 0)
	require.NoError(t, err)
	require.True(t, waiting.WaitsForRetry())
	require.Equal(t, "upstream hiccup", waiting.AttemptError)
	require.NotNil(t, waiting.RetryAt)
	require.WithinDuration(t, retryAt, *waiting.RetryAt, 0)
	retry, err := db.StartJob(ctx, job.ID, "worker-b", time.Minute)
	require.NoError(t, err)
	require.Equal(t, 2, retry.Attempts)
	require.Equal(t, "worker-b", retry.WorkerID)
	running, err := db.Job(ctx, job.ID, 0)
	require.NoError(t, err)
	require.False(t, running.WaitsForRetry(), "the retry runs")
	require.Equal(t, "upstream hiccup", running.AttemptError, "what ended the last attempt stays known")
	require.ErrorIs(t, db.Heartbeat(ctx, job.ID, held.Attempts, time.Minute), store.ErrNotHeld)

	// The holder renews a short lease and then falls silent, as a killed
	// worker does: the job reads as lost and another worker may take it.
	require.NoError(t, db.Heartbeat(ctx, job.ID, retry.Attempts, 50*time.Millisecond))
	require.Eventually(t, func() bool {
		got, err := db.Job(ctx, job.ID, 0)
		require.NoError(t, err)
		return got.WorkerLost
	}, 10*time.Second, 10*time.Millisecond)
	lost, err := db.Job(ctx, job.ID, 0)
	require.NoError(t, err)
	require.False(t, lost.Held())
	taken, err := db.StartJob(ctx, job.ID, "worker-c", time.Minute)
	require.NoError(t, err)
	require.Equal(t, 3, taken.Attempts)
	require.ErrorIs(t, db.Heartbeat(ctx, job.ID, retry.Attempts, time.Minute), store.ErrNotHeld, "the lost attempt cannot take the job back")

	require.NoError(t, db.FinishJob(ctx, job.ID, store.StatusSucceeded, store.JSON(`{}`), ""))
	done, err := db.Job(ctx, job.ID, 0)
	require.NoError(t, err)
	require.False(t, done.WorkerLost, "a final job has no worker to lose")
	require.False(t, done.Held())
	require.ErrorIs(t, db.Heartbeat(ctx, job.ID, taken.Attempts, time.Minute), store.ErrNotHeld)
}

// TestJobTimingsAndAnyLiveJob: the load test's two reads see the jobs'
// statuses and times, and no live job once all are final.
func TestJobTimingsAndAnyLiveJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	live, err := db.AnyLiveJob(ctx)
	require.NoError(t, err)
	require.False(t, live, "an empty table has no live job")

	done, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: "default"})
	require.NoError(t, err)
	queued, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: "default"})
	require.NoError(t, err)
	_, err = db.StartJob(ctx, done.ID, "w1", time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.FinishJob(ctx, done.ID, store.StatusSucceeded, store.JSON(`{}`), ""))

	timings, err := db.JobTimings(ctx, []uuid.UUID{done.ID, queued.ID, uuid.New()})
	require.NoError(t, err)
	require.Len(t, timings, 2, "an unknown id is left out")
	byID := map[uuid.UUID]store.JobTiming{}
	for _, j := range timings {
		byID[j.ID] = j
	}
	require.Equal(t, store.StatusSucceeded, byID[done.ID].Status)
	require.True(t, byID[done.ID].StartedAt != nil && byID[done.ID].FinishedAt != nil)
	require.False(t, byID[done.ID].FinishedAt.Before(*byID[done.ID].StartedAt))
	require.Equal(t, store.StatusQueued, byID[queued.ID].Status)
	require.Nil(t, byID[queued.ID].StartedAt)

	live, err = db.AnyLiveJob(ctx)
	require.NoError(t, err)
	require.True(t, live)
	_, _, err = db.CancelJob(ctx, queued.ID, owner)
	require.NoError(t, err)
	live, err = db.AnyLiveJob(ctx)
	require.NoError(t, err)
	require.False(t, live)
}

// TestCancelJobReturnsTheJobAsReadAfterwards: CancelJob answers with every
// column a later read gives (one column list, jobColumns), and the status
// the job had before.
func TestCancelJobReturnsTheJobAsReadAfterwards(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "MSFT", Queue: "default",
		IdempotencyKey: "k", RequestHash: []byte("h"), RequestID: "req-1"})
	require.NoError(t, err)
	_, err = db.StartJob(ctx, job.ID, "w1", time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.ReleaseJob(ctx, job.ID, 1, "boom", time.Now().Add(time.Minute)))

	canceled, previous, err := db.CancelJob(ctx, job.ID, owner)
	require.NoError(t, err)
	require.Equal(t, store.StatusRunning, previous)
	read, err := db.Job(ctx, job.ID, owner)
	require.NoError(t, err)
	require.Equal(t, read, canceled)
	require.Equal(t, store.StatusCanceled, canceled.Status)
	require.Equal(t, "boom", canceled.AttemptError)
	require.Equal(t, "w1", canceled.WorkerID)
}
