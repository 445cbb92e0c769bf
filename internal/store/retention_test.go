package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/store"
)

var retention = store.Retention{Jobs: 30 * 24 * time.Hour, IdempotencyKeys: 24 * time.Hour, Prices: 90 * 24 * time.Hour, Batch: 2}

// ageJob rewrites a job's timestamps to days ago (created, started and
// finished alike), as if it had been submitted then.
func ageJob(t *testing.T, db *store.DB, id uuid.UUID, days int) {
	dbtest.Exec(t, db, fmt.Sprintf(`UPDATE jobs SET created_at = now() - interval '%[2]d days',
		started_at = CASE WHEN started_at IS NULL THEN NULL ELSE now() - interval '%[2]d days' END,
		finished_at = CASE WHEN finished_at IS NULL THEN NULL ELSE now() - interval '%[2]d days' END
		WHERE id = '%[1]s'`, id, days))
}

func TestPruneOldKeepsLiveJobsAndWhatIsRecent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	newJob := func(key string, status store.JobStatus, days int) uuid.UUID {
		job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: "MSFT",
			Queue: "default", IdempotencyKey: key})
		require.NoError(t, err)
		if status != store.StatusQueued {
			started, err := db.StartJob(ctx, job.ID, "w", time.Minute)
			require.NoError(t, err)
			if status.Final() {
				require.NoError(t, db.FinishJob(ctx, started.Attempt(), status, nil, ""))
			}
		}
		ageJob(t, db, job.ID, days)
		return job.ID
	}
	// Five old finished jobs, more than a batch, so the pass loops.
	var old []uuid.UUID
	for i := range 5 {
		old = append(old, newJob(fmt.Sprintf("old-%d", i), store.StatusSucceeded, 40))
	}
	recent := newJob("recent", store.StatusFailed, 2)
	fresh := newJob("fresh", store.StatusSucceeded, 0)
	oldQueued := newJob("old-queued", store.StatusQueued, 100)
	oldRunning := newJob("old-running", store.StatusRunning, 100)
	// A recent job that took an old one's result keeps its own.
	reuser := newJob("", store.StatusRunning, 0)
	require.NoError(t, db.FinishReused(ctx, store.Attempt{JobID: reuser, Number: 1, Worker: "w"}, old[0]))

	// Prices: one ticker asked for now, one 100 days ago.
	bar := []market.Bar{{Date: time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC), Open: 1, High: 1, Low: 1, Close: 1, AdjClose: 1}}
	require.NoError(t, db.SavePriceBars(ctx, "KEEP", "yahoo", bar))
	require.NoError(t, db.SavePriceBars(ctx, "DROP", "yahoo", bar))
	dbtest.Exec(t, db, `UPDATE price_tickers SET last_asked_at = now() - interval '100 days' WHERE ticker = 'DROP'`)
	weights := db.Weights("lstm")
	require.NoError(t, weights.SaveWeights(ctx, []byte("new"), []byte{1}))
	require.NoError(t, weights.SaveWeights(ctx, []byte("old"), []byte{2}))
	dbtest.Exec(t, db, `UPDATE model_weights SET last_used_at = now() - interval '100 days' WHERE key = 'old'`)

	pruned, err := db.PruneOld(ctx, retention)
	require.NoError(t, err)
	require.Equal(t, store.Pruned{Jobs: 5, IdempotencyKeys: 1, PriceBars: 1, ModelWeights: 1}, pruned)

	for _, id := range old {
		_, err := db.Job(ctx, id, 0)
		require.ErrorIs(t, err, store.ErrNotFound)
	}
	get := func(id uuid.UUID) *store.Job {
		job, err := db.Job(ctx, id, 0)
		require.NoError(t, err)
		return job
	}
	require.Empty(t, get(recent).IdempotencyKey, "a finished job's key goes after 24 h")
	require.Equal(t, "fresh", get(fresh).IdempotencyKey)
	for _, id := range []uuid.UUID{oldQueued, oldRunning} {
		job := get(id)
		require.False(t, job.Final(), "a live job is never touched")
		require.NotEmpty(t, job.IdempotencyKey, "nor its key")
	}
	require.Nil(t, get(reuser).ReusedFrom, "the reused job is gone, the reuser stays")

	bars, _, _, err := db.PriceBars(ctx, "KEEP")
	require.NoError(t, err)
	require.Len(t, bars, 1)
	bars, _, _, err = db.PriceBars(ctx, "DROP")
	require.NoError(t, err)
	require.Empty(t, bars)
	blob, err := weights.LoadWeights(ctx, []byte("new"))
	require.NoError(t, err)
	require.Equal(t, []byte{1}, blob)
	blob, err = weights.LoadWeights(ctx, []byte("old"))
	require.NoError(t, err)
	require.Nil(t, blob)

	again, err := db.PruneOld(ctx, retention)
	require.NoError(t, err)
	require.Equal(t, store.Pruned{}, again, "a second pass finds nothing")
}

// Reading a ticker's bars counts as asking for them: bars read within the
// retention are kept, however long ago they were fetched.
func TestReadingPricesKeepsThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	bar := []market.Bar{{Date: time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC), Open: 1, High: 1, Low: 1, Close: 1, AdjClose: 1}}
	require.NoError(t, db.SavePriceBars(ctx, "READ", "yahoo", bar))
	dbtest.Exec(t, db, `UPDATE price_tickers SET last_asked_at = now() - interval '100 days'`)
	_, _, _, err := db.PriceBars(ctx, "READ")
	require.NoError(t, err)
	pruned, err := db.PruneOld(ctx, retention)
	require.NoError(t, err)
	require.Zero(t, pruned.PriceBars)
}
