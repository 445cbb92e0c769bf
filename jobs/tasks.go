// Package jobs defines Augur's background work: asynq task types and
// payloads, the request parameters they carry, the queue (enqueue, cancel,
// inspection), the handlers the worker runs, and the reconciler that keeps
// Redis in step with PostgreSQL (the source of truth for every job).
package jobs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/augurhq/augur/internal/store"
)

// Task type names.
const (
	TypePrediction  = "prediction:run"
	TypeSentiment   = "sentiment:run"
	TypeLeaderboard = "leaderboard:run"
)

// Queue names. Interactive submissions go to QueueCritical; workers weigh
// the queues 6/3/1 by default (WORKER_QUEUES).
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
)

// MaxRetry is how often a failed task is retried before its job fails.
const MaxRetry = 3

// Payload is the body of every task: only the job id, because the job row
// in PostgreSQL holds the parameters and is the source of truth.
type Payload struct {
	JobID uuid.UUID `json:"job_id"`
}

// RequestIDHeader is the task header that carries the id of the request
// that submitted the job, so the worker's log lines about it name it even
// before it reads the job row.
const RequestIDHeader = "request_id"

// TaskType returns the task type for a job kind.
func TaskType(kind store.JobKind) (string, error) {
	switch kind {
	case store.KindPrediction:
		return TypePrediction, nil
	case store.KindSentiment:
		return TypeSentiment, nil
	case store.KindLeaderboard:
		return TypeLeaderboard, nil
	}
	return "", fmt.Errorf("unknown job kind %q", kind)
}

// Timeouts bound how long one attempt of each kind may run. Prediction
// also bounds leaderboard jobs, which run the same models.
type Timeouts struct {
	Prediction time.Duration
	Sentiment  time.Duration
}

// NewTask builds the asynq task for a job. The task id is the job id, so
// enqueueing the same job twice is harmless: asynq refuses the duplicate.
func NewTask(job *store.Job, timeouts Timeouts) (*asynq.Task, error) {
	return newTask(job, timeouts, job.ID.String())
}

// rescueTaskID names the task that takes a job over from its attempt
// number attempt, lost while asynq still counted that attempt's task as
// active: "<job id>.<attempt>". One lost attempt gets one rescue, however
// often the reconciler looks.
func rescueTaskID(id uuid.UUID, attempt int) string {
	return id.String() + "." + strconv.Itoa(attempt)
}

// JobIDOfTask returns the job whose task has the given id (the job id, or
// a rescue task's), and false for a task that is not a job's.
func JobIDOfTask(taskID string) (uuid.UUID, bool) {
	head, _, _ := strings.Cut(taskID, ".")
	id, err := uuid.Parse(head)
	return id, err == nil
}

// newTask builds the asynq task for a job under the given task id.
func newTask(job *store.Job, timeouts Timeouts, taskID string) (*asynq.Task, error) {
	typ, err := TaskType(job.Kind)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(Payload{JobID: job.ID})
	if err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	timeout := timeouts.Prediction
	if job.Kind == store.KindSentiment {
		timeout = timeouts.Sentiment
	}
	var headers map[string]string
	if job.RequestID != "" {
		headers = map[string]string{RequestIDHeader: job.RequestID}
	}
	return asynq.NewTaskWithHeaders(typ, payload, headers,
		asynq.TaskID(taskID),
		asynq.Queue(job.Queue),
		asynq.Timeout(timeout),
		asynq.MaxRetry(MaxRetry),
	), nil
}
