package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/augurhq/augur/internal/store"
)

// ReconcileLockKey is the PostgreSQL advisory lock that lets one worker
// replica at a time reconcile ("augr" in ASCII).
const ReconcileLockKey int64 = 0x61756772

// Reconciler keeps Redis in step with PostgreSQL, the source of truth. Each
// pass it
//   - lists the queues in asynq's registry again, which an empty restart of
//     Redis wipes;
//   - settles the tasks asynq archived (gave up on): a job still open is
//     closed as failed, and once the job is final the task is deleted,
//     because the job row then tells the whole story and an archived task
//     would only inflate asynq_queue_size;
//   - enqueues again the live jobs asynq does not know (Redis was down at
//     submit, or lost its data), except a running job whose worker still
//     holds it: that one is not missing, and a second copy would run it
//     twice at once;
//   - rescues a running job whose worker let its lease lapse (killed, or
//     cut off) while asynq still counts the task as active: asynq notices
//     only once its own 30 s lease has lapsed and its recoverer, which
//     looks once a minute, comes by, so the job would wait up to a minute
//     and a half. A rescue task takes the job over at once; the lapsed
//     lease lets it in, and the old task, when asynq retries it, finds the
//     job held or finished and is dropped;
//   - dispatches the held jobs whose turn it is (Dispatcher), in case the
//     dispatch after a task was lost with its worker or with Redis's data.
//
// A job held for its turn has no task, and is not missing.
//
// The task id is the job id, so a job that is in fact queued is never
// enqueued twice; a rescue's is the job id and the lost attempt's number,
// so each lost attempt is rescued once. Passes come every Interval, and
// at once when Redis returns (RedisWatch, in redis_return.go).
type Reconciler struct {
	DB     *store.DB
	Queue  *Queue
	Logger *slog.Logger
	// Interval between passes.
	Interval time.Duration
	// Grace leaves young jobs alone: the web server enqueues right after
	// its commit, and needs no help unless that failed.
	Grace time.Duration
	// Batch is the most jobs, and the most archived tasks per queue, one
	// pass looks at.
	Batch int
	// Metrics counts what the passes changed; nil counts nothing.
	Metrics *ReconcilerMetrics
	// Dispatcher dispatches held jobs at the end of each pass; nil
	// dispatches none.
	Dispatcher *Dispatcher
	// Webhooks, when set, has each pass enqueue again the webhook
	// deliveries due before the Grace whose task was lost (Deliverer.Sweep).
	Webhooks *Deliverer
}

// ReconcilerMetrics counts the jobs the reconciler enqueued again and those
// it closed: either, steadily above zero, says tasks are being lost.
type ReconcilerMetrics struct {
	reenqueued, closed prometheus.Counter
}

// NewReconcilerMetrics registers augur_reconciler_reenqueued_total and
// augur_reconciler_closed_total.
func NewReconcilerMetrics(reg prometheus.Registerer) *ReconcilerMetrics {
	m := &ReconcilerMetrics{
		reenqueued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "augur_reconciler_reenqueued_total",
			Help: "Live jobs the reconciler found missing from Redis and enqueued again.",
		}),
		closed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "augur_reconciler_closed_total",
			Help: "Jobs the reconciler marked failed because asynq had given up on their task.",
		}),
	}
	reg.MustRegister(m.reenqueued, m.closed)
	return m
}

func (m *ReconcilerMetrics) count(p Pass) {
	if m == nil {
		return
	}
	m.reenqueued.Add(float64(p.Enqueued))
	m.closed.Add(float64(p.Closed))
}

// Pass counts what one reconcile pass changed. Nothing else counts: not a
// task asynq already had, nor a job that finished while the pass looked.
type Pass struct {
	// Enqueued is how many live jobs got a task again.
	Enqueued int
	// Closed is how many jobs asynq had given up on were marked failed.
	Closed int
	// Discarded is how many archived tasks were deleted.
	Discarded int
	// Dispatched is how many held jobs were dispatched.
	Dispatched int
	// Webhooks is how many overdue webhook deliveries were enqueued (again).
	Webhooks int
}

// Run reconciles every Interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		pass, err := r.ReconcileOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			r.Logger.ErrorContext(ctx, "reconcile jobs", "err", err, "enqueued", pass.Enqueued, "closed", pass.Closed, "discarded", pass.Discarded)
		case err == nil && pass != Pass{}:
			r.Logger.InfoContext(ctx, "reconciled jobs with the queue", "enqueued", pass.Enqueued, "closed", pass.Closed, "discarded", pass.Discarded,
				"dispatched", pass.Dispatched, "webhooks", pass.Webhooks)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReconcileOnce makes one pass and returns what it changed, also when it
// stopped at an error. It does nothing when another replica holds the lock.
func (r *Reconciler) ReconcileOnce(ctx context.Context) (Pass, error) {
	var pass Pass
	_, err := r.DB.WithAdvisoryLock(ctx, ReconcileLockKey, func(ctx context.Context) error {
		return r.reconcile(ctx, &pass, time.Now().Add(-r.Grace))
	})
	r.Metrics.count(pass)
	return pass, err
}

