package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func TestBinariesRefuseASchemaThatIsBehind(t *testing.T) {
	ctx := context.Background()
	dbtest.Postgres(t, "store") // proves the server is there
	url := dbtest.URL(dbtest.UniqueName(t, "unmigrated"))
	created, err := store.CreateDatabase(ctx, url)
	require.NoError(t, err)
	require.True(t, created)
	created, err = store.CreateDatabase(ctx, url)
	require.NoError(t, err)
	require.False(t, created, "an existing database is left alone")

	db, err := store.Open(ctx, url)
	require.NoError(t, err)
	defer db.Close()
	require.ErrorIs(t, db.CheckSchema(ctx), store.ErrSchemaBehind)

	version, err := db.Migrate(ctx)
	require.NoError(t, err)
	require.Positive(t, version)
	require.NoError(t, db.CheckSchema(ctx))
}
