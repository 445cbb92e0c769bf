package store

import (
	"context"
	"fmt"
)

// WithAdvisoryLock runs fn while this process holds the PostgreSQL
// advisory lock key, and reports whether it ran: when another session holds
// the lock, fn does not run and the result is false with no error. It lets
// replicas of a program take turns at work that only one should do at once.
//
// The lock is transaction-level, taken in a transaction that stays open
// (idle, with no snapshot and no transaction id, so it holds back no
// vacuum) while fn runs on the pool's other connections, and released by
// its rollback. A session-level lock would break behind a pooler in
// transaction mode (PgBouncer): the lock would stay on whichever server
// connection took it, the unlock could reach another, and that server
// connection would keep the lock, and lend its session to other clients
// as a holder of it. A transaction keeps one server connection for its
// whole length in every pooling mode. If the connection drops, or ctx
// ends, the transaction ends and the lock with it, as a session's would;
// an idle_in_transaction_session_timeout shorter than fn's run would end
// it early, so leave that setting off for Augur's role.
func (db *DB) WithAdvisoryLock(ctx context.Context, key int64, fn func(context.Context) error) (ran bool, err error) {
	tx, err := db.pool.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("advisory lock %d: begin: %w", key, err)
	}
	// Rolling back releases the lock; there is nothing to commit.
	defer func() { _ = tx.Rollback() }()
	var locked bool
	if err := tx.GetContext(ctx, &locked, `SELECT pg_try_advisory_xact_lock($1)`, key); err != nil {
		return false, fmt.Errorf("take advisory lock %d: %w", key, err)
	}
	if !locked {
		return false, nil
	}
	return true, fn(ctx)
}
