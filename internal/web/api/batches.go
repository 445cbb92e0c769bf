package api

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/admission"
	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// batchRequest is the body of POST /api/v1/batches: a watchlist or a list
// of tickers, and the prediction's parameters, as for one prediction.
type batchRequest struct {
	WatchlistID int64    `json:"watchlist_id"`
	Tickers     []string `json:"tickers"`
	predictionOptions
	// Webhook names the caller's endpoint told when each job ends.
	Webhook string `json:"webhook"`
}

// batchView is a batch as the API shows it.
type batchView struct {
	ID          uuid.UUID         `json:"id"`
	Status      string            `json:"status"`
	WatchlistID *int64            `json:"watchlist_id,omitempty"`
	Params      json.RawMessage   `json:"params"`
	Tickers     []string          `json:"tickers"`
	Progress    batchProgress     `json:"progress"`
	CreatedAt   time.Time         `json:"created_at"`
	CanceledAt  *time.Time        `json:"canceled_at,omitempty"`
	Rows        []batchRowView    `json:"rows,omitempty"`
	Links       map[string]string `json:"links"`
}

// batchProgress counts a batch's jobs.
type batchProgress struct {
	Total     int `json:"total"`
	Done      int `json:"done"`
	Queued    int `json:"queued"`
	Running   int `json:"running"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Canceled  int `json:"canceled"`
}

// batchRowView is one ticker of a batch.
type batchRowView struct {
	Ticker         string          `json:"ticker"`
	JobID          uuid.UUID       `json:"job_id"`
	Status         store.JobStatus `json:"status"`
	Error          string          `json:"error,omitempty"`
	Recommendation string          `json:"recommendation,omitempty"`
	LastClose      *float64        `json:"last_close,omitempty"`
	Models         json.RawMessage `json:"models"`
	Previous       *previousView   `json:"previous,omitempty"`
	Changed        bool            `json:"recommendation_changed"`
	Link           string          `json:"link"`
}

// previousView is the same ticker in the batch before.
type previousView struct {
	JobID          uuid.UUID       `json:"job_id"`
	Recommendation string          `json:"recommendation"`
	Models         json.RawMessage `json:"models"`
}

// batchesListed is how many of the newest batches GET /api/v1/batches
// answers with: a batch a day is months of them.
const batchesListed = 100

func batchPath(id uuid.UUID) string { return "/api/v1/batches/" + id.String() }

func viewBatch(b *store.Batch) batchView {
	v := batchView{
		ID: b.ID, Status: b.Status(), Params: json.RawMessage(b.Params), Tickers: b.Tickers,
		CreatedAt: b.CreatedAt, CanceledAt: b.CanceledAt,
		Progress: batchProgress{Total: len(b.Tickers), Done: b.Done(), Queued: b.Queued, Running: b.Running,
			Succeeded: b.Succeeded, Failed: b.Failed, Canceled: b.Canceled},
		Links: map[string]string{"self": batchPath(b.ID), "page": "/batches/" + b.ID.String()},
	}
	if b.WatchlistID.Valid {
		v.WatchlistID = &b.WatchlistID.Int64
	}
	if !b.Final() {
		v.Links["cancel"] = batchPath(b.ID) + "/cancel"
	}
	return v
}

// viewBatchRows is the rows of a batch as the API shows them.
func viewBatchRows(rows []store.BatchRow) []batchRowView {
	out := make([]batchRowView, len(rows))
	for i, r := range rows {
		v := batchRowView{Ticker: r.Ticker, JobID: r.JobID, Status: r.Status, Error: r.Error, Recommendation: r.Action,
			Models: json.RawMessage(r.Models), Changed: r.Changed(), Link: jobPath(r.JobID)}
		if r.LastClose.Valid {
			v.LastClose = &r.LastClose.Float64
		}
		if r.PreviousJobID != nil {
			v.Previous = &previousView{JobID: *r.PreviousJobID, Recommendation: r.PreviousAction, Models: json.RawMessage(r.PreviousModels)}
		}
		out[i] = v
	}
	return out
}

func parseBatchID(c *gin.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return uuid.Nil, &kernel.Error{Status: http.StatusBadRequest, Code: "invalid_id", Field: "id", Message: "batch id must be a UUID"}
	}
	return id, nil
}

// batchError answers the refusals of a batch.
func batchError(err error) error {
	var capped *store.BatchOverCapError
	var limited *admission.RateLimitedError
	switch {
	case errors.As(err, &capped):
		return &kernel.Error{Status: http.StatusTooManyRequests, Code: "too_many_unfinished", RetryAfter: unfinishedRetryAfter,
			Message: capped.Error()}
	case errors.As(err, &limited):
		return &kernel.Error{Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAfter: int(math.Ceil(limited.RetryAfter.Seconds())),
			Message: limited.Error()}
	case errors.Is(err, store.ErrNotFound):
		return kernel.NotFound("batch")
	}
	return err
}

func (s *Server) submitBatch(c *gin.Context) {
	var req batchRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	user := kernel.CurrentUser(c).ID
	tickers, err := s.batchTickers(ctx, user, req)
	if err != nil {
		s.Fail(c, err)
		return
	}
	params, err := s.storedParams(c, req.predictionOptions, req.Webhook)
	if err != nil {
		s.Fail(c, err)
		return
	}
	b, created, quota, err := s.admission.SubmitBatch(ctx, store.NewBatch{
		OwnerID: user, WatchlistID: req.WatchlistID, Tickers: tickers, Params: params,
		RequestID: requestid.From(ctx),
	})
	if quota != nil {
		c.Header("RateLimit-Limit", strconv.Itoa(quota.Limit))
		c.Header("RateLimit-Remaining", strconv.Itoa(quota.Remaining))
	}
	if err != nil {
		s.Fail(c, batchError(err))
		return
	}
	// Every job of the batch is submitted, held for its turn or not, as a
	// single submission's job is counted whatever its turn.
	for range tickers {
		s.CountSubmitted(store.KindPrediction, jobs.QueueLow)
	}
	startCtx, cancel := context.WithTimeout(ctx, kernel.RedisCallTimeout)
	defer cancel()
	s.dispatcher.Start(startCtx, created)
	c.Header("Location", batchPath(b.ID))
	c.JSON(http.StatusAccepted, viewBatch(b))
}

// batchTickers is the batch's tickers: the watchlist's, or the list given;
// one of them, not both.
func (s *Server) batchTickers(ctx context.Context, user int64, req batchRequest) ([]string, error) {
	switch {
	case req.WatchlistID != 0 && len(req.Tickers) > 0:
		return nil, &jobs.FieldError{Field: "tickers", Code: "ambiguous", Message: "give watchlist_id or tickers, not both"}
	case req.WatchlistID != 0:
		w, err := s.DB.Watchlist(ctx, user, req.WatchlistID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, &jobs.FieldError{Field: "watchlist_id", Code: "unknown_watchlist", Message: "you have no watchlist with this id"}
		}
		if err != nil {
			return nil, err
		}
		return w.Tickers, nil
	}
	list, ferr := jobs.NormalizeTickers("tickers", req.Tickers)
	if ferr != nil {
		return nil, ferr
	}
	return list, nil
}

func (s *Server) listBatches(c *gin.Context) {
	list, err := s.DB.Batches(c.Request.Context(), kernel.CurrentUser(c).ID, batchesListed)
	if err != nil {
		s.Fail(c, err)
		return
	}
	out := make([]batchView, len(list))
	for i := range list {
		out[i] = viewBatch(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"batches": out})
}

func (s *Server) getBatch(c *gin.Context) {
	id, err := parseBatchID(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	user := kernel.CurrentUser(c).ID
	b, err := s.DB.Batch(ctx, id, user)
	if err != nil {
		s.Fail(c, batchError(err))
		return
	}
	rows, err := s.DB.BatchRows(ctx, id, user)
	if err != nil {
		s.Fail(c, err)
		return
	}
	v := viewBatch(b)
	v.Rows = viewBatchRows(rows)
	c.JSON(http.StatusOK, v)
}

func (s *Server) cancelBatch(c *gin.Context) {
	id, err := parseBatchID(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	user := kernel.CurrentUser(c).ID
	if err := s.CancelBatch(ctx, id, user); err != nil {
		s.Fail(c, batchError(err))
		return
	}
	b, err := s.DB.Batch(ctx, id, user)
	if err != nil {
		s.Fail(c, batchError(err))
		return
	}
	c.JSON(http.StatusOK, viewBatch(b))
}
