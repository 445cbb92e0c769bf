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
	t.Parallel()
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
		Admit: func(u store.Unfinished) (string, error) {
			seen = u
			return "low", nil
		}})
	require.NoError(t, err)
	require.False(t, replayed)
	require.Equal(t, store.Unfinished{Total: 3, ByQueue: map[string]int{"critical": 2, "default": 1}}, seen)
	require.Equal(t, "low", job.Queue)

	refused := errors.New("over the cap")
	admitNot := func(store.Unfinished) (string, error) { return "", refused }
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

// TestAdmitDecidesAgainWhenOvertaken: a submission of the same owner's
// that gets in between the read and the store makes the decision stale;
// the store asks Admit again on the new figures, charges once, and keeps
// a refusal that the new figures call for.
func TestAdmitDecidesAgainWhenOvertaken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	overtake := func() {
		_, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: "default"})
		require.NoError(t, err)
	}

	var seen []store.Unfinished
	charges := 0
	job, replayed, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment,
		Admit: func(u store.Unfinished) (string, error) {
			seen = append(seen, u)
			if len(seen) == 1 {
				overtake()
			}
			return "default", nil
		},
		Charge: func(context.Context) error { charges++; return nil },
	})
	require.NoError(t, err)
	require.False(t, replayed)
	require.Equal(t, []store.Unfinished{
		{Total: 0, ByQueue: map[string]int{}},
		{Total: 1, ByQueue: map[string]int{"default": 1}},
	}, seen)
	require.Equal(t, 1, charges)
	_, err = db.Job(ctx, job.ID, owner)
	require.NoError(t, err)

	// A cap of 3: the read sees 2, another submission takes the third
	// place, and the decision made again refuses.
	capped := errors.New("over the cap")
	calls := 0
	_, _, err = db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment,
		Admit: func(u store.Unfinished) (string, error) {
			calls++
			if u.Total >= 3 {
				return "", capped
			}
			overtake()
			return "default", nil
		},
	})
	require.ErrorIs(t, err, capped)
	require.Equal(t, 2, calls)
	list, err := db.ListJobs(ctx, owner, nil, 100)
	require.NoError(t, err)
	require.Len(t, list, 3, "the overtaken job was not stored")
}

// TestAdmitReplaysAKeyTakenInBetween: when the same key is stored between
// the read and the store, the submission is that job's replay.
func TestAdmitReplaysAKeyTakenInBetween(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	var first *store.Job
	job, replayed, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment,
		IdempotencyKey: "k", RequestHash: []byte("h"),
		Admit: func(store.Unfinished) (string, error) {
			if first == nil {
				var err error
				first, _, err = db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: "default",
					IdempotencyKey: "k", RequestHash: []byte("h")})
				require.NoError(t, err)
			}
			return "default", nil
		},
	})
	require.NoError(t, err)
	require.True(t, replayed)
	require.Equal(t, first.ID, job.ID)
}
