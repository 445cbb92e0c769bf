package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
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
