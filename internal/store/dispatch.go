package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// DispatchRule says when a queued job's task is put in Redis (the job is
// dispatched) and when the job is held in PostgreSQL for its owner's turn
// (docs/fairness.md). Like AdmissionRule it is plain values, executed by
// the store (admit_job_by_rule and dispatch_held_jobs, migration 00014);
// what they are is internal/admission's to decide.
type DispatchRule struct {
	// PerOwner is how many dispatched live jobs (in Redis, running, or
	// waiting for a retry) an owner keeps in the line before its other
	// jobs are held: an owner below it has its next job dispatched
	// whatever else waits. 0 holds nothing: every job is dispatched at
	// once, as before fair turns.
	PerOwner int
	// AheadPerSlot is how many dispatched jobs per worker slot may wait
	// in Redis beyond those running, so that a slot that frees up finds
	// its next task there at once. While nobody's job is held, jobs are
	// dispatched up to the workers' slots times (1 + AheadPerSlot), so a
	// lone user's jobs use every slot.
	AheadPerSlot int
}

// Holds reports whether the rule holds any job back.
func (r DispatchRule) Holds() bool { return r.PerOwner > 0 }

// dispatchLockKey is the PostgreSQL advisory lock on which dispatchers
// take turns ("augd" in ASCII; jobs.ReconcileLockKey is "augr").
const dispatchLockKey int64 = 0x61756764

// DispatchedJob is a job dispatch_held_jobs just dispatched: what its task
// needs.
type DispatchedJob struct {
	ID           uuid.UUID      `db:"id"`
	OwnerID      int64          `db:"owner_id"`
	Kind         JobKind        `db:"kind"`
	Queue        string         `db:"queue"`
	RequestID    sql.NullString `db:"request_id"`
	CreatedAt    time.Time      `db:"created_at"`
	DispatchedAt time.Time      `db:"dispatched_at"`
}

// Job is the dispatched job as a queued Job with the fields a task is
// built from; the others are zero.
func (d *DispatchedJob) Job() *Job {
	at := d.DispatchedAt
	return &Job{
		ID: d.ID, OwnerID: d.OwnerID, Kind: d.Kind, Queue: d.Queue, Status: StatusQueued,
		RequestID: d.RequestID.String, CreatedAt: d.CreatedAt, DispatchedAt: &at,
	}
}

// DispatchHeldJobs dispatches up to limit held jobs in their owners'
// turns under rule, and returns them, oldest dispatch first, for the
// caller to enqueue. queues names the queues in the order an owner's own
// jobs go (the most urgent first). It is one round trip, and next to
// nothing when no job is held. A job it returns whose enqueue then fails
// is dispatched without a task, which the reconciler finds and enqueues.
func (db *DB) DispatchHeldJobs(ctx context.Context, rule DispatchRule, queues []string, limit int) ([]DispatchedJob, error) {
	var out []DispatchedJob
	if err := db.selectAll(ctx, &out, `SELECT id, owner_id, kind, queue, request_id, created_at, dispatched_at
		FROM dispatch_held_jobs($1, $2, $3, $4, $5)`, rule.PerOwner, rule.AheadPerSlot, pq.Array(queues), limit,
		dispatchLockKey); err != nil {
		return nil, fmt.Errorf("dispatch held jobs: %w", err)
	}
	return out, nil
}

// KeepWorkerSlots records that the named worker runs slots jobs at once,
// for ttl from now; the dispatch rule sizes the line in Redis by the slots
// of the workers alive. Expired rows are deleted on the way.
func (db *DB) KeepWorkerSlots(ctx context.Context, worker string, slots int, ttl time.Duration) error {
	if _, err := db.exec(ctx, `WITH gone AS (DELETE FROM worker_slots WHERE expires_at < now() AND worker_id <> $1)
		INSERT INTO worker_slots (worker_id, slots, expires_at) VALUES ($1, $2, now() + $3 * interval '1 microsecond')
		ON CONFLICT (worker_id) DO UPDATE SET slots = excluded.slots, expires_at = excluded.expires_at`,
		worker, slots, ttl.Microseconds()); err != nil {
		return fmt.Errorf("record slots of worker %s: %w", worker, err)
	}
	return nil
}

// DropWorkerSlots forgets the named worker's slots, when it stops.
func (db *DB) DropWorkerSlots(ctx context.Context, worker string) error {
	if _, err := db.exec(ctx, `DELETE FROM worker_slots WHERE worker_id = $1`, worker); err != nil {
		return fmt.Errorf("forget slots of worker %s: %w", worker, err)
	}
	return nil
}

// HeldJobs is what waits in PostgreSQL for its turn: how many jobs, and
// how long the oldest of them has waited, in seconds by the database's
// clock (0 when none).
type HeldJobs struct {
	Count         int     `db:"count"`
	OldestSeconds float64 `db:"oldest_seconds"`
}

// HeldJobStats counts the held jobs, for the metrics that scale the
// workers and alert: a job held is work waiting as much as a task in
// Redis.
func (db *DB) HeldJobStats(ctx context.Context) (HeldJobs, error) {
	var h HeldJobs
	if err := db.get(ctx, &h, `SELECT count(*) AS count,
			coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_seconds
		FROM jobs WHERE status = 'queued' AND dispatched_at IS NULL`); err != nil {
		return HeldJobs{}, fmt.Errorf("count held jobs: %w", err)
	}
	return h, nil
}
