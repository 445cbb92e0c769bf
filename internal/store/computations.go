package store

import (
	"context"
	"fmt"
	"time"

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
// for. A succeeded job that finished more than maxAge ago is not taken
// (0: any age is): the caller computes anew, as for a result with news in
// it, which goes stale with the news. Claims are rows with the key as
// primary key, so of any number of identical jobs starting at once
// exactly one computes.
//
// The caller is attempt a of its job, and a claim it writes is fenced as
// every write of an attempt is (see Attempt): a stale attempt claims
// nothing and gets ErrNotHeld, or ErrJobFinished when its job ended. The
// job row is read FOR SHARE with the claim, so that no newer attempt can
// start in between.
//
// The first claim of a key is one statement. Only a key claimed before
// takes a transaction, which locks the claim, so that two jobs taking
// over from a failed one cannot both compute, and reads its job after
// the lock, so that the job's start, committed before its claim, is seen.
func (db *DB) ClaimComputation(ctx context.Context, reuseKey []byte, a Attempt, force bool, maxAge time.Duration) (Claim, error) {
	jobID := a.JobID
	mine := Claim{JobID: jobID}
	var first struct {
		Held    bool `db:"held"`
		Claimed bool `db:"claimed"`
	}
	err := db.get(ctx, &first, `WITH held AS (
			SELECT id FROM jobs WHERE `+heldBy+` FOR SHARE
		), claimed AS (
			INSERT INTO job_computations (reuse_key, job_id) SELECT $4, id FROM held
			ON CONFLICT (reuse_key) DO NOTHING RETURNING job_id
		)
		SELECT EXISTS (SELECT 1 FROM held) AS held, EXISTS (SELECT 1 FROM claimed) AS claimed`,
		a.JobID, a.Number, a.Worker, reuseKey)
	switch {
	case err != nil:
		return Claim{}, fmt.Errorf("claim computation: %w", err)
	case !first.Held:
		return Claim{}, db.refusal(ctx, a, "", ErrNotHeld)
	case first.Claimed:
		return mine, nil
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
		var row struct {
			jobRow
			Fresh bool `db:"fresh"`
		}
		if err := q.get(ctx, &row, `SELECT status, lease_expires_at,
			coalesce(status = 'running' AND lease_expires_at < now(), false) AS worker_lost,
			$2 = 0 OR coalesce(finished_at > now() - $2 * interval '1 microsecond', false) AS fresh
			FROM jobs WHERE id = $1`, owner, maxAge.Microseconds()); err != nil {
			return Claim{}, fmt.Errorf("claim computation: load job %s: %w", owner, err)
		}
		j := row.job()
		// A job released for a retry (no lease) is not followed: its retry
		// may wait behind the very followers that wait for it.
		if j.Status == StatusSucceeded && row.Fresh || j.Held() {
			return Claim{JobID: owner, Succeeded: j.Status == StatusSucceeded}, tx.Commit()
		}
	}
	if owner != jobID {
		n, err := q.exec(ctx, `UPDATE job_computations SET job_id = $1, claimed_at = now() WHERE reuse_key = $4
			AND EXISTS (SELECT 1 FROM jobs WHERE `+heldBy+` FOR SHARE)`, a.JobID, a.Number, a.Worker, reuseKey)
		if err != nil {
			return Claim{}, fmt.Errorf("claim computation: take it over: %w", err)
		}
		if n == 0 {
			_ = tx.Rollback()
			return Claim{}, db.refusal(ctx, a, "", ErrNotHeld)
		}
	}
	if err := tx.Commit(); err != nil {
		return Claim{}, fmt.Errorf("claim computation: commit: %w", err)
	}
	return mine, nil
}

// DropComputation gives up attempt a's claim on reuseKey, so that no later
// job takes a's result: one computed while some of its inputs failed (the
// news sources, say) must not outlive the failure. A job that waits for a
// to finish then computes its own. It is fenced as every write of an
// attempt is; a claim that is not a's is left alone.
func (db *DB) DropComputation(ctx context.Context, reuseKey []byte, a Attempt) error {
	if _, err := db.exec(ctx, `DELETE FROM job_computations WHERE reuse_key = $4 AND job_id = $1
		AND EXISTS (SELECT 1 FROM jobs WHERE `+heldBy+`)`, a.JobID, a.Number, a.Worker, reuseKey); err != nil {
		return fmt.Errorf("drop the computation claim of job %s: %w", a.JobID, err)
	}
	return nil
}

// FinishReused ends attempt a's job succeeded with the result of the job
// from, which computed it, marks it reused, and names that job in
// reused_from when both are the same owner's. It is one statement that
// copies the result inside PostgreSQL, rather than reading it out and
// sending it back. It is fenced by the attempt as FinishJob is, and
// answers as it does when the job is no longer running under a;
// ErrNotFound means from holds no result to take (retention removed it
// since the claim).
func (db *DB) FinishReused(ctx context.Context, a Attempt, from uuid.UUID) error {
	var n int
	err := db.get(ctx, &n, `WITH done AS (UPDATE jobs j SET status = 'succeeded', result = o.result, reused = true,
			reused_from = CASE WHEN o.owner_id = j.owner_id THEN o.id END, error = NULL,
			progress = 100, progress_detail = NULL, finished_at = now()
		FROM jobs o
		WHERE j.id = $1 AND j.status = 'running' AND j.attempts = $2 AND j.worker_id = $3
			AND o.id = $4 AND o.status = 'succeeded'`+finishedJobReturning("j")+`)`+jobEventsRecorded, a.JobID, a.Number, a.Worker, from)
	if err != nil {
		return fmt.Errorf("finish job %s with the result of job %s: %w", a.JobID, from, err)
	}
	if n > 0 {
		return nil
	}
	return db.refusal(ctx, a, StatusSucceeded,
		fmt.Errorf("finish job %s with the result of job %s: %w", a.JobID, from, ErrNotFound))
}
