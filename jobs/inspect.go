package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/augurhq/augur/internal/store"
)

// QueueStats returns asynq's view of the named queues and of every other
// queue it knows, sorted by name. A named queue that asynq has never seen
// is reported empty rather than left out, so an operator sees every queue
// the workers serve.
func (q *Queue) QueueStats(names []string) ([]*asynq.QueueInfo, error) {
	known, err := q.inspector.Queues()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	all := append(slices.Clone(names), known...)
	slices.Sort(all)
	all = slices.Compact(all)
	stats := make([]*asynq.QueueInfo, 0, len(all))
	for _, name := range all {
		// GetQueueInfo fails on a queue asynq has not seen; ask only
		// about the ones it has.
		if !slices.Contains(known, name) {
			stats = append(stats, &asynq.QueueInfo{Queue: name})
			continue
		}
		info, err := q.inspector.GetQueueInfo(name)
		if err != nil {
			return nil, fmt.Errorf("inspect queue %s: %w", name, err)
		}
		stats = append(stats, info)
	}
	return stats, nil
}

// Servers returns the worker servers whose heartbeat asynq currently holds
// in Redis: the replicas that are taking work.
func (q *Queue) Servers() ([]*asynq.ServerInfo, error) {
	servers, err := q.inspector.Servers()
	if err != nil {
		return nil, fmt.Errorf("list worker servers: %w", err)
	}
	return servers, nil
}

var serversDesc = prometheus.NewDesc("augur_worker_servers",
	"Worker servers with a live heartbeat in Redis, as asynq sees them.", nil, nil)

// ServersCollector returns a collector of augur_worker_servers, read from
// Redis at each scrape. It belongs on the web tier: it must still answer
// when no worker runs, which is exactly when it matters.
func (q *Queue) ServersCollector() prometheus.Collector { return serversCollector{q} }

type serversCollector struct{ q *Queue }

func (c serversCollector) Describe(ch chan<- *prometheus.Desc) { ch <- serversDesc }

func (c serversCollector) Collect(ch chan<- prometheus.Metric) {
	servers, err := c.q.Servers()
	if err != nil {
		// No sample rather than 0, which would claim that no worker
		// runs, or an invalid metric, which would fail the whole scrape:
		// augur_dependency_up says that Redis is down.
		return
	}
	ch <- prometheus.MustNewConstMetric(serversDesc, prometheus.GaugeValue, float64(len(servers)))
}

// Task states an operator acts on: tasks that failed and wait for another
// attempt, and tasks that ran out of attempts or were skipped.
const (
	StateRetry    = "retry"
	StateArchived = "archived"
)

// FailedTask is a task in the retry or archived state, as the queue panel
// shows it.
type FailedTask struct {
	ID    string
	Queue string
	Type  string
	State string
	// JobID is the job the task runs; Augur's tasks carry it as their id.
	// It is uuid.Nil for a task that is not one of Augur's jobs.
	JobID         uuid.UUID
	LastError     string
	Retried       int
	MaxRetry      int
	LastFailedAt  time.Time
	NextProcessAt time.Time // retry tasks only
}

