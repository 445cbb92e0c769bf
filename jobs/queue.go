package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/store"
)

// ErrNoTask means asynq holds no task for the job: Redis never got it, or
// lost it.
var ErrNoTask = errors.New("no task in the queue")

// Queue is Augur's client side of asynq: it puts jobs on the queues,
// withdraws canceled ones, and tells what asynq holds of a job; the web,
// the reconciler and the admin commands reach asynq through it. The
// consuming side does not: Worker.Register gives asynq's ServeMux the
// handlers, and internal/app runs the asynq.Server that calls them (and
// bench/load measures bare asynq, without Augur, on purpose).
type Queue struct {
	rdb       redis.UniversalClient
	client    *asynq.Client
	inspector *asynq.Inspector
	timeouts  Timeouts
	waking    atomic.Bool // wakeWhenBack is waiting for Redis
	space     keyspace.Space
}

// InKeyspace makes the queue's wake messages (see wakeWhenBack) the
// deployment's own, and returns the queue.
func (q *Queue) InKeyspace(space keyspace.Space) *Queue {
	q.space = space
	return q
}

// NewQueue returns a Queue on the given Redis client. It needs no closing:
// the client stays the caller's.
func NewQueue(rdb redis.UniversalClient, timeouts Timeouts) *Queue {
	return &Queue{
		rdb:       rdb,
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
		timeouts:  timeouts,
	}
}

// Enqueue puts the job's task on its queue. A task that is already there
// (same id) counts as success. A job held for its owner's turn
// (WaitsForTurn) gets no task: the Dispatcher enqueues it in its turn.
// When it fails, the reconciler enqueues the job later, and is woken for
// it as soon as Redis answers again.
func (q *Queue) Enqueue(ctx context.Context, job *store.Job) error {
	_, err := q.enqueue(ctx, job)
	if err != nil {
		q.wakeWhenBack()
	}
	return err
}

// enqueue is Enqueue that also tells whether it added a task, false when
// asynq already had one with the job's id, or the job waits for its turn.
func (q *Queue) enqueue(ctx context.Context, job *store.Job) (bool, error) {
	if job.WaitsForTurn() {
		return false, nil
	}
	return q.enqueueAs(ctx, job, job.ID.String())
}

// rescue enqueues a task that takes over the job from its latest attempt,
// whose lease lapsed while asynq still holds that attempt's task as active
// (see Reconciler). It reports false when that attempt was rescued before.
func (q *Queue) rescue(ctx context.Context, job *store.Job) (bool, error) {
	return q.enqueueAs(ctx, job, rescueTaskID(job.ID, job.Attempts))
}

// enqueueAs enqueues the job's task under taskID; false means asynq
// already has a task of that id.
func (q *Queue) enqueueAs(ctx context.Context, job *store.Job, taskID string) (bool, error) {
	task, err := newTask(job, q.timeouts, taskID)
	if err != nil {
		return false, err
	}
	_, err = q.client.EnqueueContext(ctx, task)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("enqueue job %s: %w", job.ID, err)
	}
	return true, nil
}

// queues are every queue a job can be put on.
var queues = []string{QueueCritical, QueueDefault, QueueLow}

// allQueuesKey is the Redis set in which asynq lists the queues it knows
// (asynq's internal base.AllQueues). The Inspector answers ErrQueueNotFound
// for a queue missing from it, and the metrics collector skips it.
const allQueuesKey = "asynq:queues"

// registerQueues lists every queue in asynq's set of queues. An asynq
// client adds a queue there only on its first enqueue to it and remembers
// having done so, so after Redis restarts empty the set stays empty, the
// Inspector finds no task at all and the queue metrics vanish, until every
// process restarts. Adding the names again is harmless and needs no
// restart. TestReconcilerSeesArchivedTasksAfterRedisRestartsEmpty pins the
// key against asynq's own Inspector.
func (q *Queue) registerQueues(ctx context.Context) error {
	names := make([]any, len(queues))
	for i, name := range queues {
		names[i] = name
	}
	if err := q.rdb.SAdd(ctx, allQueuesKey, names...).Err(); err != nil {
		return fmt.Errorf("register queues with asynq: %w", err)
	}
	return nil
}

// archived returns up to limit of the tasks asynq gave up on in the named
// queue, oldest first.
func (q *Queue) archived(queue string, limit int) ([]*asynq.TaskInfo, error) {
	tasks, err := q.inspector.ListArchivedTasks(queue, asynq.PageSize(limit))
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list archived tasks of queue %s: %w", queue, err)
	}
	return tasks, nil
}

// discard deletes a task that is not running (an archived one); a task
// that is already gone is no error.
func (q *Queue) discard(queue, id string) error {
	if err := q.inspector.DeleteTask(queue, id); err != nil && !isNoTask(err) {
		return fmt.Errorf("delete task %s from queue %s: %w", id, queue, err)
	}
	return nil
}

// Cancel withdraws the task of a job that was just canceled, given the
// status the job had before: a queued job's task is deleted from its queue,
// and the worker running a running one is told to stop. It is a courtesy:
// the job row is already canceled, and a worker that gets the task anyway
// sees that and skips it.
func (q *Queue) Cancel(job *store.Job, previous store.JobStatus) error {
	switch previous {
	case store.StatusQueued:
		err := q.inspector.DeleteTask(job.Queue, job.ID.String())
		if err != nil && !isNoTask(err) {
			return fmt.Errorf("delete task of canceled job %s: %w", job.ID, err)
		}
	case store.StatusRunning:
		// The attempt may run the job's own task or the rescue of the
		// attempt before; a signal for a task nobody runs is ignored.
		ids := []string{job.ID.String()}
		if job.Attempts > 1 {
			ids = append(ids, rescueTaskID(job.ID, job.Attempts-1))
		}
		for _, id := range ids {
			if err := q.inspector.CancelProcessing(id); err != nil {
				return fmt.Errorf("signal cancel of job %s to its worker: %w", job.ID, err)
			}
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
