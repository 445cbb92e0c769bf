package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// prepared returns query as a statement prepared on the pool, once per DB.
// database/sql then prepares it on each connection the first time that
// connection runs it and keeps it there, so PostgreSQL parses and plans a
// hot statement once per connection instead of on every call, and each
// call is one round trip (Bind and Execute) instead of two (lib/pq sends
// an unprepared statement's Parse and waits before its Bind).
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

// get runs a prepared query that returns one row into dest; no row is
// sql.ErrNoRows, as with sqlx's GetContext.
func (db *DB) get(ctx context.Context, dest any, query string, args ...any) error {
	s, err := db.prepared(ctx, query)
	if err != nil {
		return err
	}
	return s.GetContext(ctx, dest, args...)
}

// exec runs a prepared statement that returns no rows.
func (db *DB) exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error) {
	s, err := db.prepared(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// selectAll runs a prepared query into the slice dest.
func (db *DB) selectAll(ctx context.Context, dest any, query string, args ...any) error {
	s, err := db.prepared(ctx, query)
	if err != nil {
		return err
	}
	return s.SelectContext(ctx, dest, args...)
}

// txStmt returns the prepared statement of query bound to tx; database/sql
// reuses the statement already prepared on the transaction's connection.
func (db *DB) txStmt(ctx context.Context, tx *sqlx.Tx, query string) (*sqlx.Stmt, error) {
	s, err := db.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtxContext(ctx, s), nil
}

// closeStatements closes every prepared statement; Close calls it.
func (db *DB) closeStatements() {
	db.stmts.Range(func(key, s any) bool {
		_ = s.(*sqlx.Stmt).Close()
		db.stmts.Delete(key)
		return true
	})
}
