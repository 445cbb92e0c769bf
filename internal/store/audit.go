package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// auditLockKey is the transaction-level advisory lock every audit append
// takes, so that appends line up one behind another and the hash chain
// never forks. Transaction-level, so it holds through PgBouncer's
// transaction pooling (see WithAdvisoryLock).
const auditLockKey int64 = 0x61756761

// AuditEntry is one row of the audit trail (internal/audit owns its
// meaning and its hash).
type AuditEntry struct {
	ID        int64     `db:"id" json:"id"`
	At        time.Time `db:"at" json:"time"`
	ActorID   *int64    `db:"actor_id" json:"actor_id,omitempty"`
	Actor     string    `db:"actor" json:"actor"`
	Action    string    `db:"action" json:"action"`
	Target    string    `db:"target" json:"target"`
	IP        string    `db:"ip" json:"ip"`
	RequestID string    `db:"request_id" json:"request_id"`
	Outcome   string    `db:"outcome" json:"outcome"`
	// Details is a JSON object of strings.
	Details  JSON   `db:"details" json:"details"`
	PrevHash []byte `db:"prev_hash" json:"prev_hash"`
	Hash     []byte `db:"hash" json:"hash"`
}

// AuditAppend is an audit row to append in the transaction of the change
// it records, so that the change is never made unaudited. Seal computes
// the row's hash once its id, time and previous hash are set.
type AuditAppend struct {
	Entry *AuditEntry
	Seal  func(*AuditEntry) []byte
}

const auditColumns = `id, at, actor_id, actor, action, target, ip, request_id, outcome, details, prev_hash, hash`

// AppendAudit appends a's row in a transaction of its own.
func (db *DB) AppendAudit(ctx context.Context, a *AuditAppend) error {
	return db.inTx(ctx, nil, func(tx querier) error { return appendAudit(ctx, tx, a) })
}

// appendAudit appends a's row in tx, last of all the transaction's
// statements where it can be, since the lock it takes holds every other
// append back until tx ends. The id is drawn under the lock, so chain
// order is id order.
func appendAudit(ctx context.Context, tx querier, a *AuditAppend) error {
	if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLockKey); err != nil {
		return fmt.Errorf("lock the audit chain: %w", err)
	}
	e := a.Entry
	err := tx.get(ctx, &e.PrevHash, `SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		e.PrevHash = make([]byte, 32)
	case err != nil:
		return fmt.Errorf("read the audit chain's last hash: %w", err)
	}
	var next struct {
		ID int64     `db:"id"`
		At time.Time `db:"at"`
	}
	if err := tx.get(ctx, &next, `SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) AS id, clock_timestamp() AS at`); err != nil {
		return fmt.Errorf("number the audit row: %w", err)
	}
	e.ID, e.At = next.ID, next.At.UTC()
	if e.Details == nil {
		e.Details = JSON(`{}`)
	}
	e.Hash = a.Seal(e)
	if _, err := tx.exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.ID, e.At, e.ActorID, e.Actor, e.Action, e.Target, e.IP, e.RequestID, e.Outcome, e.Details, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("append audit row %s: %w", e.Action, err)
	}
	return nil
}

// AuditChain returns up to limit rows after id afterID, in chain order,
// for verification.
func (db *DB) AuditChain(ctx context.Context, afterID int64, limit int) ([]AuditEntry, error) {
	var rows []AuditEntry
	if err := db.selectAll(ctx, &rows, `SELECT `+auditColumns+` FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit); err != nil {
		return nil, fmt.Errorf("read the audit chain after %d: %w", afterID, err)
	}
	return rows, nil
}

// AuditFilter selects audit rows; zero fields select everything.
type AuditFilter struct {
	// Actor matches the actor exactly (an email, "cli:<user>", "system").
	Actor, Action, Target string
	// From and To bound the time, From inclusive, To exclusive.
	From, To time.Time
	// BeforeID is the cursor: rows older than it (0 = from the newest).
	BeforeID int64
	Limit    int
}

// AuditRows returns the rows f selects, newest first.
func (db *DB) AuditRows(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var rows []AuditEntry
	err := db.selectAll(ctx, &rows, `SELECT `+auditColumns+` FROM audit_log
		WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR action = $2) AND ($3 = '' OR target = $3)
			AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
			AND ($6 = 0 OR id < $6)
		ORDER BY id DESC LIMIT $7`,
		f.Actor, f.Action, f.Target, nullTime(f.From), nullTime(f.To), f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list audit rows: %w", err)
	}
	return rows, nil
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: !t.IsZero()} }

// PruneAudit deletes the audit rows older than age, and only a prefix of
// the chain: every row before the first one young enough to keep, so that
// the rows kept still verify from the oldest. The session setting it sets
// for its transaction alone is what the append-only trigger lets delete.
// prune, when not nil, is appended in the same transaction to record the
// pruning itself.
func (db *DB) PruneAudit(ctx context.Context, age time.Duration, prune func(deleted int64) *AuditAppend) (int64, error) {
	var deleted int64
	err := db.inTx(ctx, nil, func(tx querier) error {
		if _, err := tx.exec(ctx, `SELECT set_config('augur.audit_prune', 'on', true)`); err != nil {
			return fmt.Errorf("allow audit pruning: %w", err)
		}
		n, err := tx.exec(ctx, `DELETE FROM audit_log WHERE id < (
			SELECT COALESCE(min(id), 9223372036854775807) FROM audit_log WHERE at >= now() - $1 * interval '1 microsecond')`,
			age.Microseconds())
		if err != nil {
			return fmt.Errorf("prune audit rows: %w", err)
		}
		deleted = n
		if n == 0 || prune == nil {
			return nil
		}
		return appendAudit(ctx, tx, prune(n))
	})
	return deleted, err
}
