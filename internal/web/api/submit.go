package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// predictionOptions are a prediction's parameters besides its ticker: the
// same for one job and for every job of a batch.
type predictionOptions struct {
	Models         []string `json:"models"`
	Horizon        int      `json:"horizon"`
	Lookback       int      `json:"lookback"`
	Sentiment      bool     `json:"sentiment"`
	Preset         string   `json:"preset"`
	Recommendation string   `json:"recommendation"`
	Seed           int64    `json:"seed"`
	LSTMMode       string   `json:"lstm_mode"`
	Bands          string   `json:"bands"`
	Fresh          bool     `json:"fresh"`
	// Evaluation asks for a rolling-origin evaluation of every model.
	Evaluation *jobs.EvaluationParams `json:"evaluation"`
}

// params are the options as the job stores them, before normalisation.
func (o predictionOptions) params() jobs.PredictionParams {
	return jobs.PredictionParams{
		Models: o.Models, Horizon: o.Horizon, Lookback: o.Lookback, Sentiment: o.Sentiment,
		Preset: o.Preset, Recommendation: o.Recommendation, Seed: o.Seed, LSTMMode: o.LSTMMode, Bands: o.Bands, Fresh: o.Fresh,
		Evaluation: o.Evaluation,
	}
}

// storedParams checks the options as jobs.PredictionParams.Normalize
// does, and the webhook endpoint named ("" = none) as webhookOf does, and
// returns them as every job of a batch or a schedule stores them: each job
// tells the endpoint of its end.
func (s *Server) storedParams(c *gin.Context, o predictionOptions, webhook string) (store.JSON, error) {
	params := o.params()
	if ferr := params.Normalize(s.knownModel, s.presets); ferr != nil {
		return nil, ferr
	}
	var err error
	if params.Webhook, err = s.webhookOf(c, webhook); err != nil {
		return nil, err
	}
	doc, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode params: %w", err)
	}
	return store.JSON(doc), nil
}

// predictionRequest is the body of POST /api/v1/predictions.
type predictionRequest struct {
	Ticker string `json:"ticker"`
	predictionOptions
	// Webhook names the caller's endpoint told when the job ends.
	Webhook  string `json:"webhook"`
	Priority string `json:"priority"`
}

// sentimentRequest is the body of POST /api/v1/sentiment.
type sentimentRequest struct {
	Ticker      string   `json:"ticker"`
	Texts       []string `json:"texts"`
	Preset      string   `json:"preset"`
	NumArticles int      `json:"num_articles"`
	Priority    string   `json:"priority"`
	Webhook     string   `json:"webhook"`
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
	params := req.params()
	if ferr := params.Normalize(s.knownModel, s.presets); ferr != nil {
		s.Fail(c, ferr)
		return
	}
	var err error
	if params.Webhook, err = s.webhookOf(c, req.Webhook); err != nil {
		s.Fail(c, err)
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
	var err error
	if params.Webhook, err = s.webhookOf(c, req.Webhook); err != nil {
		s.Fail(c, err)
		return
	}
	s.submit(c, store.KindSentiment, ticker, req.Priority, params)
}

// webhookOf checks the webhook endpoint a submission names ("" = none):
// it must be the user's own and enabled.
func (s *Server) webhookOf(c *gin.Context, raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	return s.Webhooks.Owned(c.Request.Context(), kernel.CurrentUser(c).ID, raw)
}

// submit stores the job, then enqueues it, then answers 202. The row is
// committed first: if Redis is down the job is still accepted, and the
// reconciler enqueues it later.
func (s *Server) submit(c *gin.Context, kind store.JobKind, ticker, priority string, params any) {
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
	hash := sha256.Sum256([]byte(string(kind) + "\x00" + ticker + "\x00" + queue + "\x00" + string(doc)))
	user := kernel.CurrentUser(c).ID
	job, replayed, err := s.admit(c, store.NewJob{
		OwnerID: user, Kind: kind, Ticker: ticker, Params: store.JSON(doc), Queue: queue,
		IdempotencyKey: key, RequestHash: hash[:], RequestID: requestid.From(c.Request.Context()),
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
	if wait, ok := preferredWait(c.Request.Header.Values("Prefer")); ok {
		latest, waited := s.awaitFinal(c, job, wait)
		if waited {
			c.Header("Preference-Applied", "wait="+strconv.Itoa(int(wait/time.Second)))
		}
		if latest != nil && latest.Final() {
			c.JSON(http.StatusCreated, s.view(latest, true))
			return
		}
		if latest != nil {
			job = latest
		}
	}
	c.Header("Retry-After", "1")
	c.JSON(http.StatusAccepted, s.view(job, false))
}
