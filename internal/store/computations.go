package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// ClaimComputation settles which job computes the result that reuseKey
// names (see jobs.PredictionParams.ReuseKey) and returns that job. It is
// the caller itself when no job has claimed the key yet, when the job
// that had it failed, was canceled or lost its worker, or when force is
// set (a request that asked for a fresh result). Otherwise it is the job
// that holds the claim: one that already succeeded, whose result can be
// taken as it is, or one that a live worker is computing now, which the
// caller can wait for. Claims are rows with the key as primary key, so of
// any number of identical jobs starting at once exactly one computes.
func (db *DB) ClaimComputation(ctx context.Context, reuseKey []byte, jobID uuid.UUID, force bool) (*Job, error) {
	tx, err := db.pool.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim computation: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO job_computations (reuse_key, job_id) VALUES ($1, $2)
		ON CONFLICT (reuse_key) DO NOTHING`, reuseKey, jobID); err != nil {
		return nil, fmt.Errorf("claim computation: %w", err)
	}
	var owner uuid.UUID
	if err := tx.GetContext(ctx, &owner, `SELECT job_id FROM job_computations WHERE reuse_key = $1 FOR UPDATE`,
		reuseKey); err != nil {
		return nil, fmt.Errorf("claim computation: read the claim: %w", err)
	}
	var j Job
	if owner != jobID && !force {
		err := tx.GetContext(ctx, &j, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, owner)
		if err != nil {
			return nil, fmt.Errorf("claim computation: load job %s: %w", owner, err)
		}
		// A job released for a retry (no lease) is not followed: its retry
		// may wait behind the very followers that wait for it.
		if j.Status == StatusSucceeded || j.Held() {
			return &j, tx.Commit()
		}
	}
	if owner != jobID {
		if _, err := tx.ExecContext(ctx, `UPDATE job_computations SET job_id = $2, claimed_at = now()
			WHERE reuse_key = $1`, reuseKey, jobID); err != nil {
			return nil, fmt.Errorf("claim computation: take it over: %w", err)
		}
	}
	if err := tx.GetContext(ctx, &j, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, jobID); err != nil {
		return nil, fmt.Errorf("claim computation: load job %s: %w", jobID, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim computation: commit: %w", err)
	}
	return &j, nil
}

// SetReusedFrom records on a running job that its result is the one that
// job from computed.
func (db *DB) SetReusedFrom(ctx context.Context, id, from uuid.UUID) error {
	res, err := db.pool.ExecContext(ctx, `UPDATE jobs SET reused_from = $2 WHERE id = $1 AND status = 'running'`, id, from)
	if err != nil {
		return fmt.Errorf("set reused_from of job %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrJobFinished
	}
	return nil
}
