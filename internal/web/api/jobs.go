package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

func jobPath(id uuid.UUID) string { return "/api/v1/jobs/" + id.String() }

// jobView is a job as the API shows it.
type jobView struct {
	ID             uuid.UUID         `json:"id"`
	Kind           store.JobKind     `json:"kind"`
	Ticker         string            `json:"ticker,omitempty"`
	Status         store.JobStatus   `json:"status"`
	Queue          string            `json:"queue"`
	Progress       int               `json:"progress"`
	ProgressDetail json.RawMessage   `json:"progress_detail,omitempty"`
	Attempts       int               `json:"attempts"`
	WorkerLost     bool              `json:"worker_lost,omitempty"`      // running, but its worker's lease lapsed: progress is stale until a retry
	WaitingForTurn bool              `json:"waiting_for_turn,omitempty"` // queued, held until its owner's turn (docs/fairness.md)
	Params         json.RawMessage   `json:"params"`
	Error          *string           `json:"error,omitempty"`
	Result         json.RawMessage   `json:"result,omitempty"`
	ResultURL      string            `json:"result_url,omitempty"` // on a stream's final event, which has no result: GET it for the result
	CreatedAt      time.Time         `json:"created_at"`
	StartedAt      *time.Time        `json:"started_at,omitempty"`
	FinishedAt     *time.Time        `json:"finished_at,omitempty"`
	Reused         bool              `json:"reused,omitempty"`      // took an identical job's result
	ReusedFrom     *uuid.UUID        `json:"reused_from,omitempty"` // that job, when it is the same user's
	Retry          *retryView        `json:"retry,omitempty"`
	Links          map[string]string `json:"links"`
}

// retryView is set on a live job after an attempt failed: what went wrong,
// and when the next attempt is due (absent once it runs, or when asynq
// will not retry and the job is about to end).
type retryView struct {
	LastError     string     `json:"last_error"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
}

func (s *Server) view(j *store.Job, withResult bool) jobView {
	v := jobView{
		ID: j.ID, Kind: j.Kind, Ticker: j.Ticker, Status: j.Status, Queue: j.Queue,
		Progress: j.Progress, ProgressDetail: json.RawMessage(j.ProgressDetail), Attempts: j.Attempts,
		WorkerLost: j.WorkerLost, WaitingForTurn: j.WaitsForTurn(), Params: json.RawMessage(j.Params), CreatedAt: j.CreatedAt,
		StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, Reused: j.Reused, ReusedFrom: j.ReusedFrom,
		Links: map[string]string{
			"self":   jobPath(j.ID),
			"events": jobPath(j.ID) + "/events",
		},
	}
	if !j.Final() {
		v.Links["cancel"] = jobPath(j.ID) + "/cancel"
	}
	if j.Error != "" {
		v.Error = &j.Error
	}
	if !j.Final() && j.AttemptError != "" {
		v.Retry = &retryView{LastError: j.AttemptError}
		if j.WaitsForRetry() {
			v.Retry.NextAttemptAt = j.RetryAt
		}
	}
	if withResult {
		v.Result = json.RawMessage(j.Result)
	}
	return v
}

func parseJobID(c *gin.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return uuid.Nil, &kernel.Error{Status: http.StatusBadRequest, Code: "invalid_id", Field: "id", Message: "job id must be a UUID"}
	}
	return id, nil
}

// failJob is Fail for a request about one job: a job that is not found,
// or not the caller's, is no such job.
func (s *Server) failJob(c *gin.Context, err error) {
	if errors.Is(err, store.ErrNotFound) {
		kernel.Abort(c, kernel.NotFound("job"))
		return
	}
	s.Fail(c, err)
}

func (s *Server) getJob(c *gin.Context) {
	id, err := parseJobID(c)
	if err != nil {
		s.failJob(c, err)
		return
	}
	job, err := s.DB.Job(c.Request.Context(), id, kernel.CurrentUser(c).ID)
	if err != nil {
		s.failJob(c, err)
		return
	}
	if !job.Final() {
		c.Header("Retry-After", strconv.Itoa(kernel.PollAfter(job, time.Now())))
	}
	c.JSON(http.StatusOK, s.view(job, true))
}

func (s *Server) listJobs(c *gin.Context) {
	limit, after, err := kernel.PageRequest(c, decodeCursor)
	if err != nil {
		s.Fail(c, err)
		return
	}
	// One row more than asked tells whether there is a next page.
	list, err := s.DB.ListJobs(c.Request.Context(), kernel.CurrentUser(c).ID, after, limit+1)
	if err != nil {
		s.Fail(c, err)
		return
	}
	kernel.WritePage(c, "jobs", list, limit,
		func(j *store.Job) jobView { return s.view(j, false) },
		func(j *store.Job) string { return encodeCursor(store.JobCursor{CreatedAt: j.CreatedAt, ID: j.ID}) })
}

func encodeCursor(c store.JobCursor) string {
	return encodeKeyset(c.CreatedAt, c.ID.String())
}

func decodeCursor(raw string) (*store.JobCursor, error) {
	t, id, err := decodeKeyset(raw)
	if err != nil {
		return nil, err
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return nil, err
	}
	return &store.JobCursor{CreatedAt: t, ID: u}, nil
}

// cancelJob ends a live job. The row turns canceled first (the source of
// truth, so a worker that picks the task up later skips it); then a queued
// task is deleted from its queue and a running one is told to stop.
func (s *Server) cancelJob(c *gin.Context) {
	id, err := parseJobID(c)
	if err != nil {
		s.failJob(c, err)
		return
	}
	job, err := s.CancelJob(c.Request.Context(), id, kernel.CurrentUser(c).ID)
	if err != nil {
		s.failJob(c, err)
		return
	}
	c.JSON(http.StatusOK, s.view(job, true))
}
