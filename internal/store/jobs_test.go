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
	attempt := started.Attempt()
	require.Equal(t, store.Attempt{JobID: job.ID, Number: 1, Worker: "worker-a"}, attempt)
	require.NoError(t, db.SetProgress(ctx, attempt, 40, store.JSON(`{"stage":"lstm"}`)))
	require.NoError(t, db.SetProgress(ctx, attempt, 30, nil), "progress never goes down, but the write is fine")
	require.NoError(t, db.FinishJob(ctx, attempt, store.StatusSucceeded, store.JSON(`{"answer":42}`), ""))
	require.NoError(t, db.FinishJob(ctx, attempt, store.StatusSucceeded, store.JSON(`{"answer":42}`), ""),
		"the same write again, its answer lost, finds it landed")

	// A late duplicate: neither the failure nor a restart may touch it.
	require.ErrorIs(t, db.FinishJob(ctx, attempt, store.StatusFailed, nil, "late"), store.ErrJobFinished)
	_, err = db.StartJob(ctx, job.ID, "worker-b", time.Minute)
	require.ErrorIs(t, err, store.ErrJobFinished)
	require.ErrorIs(t, db.SetProgress(ctx, attempt, 50, nil), store.ErrJobFinished)
	require.ErrorIs(t, db.CloseJob(ctx, job.ID, "gave up"), store.ErrJobFinished)
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
		var attempt store.Attempt
		if start {
			started, err := db.StartJob(ctx, job.ID, "worker-a", time.Minute)
			require.NoError(t, err)
			attempt, want = started.Attempt(), store.StatusRunning
		}
		canceled, previous, err := db.CancelJob(ctx, job.ID, owner)
		require.NoError(t, err)
		require.Equal(t, want, previous)
		require.Equal(t, store.StatusCanceled, canceled.Status)
		require.NotNil(t, canceled.FinishedAt)
		if start {
			require.ErrorIs(t, db.FinishJob(ctx, attempt, store.StatusSucceeded, store.JSON(`{}`), ""), store.ErrJobFinished,
				"the attempt's job ended under it")
		}
		require.ErrorIs(t, db.CloseJob(ctx, job.ID, "gave up"), store.ErrJobFinished)
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
	require.NoError(t, db.Heartbeat(ctx, held.Attempt(), time.Minute))
	require.ErrorIs(t, db.CloseJob(ctx, job.ID, "gave up"), store.ErrJobHeld, "nor may the reconciler close it")

	// A released attempt (one that failed and will be retried) lets the
	// retry in at once, and may not renew a hold it gave up.
	// It says why, and when the retry is due, until the retry starts.
	retryAt := time.Now().Add(20 * time.Second).Truncate(time.Microsecond)
	require.NoError(t, db.ReleaseJob(ctx, held.Attempt(), "upstream hiccup", retryAt))
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
	require.ErrorIs(t, db.Heartbeat(ctx, held.Attempt(), time.Minute), store.ErrNotHeld)

	// The holder renews a short lease and then falls silent, as a killed
	// worker does: the job reads as lost and another worker may take it.
	require.NoError(t, db.Heartbeat(ctx, retry.Attempt(), 50*time.Millisecond))
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
	require.ErrorIs(t, db.Heartbeat(ctx, retry.Attempt(), time.Minute), store.ErrNotHeld, "the lost attempt cannot take the job back")

	require.NoError(t, db.FinishJob(ctx, taken.Attempt(), store.StatusSucceeded, store.JSON(`{}`), ""))
	done, err := db.Job(ctx, job.ID, 0)
	require.NoError(t, err)
	require.False(t, done.WorkerLost, "a final job has no worker to lose")
	require.False(t, done.Held())
	require.ErrorIs(t, db.Heartbeat(ctx, taken.Attempt(), time.Minute), store.ErrJobFinished)
}

// takenOver starts a job on worker-a, lets that attempt's lease lapse as
// a worker cut off from PostgreSQL does, and starts it again on worker-b:
// it returns the stale attempt and the one that holds the job.
func takenOver(t *testing.T, db *store.DB, owner int64) (stale, holder store.Attempt) {
	t.Helper()
	ctx := context.Background()
	job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "X", Queue: "critical"})
	require.NoError(t, err)
	first, err := db.StartJob(ctx, job.ID, "worker-a", time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.SetProgress(ctx, first.Attempt(), 30, store.JSON(`{"stage":"first"}`)))
	require.NoError(t, db.Heartbeat(ctx, first.Attempt(), time.Millisecond))
	require.Eventually(t, func() bool {
		got, err := db.Job(ctx, job.ID, 0)
		require.NoError(t, err)
		return got.WorkerLost
	}, 10*time.Second, 5*time.Millisecond)
	second, err := db.StartJob(ctx, job.ID, "worker-b", time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.SetProgress(ctx, second.Attempt(), 40, store.JSON(`{"stage":"second"}`)))
	return first.Attempt(), second.Attempt()
}

