// Package dbtest gives tests their own real PostgreSQL database and Redis DB
// number, so test packages can run in parallel without touching each other.
// It never mocks either service: a test that cannot reach one fails when CI
// is set, and is skipped otherwise.
package dbtest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/store"
)

// AdminURL is the maintenance connection used to create test databases.
// TEST_DATABASE_URL overrides it.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisAddr is the Redis server for tests. TEST_REDIS_ADDR overrides it.
func RedisAddr() string {
	if a := os.Getenv("TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI: %v", what, err)
	}
	t.Skipf("%s not reachable: %v", what, err)
}

var (
	mu       sync.Mutex
	prepared = map[string]bool{}
)

var unsafeName = regexp.MustCompile(`[^a-z0-9_]`)

// Postgres returns a migrated database named augur_test_<name>, dropped and
// created afresh the first time a test binary asks for it. Use one name per
// test package; tests inside the package share it.
func Postgres(t testing.TB, name string) *store.DB {
	t.Helper()
	ctx := context.Background()
	dbName := "augur_test_" + unsafeName.ReplaceAllString(strings.ToLower(name), "_")
	mu.Lock()
	defer mu.Unlock()
	if !prepared[dbName] {
		admin, err := sqlx.Open("postgres", AdminURL())
		if err == nil {
			err = admin.PingContext(ctx)
		}
		if err != nil {
			unavailable(t, "PostgreSQL", err)
			return nil
		}
		// Identifiers cannot be bound as parameters; QuoteIdentifier makes
		// the name safe to splice.
		_, err = admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(dbName)+` WITH (FORCE)`)
		if err == nil {
			_, err = admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(dbName))
		}
		admin.Close()
		if err != nil {
			t.Fatalf("create test database %s: %v", dbName, err)
		}
	}
	db, err := store.Open(ctx, URL(dbName))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	if !prepared[dbName] {
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrate test database: %v", err)
		}
		prepared[dbName] = true
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// URL returns the connection URL of the named database on the test server.
func URL(dbName string) string {
	u := AdminURL()
	i := strings.LastIndex(u, "/")
	q := ""
	if j := strings.Index(u[i:], "?"); j >= 0 {
		q = u[i+j:]
	}
	return u[:i+1] + dbName + q
}

// Redis returns a client on Redis DB number dbNum, flushed first. Give each
// test package its own number: 1 web, 2 jobs, 3 market, 4 sentiment,
// 5 app, 6 upstream.
func Redis(t testing.TB, dbNum int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: RedisAddr(), DB: dbNum})
	if err := c.Ping(context.Background()).Err(); err != nil {
		c.Close()
		unavailable(t, "Redis", err)
		return nil
	}
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush redis db %d: %v", dbNum, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var userSeq atomic.Int64

// User creates an account with a name unique in the test database.
func User(t testing.TB, db *store.DB) *store.User {
	t.Helper()
	name := fmt.Sprintf("user%d_%d", time.Now().UnixNano(), userSeq.Add(1))
	u, err := db.CreateUser(context.Background(), name+"@example.com", name, "not-a-real-hash", store.RoleUser)
	if err != nil {
		t.Fatalf("create test user: %v", err)
	}
	return u
}

// Token creates an account and returns an API token for it.
func Token(t testing.TB, db *store.DB) string {
	t.Helper()
	u := User(t, db)
	token, digest, err := auth.NewToken()
	if err == nil {
		err = db.CreateAPIToken(context.Background(), u.ID, digest, "test")
	}
	if err != nil {
		t.Fatalf("create test token: %v", err)
	}
	return token
}
