package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/store"
)

// ErrNoTask means asynq holds no task for the job: Redis never got it, or
// lost it.
var ErrNoTask = errors.New("no task in the queue")

// Queue is Augur's side of asynq: it puts jobs on the queues, withdraws
// canceled ones, and tells what asynq holds of a job. Everything else
// reaches asynq through it.
type Queue struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	timeouts  Timeouts
}

// NewQueue returns a Queue on the given Redis client. It needs no closing:
// the client stays the caller's.
func NewQueue(rdb redis.UniversalClient, timeouts Timeouts) *Queue {
	return &Queue{
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
		timeouts:  timeouts,
	}
}

// Enqueue puts the job's task on its queue. A task that is already there
// (same id) counts as success.
func (q *Queue) Enqueue(ctx context.Context, job *store.Job) error {
	task, err := NewTask(job, q.timeouts)
	if err != nil {
		return err
	}
	_, err = q.client.EnqueueContext(ctx, task)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue job %s: %w", job.ID, err)
	}
	return nil
}

// Cancel withdraws the task of a job that was just canceled, given the
// status the job had before: a queued job's task is deleted from its queue,
// and the worker running a running one is told to stop. It is a courtesy:
// the job row is already canceled, and a worker that gets the task anyway
// sees that and skips it.
func (q *Queue) Cancel(job *store.Job, previous string) error {
	switch previous {
	case store.StatusQueued:
		err := q.inspector.DeleteTask(job.Queue, job.ID.String())
		if err != nil && !isNoTask(err) {
			return fmt.Errorf("delete task of canceled job %s: %w", job.ID, err)
		}
	case store.StatusRunning:
		if err := q.inspector.CancelProcessing(job.ID.String()); err != nil {
			return fmt.Errorf("signal cancel of job %s to its worker: %w", job.ID, err)
		}
	}
	return nil
}

// Task returns what asynq holds of the job's task on the named queue, or
// ErrNoTask.
func (q *Queue) Task(queue string, id uuid.UUID) (*asynq.TaskInfo, error) {
	info, err := q.inspector.GetTaskInfo(queue, id.String())
	if isNoTask(err) {
		return nil, ErrNoTask
	}
	if err != nil {
		return nil, fmt.Errorf("look up task of job %s: %w", id, err)
	}
	return info, nil
}

// Collector returns a Prometheus collector of the queues' sizes and
// latencies.
func (q *Queue) Collector() prometheus.Collector {
	return metrics.NewQueueMetricsCollector(q.inspector)
}

// isNoTask reports whether asynq answered that it has no such task. A queue
// that asynq has never seen holds no task either.
func isNoTask(err error) bool {
	return errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound)
}
