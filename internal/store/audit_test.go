package store_test

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

// TestAnAuditedChangeAndItsRowCommitTogether: a role change appends its
// row in its own transaction; one refused (the last admin) leaves neither.
func TestAnAuditedChangeAndItsRowCommitTogether(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	u := dbtest.User(t, db)
	seal := func(e *store.AuditEntry) []byte {
		sum := sha256.Sum256(append(append([]byte(e.Action), e.Target...), e.PrevHash...))
		return sum[:]
	}
	row := func() *store.AuditAppend {
		return &store.AuditAppend{Entry: &store.AuditEntry{Actor: "test", Action: "admin.role_changed", Target: "user", Outcome: "success"}, Seal: seal}
	}
	admin, user := store.RoleAdmin, store.RoleUser

	_, err := db.UpdateUserAudited(ctx, u.Username, &admin, nil, row())
	require.NoError(t, err)
	rows, err := db.AuditRows(ctx, store.AuditFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Len(t, rows[0].PrevHash, 32, "the first row follows the zero hash")

	_, err = db.UpdateUserAudited(ctx, u.Username, &user, nil, row())
	require.ErrorIs(t, err, store.ErrLastAdmin)
	rows, err = db.AuditRows(ctx, store.AuditFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, rows, 1, "the refused change appended nothing")
}