// reconcile is one pass, made while holding the lock, over the live jobs
// created before createdBefore.
func (r *Reconciler) reconcile(ctx context.Context, pass *Pass, createdBefore time.Time) error {
	if err := r.Queue.registerQueues(ctx); err != nil {
		return err
	}
	for _, queue := range queues {
		tasks, err := r.Queue.archived(queue, r.Batch)
		if err != nil {
			return err
		}
		for _, task := range tasks {
			if err := r.settleArchived(ctx, task, pass); err != nil {
				return err
			}
		}
	}
	jobs, err := r.DB.LiveJobs(ctx, createdBefore, r.Batch)
	if err != nil {
		return err
	}
	for i := range jobs {
		job := &jobs[i]
		info, err := r.Queue.Task(job.Queue, job.ID)
		switch {
		case err == nil && info.State == asynq.TaskStateArchived:
			// Archived since the sweep above.
			if err := r.settleArchived(ctx, info, pass); err != nil {
				return err
			}
		case err == nil && info.State == asynq.TaskStateActive && job.WorkerLost:
			if err := r.rescue(ctx, job.ID, pass); err != nil {
				return err
			}
		case err == nil:
			// Queued, active, scheduled or retrying: asynq has it.
		case errors.Is(err, ErrNoTask):
			if err := r.requeue(ctx, job.ID, pass); err != nil {
				return err
			}
		default:
			return err
		}
	}
	if err := r.sweepWebhooks(ctx, pass, createdBefore); err != nil {
		return err
	}
	return r.dispatch(ctx, pass)
}

// sweepWebhooks enqueues the webhook deliveries overdue since before.
func (r *Reconciler) sweepWebhooks(ctx context.Context, pass *Pass, before time.Time) error {
	if r.Webhooks == nil {
		return nil
	}
	n, err := r.Webhooks.Sweep(ctx, before, r.Batch)
	pass.Webhooks += n
	return err
}

// dispatch dispatches the held jobs whose turn it is.
func (r *Reconciler) dispatch(ctx context.Context, pass *Pass) error {
	n, err := r.Dispatcher.Dispatch(ctx)
	pass.Dispatched += n
	return err
}

// settleArchived deals with a task asynq gave up on. An open job is closed
// as failed (the database was unreachable when its last attempt failed, or
// its worker died on the last one), unless a live worker still holds it and
// will record the outcome itself. The close is no attempt's write, so no
// attempt fences it; store.CloseJob checks the lease in the same statement,
// so that an attempt starting between the read and the close is not
// clobbered. Once the job is final, or gone, the task is deleted.
func (r *Reconciler) settleArchived(ctx context.Context, task *asynq.TaskInfo, pass *Pass) error {
	id, ok := JobIDOfTask(task.ID)
	if !ok {
		// Not a job's task: not ours to delete.
		return nil
	}
	job, err := r.DB.Job(ctx, id, 0)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// The job went with its owner's account.
	case err != nil:
		return err
	case job.Held():
		return nil
	case !job.Final():
		err := r.DB.CloseJob(ctx, job.ID, "gave up after retries: "+task.LastErr)
		switch {
		case err == nil:
			pass.Closed++
		case errors.Is(err, store.ErrJobHeld):
			return nil
		case !errors.Is(err, store.ErrJobFinished):
			return err
		}
	}
	if err := r.Queue.discard(task.Queue, task.ID); err != nil {
		return err
	}
	pass.Discarded++
	return nil
}

// requeue enqueues a live job that asynq has no task for. The job is read
// again after asynq said so: a job that finished meanwhile lost its task
// for that very reason, and a running job whose worker holds it is not
// missing, only unknown to a Redis that lost its data.
func (r *Reconciler) requeue(ctx context.Context, id uuid.UUID, pass *Pass) error {
	job, err := r.DB.Job(ctx, id, 0)
	if err != nil {
		return err
	}
	if job.Final() || job.Held() {
		return nil
	}
	enqueued, err := r.Queue.enqueue(ctx, job)
	if enqueued {
		pass.Enqueued++
	}
	return err
}

// rescue enqueues a task that takes over a running job whose attempt's
// lease lapsed while asynq holds its task as active. The job is read again
// first: its worker may have renewed the lease, or another task taken the
// job, since the pass listed it.
func (r *Reconciler) rescue(ctx context.Context, id uuid.UUID, pass *Pass) error {
	job, err := r.DB.Job(ctx, id, 0)
	if err != nil {
		return err
	}
	// A job that keeps losing its worker (one it crashes, say) gets no
	// more attempts this way than asynq's retries would give it; after
	// that, asynq's own recovery of the task decides.
	if !job.WorkerLost || job.Attempts > MaxRetry {
		return nil
	}
	enqueued, err := r.Queue.rescue(ctx, job)
	if enqueued {
		pass.Enqueued++
		r.Logger.InfoContext(ctx, "job's worker lost; a rescue task takes it over", "job_id", job.ID, "lost_attempt", job.Attempts)
	}
	return err
}
