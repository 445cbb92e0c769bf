package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
)

// PriceLoader loads a ticker's daily history (market.Loader in production).
type PriceLoader interface {
	Load(ctx context.Context, ticker string) (*market.Series, error)
}

// NewsAnalyzer runs the sentiment source chain (sentiment.Analyzer in production).
type NewsAnalyzer interface {
	Analyze(ctx context.Context, req sentiment.Request) (*sentiment.Report, error)
}

// Worker runs jobs. Every handler is safe to run twice for the same job:
// delivery is at least once, results are written by job id, and a finished
// job is never run again or moved backwards.
type Worker struct {
	DB        *store.DB
	Prices    PriceLoader
	Sentiment NewsAnalyzer
	Events    *Events
	Logger    *slog.Logger
	Metrics   *Metrics
}

// Register adds the worker's handlers to an asynq mux.
func (w *Worker) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypePrediction, w.run(w.predict))
	mux.HandleFunc(TypeSentiment, w.run(w.analyzeSentiment))
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err: err} }

// jobFunc does one job's work and returns its result document.
type jobFunc func(ctx context.Context, job *store.Job, progress *progressReporter) (any, error)

// run wraps a jobFunc with the job's lifecycle: mark running, watch for
// cancellation, write the result or the error, and decide about retries.
func (w *Worker) run(work jobFunc) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		var p Payload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("decode payload: %v: %w", err, asynq.SkipRetry)
		}
		job, err := w.DB.StartJob(ctx, p.JobID)
		switch {
		case errors.Is(err, store.ErrJobFinished):
			// A redelivery of a job that already ended (or was canceled):
			// nothing to do, and nothing to retry.
			return nil
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("job %s does not exist: %w", p.JobID, asynq.SkipRetry)
		case err != nil:
			return err
		}
		logger := w.Logger.With("job_id", job.ID, "kind", job.Kind, "ticker", job.Ticker, "attempt", job.Attempts)
		logger.InfoContext(ctx, "job started")
		w.publish(ctx, job)
		started := time.Now()

		jobCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		progress := &progressReporter{db: w.DB, events: w.Events, logger: logger, id: job.ID, cancel: cancel}
		result, workErr := work(jobCtx, job, progress)

		// A cancel by the user ends the context (through asynq's cancel
		// message or the progress reporter). The row is already final
		// then: nothing to write and nothing to retry.
		if workErr != nil && jobCtx.Err() != nil && w.canceled(ctx, job) {
			logger.InfoContext(ctx, "job canceled")
			w.Metrics.observe(job.Kind, store.StatusCanceled, time.Since(started))
			return nil
		}
		if workErr != nil {
			return w.fail(ctx, job, result, workErr, logger, started)
		}
		doc, err := json.Marshal(result)
		if err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		// Write with a fresh context: the work is done and must not be lost
		// because the task's deadline is close.
		writeCtx, cancelWrite := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancelWrite()
		if err := w.DB.FinishJob(writeCtx, job.ID, store.StatusSucceeded, store.JSON(doc), ""); err != nil {
			if errors.Is(err, store.ErrJobFinished) {
				return nil
			}
			return err
		}
		logger.InfoContext(ctx, "job succeeded", "seconds", time.Since(started).Seconds())
		w.Metrics.observe(job.Kind, store.StatusSucceeded, time.Since(started))
		w.publish(writeCtx, job)
		return nil
	}
}

// fail records a failed attempt. The job ends failed when the error is
// permanent or this was the last retry; otherwise asynq retries the task.
func (w *Worker) fail(ctx context.Context, job *store.Job, partial any, workErr error, logger *slog.Logger, started time.Time) error {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	if !ok {
		maxRetry = MaxRetry
	}
	var perm permanentError
	final := errors.As(workErr, &perm) || retried >= maxRetry
	if !final {
		logger.WarnContext(ctx, "job attempt failed, will retry", "err", workErr, "retry", retried, "max_retry", maxRetry)
		return workErr
	}
	// Keep what the work found before it failed (a sentiment report's
	// source statuses, say); a nil report encodes as "null" and is dropped.
	var doc store.JSON
	if b, err := json.Marshal(partial); err == nil && string(b) != "null" {
		doc = b
	}
	writeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.DB.FinishJob(writeCtx, job.ID, store.StatusFailed, doc, workErr.Error()); err != nil && !errors.Is(err, store.ErrJobFinished) {
		return fmt.Errorf("record failure of job %s: %w (after %v)", job.ID, err, workErr)
	}
	logger.ErrorContext(ctx, "job failed", "err", workErr)
	w.Metrics.observe(job.Kind, store.StatusFailed, time.Since(started))
	w.publish(writeCtx, job)
	return fmt.Errorf("%w: %w", workErr, asynq.SkipRetry)
}

// canceled reports whether the job was canceled while it ran.
func (w *Worker) canceled(ctx context.Context, job *store.Job) bool {
	readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	current, err := w.DB.Job(readCtx, job.ID, 0)
	return err == nil && current.Status == store.StatusCanceled
}

func (w *Worker) publish(ctx context.Context, job *store.Job) {
	if w.Events == nil {
		return
	}
	if err := w.Events.Publish(ctx, job.ID); err != nil {
		w.Logger.WarnContext(ctx, "publish job event", "job_id", job.ID, "err", err)
	}
}

// Metrics counts finished jobs by kind and status, and their durations.
type Metrics struct {
	finished *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the job metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "augur_jobs_finished_total",
			Help: "Jobs that reached a final status, by kind and status.",
		}, []string{"kind", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "augur_job_duration_seconds",
			Help:    "Wall time of one job attempt that reached a final status.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300},
		}, []string{"kind"}),
	}
	reg.MustRegister(m.finished, m.duration)
	return m
}

func (m *Metrics) observe(kind, status string, d time.Duration) {
	if m == nil {
		return
	}
	m.finished.WithLabelValues(kind, status).Inc()
	m.duration.WithLabelValues(kind).Observe(d.Seconds())
}
