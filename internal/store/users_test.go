package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func TestEmailAndUsernameAreUniqueInAnyCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	_, err := db.CreateUser(ctx, "Ann@Example.com", "Ann", "h", store.RoleUser)
	require.NoError(t, err)

	_, err = db.CreateUser(ctx, "ann@example.COM", "someone", "h", store.RoleUser)
	require.ErrorIs(t, err, store.ErrEmailTaken)
	require.ErrorIs(t, err, store.ErrConflict)
	_, err = db.CreateUser(ctx, "other@example.com", "aNN", "h", store.RoleUser)
	require.ErrorIs(t, err, store.ErrUsernameTaken)

	u, err := db.UserByEmail(ctx, "ANN@example.com")
	require.NoError(t, err)
	require.Equal(t, "Ann", u.Username)
	_, err = db.UserByEmail(ctx, "nobody@example.com")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestSetPasswordRaisesTheSessionEpoch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	u := dbtest.User(t, db)
	require.Zero(t, u.SessionEpoch)
	epoch, err := db.SetPassword(ctx, u.ID, "new-hash")
	require.NoError(t, err)
	require.EqualValues(t, 1, epoch)
	again, err := db.UserByID(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, "new-hash", again.PasswordHash)
	require.EqualValues(t, 1, again.SessionEpoch)
}

func TestAUserRevokesOnlyTheirOwnTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	ann, bob := dbtest.User(t, db), dbtest.User(t, db)
	require.NoError(t, db.CreateAPIToken(ctx, ann.ID, []byte("digest-1"), "laptop"))
	tokens, err := db.APITokens(ctx, ann.ID)
	require.NoError(t, err)
	require.Len(t, tokens, 1)
	require.Equal(t, "laptop", tokens[0].Name)
	require.Nil(t, tokens[0].LastUsedAt)

	require.ErrorIs(t, db.RevokeOwnAPIToken(ctx, bob.ID, tokens[0].ID), store.ErrNotFound)
	require.NoError(t, db.RevokeOwnAPIToken(ctx, ann.ID, tokens[0].ID))
	require.ErrorIs(t, db.RevokeOwnAPIToken(ctx, ann.ID, tokens[0].ID), store.ErrNotFound)
	_, err = db.UserByTokenDigest(ctx, []byte("digest-1"))
	require.ErrorIs(t, err, store.ErrNotFound)
}
