package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// predictionRequest is the body of POST /api/v1/predictions.
type predictionRequest struct {
	Ticker         string   `json:"ticker"`
	Models         []string `json:"models"`
	Horizon        int      `json:"horizon"`
	Lookback       int      `json:"lookback"`
	Sentiment      bool     `json:"sentiment"`
	Preset         string   `json:"preset"`
	Recommendation string   `json:"recommendation"`
	Seed           int64    `json:"seed"`
	LSTMMode       string   `json:"lstm_mode"`
	Priority       string   `json:"priority"`
	Fresh          bool     `json:"fresh"`
}

// sentimentRequest is the body of POST /api/v1/sentiment.
type sentimentRequest struct {
	Ticker      string   `json:"ticker"`
	Texts       []string `json:"texts"`
	Preset      string   `json:"preset"`
	NumArticles int      `json:"num_articles"`
	Priority    string   `json:"priority"`
}

// maxIdempotencyKeyLen bounds the Idempotency-Key header.
const maxIdempotencyKeyLen = 255

// idempotencyKey returns the request's Idempotency-Key ("" = none): at most
// maxIdempotencyKeyLen printable ASCII characters. Anything else, raw bytes
// above all, is refused here rather than reaching PostgreSQL, which would
// reject a key that is not UTF-8.
func idempotencyKey(c *gin.Context) (string, error) {
	key := c.GetHeader("Idempotency-Key")
	bad := len(key) > maxIdempotencyKeyLen
	for i := 0; i < len(key) && !bad; i++ {
		bad = key[i] < 0x20 || key[i] > 0x7e
	}
	if bad {
		return "", &kernel.Error{Status: http.StatusBadRequest, Code: "invalid_header", Field: "Idempotency-Key",
			Message: fmt.Sprintf("Idempotency-Key must be 1 to %d printable ASCII characters", maxIdempotencyKeyLen)}
	}
	return key, nil
}

func (s *Server) submitPrediction(c *gin.Context) {
	var req predictionRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	ticker, ferr := jobs.NormalizeTicker(req.Ticker)
	if ferr != nil {
		s.Fail(c, ferr)
		return
	}
	params := jobs.PredictionParams{
		Models: req.Models, Horizon: req.Horizon, Lookback: req.Lookback, Sentiment: req.Sentiment,
		Preset: req.Preset, Recommendation: req.Recommendation, Seed: req.Seed, LSTMMode: req.LSTMMode,
		Fresh: req.Fresh,
	}
	if ferr := params.Normalize(s.knownModel, s.presets); ferr != nil {
		s.Fail(c, ferr)
		return
	}
	s.submit(c, store.KindPrediction, ticker, req.Priority, params)
}

func (s *Server) submitSentiment(c *gin.Context) {
	var req sentimentRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	ticker := ""
	if strings.TrimSpace(req.Ticker) != "" || len(req.Texts) == 0 {
		t, ferr := jobs.NormalizeTicker(req.Ticker)
		if ferr != nil {
			s.Fail(c, ferr)
			return
		}
		ticker = t
	}
	params := jobs.SentimentParams{Texts: req.Texts, Preset: req.Preset, NumArticles: req.NumArticles}
	if ferr := params.Normalize(ticker != "", s.presets); ferr != nil {
		s.Fail(c, ferr)
		return
	}
	s.submit(c, store.KindSentiment, ticker, req.Priority, params)
}

