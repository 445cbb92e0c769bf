package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

// shareCritical is a rule that caps an owner at max unfinished jobs and
// sends a critical job to default once the owner has share there.
func shareCritical(max, share int) store.AdmissionRule {
	return store.AdmissionRule{MaxUnfinished: max, ShareQueue: "critical", SharePerOwner: share, OverflowQueue: "default"}
}

// TestAdmitCountsUnfinishedJobsByQueue: the rule is applied to the owner's
// queued and running jobs (finished ones and other owners' not counted),
// overall for the cap and on the shared queue for the share; a refusal
// stores nothing, and a replay is answered whatever the rule says.
func TestAdmitCountsUnfinishedJobsByQueue(t *testing.T) {
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
	for range 2 {
		_, _, err = db.CreateJob(ctx, store.NewJob{OwnerID: stranger, Kind: store.KindSentiment, Queue: "critical"})
		require.NoError(t, err)
	}

	for _, tt := range []struct {
		name  string
		asked string
		rule  store.AdmissionRule
		want  store.Admission
	}{
		{"below the cap", "low", shareCritical(4, 3), store.Admission{Unfinished: 3, Queue: "low"}},
		{"at the cap", "low", shareCritical(3, 3), store.Admission{Refused: true, Unfinished: 3}},
		{"critical share left", "critical", shareCritical(4, 3), store.Admission{Unfinished: 3, Queue: "critical"}},
		{"critical share used", "critical", shareCritical(4, 2), store.Admission{Unfinished: 3, Queue: "default"}},
		{"no shared queue", "critical", store.AdmissionRule{MaxUnfinished: 4}, store.Admission{Unfinished: 3, Queue: "critical"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.CheckAdmission(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: tt.asked}, tt.rule)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	got, err := db.AdmitJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: "critical",
		IdempotencyKey: "k", RequestHash: []byte("h")}, shareCritical(4, 2))
	require.NoError(t, err)
	require.False(t, got.Replayed)
	require.Equal(t, "default", got.Queue)
	require.Equal(t, "default", got.Job.Queue)
	stored, err := db.Job(ctx, got.Job.ID, owner)
	require.NoError(t, err)
	require.Equal(t, "default", stored.Queue)
	require.Equal(t, got.Job.CreatedAt, stored.CreatedAt)

	refused, err := db.AdmitJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: "low"}, shareCritical(4, 2))
	require.NoError(t, err)
	require.Equal(t, store.Admission{Refused: true, Unfinished: 4}, refused)
	list, err := db.ListJobs(ctx, owner, nil, 100)
	require.NoError(t, err)
	require.Len(t, list, 5, "the refused job was not stored")

	for _, admit := range []func(context.Context, store.NewJob, store.AdmissionRule) (store.Admission, error){db.CheckAdmission, db.AdmitJob} {
		again, err := admit(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, IdempotencyKey: "k", RequestHash: []byte("h")}, shareCritical(1, 1))
		require.NoError(t, err, "a replay is answered over the cap")
		require.True(t, again.Replayed)
		require.Equal(t, got.Job.ID, again.Job.ID)
		_, err = admit(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, IdempotencyKey: "k", RequestHash: []byte("other")}, shareCritical(1, 1))
		require.ErrorIs(t, err, store.ErrIdempotencyMismatch)
	}
	list, err = db.ListJobs(ctx, owner, nil, 100)
	require.NoError(t, err)
	require.Len(t, list, 5, "the checks stored nothing")
}

// TestAdmitDecidesAgainUnderTheLock: a submission of the same owner's that
// gets in between the look without a lock and the store is counted by the
// store's decision: it is kept when the new figures still admit the job,
// moves the job off a shared queue now full, and refuses it once the cap
// is reached.
func TestAdmitDecidesAgainUnderTheLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	overtake := func(queue string) {
		_, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: queue})
		require.NoError(t, err)
	}
	n := store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: "critical"}

	seen, err := db.CheckAdmission(ctx, n, shareCritical(3, 1))
	require.NoError(t, err)
	require.Equal(t, store.Admission{Unfinished: 0, Queue: "critical"}, seen)
	overtake("critical")
	got, err := db.AdmitJob(ctx, n, shareCritical(3, 1))
	require.NoError(t, err)
	require.Equal(t, 1, got.Unfinished, "decided on the figures under the lock")
	require.Equal(t, "default", got.Queue, "the critical share the look saw free was taken")
	_, err = db.Job(ctx, got.Job.ID, owner)
	require.NoError(t, err)

	// A cap of 3: the look sees 2, another submission takes the third
	// place, and the store refuses.
	seen, err = db.CheckAdmission(ctx, n, shareCritical(3, 1))
	require.NoError(t, err)
	require.False(t, seen.Refused)
	require.Equal(t, 2, seen.Unfinished)
	overtake("default")
	got, err = db.AdmitJob(ctx, n, shareCritical(3, 1))
	require.NoError(t, err)
	require.Equal(t, store.Admission{Refused: true, Unfinished: 3}, got)
	list, err := db.ListJobs(ctx, owner, nil, 100)
	require.NoError(t, err)
	require.Len(t, list, 3, "the overtaken job was not stored")
}

// TestAdmitReplaysAKeyTakenInBetween: when the same key is stored between
// the look and the store, the submission is that job's replay.
func TestAdmitReplaysAKeyTakenInBetween(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	n := store.NewJob{OwnerID: owner, Kind: store.KindSentiment, Queue: "default", IdempotencyKey: "k", RequestHash: []byte("h")}
	seen, err := db.CheckAdmission(ctx, n, shareCritical(3, 1))
	require.NoError(t, err)
	require.False(t, seen.Replayed)
	first, _, err := db.CreateJob(ctx, n)
	require.NoError(t, err)
	got, err := db.AdmitJob(ctx, n, shareCritical(3, 1))
	require.NoError(t, err)
	require.True(t, got.Replayed)
	require.Equal(t, first.ID, got.Job.ID)
}

// TestAdmitNeedsAnExistingOwner: the store refuses a job of an owner that
// does not exist rather than store it.
func TestAdmitNeedsAnExistingOwner(t *testing.T) {
	db := dbtest.Postgres(t, "store")
	_, err := db.AdmitJob(context.Background(), store.NewJob{OwnerID: -1, Kind: store.KindSentiment, Queue: "default"}, shareCritical(3, 1))
	require.Error(t, err)
}
