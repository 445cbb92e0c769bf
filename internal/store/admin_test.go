package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func newAdmin(t *testing.T, db *store.DB) *store.User {
	t.Helper()
	u := dbtest.User(t, db)
	u, err := db.SetUserRole(context.Background(), u.Username, store.RoleAdmin)
	require.NoError(t, err)
	return u
}

func TestLastAdminCanBeNeitherDemotedNorDeactivated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	alice := newAdmin(t, db)
	user := dbtest.User(t, db)

	_, err := db.SetUserRole(ctx, alice.Username, store.RoleUser)
	require.ErrorIs(t, err, store.ErrLastAdmin)
	_, err = db.SetUserActive(ctx, alice.Username, false)
	require.ErrorIs(t, err, store.ErrLastAdmin)

	// An inactive admin does not count as a second one.
	bob := newAdmin(t, db)
	_, err = db.SetUserActive(ctx, bob.Username, false)
	require.NoError(t, err)
	_, err = db.SetUserRole(ctx, alice.Username, store.RoleUser)
	require.ErrorIs(t, err, store.ErrLastAdmin)

	// With bob active again, alice may go; then bob is the last.
	_, err = db.SetUserActive(ctx, bob.Username, true)
	require.NoError(t, err)
	demoted, err := db.SetUserRole(ctx, alice.Username, store.RoleUser)
	require.NoError(t, err)
	require.Equal(t, store.RoleUser, demoted.Role)
	_, err = db.SetUserActive(ctx, bob.Username, false)
	require.ErrorIs(t, err, store.ErrLastAdmin)

	// Plain users come and go freely, and usernames match in any case.
	off, err := db.SetUserActive(ctx, user.Username, false)
	require.NoError(t, err)
	require.False(t, off.Active)
	_, err = db.SetUserRole(ctx, "NOBODY", store.RoleAdmin)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = db.SetUserRole(ctx, user.Username, "root")
	require.ErrorContains(t, err, `role "root"`)

	users, err := db.ListUsers(ctx)
	require.NoError(t, err)
	require.Len(t, users, 3)
	require.Equal(t, alice.ID, users[0].ID, "oldest first")
}

// Two operators demoting the last two admins at the same moment: the
// lock makes one of them wait, see the other's change, and fail.
func TestConcurrentDemotionsKeepOneAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	var survivor *store.User
	for range 10 {
		a, b := newAdmin(t, db), newAdmin(t, db)
		// The last round's survivor steps aside: a and b are the only
		// active admins.
		if survivor != nil {
			_, err := db.SetUserRole(ctx, survivor.Username, store.RoleUser)
			require.NoError(t, err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, u := range []*store.User{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = db.SetUserRole(ctx, u.Username, store.RoleUser)
			}()
		}
		wg.Wait()
		require.ErrorIs(t, errors.Join(errs...), store.ErrLastAdmin)
		require.True(t, errs[0] == nil || errs[1] == nil, "one demotion goes through: %v", errs)
		survivor = a
		if errs[1] != nil {
			survivor = b
		}
	}
}

func TestRevokedTokenStopsWorking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	a, b := dbtest.User(t, db), dbtest.User(t, db)
	for i, u := range []*store.User{a, b, a} {
		require.NoError(t, db.CreateAPIToken(ctx, u.ID, []byte{byte(i)}, "t"))
	}
	all, err := db.ListAPITokens(ctx, "")
	require.NoError(t, err)
	require.Len(t, all, 3)
	mine, err := db.ListAPITokens(ctx, a.Username)
	require.NoError(t, err)
	require.Len(t, mine, 2)
	require.Equal(t, a.Username, mine[0].Username)

	_, err = db.UserByTokenDigest(ctx, []byte{0})
	require.NoError(t, err)
	revoked, err := db.RevokeAPIToken(ctx, mine[0].ID)
	require.NoError(t, err)
	require.Equal(t, a.Username, revoked.Username)
	_, err = db.UserByTokenDigest(ctx, []byte{0})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = db.RevokeAPIToken(ctx, mine[0].ID)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestTableDigestsFollowTheRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	before, err := db.Tables(ctx)
	require.NoError(t, err)
	u := dbtest.User(t, db)
	after, err := db.Tables(ctx)
	require.NoError(t, err)
	require.Equal(t, len(before), len(after))
	for i := range after {
		if after[i].Table == "users" {
			require.Equal(t, before[i].Rows+1, after[i].Rows)
			require.NotEqual(t, before[i].Digest, after[i].Digest)
		} else {
			require.Equal(t, before[i], after[i], after[i].Table)
		}
	}
	_, err = db.SetUserActive(ctx, u.Username, false)
	require.NoError(t, err)
	changed, err := db.Tables(ctx)
	require.NoError(t, err)
	for i := range changed {
		if changed[i].Table == "users" {
			require.Equal(t, after[i].Rows, changed[i].Rows)
			require.NotEqual(t, after[i].Digest, changed[i].Digest, "a changed value changes the digest")
		}
	}
}