// submit stores the job, then enqueues it, then answers 202. The row is
// committed first: if Redis is down the job is still accepted, and the
// reconciler enqueues it later.
func (s *Server) submit(c *gin.Context, kind, ticker, priority string, params any) {
	queue, ferr := jobs.QueueFor(priority)
	if ferr != nil {
		s.Fail(c, ferr)
		return
	}
	key, err := idempotencyKey(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	doc, err := json.Marshal(params)
	if err != nil {
		s.Fail(c, fmt.Errorf("encode params: %w", err))
		return
	}
	// The hash covers the normalised request, so a replay that differs only
	// in spacing or defaults is still recognised as the same request.
	hash := sha256.Sum256([]byte(kind + "\x00" + ticker + "\x00" + queue + "\x00" + string(doc)))
	user := kernel.CurrentUser(c).ID
	admit, charge := s.admission(c, user, queue)
	job, replayed, err := s.DB.CreateJob(c.Request.Context(), store.NewJob{
		OwnerID: user, Kind: kind, Ticker: ticker, Params: store.JSON(doc),
		IdempotencyKey: key, RequestHash: hash[:], RequestID: requestid.From(c.Request.Context()),
		Admit: admit, Charge: charge,
	})
	if err != nil {
		s.Fail(c, err)
		return
	}
	if !replayed {
		s.CountSubmitted(kind, job.Queue)
		ctx, cancel := context.WithTimeout(c.Request.Context(), kernel.RedisCallTimeout)
		defer cancel()
		if err := s.Queue.Enqueue(ctx, job); err != nil {
			s.Logger.WarnContext(c.Request.Context(), "enqueue failed; the reconciler will retry", "job_id", job.ID, "err", err)
		}
	} else {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", jobPath(job.ID))
	c.Header("Retry-After", "1")
	c.JSON(http.StatusAccepted, s.view(job, false))
}

func jobPath(id uuid.UUID) string { return "/api/v1/jobs/" + id.String() }

// jobView is a job as the API shows it.
type jobView struct {
	ID             uuid.UUID         `json:"id"`
	Kind           string            `json:"kind"`
	Ticker         string            `json:"ticker,omitempty"`
	Status         string            `json:"status"`
	Queue          string            `json:"queue"`
	Progress       int               `json:"progress"`
	ProgressDetail json.RawMessage   `json:"progress_detail,omitempty"`
	Attempts       int               `json:"attempts"`
	WorkerLost     bool              `json:"worker_lost,omitempty"` // running, but its worker's lease lapsed: progress is stale until a retry
	Params         json.RawMessage   `json:"params"`
	Error          *string           `json:"error,omitempty"`
	Result         json.RawMessage   `json:"result,omitempty"`
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
		WorkerLost: j.WorkerLost, Params: json.RawMessage(j.Params), CreatedAt: j.CreatedAt, Reused: j.Reused,
		Links: map[string]string{
			"self":   jobPath(j.ID),
			"events": jobPath(j.ID) + "/events",
		},
	}
	if !j.Final() {
		v.Links["cancel"] = jobPath(j.ID) + "/cancel"
	}
	if j.Error.Valid {
		v.Error = &j.Error.String
	}
	if j.StartedAt.Valid {
		v.StartedAt = &j.StartedAt.Time
	}
	if j.FinishedAt.Valid {
		v.FinishedAt = &j.FinishedAt.Time
	}
	if j.ReusedFrom.Valid {
		v.ReusedFrom = &j.ReusedFrom.UUID
	}
	if !j.Final() && j.AttemptError.Valid {
		v.Retry = &retryView{LastError: j.AttemptError.String}
		if j.WaitsForRetry() {
			v.Retry.NextAttemptAt = &j.RetryAt.Time
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

// Listing page sizes.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// pageLimit reads the "limit" query parameter of a listing.
func pageLimit(c *gin.Context) (int, error) {
	raw := c.Query("limit")
	if raw == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, &kernel.Error{Status: http.StatusUnprocessableEntity, Code: "out_of_range", Field: "limit",
			Message: fmt.Sprintf("limit must be a whole number from 1 to %d", maxPageSize)}
	}
	return n, nil
}

// pageRequest reads a listing's limit and cursor query parameters, the
// cursor through decode. A nil cursor means the first page.
func pageRequest[C any](c *gin.Context, decode func(string) (*C, error)) (limit int, after *C, err error) {
	if limit, err = pageLimit(c); err != nil {
		return 0, nil, err
	}
	if raw := c.Query("cursor"); raw != "" {
		if after, err = decode(raw); err != nil {
			return 0, nil, &kernel.Error{Status: http.StatusBadRequest, Code: "invalid_cursor", Field: "cursor",
				Message: "cursor must be a next_cursor value from an earlier page"}
		}
	}
	return limit, after, nil
}

func (s *Server) listJobs(c *gin.Context) {
	limit, after, err := pageRequest(c, decodeCursor)
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
	writePage(c, "jobs", list, limit,
		func(j *store.Job) jobView { return s.view(j, false) },
		func(j *store.Job) string { return encodeCursor(store.JobCursor{CreatedAt: j.CreatedAt, ID: j.ID}) })
}

// writePage answers one page of a listing under key: up to limit views of
// list, which was read with one row more than asked to tell whether a next
// page exists, and then next_cursor, made from the last row shown.
func writePage[T, V any](c *gin.Context, key string, list []T, limit int, view func(*T) V, cursor func(*T) string) {
	views := make([]V, 0, limit)
	for i := range list[:min(limit, len(list))] {
		views = append(views, view(&list[i]))
	}
	out := gin.H{key: views}
	if len(list) > limit {
		out["next_cursor"] = cursor(&list[limit-1])
	}
	c.JSON(http.StatusOK, out)
}

// encodeKeyset writes a keyset cursor, a row's creation time and id, as
// an opaque URL-safe token; every listing's cursor uses it.
func encodeKeyset(createdAt time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(createdAt.UTC().Format(time.RFC3339Nano) + "|" + id))
}

// decodeKeyset reads a token that encodeKeyset wrote; the caller parses
// the id.
func decodeKeyset(raw string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return time.Time{}, "", err
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok {
		return time.Time{}, "", errors.New("malformed cursor")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, "", err
	}
	return t, id, nil
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