// FailedTasks returns up to limit tasks of the queue in state (StateRetry
// or StateArchived): retry tasks soonest first, archived ones latest
// failure first. A queue asynq has never seen holds none.
func (q *Queue) FailedTasks(queue, state string, limit int) ([]FailedTask, error) {
	list := q.inspector.ListRetryTasks
	switch state {
	case StateRetry:
	case StateArchived:
		list = q.inspector.ListArchivedTasks
	default:
		return nil, fmt.Errorf("list tasks of queue %s: unknown state %q", queue, state)
	}
	infos, err := list(queue, asynq.PageSize(limit))
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s tasks of queue %s: %w", state, queue, err)
	}
	tasks := make([]FailedTask, 0, len(infos))
	for _, info := range infos {
		t := FailedTask{ID: info.ID, Queue: info.Queue, Type: info.Type, State: state,
			LastError: info.LastErr, Retried: info.Retried, MaxRetry: info.MaxRetry,
			LastFailedAt: info.LastFailedAt, NextProcessAt: info.NextProcessAt}
		if id, ok := JobIDOfTask(info.ID); ok {
			t.JobID = id
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// RunTask moves a retry or archived task to pending, to run as soon as a
// worker is free. A task that is not there gives ErrNoTask.
func (q *Queue) RunTask(queue, id string) error {
	err := q.inspector.RunTask(queue, id)
	if isNoTask(err) {
		return ErrNoTask
	}
	if err != nil {
		return fmt.Errorf("run task %s of queue %s: %w", id, queue, err)
	}
	return nil
}

// DeleteTask removes a waiting, retry or archived task for good. A task
// that is not there gives ErrNoTask.
func (q *Queue) DeleteTask(queue, id string) error {
	err := q.inspector.DeleteTask(queue, id)
	if isNoTask(err) {
		return ErrNoTask
	}
	if err != nil {
		return fmt.Errorf("delete task %s of queue %s: %w", id, queue, err)
	}
	return nil
}

// SetPaused pauses or resumes a queue: a paused queue keeps its tasks and
// takes new ones, but no worker starts any until it is resumed. Pausing a
// paused queue, or resuming a running one, changes nothing and is no error.
func (q *Queue) SetPaused(queue string, paused bool) error {
	stats, err := q.QueueStats([]string{queue})
	if err != nil {
		return err
	}
	for _, s := range stats {
		if s.Queue == queue && s.Paused == paused {
			return nil
		}
	}
	if paused {
		err = q.inspector.PauseQueue(queue)
	} else {
		err = q.inspector.UnpauseQueue(queue)
	}
	if err != nil {
		return fmt.Errorf("set queue %s paused=%t: %w", queue, paused, err)
	}
	return nil
}

// HasJob reports whether the task runs one of Augur's jobs.
func (t FailedTask) HasJob() bool { return t.JobID != uuid.Nil }

// ErrBusy means the reconciler was mid-pass; the operation changed nothing
// and can be tried again in a moment.
var ErrBusy = errors.New("the reconciler is busy; try again in a moment")

// RetryTask moves a retry or archived task to pending. When the task runs
// one of Augur's jobs and that job has failed, the job is reopened first,
// or the worker would skip the task as finished. Both happen under the
// reconciler's lock, so the reconciler cannot see the reopened job beside
// its still-archived task and close it again. A job that succeeded or was
// canceled gives store.ErrJobFinished and its task stays where it is.
func RetryTask(ctx context.Context, db *store.DB, q *Queue, queue, id string) error {
	jobID, ok := JobIDOfTask(id)
	if !ok {
		return q.RunTask(queue, id)
	}
	ran, err := db.WithAdvisoryLock(ctx, ReconcileLockKey, func(ctx context.Context) error {
		err := db.ReopenFailedJob(ctx, jobID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return q.RunTask(queue, id)
	})
	if err == nil && !ran {
		return ErrBusy
	}
	return err
}

// DeleteTask removes a retry or archived task for good. When it runs one
// of Augur's jobs that is still live (a task between retries), the job is
// closed as failed too: otherwise the reconciler would find a live job
// with no task and enqueue it again, undoing the deletion. A job that a
// live attempt holds (one run by another task: a rescue, say) is left to
// that attempt, which records its outcome itself.
func DeleteTask(ctx context.Context, db *store.DB, q *Queue, queue, id string) error {
	if err := q.DeleteTask(queue, id); err != nil {
		return err
	}
	jobID, ok := JobIDOfTask(id)
	if !ok {
		return nil
	}
	err := db.CloseJob(ctx, jobID, "an administrator deleted its task")
	if errors.Is(err, store.ErrJobFinished) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrJobHeld) {
		return nil
	}
	return err
}
