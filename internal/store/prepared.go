package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// prepared returns query as a statement prepared on the pool, once per DB.
// database/sql then prepares it on each connection the first time that
// connection runs it and keeps it there, so PostgreSQL parses and plans a
// statement once per connection instead of on every call, and each call
// is one round trip (Bind and Execute) instead of two (lib/pq sends an
// unprepared statement's Parse and waits before its Bind). See DB for why
// every statement of this package goes this way.
//
// Only constant query texts belong here: the cache keeps one statement per
// distinct text for the life of the DB.
func (db *DB) prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sqlx.Stmt), nil
	}
	s, err := db.pool.PreparexContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", err)
	}
	if earlier, raced := db.stmts.LoadOrStore(query, s); raced {
		_ = s.Close()
		return earlier.(*sqlx.Stmt), nil
	}
	return s, nil
}

// querier runs prepared statements: on the pool, or in tx when it is set.
type querier struct {
	db *DB
	tx *sqlx.Tx
}

// stmt returns the prepared statement of query, bound to the transaction
// when there is one; database/sql reuses the statement already prepared on
// the transaction's connection.
//
// A transaction must not wait for the pool to prepare a statement it has
// not seen: preparing takes a connection of its own, and when every
// connection is held by a transaction waiting the same way, none is ever
// given back. So a transaction prepares a new statement on its own
// connection, for this once (no dearer than an unprepared statement), and
// the pool prepares it beside, for the next transaction.
func (q querier) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if q.tx == nil {
		return q.db.prepared(ctx, query)
	}
	if s, ok := q.db.stmts.Load(query); ok {
		return q.tx.StmtxContext(ctx, s.(*sqlx.Stmt)), nil
	}
	q.db.prepareBeside(query)
	s, err := q.tx.PreparexContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", err)
	}
	return s, nil
}

// prepareBeside prepares query on the pool in the background, once at a
// time; a statement that fails to prepare is tried again on its next use.
func (db *DB) prepareBeside(query string) {
	if _, busy := db.preparing.LoadOrStore(query, true); busy {
		return
	}
	go func() {
		defer db.preparing.Delete(query)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = db.prepared(ctx, query)
	}()
}

// get runs a query that returns one row into dest; no row is
// sql.ErrNoRows, as with sqlx's GetContext.
func (q querier) get(ctx context.Context, dest any, query string, args ...any) error {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return err
	}
	return s.GetContext(ctx, dest, args...)
}

// exec runs a statement that returns no rows.
func (q querier) exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// selectAll runs a query into the slice dest.
func (q querier) selectAll(ctx context.Context, dest any, query string, args ...any) error {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return err
	}
	return s.SelectContext(ctx, dest, args...)
}

// rows runs a query whose rows the caller scans itself.
func (q querier) rows(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryxContext(ctx, args...)
}

// get, exec and selectAll run on the pool, as querier's do.
func (db *DB) get(ctx context.Context, dest any, query string, args ...any) error {
	return querier{db: db}.get(ctx, dest, query, args...)
}

func (db *DB) exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error) {
	return querier{db: db}.exec(ctx, query, args...)
}

func (db *DB) selectAll(ctx context.Context, dest any, query string, args ...any) error {
	return querier{db: db}.selectAll(ctx, dest, query, args...)
}

// closeStatements closes every prepared statement; Close calls it.
func (db *DB) closeStatements() {
	db.stmts.Range(func(key, s any) bool {
		_ = s.(*sqlx.Stmt).Close()
		db.stmts.Delete(key)
		return true
	})
}
