// Package store is Augur's PostgreSQL layer: sqlx with lib/pq,
// parameterised SQL only. Its files follow the tables (jobs.go, users.go,
// companies.go for companies and brokers, portfolio.go for wallets,
// holdings, transactions and dividends, price_bars.go, weights.go,
// computations.go, leaderboard.go); what an operator does across them
// lives in admin*.go and retention.go, and the plumbing in store.go,
// prepared.go, json.go, locks.go and sessions.go.
package store

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // also registers the "postgres" driver
	"github.com/pressly/goose/v3"

	"github.com/augurhq/augur/migrations"
)

// ErrNotFound means the row does not exist or is not visible to the caller.
var ErrNotFound = errors.New("not found")

// ErrSchemaBehind means the database has migrations still to apply.
var ErrSchemaBehind = errors.New("database schema is behind: run `web migrate`")

// DB is Augur's PostgreSQL database. It is safe for concurrent use. The
// pool stays private so that every statement lives in this package.
//
// Every statement runs prepared (get, exec, selectAll, and querier in a
// transaction; see prepared.go). With lib/pq that is the faster way, not
// merely the tidier one: lib/pq sends a statement with arguments as an
// unnamed Parse and waits for its description before it can Bind, two
// round trips a call, and PostgreSQL keeps no plan of an unnamed statement
// for the next call (its plan cache is per named prepared statement, per
// connection). A statement prepared once per connection is one round trip
// and is parsed once. The few exceptions run where no prepared statement
// can: a text built at run time (Tables' digest, CREATE DATABASE), a
// statement that must run on one connection (WithAdvisoryLock), and the
// libraries that bring their own SQL (goose, the session store). A
// migration that changes a table's columns makes PostgreSQL refuse a
// prepared statement that reads them with *, once per connection ("cached
// plan must not change result type"), so statements name their columns.
type DB struct {
	pool *sqlx.DB
	// stmts holds the prepared statements by query text (prepared.go).
	stmts sync.Map
	// preparing holds the query texts being prepared in the background
	// (prepareBeside).
	preparing sync.Map
}

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{pool: db}, nil
}

// Pool sizes the connection pool.
type Pool struct {
	MaxOpen, MaxIdle int
	// MaxLifetime 0 keeps connections forever.
	MaxLifetime time.Duration
}

// SetPool resizes the connection pool; Open starts with a pool that suits
// tests and one-off commands.
func (db *DB) SetPool(p Pool) {
	db.pool.SetMaxOpenConns(p.MaxOpen)
	db.pool.SetMaxIdleConns(p.MaxIdle)
	db.pool.SetConnMaxLifetime(p.MaxLifetime)
}

// Close closes the connection pool.
func (db *DB) Close() error {
	db.closeStatements()
	return db.pool.Close()
}

// Ping checks that PostgreSQL answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.PingContext(ctx) }

func (db *DB) migrator() (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db.pool.DB, migrations.FS)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration and returns the new version.
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	p, err := db.migrator()
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("apply migrations: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// CheckSchema returns ErrSchemaBehind when migrations are pending, so that a
// binary never runs against a schema older than it expects.
func (db *DB) CheckSchema(ctx context.Context) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current < target {
		return fmt.Errorf("%w (at version %d, binary needs %d)", ErrSchemaBehind, current, target)
	}
	return nil
}

// CreateDatabase creates the database named in url when it does not exist,
// connecting to the server's "postgres" database to do so. It reports
// whether it created one.
func CreateDatabase(ctx context.Context, url string) (bool, error) {
	u, err := neturl.Parse(url)
	if err != nil {
		return false, fmt.Errorf("parse database URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" {
		return false, nil
	}
	u.Path = "/postgres"
	admin, err := Open(ctx, u.String())
	if err != nil {
		return false, err
	}
	defer admin.Close()
	var exists bool
	if err := admin.get(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name); err != nil {
		return false, fmt.Errorf("look for database %s: %w", name, err)
	}
	if exists {
		return false, nil
	}
	// Identifiers cannot be bound as parameters; pq.QuoteIdentifier makes
	// any name safe to splice.
	if _, err := admin.pool.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)); err != nil && !isDuplicateDatabase(err) {
		return false, fmt.Errorf("create database %s: %w", name, err)
	}
	return true, nil
}

func isDuplicateDatabase(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "42P04"
}

// IsTransient reports whether a failed statement may succeed if tried again
// later: the server could not be reached, is shutting down or restarting,
// ran short of resources, or rolled the transaction back over a conflict.
// An error about the statement or its data (a value jsonb refuses, a broken
// constraint) fails the same way every time, so retrying it only wastes
// the wait.
func IsTransient(err error) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		// No answer from the server at all: refused, reset, timed out.
		return err != nil
	}
	if serverUnavailable(pqErr) {
		return true
	}
	switch pqErr.Code.Class() {
	case "40", // transaction rollback (serialization failure, deadlock)
		"58": // system error
		return true
	}
	return false
}

// IsUnavailable reports whether the server answered that it cannot serve
// now, rather than that the statement was wrong: the error a caller turns
// into "try again later" (503). Errors with no answer from the server
// (refused, reset) are the caller's to classify with its other transports.
func IsUnavailable(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && serverUnavailable(pqErr)
}

func serverUnavailable(pqErr *pq.Error) bool {
	switch pqErr.Code.Class() {
	case "08", // connection exception
		"53", // insufficient resources (too many connections, disk full)
		"57": // operator intervention (admin shutdown, starting up, cannot connect now)
		return true
	}
	return false
}
