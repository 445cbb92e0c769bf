package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Claim is who computes the result a reuse key names, as
// ClaimComputation settled it.
type Claim struct {
	// JobID is the job that computes the result: the caller's own job
	// when it is the one to compute.
	JobID uuid.UUID
	// Succeeded says that job has finished with the result, which
	// FinishReused can take.
	Succeeded bool
}

// ClaimComputation settles which job computes the result that reuseKey
// names (see jobs.PredictionParams.ReuseKey). It is the caller itself
// when no job has claimed the key yet, when the job that had it failed,
// was canceled or lost its worker, or when force is set (a request that
// asked for a fresh result). Otherwise it is the job that holds the
// claim: one that already succeeded, whose result can be taken as it is,
// or one that a live worker is computing now, which the caller can wait
// for. Claims are rows with the key as primary key, so of any number of
// identical jobs starting at once exactly one computes.
//
// The first claim of a key is one statement. Only a key claimed before
// takes a transaction, which locks the claim, so that two jobs taking
// over from a failed one cannot both compute, and reads its job after
// the lock, so that the job's start, committed before its claim, is seen.
func (db *DB) ClaimComputation(ctx context.Context, reuseKey []byte, jobID uuid.UUID, force bool) (Claim, error) {
	mine := Claim{JobID: jobID}
	var claimed uuid.UUID
	err := db.get(ctx, &claimed, `INSERT INTO job_computations (reuse_key, job_id) VALUES ($1, $2)
		ON CONFLICT (reuse_key) DO NOTHING RETURNING job_id`, reuseKey, jobID)
	switch {
	case err == nil:
		return mine, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Claim{}, fmt.Errorf("claim computation: %w", err)
	}

	tx, err := db.pool.BeginTxx(ctx, nil)
	if err != nil {
		return Claim{}, fmt.Errorf("claim computation: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	q := querier{db: db, tx: tx}
	var owner uuid.UUID
	if err := q.get(ctx, &owner, `SELECT job_id FROM job_computations WHERE reuse_key = $1 FOR UPDATE`, reuseKey); err != nil {
		// The claim's job was deleted (retention) since the insert.
		return Claim{}, fmt.Errorf("claim computation: read the claim: %w", err)
	}
	if owner != jobID && !force {
		// worker_lost is jobColumns' rule for a lapsed lease, by the
		// database's clock, which wrote the lease.
		var row jobRow
		if err := q.get(ctx, &row, `SELECT status, lease_expires_at,
			coalesce(status = 'running' AND lease_expires_at < now(), false) AS worker_lost
			FROM jobs WHERE id = $1`, owner); err != nil {
			return Claim{}, fmt.Errorf("claim computation: load job %s: %w", owner, err)
		}
		j := row.job()
		// A job released for a retry (no lease) is not followed: its retry
		// may wait behind the very followers that wait for it.
		if j.Status == StatusSucceeded || j.Held() {
			return Claim{JobID: owner, Succeeded: j.Status == StatusSucceeded}, tx.Commit()
		}
	}
	if owner != jobID {
		if _, err := q.exec(ctx, `UPDATE job_computations SET job_id = $2, claimed_at = now() WHERE reuse_key = $1`, reuseKey, jobID); err != nil {
			return Claim{}, fmt.Errorf("claim computation: take it over: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Claim{}, fmt.Errorf("claim computation: commit: %w", err)
	}
	return mine, nil
}

// FinishReused ends a live job succeeded with the result of the job from,
// which computed it, marks it reused, and names that job in reused_from
// when both are the same owner's. It is one
// statement that copies the result inside PostgreSQL, rather than reading
// it out and sending it back. Like FinishJob it gives ErrJobFinished when
// the job is already final; ErrNotFound means from holds no result to
// take (retention removed it since the claim).
func (db *DB) FinishReused(ctx context.Context, id, from uuid.UUID) error {
	n, err := db.exec(ctx, `UPDATE jobs j SET status = 'succeeded', result = o.result, reused = true,
			reused_from = CASE WHEN o.owner_id = j.owner_id THEN o.id END, error = NULL,
			progress = 100, progress_detail = NULL, finished_at = now()
		FROM jobs o
		WHERE j.id = $1 AND j.status IN ('queued', 'running') AND o.id = $2 AND o.status = 'succeeded'`, id, from)
	if err != nil {
		return fmt.Errorf("finish job %s with the result of job %s: %w", id, from, err)
	}
	if n > 0 {
		return nil
	}
	current, err := db.Job(ctx, id, 0)
	switch {
	case err != nil:
		return err
	case current.Final():
		return ErrJobFinished
	}
	return fmt.Errorf("finish job %s with the result of job %s: %w", id, from, ErrNotFound)
}
