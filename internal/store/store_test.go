package store_test

import (
	"context"
	"database/sql/driver"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func TestBinariesRefuseASchemaThatIsBehind(t *testing.T) {
	t.Parallel()
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

func TestIsTransient(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"no error", nil, false},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"bad connection", fmt.Errorf("finish job: %w", driver.ErrBadConn), true},
		{"server shutting down", fmt.Errorf("finish job: %w", &pq.Error{Code: "57P01"}), true},
		{"cannot connect now", &pq.Error{Code: "57P03"}, true},
		{"serialization failure", &pq.Error{Code: "40001"}, true},
		{"NUL in jsonb", &pq.Error{Code: "22P05"}, false},
		{"unique violation", &pq.Error{Code: "23505"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, store.IsTransient(tt.err))
		})
	}
}

// TestTransactionsNeverWaitForAConnectionToPrepareOn: a transaction that
// runs a statement the pool has not prepared yet does not wait for a
// second connection to prepare it on, which a pool held whole by such
// transactions would never give.
func TestTransactionsNeverWaitForAConnectionToPrepareOn(t *testing.T) {
	db := dbtest.Postgres(t, "store")
	user := newOwner(t, db)
	db.SetPool(store.Pool{MaxOpen: 1, MaxIdle: 1})
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := db.PortfolioSummary(ctx, user)
		cancel()
		require.NoError(t, err, "a transaction on the pool's one connection")
	}
	_, _, err := db.Deposit(context.Background(), user, decimal.NewFromInt(100), store.Idempotency{})
	require.NoError(t, err)
}