// Issue 18, item 1: a worker cut off from PostgreSQL past its lease, whose
// job another attempt took, had its progress, result, failure and release
// land on the newer attempt's job. Each is now refused with ErrNotHeld,
// which names the holder, and changes nothing.
func TestAStaleAttemptsWritesAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	stale, holder := takenOver(t, db, newOwner(t, db))
	before, err := db.Job(ctx, stale.JobID, 0)
	require.NoError(t, err)

	refused := func(err error) {
		t.Helper()
		require.ErrorIs(t, err, store.ErrNotHeld)
		var notHeld *store.NotHeldError
		require.ErrorAs(t, err, &notHeld)
		require.Equal(t, store.NotHeldError{Refused: stale, Holder: holder, Status: store.StatusRunning}, *notHeld)
		require.Contains(t, err.Error(), "attempt 1 of job "+stale.JobID.String()+" on worker-a refused")
		after, err := db.Job(ctx, stale.JobID, 0)
		require.NoError(t, err)
		require.Equal(t, before, after, "the refused write changed nothing")
	}
	refused(db.Heartbeat(ctx, stale, time.Hour))
	refused(db.SetProgress(ctx, stale, 99, store.JSON(`{"stage":"stale"}`)))
	refused(db.ReleaseJob(ctx, stale, "stale failure", time.Now().Add(time.Minute)))
	refused(db.FinishJob(ctx, stale, store.StatusSucceeded, store.JSON(`{"by":"worker-a"}`), ""))
	refused(db.FinishJob(ctx, stale, store.StatusFailed, store.JSON(`{"by":"worker-a"}`), "stale failure"))

	// The fence is the attempt's number and its worker: neither alone.
	impostor := store.Attempt{JobID: holder.JobID, Number: holder.Number, Worker: "worker-a"}
	require.ErrorIs(t, db.FinishJob(ctx, impostor, store.StatusSucceeded, store.JSON(`{}`), ""), store.ErrNotHeld)
	require.ErrorIs(t, db.FinishJob(ctx, store.Attempt{JobID: holder.JobID, Number: 1, Worker: "worker-b"},
		store.StatusSucceeded, store.JSON(`{}`), ""), store.ErrNotHeld)

	// The holder finishes; the stale attempt is still refused, not told
	// that the job finished, and the result stays the holder's.
	require.NoError(t, db.FinishJob(ctx, holder, store.StatusSucceeded, store.JSON(`{"by":"worker-b"}`), ""))
	err = db.FinishJob(ctx, stale, store.StatusSucceeded, store.JSON(`{"by":"worker-a"}`), "")
	require.ErrorIs(t, err, store.ErrNotHeld)
	require.NotErrorIs(t, err, store.ErrJobFinished)
	done, err := db.Job(ctx, stale.JobID, 0)
	require.NoError(t, err)
	require.JSONEq(t, `{"by":"worker-b"}`, string(done.Result))
	require.Equal(t, "worker-b", done.WorkerID)
	require.Equal(t, 2, done.Attempts)
}

// CloseJob, the reconciler's and an administrator's write, belongs to no
// attempt: it closes a job whose attempt's lease lapsed, whose attempt's
// later writes are then refused, and leaves a live attempt's job alone.
func TestCloseJobClosesOnlyAJobNoLiveAttemptHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	stale, holder := takenOver(t, db, newOwner(t, db))
	require.ErrorIs(t, db.CloseJob(ctx, holder.JobID, "gave up after retries: boom"), store.ErrJobHeld)
	require.NoError(t, db.Heartbeat(ctx, holder, time.Millisecond))
	require.Eventually(t, func() bool {
		got, err := db.Job(ctx, holder.JobID, 0)
		require.NoError(t, err)
		return got.WorkerLost
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, db.CloseJob(ctx, holder.JobID, "gave up after retries: boom"))
	closed, err := db.Job(ctx, holder.JobID, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusFailed, closed.Status)
	require.Equal(t, "gave up after retries: boom", closed.Error)
	require.ErrorIs(t, db.FinishJob(ctx, holder, store.StatusSucceeded, store.JSON(`{}`), ""), store.ErrJobFinished,
		"the lapsed attempt's result comes too late")
	require.ErrorIs(t, db.FinishJob(ctx, stale, store.StatusSucceeded, store.JSON(`{}`), ""), store.ErrNotHeld)
	require.ErrorIs(t, db.CloseJob(ctx, holder.JobID, "again"), store.ErrJobFinished)
	require.ErrorIs(t, db.CloseJob(ctx, uuid.New(), "none"), store.ErrNotFound)
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
	started, err := db.StartJob(ctx, done.ID, "w1", time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(`{}`), ""))

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
	started, err := db.StartJob(ctx, job.ID, "w1", time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.ReleaseJob(ctx, started.Attempt(), "boom", time.Now().Add(time.Minute)))

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
