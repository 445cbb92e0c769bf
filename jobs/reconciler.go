package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/augurhq/augur/internal/store"
)

// ReconcileLockKey is the PostgreSQL advisory lock that lets one worker
// replica at a time reconcile ("augr" in ASCII).
const ReconcileLockKey int64 = 0x61756772

// Reconciler finds jobs that PostgreSQL says are live but that asynq does
// not know (Redis was down at submit, or lost its data) and enqueues them
// again. The task id is the job id, so a job that is in fact queued is
// never enqueued twice.
type Reconciler struct {
	DB     *store.DB
	Queue  *Queue
	Logger *slog.Logger
	// Interval between passes.
	Interval time.Duration
	// Grace leaves young jobs alone: the web server enqueues right after
	// its commit, and needs no help unless that failed.
	Grace time.Duration
	// Batch is the most jobs one pass looks at.
	Batch int
}

// Run reconciles every Interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		if n, err := r.ReconcileOnce(ctx); err != nil && ctx.Err() == nil {
			r.Logger.ErrorContext(ctx, "reconcile jobs", "err", err)
		} else if n > 0 {
			r.Logger.InfoContext(ctx, "re-enqueued jobs missing from the queue", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReconcileOnce makes one pass and returns how many jobs it re-enqueued or
// closed. It does nothing when another replica holds the lock.
func (r *Reconciler) ReconcileOnce(ctx context.Context) (int, error) {
	fixed := 0
	_, err := r.DB.WithAdvisoryLock(ctx, ReconcileLockKey, func(ctx context.Context) error {
		var err error
		fixed, err = r.reconcile(ctx)
		return err
	})
	return fixed, err
}

// reconcile is one pass, made while holding the lock.
func (r *Reconciler) reconcile(ctx context.Context) (int, error) {
	jobs, err := r.DB.LiveJobs(ctx, time.Now().Add(-r.Grace), r.Batch)
	if err != nil {
		return 0, err
	}
	fixed := 0
	for i := range jobs {
		job := &jobs[i]
		info, err := r.Queue.Task(job.Queue, job.ID)
		switch {
		case err == nil && info.State == asynq.TaskStateArchived:
			// asynq gave up on the task but the job row was never closed
			// (the database was unreachable when it failed): close it now.
			msg := "gave up after retries: " + info.LastErr
			if err := r.DB.FinishJob(ctx, job.ID, store.StatusFailed, nil, msg); err != nil && !errors.Is(err, store.ErrJobFinished) {
				return fixed, err
			}
			fixed++
		case err == nil:
			// Queued, active, scheduled or retrying: asynq has it.
		case errors.Is(err, ErrNoTask):
			if err := r.Queue.Enqueue(ctx, job); err != nil {
				return fixed, err
			}
			fixed++
		default:
			return fixed, err
		}
	}
	return fixed, nil
}
