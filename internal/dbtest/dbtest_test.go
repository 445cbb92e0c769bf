package dbtest

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/store"
)

func TestMain(m *testing.M) { Main(m) }

// nameOf is the database name of a test database from Postgres.
func nameOf(t *testing.T, db *store.DB) string {
	t.Helper()
	harness.mu.Lock()
	defer harness.mu.Unlock()
	name, ok := harness.names[db]
	require.True(t, ok)
	return name
}

// conn opens a connection of the test's own to a test database, closed when
// the test ends.
func conn(t *testing.T, name string) *sqlx.DB {
	t.Helper()
	c, err := sqlx.Open("postgres", URL(name))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// dirty leaves what a test typically leaves: rows, and sequences moved on.
func dirty(t *testing.T, db *store.DB) {
	t.Helper()
	User(t, db)
	User(t, db)
	Token(t, db)
}

// fresh checks that a database is as the template left it: no rows and
// sequences at their start.
func fresh(t *testing.T, db *store.DB) {
	t.Helper()
	c := conn(t, nameOf(t, db))
	var users, tokens int
	require.NoError(t, c.Get(&users, `SELECT count(*) FROM users`))
	require.NoError(t, c.Get(&tokens, `SELECT count(*) FROM api_tokens`))
	require.Zero(t, users)
	require.Zero(t, tokens)
	u := User(t, db)
	require.EqualValues(t, 1, u.ID, "the users sequence starts again")
}

func TestAFinishedTestsDatabaseIsEmptiedAndReused(t *testing.T) {
	var first string
	t.Run("first", func(t *testing.T) {
		db := Postgres(t, "pool")
		require.Same(t, db, Postgres(t, "pool"), "one name, one database in a test")
		require.NotSame(t, db, Postgres(t, "other"))
		first = nameOf(t, db)
		dirty(t, db)
	})
	t.Run("second", func(t *testing.T) {
		db := Postgres(t, "pool")
		// Two were free: "pool" and "other"; either is emptied.
		fresh(t, db)
		name := nameOf(t, db)
		harness.mu.Lock()
		free := append([]string{name}, harness.pool.free...)
		harness.mu.Unlock()
		require.Contains(t, free, first, "reused, not created again")
	})
}

func TestADatabaseWhoseSchemaChangedIsNotReused(t *testing.T) {
	var changed string
	t.Run("changes it", func(t *testing.T) {
		db := Postgres(t, "schema")
		changed = nameOf(t, db)
		Exec(t, db, `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE 'boom'; END $$;
			CREATE TRIGGER boom BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION boom();`)
	})
	t.Run("after", func(t *testing.T) {
		db := Postgres(t, "schema")
		require.NotEqual(t, changed, nameOf(t, db))
		fresh(t, db)
	})
	harness.mu.Lock()
	defer harness.mu.Unlock()
	require.NotContains(t, harness.pool.free, changed)
	require.Contains(t, harness.created, changed, "Main drops it")
}

func TestADatabaseWithAConnectionLeftOpenIsNotReused(t *testing.T) {
	grace := sessionsGrace
	sessionsGrace = 100 * time.Millisecond
	defer func() { sessionsGrace = grace }()
	var leaked string
	var leak *sqlx.DB
	t.Run("leaks", func(t *testing.T) {
		db := Postgres(t, "leak")
		leaked = nameOf(t, db)
		var err error
		leak, err = sqlx.Open("postgres", URLOf(t, db))
		require.NoError(t, err)
		require.NoError(t, leak.Ping())
	})
	// Closed only after the subtest handed its database back.
	require.NoError(t, leak.Close())
	harness.mu.Lock()
	defer harness.mu.Unlock()
	require.NotContains(t, harness.pool.free, leaked)
}

// TestSeededRowsAndSequencesComeBack runs release on a database with a
// table that migrations filled, which Augur's migrations do not do yet.
func TestSeededRowsAndSequencesComeBack(t *testing.T) {
	ctx := context.Background()
	Postgres(t, "seeded") // makes the pool and the admin connection
	harness.mu.Lock()
	admin, template := harness.admin, harness.pool.template
	name := uniqueName("seeded_copy")
	harness.mu.Unlock()
	_, err := admin.Exec(`CREATE DATABASE ` + pq.QuoteIdentifier(name) + ` TEMPLATE ` + pq.QuoteIdentifier(template))
	require.NoError(t, err)

	c, err := sqlx.Open("postgres", URL(name))
	require.NoError(t, err)
	_, err = c.Exec(`CREATE TABLE brokers_seed (id bigserial PRIMARY KEY, name text NOT NULL);
		INSERT INTO brokers_seed (name) VALUES ('alpha'), ('beta');
		CREATE SEQUENCE standalone;
		SELECT nextval('standalone');`)
	require.NoError(t, err)
	state, err := takeSnapshot(ctx, c)
	require.NoError(t, err)

	// A test adds rows, to a seeded table's neighbours only, and moves
	// every sequence on.
	_, err = c.Exec(`INSERT INTO users (email, username, password_hash, role) VALUES ('a@example.com', 'a', 'x', 'user');
		SELECT nextval('brokers_seed_id_seq'), nextval('standalone'), nextval('standalone');`)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, state.release(ctx, admin, name))

	c = conn(t, name)
	var users int
	require.NoError(t, c.Get(&users, `SELECT count(*) FROM users`))
	require.Zero(t, users)
	var brokers []string
	require.NoError(t, c.Select(&brokers, `SELECT name FROM brokers_seed ORDER BY id`))
	require.Equal(t, []string{"alpha", "beta"}, brokers)
	var next, standalone int64
	require.NoError(t, c.Get(&next, `SELECT nextval('brokers_seed_id_seq')`))
	require.NoError(t, c.Get(&standalone, `SELECT nextval('standalone')`))
	require.EqualValues(t, 3, next)
	require.EqualValues(t, 2, standalone)

	// A test that changes seeded rows leaves a database that is not reused.
	_, err = c.Exec(`UPDATE brokers_seed SET name = 'gamma' WHERE name = 'beta'`)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.ErrorIs(t, state.release(ctx, admin, name), errRetired)
}

// TestASwitchStallsAndHeals: a stalled switch holds every byte with the
// connections open, in both directions and for connections opened during
// the stall too; healed, it delivers what it held.
func TestASwitchStallsAndHeals(t *testing.T) {
	ctx := context.Background()
	db, sw := PostgresBehindSwitch(t, "stall")
	require.NoError(t, db.Ping(ctx))

	sw.Stall()
	sw.Stall() // twice is once
	answered := make(chan error, 1)
	go func() { answered <- db.Ping(ctx) }()
	select {
	case err := <-answered:
		t.Fatalf("a stalled switch let an answer through: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	sw.Heal()
	select {
	case err := <-answered:
		require.NoError(t, err, "what was held back is delivered")
	case <-time.After(10 * time.Second):
		t.Fatal("no answer after the switch healed")
	}
	sw.Heal() // healing a flowing switch changes nothing
	require.NoError(t, db.Ping(ctx))

	// Off ends a stall: nothing waits for a Heal that never comes.
	sw.Stall()
	go func() { answered <- db.Ping(ctx) }()
	time.Sleep(100 * time.Millisecond)
	sw.Off()
	select {
	case err := <-answered:
		require.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("a connection stalled when the switch went off was not cut")
	}
	sw.On(t)
	require.Eventually(t, func() bool { return db.Ping(ctx) == nil }, 10*time.Second, 20*time.Millisecond)
}
