package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// WithAdvisoryLock runs fn while this process holds the PostgreSQL session
// advisory lock key, and reports whether it ran: when another session holds
// the lock, fn does not run and the result is false with no error. It lets
// replicas of a program take turns at work that only one should do at once.
func (db *DB) WithAdvisoryLock(ctx context.Context, key int64, fn func(context.Context) error) (ran bool, err error) {
	// A session lock belongs to one connection, so the lock and the unlock
	// must use the same one, not any connection of the pool.
	conn, err := db.pool.Connx(ctx)
	if err != nil {
		return false, fmt.Errorf("advisory lock %d: connect: %w", key, err)
	}
	defer conn.Close()
	var locked bool
	if err := conn.GetContext(ctx, &locked, `SELECT pg_try_advisory_lock($1)`, key); err != nil {
		return false, fmt.Errorf("take advisory lock %d: %w", key, err)
	}
	if !locked {
		return false, nil
	}
	defer func() {
		// Unlock even when ctx has ended, or the lock would outlive fn.
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, unlockErr := conn.ExecContext(unlockCtx, `SELECT pg_advisory_unlock($1)`, key); unlockErr != nil {
			// A connection that may still hold the lock must not go back to
			// the pool: discarding it ends its session, which releases it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("release advisory lock %d: %w", key, unlockErr))
		}
	}()
	return true, fn(ctx)
}
