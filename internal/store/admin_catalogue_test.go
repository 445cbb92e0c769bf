package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func TestCatalogueEdits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")

	co, err := db.CreateCompany(ctx, store.Company{Symbol: "ACME", Name: "Acme"})
	require.NoError(t, err)
	require.True(t, co.Active)
	_, err = db.CreateCompany(ctx, store.Company{Symbol: "ACME", Name: "Other"})
	require.ErrorIs(t, err, store.ErrConflict)
	sector, off := "Tools", false
	co, err = db.UpdateCompany(ctx, co.ID, store.CompanyChange{Sector: &sector, Active: &off})
	require.NoError(t, err)
	require.Equal(t, "Acme", co.Name, "a nil field stays")
	require.Equal(t, "Tools", co.Sector)
	require.False(t, co.Active)
	_, err = db.UpdateCompany(ctx, co.ID+1, store.CompanyChange{Active: &off})
	require.ErrorIs(t, err, store.ErrNotFound)

	b, err := db.CreateBroker(ctx, store.Broker{Name: "Desk", CommissionRate: dec("0.25")})
	require.NoError(t, err)
	_, err = db.CreateBroker(ctx, store.Broker{Name: "DESK", CommissionRate: dec("0")})
	require.ErrorIs(t, err, store.ErrConflict)
	other, err := db.CreateBroker(ctx, store.Broker{Name: "Other", CommissionRate: dec("0")})
	require.NoError(t, err)
	rate := dec("0.125")
	b, err = db.UpdateBroker(ctx, b.ID, store.BrokerChange{CommissionRate: &rate})
	require.NoError(t, err)
	requireDec(t, "0.125", b.CommissionRate)
	name := "desk"
	_, err = db.UpdateBroker(ctx, other.ID, store.BrokerChange{Name: &name})
	require.ErrorIs(t, err, store.ErrConflict)
	b, err = db.UpdateBroker(ctx, b.ID, store.BrokerChange{Active: &off})
	require.NoError(t, err)
	requireDec(t, "0.125", b.CommissionRate, "a nil rate stays")
	active, err := db.ActiveBrokers(ctx)
	require.NoError(t, err)
	require.Len(t, active, 1)
	all, err := db.Brokers(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
}

func TestUpdateUserIsWholeOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	admin := newAdmin(t, db)
	user, off := store.RoleUser, false
	// Demoting and deactivating the only admin at once is refused, and
	// neither change is kept.
	_, err := db.UpdateUser(ctx, admin.Username, &user, &off)
	require.ErrorIs(t, err, store.ErrLastAdmin)
	u, err := db.UserByID(ctx, admin.ID)
	require.NoError(t, err)
	require.Equal(t, store.RoleAdmin, u.Role)
	require.True(t, u.Active)
	bad := "root"
	_, err = db.UpdateUser(ctx, admin.Username, &bad, nil)
	require.Error(t, err)
}

func TestPlatformStatsRanksFiveSymbols(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newExchange(t)
	user := dbtest.User(t, m.db)
	_, _, err := m.db.Deposit(ctx, user.ID, dec("100000.00"), store.Idempotency{})
	require.NoError(t, err)
	// Six companies, the nth traded for n × 100.00; the smallest drops out.
	for n := 1; n <= 6; n++ {
		sym := fmt.Sprintf("S%d", n)
		_, err := m.db.CreateCompany(ctx, store.Company{Symbol: sym, Name: sym})
		require.NoError(t, err)
		_, err = m.order(t, user.ID, store.SideBuy, sym, "1", fmt.Sprintf("%d00.00", n), m.cheap.ID)
		require.NoError(t, err)
	}
	st, err := m.db.PlatformStats(ctx)
	require.NoError(t, err)
	var top []string
	for _, s := range st.TopSymbols {
		top = append(top, s.Symbol+" "+s.Value.StringFixed(2))
	}
	require.Equal(t, []string{"S6 600.00", "S5 500.00", "S4 400.00", "S3 300.00", "S2 200.00"}, top)
	requireDec(t, "2100.00", st.Volume)
	requireDec(t, "2.10", st.Commission, "0.10, 0.20, … 0.60: each 0.10 % of n × 100")
}
