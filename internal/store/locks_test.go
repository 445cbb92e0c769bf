package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func TestAdvisoryLockLetsOneHolderAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	const key = 42
	ran, err := db.WithAdvisoryLock(ctx, key, func(ctx context.Context) error {
		// Another session (the pool's other connection) cannot take it.
		inner, err := db.WithAdvisoryLock(ctx, key, func(context.Context) error {
			t.Error("ran while the lock was held")
			return nil
		})
		require.NoError(t, err)
		require.False(t, inner)
		return nil
	})
	require.NoError(t, err)
	require.True(t, ran)

	// fn's error comes back, and the lock can be taken again.
	boom := errors.New("boom")
	ran, err = db.WithAdvisoryLock(ctx, key, func(context.Context) error { return boom })
	require.True(t, ran)
	require.ErrorIs(t, err, boom)
	ran, err = db.WithAdvisoryLock(ctx, key, func(context.Context) error { return nil })
	require.NoError(t, err)
	require.True(t, ran)
}

// TestAdvisoryLockHoldsBehindATransactionPooler: two replicas reach the
// database through PgBouncer in transaction mode, which hands each
// transaction (each statement, outside one) whichever server connection
// is free. The lock still lets one holder at a time, and is free again
// for the other once released. A session-level lock fails here: the
// second replica's statement lands on the server connection that took
// it, whose session already holds it, and takes it too.
func TestAdvisoryLockHoldsBehindATransactionPooler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.PgBouncer(t, dbtest.Postgres(t, "store"))
	replicas := make([]*store.DB, 2)
	for i := range replicas {
		db, err := store.Open(ctx, url)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		replicas[i] = db
	}
	const key = 7
	for round := range 4 {
		holder, other := replicas[round%2], replicas[(round+1)%2]
		ran, err := holder.WithAdvisoryLock(ctx, key, func(ctx context.Context) error {
			inner, err := other.WithAdvisoryLock(ctx, key, func(context.Context) error {
				t.Errorf("round %d: both replicas held the lock", round)
				return nil
			})
			require.NoError(t, err)
			require.False(t, inner, "round %d", round)
			return nil
		})
		require.NoError(t, err)
		require.True(t, ran, "round %d: the lock was left held by an earlier round", round)
	}
}
