package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

// TestAdmitSeesUnfinishedJobsByQueue: Admit is told the owner's queued and
// running jobs per queue (finished ones and other owners' not counted),
// picks the queue, and a refusal stores nothing. A replay never reaches it.
func TestAdmitSeesUnfinishedJobsByQueue(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner, stranger := newOwner(t, db), newOwner(t, db)
	for _, q := range []string{"critical", "critical", "default"} {
		_, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: q})
		require.NoError(t, err)
	}
	done, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: "low"})
	require.NoError(t, err)
	_, _, err = db.CancelJob(ctx, done.ID, owner)
	require.NoError(t, err)
	_, _, err = db.CreateJob(ctx, store.NewJob{OwnerID: stranger, Kind: store.KindSentiment, Queue: "low"})
	require.NoError(t, err)

	var seen store.Unfinished
	job, replayed, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, IdempotencyKey: "k", RequestHash: []byte("h"),
		Admit: func(_ context.Context, u store.Unfinished) (string, error) {
			seen = u
			return "low", nil
		}})
	require.NoError(t, err)
	require.False(t, replayed)
	require.Equal(t, store.Unfinished{Total: 3, ByQueue: map[string]int{"critical": 2, "default": 1}}, seen)
	require.Equal(t, "low", job.Queue)

	refused := errors.New("over the cap")
	admitNot := func(context.Context, store.Unfinished) (string, error) { return "", refused }
	_, _, err = db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Admit: admitNot})
	require.ErrorIs(t, err, refused)
	list, err := db.ListJobs(ctx, owner, nil, 100)
	require.NoError(t, err)
	require.Len(t, list, 5, "the refused job was not stored")

	again, replayed, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, IdempotencyKey: "k", RequestHash: []byte("h"), Admit: admitNot})
	require.NoError(t, err, "a replay is answered without asking Admit")
	require.True(t, replayed)
	require.Equal(t, job.ID, again.ID)
	_, _, err = db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, IdempotencyKey: "k", RequestHash: []byte("other"), Admit: admitNot})
	require.ErrorIs(t, err, store.ErrIdempotencyMismatch)
}
