package admission_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/admission"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/ratelimit"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// TestMain gives this package's tests a private database and Redis, and
// removes them afterwards.
func TestMain(m *testing.M) { dbtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestRules: each rule on the real PostgreSQL and Redis, with the limits
// of the case, for a user who already has the unfinished jobs listed
// (and, unless the case says so, no submissions counted this minute).
func TestRules(t *testing.T) {
	db := dbtest.Postgres(t, "admission")
	rdb := dbtest.Redis(t)
	for _, tt := range []struct {
		name       string
		limits     admission.Limits
		unfinished []string // queues of the user's unfinished jobs
		submitted  int      // submissions already counted this minute
		asked      string
		wantQueue  string
		wantErr    error
		wantQuota  *admission.Quota
	}{
		{name: "admitted on the queue asked",
			limits: admission.Limits{MaxUnfinished: 3, InteractivePerUser: 2, SubmitPerMinute: 5},
			asked:  jobs.QueueLow, wantQueue: jobs.QueueLow, wantQuota: &admission.Quota{Limit: 5, Remaining: 4}},
		{name: "critical while the user's share lasts",
			limits:     admission.Limits{MaxUnfinished: 5, InteractivePerUser: 2, SubmitPerMinute: 5},
			unfinished: []string{jobs.QueueCritical, jobs.QueueDefault},
			asked:      jobs.QueueCritical, wantQueue: jobs.QueueCritical, wantQuota: &admission.Quota{Limit: 5, Remaining: 4}},
		{name: "default once the share is used",
			limits:     admission.Limits{MaxUnfinished: 5, InteractivePerUser: 2, SubmitPerMinute: 5},
			unfinished: []string{jobs.QueueCritical, jobs.QueueCritical},
			asked:      jobs.QueueCritical, wantQueue: jobs.QueueDefault, wantQuota: &admission.Quota{Limit: 5, Remaining: 4}},
		{name: "the share is of critical only",
			limits:     admission.Limits{MaxUnfinished: 5, InteractivePerUser: 1, SubmitPerMinute: 5},
			unfinished: []string{jobs.QueueLow, jobs.QueueLow},
			asked:      jobs.QueueLow, wantQueue: jobs.QueueLow, wantQuota: &admission.Quota{Limit: 5, Remaining: 4}},
		{name: "refused at the cap, counting no rate",
			limits:     admission.Limits{MaxUnfinished: 2, InteractivePerUser: 2, SubmitPerMinute: 5},
			unfinished: []string{jobs.QueueLow, jobs.QueueDefault},
			asked:      jobs.QueueLow, wantErr: &admission.TooManyUnfinishedError{Unfinished: 2}},
		{name: "refused over the rate",
			limits:    admission.Limits{MaxUnfinished: 5, InteractivePerUser: 2, SubmitPerMinute: 2},
			submitted: 2,
			asked:     jobs.QueueLow, wantErr: &admission.RateLimitedError{Limit: 2}, wantQuota: &admission.Quota{Limit: 2, Remaining: 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			user := dbtest.User(t, db).ID
			var ids []uuid.UUID
			for _, q := range tt.unfinished {
				job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: user, Kind: store.KindSentiment, Queue: q})
				require.NoError(t, err)
				ids = append(ids, job.ID)
			}
			limiter := ratelimit.New(rdb)
			policy := admission.New(db, limiter, tt.limits, quiet)
			for range tt.submitted {
				_, err := policy.Submit(ctx, store.NewJob{OwnerID: user, Kind: store.KindSentiment, Queue: jobs.QueueLow})
				require.NoError(t, err)
			}
			before := len(list(t, db, user))

			out, err := policy.Submit(ctx, store.NewJob{OwnerID: user, Kind: store.KindSentiment, Queue: tt.asked})
			require.Equal(t, tt.wantQuota, out.Quota)
			if tt.wantErr != nil {
				var limited *admission.RateLimitedError
				if errors.As(err, &limited) {
					require.Positive(t, limited.RetryAfter)
					limited.RetryAfter = 0
				}
				require.Equal(t, tt.wantErr, err)
				require.Len(t, list(t, db, user), before, "a refused job is not stored")
				if _, capped := tt.wantErr.(*admission.TooManyUnfinishedError); capped {
					// Room made, the next submission is the first counted.
					_, _, err := db.CancelJob(ctx, ids[0], user)
					require.NoError(t, err)
					out, err := policy.Submit(ctx, store.NewJob{OwnerID: user, Kind: store.KindSentiment, Queue: tt.asked})
					require.NoError(t, err)
					require.Equal(t, &admission.Quota{Limit: tt.limits.SubmitPerMinute, Remaining: tt.limits.SubmitPerMinute - 1}, out.Quota,
						"the cap's refusal counted no rate")
				}
				return
			}
			require.NoError(t, err)
			require.False(t, out.Replayed)
			require.Equal(t, tt.wantQueue, out.Job.Queue)
			stored, err := db.Job(ctx, out.Job.ID, user)
			require.NoError(t, err)
			require.Equal(t, tt.wantQueue, stored.Queue)
		})
	}
}

