package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func TestLeaderboardJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	alice, bob := newOwner(t, db), newOwner(t, db)

	done, live, err := db.LatestLeaderboard(ctx)
	require.NoError(t, err)
	require.Nil(t, done)
	require.Nil(t, live)

	// Many users asking at once create one job.
	var wg sync.WaitGroup
	jobs := make([]*store.Job, 8)
	created := make([]bool, 8)
	errs := make([]error, 8)
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := alice
			if i%2 == 1 {
				owner = bob
			}
			jobs[i], created[i], errs[i] = db.CreateLeaderboardJob(ctx, owner, store.JSON(`{"sample":"dj30"}`), "low")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	n := 0
	for i, j := range jobs {
		require.Equal(t, jobs[0].ID, j.ID)
		if created[i] {
			n++
		}
	}
	require.Equal(t, 1, n)
	first := jobs[0]
	require.Equal(t, store.KindLeaderboard, first.Kind)
	require.Equal(t, "low", first.Queue)

	done, live, err = db.LatestLeaderboard(ctx)
	require.NoError(t, err)
	require.Nil(t, done)
	require.Equal(t, first.ID, live.ID)

	started, err := db.StartJob(ctx, first.ID, "worker-a", time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(`{"series":30}`), ""))
	done, live, err = db.LatestLeaderboard(ctx)
	require.NoError(t, err)
	require.Nil(t, live)
	require.Equal(t, first.ID, done.ID)
	require.JSONEq(t, `{"series":30}`, string(done.Result))

	// Once it is done a refresh may be queued, and the old result stays
	// the newest finished one until the refresh succeeds.
	refresh, ok, err := db.CreateLeaderboardJob(ctx, bob, nil, "low")
	require.NoError(t, err)
	require.True(t, ok)
	require.NotEqual(t, first.ID, refresh.ID)
	done, live, err = db.LatestLeaderboard(ctx)
	require.NoError(t, err)
	require.Equal(t, first.ID, done.ID)
	require.Equal(t, refresh.ID, live.ID)
}
