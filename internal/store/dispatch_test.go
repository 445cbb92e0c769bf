package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

// turns is a dispatch rule of one job per owner in the line, and one more
// per worker slot waiting in Redis: internal/admission's.
var turns = store.DispatchRule{PerOwner: 1, AheadPerSlot: 1}

var dispatchQueues = []string{"critical", "default", "low"}

// admitInTurn admits a job of owner on queue under the turns rule and
// returns it.
func admitInTurn(t *testing.T, db *store.DB, owner int64, queue string) *store.Job {
	t.Helper()
	a, err := db.AdmitJob(context.Background(), store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: queue},
		store.AdmissionRule{MaxUnfinished: 100, Dispatch: turns})
	require.NoError(t, err)
	require.NotNil(t, a.Job)
	return a.Job
}

// TestAdmissionDispatchesInTurn: with two worker slots the line holds four
// jobs. A user alone fills it; another user's first job goes in at once
// however full the line is, and that user's next one is held; with no
// turns every job is dispatched.
func TestAdmissionDispatchesInTurn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	require.NoError(t, db.KeepWorkerSlots(ctx, "w1", 2, time.Hour))
	a, b := newOwner(t, db), newOwner(t, db)

	var dispatched []bool
	for range 6 {
		dispatched = append(dispatched, !admitInTurn(t, db, a, "critical").WaitsForTurn())
	}
	require.Equal(t, []bool{true, true, true, true, false, false}, dispatched, "a lone user fills the workers' slots and one more each")

	first := admitInTurn(t, db, b, "critical")
	require.NotNil(t, first.DispatchedAt, "a new user's first job joins the line at once")
	second := admitInTurn(t, db, b, "critical")
	require.True(t, second.WaitsForTurn(), "then waits for its turn")
	stored, err := db.Job(ctx, second.ID, b)
	require.NoError(t, err)
	require.True(t, stored.WaitsForTurn())
	require.Equal(t, store.StatusQueued, stored.Status, "a held job is queued to its user")

	// The line is full and every owner has a job in it: nothing to do.
	got, err := db.DispatchHeldJobs(ctx, turns, dispatchQueues, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	// A held job is canceled like any other.
	canceled, previous, err := db.CancelJob(ctx, second.ID, b)
	require.NoError(t, err)
	require.Equal(t, store.StatusQueued, previous)
	require.Equal(t, store.StatusCanceled, canceled.Status)

	// Without turns every job is dispatched when stored.
	noTurns, err := db.AdmitJob(ctx, store.NewJob{OwnerID: a, Kind: store.KindSentiment, Queue: "default"},
		store.AdmissionRule{MaxUnfinished: 100})
	require.NoError(t, err)
	require.True(t, noTurns.Dispatched())

	// Nor does a job stored outside admission (the leaderboard's, an
	// operator's retry) wait.
	direct, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: a, Kind: store.KindSentiment, Queue: "low"})
	require.NoError(t, err)
	require.NotNil(t, direct.DispatchedAt)
}

// TestHeldJobsAreDispatchedRoundRobin: as jobs end one at a time, the
// held jobs of three users go into the line one user after another, each
// user's oldest first; with no worker slots known, every user with work
// still keeps one job in the line.
func TestHeldJobsAreDispatchedRoundRobin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	require.NoError(t, db.KeepWorkerSlots(ctx, "w1", 2, time.Hour))
	owners := map[int64]string{}
	a, b, c := newOwner(t, db), newOwner(t, db), newOwner(t, db)
	owners[a], owners[b], owners[c] = "a", "b", "c"

	// line is the dispatched live jobs, oldest dispatch first.
	var line []uuid.UUID
	held := map[int64][]uuid.UUID{}
	for _, o := range []struct {
		owner int64
		n     int
	}{{a, 10}, {b, 6}, {c, 5}} {
		for range o.n {
			job := admitInTurn(t, db, o.owner, "default")
			if job.WaitsForTurn() {
				held[o.owner] = append(held[o.owner], job.ID)
			} else {
				line = append(line, job.ID)
			}
		}
	}
	require.Len(t, line, 6, "a's four, then b's and c's first")

	var order string
	for len(order) < 12 {
		started, err := db.StartJob(ctx, line[0], "worker-a", time.Minute)
		require.NoError(t, err)
		require.NoError(t, db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, nil, ""))
		line = line[1:]
		got, err := db.DispatchHeldJobs(ctx, turns, dispatchQueues, 10)
		require.NoError(t, err)
		require.LessOrEqual(t, len(got), 1, "one job ended, one place in the line")
		for _, d := range got {
			require.Equal(t, held[d.OwnerID][0], d.ID, "the owner's oldest held job")
			held[d.OwnerID] = held[d.OwnerID][1:]
			require.Equal(t, store.StatusQueued, d.Job().Status)
			line = append(line, d.ID)
			order += owners[d.OwnerID]
		}
	}
	require.Equal(t, "abcabcabcabc", order)

	// The workers are gone (their slots expired): the line may not grow,
	// but a user whose jobs all ended gets the next one in.
	require.NoError(t, db.DropWorkerSlots(ctx, "w1"))
	for _, id := range line {
		started, err := db.StartJob(ctx, id, "worker-a", time.Minute)
		require.NoError(t, err)
		require.NoError(t, db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, nil, ""))
	}
	got, err := db.DispatchHeldJobs(ctx, turns, dispatchQueues, 10)
	require.NoError(t, err)
	var who []string
	for _, d := range got {
		who = append(who, owners[d.OwnerID])
	}
	require.ElementsMatch(t, []string{"a", "b"}, who, "c has nothing held any more")
}

// TestAnOwnersInteractiveJobGoesBeforeItsBatch: an owner's next job is
// taken from the most urgent queue it has one on.
func TestAnOwnersInteractiveJobGoesBeforeItsBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	first := admitInTurn(t, db, owner, "low")
	require.NotNil(t, first.DispatchedAt)
	batch := admitInTurn(t, db, owner, "low")
	urgent := admitInTurn(t, db, owner, "critical")
	require.True(t, batch.WaitsForTurn())
	require.True(t, urgent.WaitsForTurn())

	started, err := db.StartJob(ctx, first.ID, "worker-a", time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, nil, ""))
	got, err := db.DispatchHeldJobs(ctx, turns, dispatchQueues, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, urgent.ID, got[0].ID)
}

// TestConcurrentDispatchersNeverTakeTheSameJob: replicas that dispatch at
// once (every worker does, after each task) share the held jobs out; none
// is dispatched twice.
func TestConcurrentDispatchersNeverTakeTheSameJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	var owners []int64
	for range 20 {
		owner := newOwner(t, db)
		owners = append(owners, owner)
		for range 3 {
			admitInTurn(t, db, owner, "default")
		}
	}
	// Every owner's first job is in the line; each ends.
	dbtest.Exec(t, db, `UPDATE jobs SET status = 'succeeded', finished_at = now() WHERE dispatched_at IS NOT NULL`)

	var mu sync.Mutex
	seen := map[uuid.UUID]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := db.DispatchHeldJobs(ctx, turns, dispatchQueues, 50)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range got {
				seen[d.ID]++
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, len(owners), "each owner's next job: the dispatchers take turns")
	for id, n := range seen {
		require.Equal(t, 1, n, "job %s dispatched %d times", id, n)
	}
}