// TestReplaysCountNoRate: an idempotent replay is answered, even over the
// cap and the rate, and uses up neither.
func TestReplaysCountNoRate(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "admission")
	user := dbtest.User(t, db).ID
	policy := admission.New(db, ratelimit.New(dbtest.Redis(t)),
		admission.Limits{MaxUnfinished: 1, InteractivePerUser: 1, SubmitPerMinute: 1}, quiet)
	n := store.NewJob{OwnerID: user, Kind: store.KindSentiment, Queue: jobs.QueueCritical, IdempotencyKey: "k", RequestHash: []byte("h")}
	first, err := policy.Submit(ctx, n)
	require.NoError(t, err)
	require.Equal(t, &admission.Quota{Limit: 1, Remaining: 0}, first.Quota, "counted once")
	for range 3 {
		again, err := policy.Submit(ctx, n)
		require.NoError(t, err)
		require.True(t, again.Replayed)
		require.Equal(t, first.Job.ID, again.Job.ID)
		require.Nil(t, again.Quota, "a replay is not counted")
	}
	other := n
	other.RequestHash = []byte("other")
	_, err = policy.Submit(ctx, other)
	require.ErrorIs(t, err, store.ErrIdempotencyMismatch)
}

// TestWithoutRedisTheCapStillHolds: a limiter that cannot reach Redis
// lets submissions through, counting nothing; the cap, in PostgreSQL,
// still refuses past it.
func TestWithoutRedisTheCapStillHolds(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "admission")
	user := dbtest.User(t, db).ID
	// Nothing listens on port 1: every call fails at once.
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	policy := admission.New(db, ratelimit.New(down),
		admission.Limits{MaxUnfinished: 2, InteractivePerUser: 2, SubmitPerMinute: 1, RateLimitTimeout: time.Second}, quiet)
	for range 2 {
		out, err := policy.Submit(ctx, store.NewJob{OwnerID: user, Kind: store.KindSentiment, Queue: jobs.QueueCritical})
		require.NoError(t, err)
		require.Nil(t, out.Quota)
	}
	_, err := policy.Submit(ctx, store.NewJob{OwnerID: user, Kind: store.KindSentiment, Queue: jobs.QueueCritical})
	require.Equal(t, &admission.TooManyUnfinishedError{Unfinished: 2}, err)
}

// TestWithoutLimiterOnlyTheStoreDecides: a policy with no limiter applies
// the cap and the share in the store's one round trip.
func TestWithoutLimiterOnlyTheStoreDecides(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "admission")
	user := dbtest.User(t, db).ID
	policy := admission.New(db, nil, admission.Limits{MaxUnfinished: 2, InteractivePerUser: 1}, quiet)
	var queues []string
	for range 2 {
		out, err := policy.Submit(ctx, store.NewJob{OwnerID: user, Kind: store.KindSentiment, Queue: jobs.QueueCritical})
		require.NoError(t, err)
		require.Nil(t, out.Quota)
		queues = append(queues, out.Job.Queue)
	}
	require.Equal(t, []string{jobs.QueueCritical, jobs.QueueDefault}, queues)
	_, err := policy.Submit(ctx, store.NewJob{OwnerID: user, Kind: store.KindSentiment, Queue: jobs.QueueCritical})
	require.Equal(t, &admission.TooManyUnfinishedError{Unfinished: 2}, err)
}

func list(t *testing.T, db *store.DB, user int64) []store.Job {
	t.Helper()
	jobs, err := db.ListJobs(context.Background(), user, nil, 100)
	require.NoError(t, err)
	return jobs
}
